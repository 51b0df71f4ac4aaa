import ClerkText
import Dispatch
import Synchronization

extension Brain {
    /// Compiles content into a brain. Returns every problem found; the brain is nil when any is an error.
    public static func compile(_ source: BrainSource) -> (brain: Brain?, problems: [ContentProblem]) {
        var compiler = BrainCompiler(source: source)
        let brain = compiler.run()
        let problems = compiler.problems.sorted { $0.location < $1.location }
        return (problems.contains { $0.severity == .error } ? nil : brain, problems)
    }
}

/// Interns content words into the vocabulary: folded surface forms, their terms (stems), and frequencies.
/// A class, so the compiler's many small updates never copy its tables.
final class LexiconBuilder {
    let tokenizer: Tokenizer
    let stemmer: Stemmer
    var surfaces = ByteTable.Builder()
    var surfaceTerm: [Int32] = []
    var frequency: [Int] = []
    var terms = ByteTable.Builder()
    private let buffer = TokenBuffer()

    init(tokenizer: Tokenizer, stemmer: Stemmer) {
        self.tokenizer = tokenizer
        self.stemmer = stemmer
    }

    /// Surface ids of the words of `text`, inserting new ones.
    func surfaceIDs(of text: String) -> [Int32] {
        tokenizer.tokenize(text, into: buffer)
        var ids: [Int32] = []
        ids.reserveCapacity(buffer.count)
        for index in 0..<buffer.count {
            ids.append(surface(buffer.text(index), kind: buffer.span(index).kind))
        }
        return ids
    }

    /// Counts one more use of each word, as reading them again with ``surfaceIDs(of:)`` would.
    func recount(_ ids: [Int32]) {
        for id in ids { frequency[Int(id)] += 1 }
    }

    func surface(_ folded: String, kind: TokenKind) -> Int32 {
        if let existing = surfaces[folded] {
            frequency[Int(existing)] += 1
            return existing
        }
        let id = surfaces.insert(folded)
        frequency.append(1)
        let key = kind.isProtected ? folded : stemmer.stem(folded)
        surfaceTerm.append(terms.insert(key))
        return id
    }

    func term(ofSurface id: Int32) -> Int32 { surfaceTerm[Int(id)] }
}

/// Content texts already read, by their bytes: most pattern words and phrases recur many times across a large
/// brain, and hashing a text once with FNV-1a costs less than `Dictionary`'s hashing of `String`.
struct TextCache {
    typealias Value = (surfaces: [Int32], terms: [Int32])
    /// Entry numbers by slot, -1 when empty.
    private var slots = [Int32](repeating: -1, count: 1 << 12)
    private var hashes: [UInt64] = []
    private var texts: [String] = []
    private var values: [Value] = []

    static func hash(_ text: String) -> UInt64 {
        text.utf8.withContiguousStorageIfAvailable { ByteTable.hash($0) }
            ?? Array(text.utf8).withUnsafeBufferPointer { ByteTable.hash($0) }
    }

    func value(of text: String, hash: UInt64) -> Value? {
        let mask = slots.count - 1
        var slot = PairTable.slot(hash, mask)
        while slots[slot] >= 0 {
            let entry = Int(slots[slot])
            if hashes[entry] == hash && texts[entry] == text { return values[entry] }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// Adds a text that ``value(of:hash:)`` did not find.
    mutating func insert(_ text: String, hash: UInt64, _ value: Value) {
        if (texts.count + 1) * 2 > slots.count { grow() }
        place(Int32(texts.count), hash: hash)
        hashes.append(hash)
        texts.append(text)
        values.append(value)
    }

    private mutating func place(_ entry: Int32, hash: UInt64) {
        let mask = slots.count - 1
        var slot = PairTable.slot(hash, mask)
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = entry
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        for (entry, hash) in hashes.enumerated() { place(Int32(entry), hash: hash) }
    }
}

/// One expanded pattern path while it is being built.
struct PathDraft {
    var steps: [PatternTrie.Step] = []
    var literalWords: Int32 = 0
    var typedElements: Int32 = 0
    var wildcards: Int32 = 0
    var captureNames: [String] = []
    var literalTerms: [Int32] = []

    init(capacity: Int = 0) {
        steps.reserveCapacity(capacity)
        literalTerms.reserveCapacity(capacity)
    }
}

struct BrainCompiler {
    let source: BrainSource
    var problems: [ContentProblem] = []
    private var lexicon: LexiconBuilder!
    private var substitutions = SubstitutionTrie(rules: [])
    private var conceptIDs: [String: Int32] = [:]
    private var serviceTerm: Int32 = -1
    private var servicePhrases = PhraseTable([])
    /// Content texts already read: their words (for frequencies) and their terms after substitutions.
    private var termCache = TextCache()
    static let maxPathsPerPattern = 1024
    static let maxDocumentsPerPattern = 16

    init(source: BrainSource) {
        self.source = source
    }

    private mutating func error(_ location: SourceLocation, _ message: String) {
        problems.append(ContentProblem(location, message))
    }

    mutating func run() -> Brain? {
        let settingsLocation = SourceLocation(file: "config/engine.yaml", line: 1, column: 1)
        guard let language = Language.named(source.language), let stemmer = Stemmer(algorithm: source.language)
        else {
            error(settingsLocation, "unknown language '\(source.language)'")
            return nil
        }
        let tokenizer = Tokenizer(language: language)
        lexicon = LexiconBuilder(tokenizer: tokenizer, stemmer: stemmer)
        let settings = source.settings
        if !(0...1).contains(settings.answerThreshold) || !(0...1).contains(settings.clarifyThreshold)
            || settings.clarifyThreshold > settings.answerThreshold
        {
            error(settingsLocation, "thresholds must lie between 0 and 1, with clarify_threshold ≤ answer_threshold")
        }

        // Substitutions first: they apply to all other content as they do to messages.
        var rules: [(from: [Int32], to: [Int32])] = []
        for substitution in source.substitutions {
            let from = lexicon.surfaceIDs(of: substitution.from.value)
            let to = lexicon.surfaceIDs(of: substitution.to)
            if from.isEmpty {
                error(substitution.from.location, "'\(substitution.from.value)' has no words to replace")
                continue
            }
            rules.append((from, to))
        }
        substitutions = SubstitutionTrie(rules: rules)

        // Concepts.
        var conceptMembers: [[[Int32]]] = []
        for concept in source.concepts {
            if conceptIDs[concept.name.value] != nil {
                error(concept.name.location, "concept '\(concept.name.value)' is defined twice")
                continue
            }
            conceptIDs[concept.name.value] = Int32(conceptMembers.count)
            conceptMembers.append(concept.members.map { terms(of: $0.value) })
        }

        // Services: names and aliases become phrases; a phrase several services share is ambiguous.
        serviceTerm = lexicon.terms.insert("\u{1}service")
        var services: [Service] = []
        var serviceIndex: [String: Int32] = [:]
        var phraseServices: [[Int32]: [Int32]] = [:]
        var phraseOrder: [[Int32]] = []
        var variantNames: [String] = []
        for definition in source.services {
            let id = definition.id.value
            if serviceIndex[id] != nil {
                error(definition.id.location, "service '\(id)' is defined twice")
                continue
            }
            let number = Int32(services.count)
            var nameTerms = Set<Int32>()
            for phrase in [definition.name] + definition.aliases {
                let phraseTerms = terms(of: phrase.value)
                guard !phraseTerms.isEmpty else {
                    error(phrase.location, "'\(phrase.value)' has no words to recognise")
                    continue
                }
                nameTerms.formUnion(phraseTerms)
                if phraseServices[phraseTerms] == nil { phraseOrder.append(phraseTerms) }
                if !(phraseServices[phraseTerms]?.contains(number) ?? false) {
                    phraseServices[phraseTerms, default: []].append(number)
                }
            }
            for entry in definition.fields where entry.key != "office" {
                guard case .map(let parts) = entry.value else { continue }
                for part in parts where !variantNames.contains(part.key) { variantNames.append(part.key) }
            }
            serviceIndex[id] = number
            services.append(
                Service(id: id, name: definition.name.value, fields: .map(definition.fields), nameTerms: nameTerms))
        }
        var serviceGroups: [[Int32]] = []
        var groupIndex: [[Int32]: Int32] = [:]
        var servicePhraseList: [(terms: [Int32], value: Int32)] = []
        for phrase in phraseOrder {
            let group = phraseServices[phrase]!
            let index =
                groupIndex[group]
                ?? {
                    serviceGroups.append(group)
                    groupIndex[group] = Int32(serviceGroups.count - 1)
                    return Int32(serviceGroups.count - 1)
                }()
            servicePhraseList.append((phrase, index))
        }
        servicePhrases = PhraseTable(servicePhraseList)
        // Variants: the keys of grouped fields (fee: {adult, child}), and the words of a concept of that name.
        var variantPhraseList: [(terms: [Int32], value: Int32)] = []
        for (number, name) in variantNames.enumerated() {
            variantPhraseList.append((terms(of: String(name.map { $0 == "_" ? " " : $0 })), Int32(number)))
            if let concept = source.concepts.first(where: { $0.name.value == name }) {
                for member in concept.members { variantPhraseList.append((terms(of: member.value), Int32(number))) }
            }
        }

        // Context flags become bits.
        var flagBits: [String: UInt64] = [:]
        for intent in source.intents {
            for flag in intent.requires + intent.setsContext where flagBits[flag] == nil {
                guard flagBits.count < 64 else {
                    error(intent.id.location, "more than 64 different context flags; use fewer")
                    break
                }
                flagBits[flag] = 1 << UInt64(flagBits.count)
            }
        }

        // About 8 edges a pattern (a few paths of a few words, prefixes shared), so the edge table seldom grows.
        let trieInsertion = TrieInsertion(expectedEdges: 8 * source.intents.reduce(0) { $0 + $1.patterns.count })
        var pendingPaths: [TrieInsertion.Path] = []
        var intents: [Brain.Intent] = []
        var intentIndex: [String: Int32] = [:]
        var intentRequires: [UInt64] = []
        var patterns: [Brain.PatternInfo] = []
        var documents: [(intent: Int32, terms: [Int32], isExample: Bool, text: String)] = []
        var pathCount = 0
        // Parsing patterns needs nothing from the rest of the compiler: another core parses ahead of this loop.
        let patternParsing = PatternParsing(source.intents)
        DispatchQueue.global().async { patternParsing.parseAhead() }
        var parsedChunk: PatternParsing.Parsed = []

        for (definitionNumber, definition) in source.intents.enumerated() {
            // Every chunk is taken at its first intent, whatever becomes of that intent.
            if definitionNumber % PatternParsing.chunkSize == 0 {
                // The chunk before is freed with the paths sent along, on the trie's queue.
                trieInsertion.insert(pendingPaths, releasing: parsedChunk)
                pendingPaths = []
                parsedChunk = patternParsing.parsed(chunk: definitionNumber / PatternParsing.chunkSize)
            }
            let parsedIntent = parsedChunk[definitionNumber % PatternParsing.chunkSize]
            let id = definition.id.value
            if let previous = intentIndex[id] {
                error(
                    definition.id.location,
                    "duplicate intent id '\(id)' (first defined at \(intents[Int(previous)].location))")
                continue
            }
            let intentNumber = Int32(intents.count)
            var captureNames = Set<String>()
            var hasProblem = false
            if definition.patterns.isEmpty && definition.examples.isEmpty {
                error(definition.id.location, "intent '\(id)' has no patterns and no examples, so nothing can reach it")
                hasProblem = true
            }
            for (pattern, parsing) in zip(definition.patterns, parsedIntent.patterns) {
                let parsed: Pattern
                do {
                    parsed = try parsing.get()
                } catch {
                    // Offsets count Unicode scalars, as the YAML reader's columns do.
                    self.error(pattern.location.advanced(by: error.offset), error.message)
                    hasProblem = true
                    continue
                }
                guard let paths = expand(parsed.elements, at: pattern.location, capacity: Self.steps(pattern.value))
                else {
                    hasProblem = true
                    continue
                }
                let patternNumber = Int32(patterns.count)
                patterns.append(
                    Brain.PatternInfo(intent: intentNumber, text: pattern.value, location: pattern.location))
                for (k, path) in paths.enumerated() {
                    guard !path.steps.isEmpty else { continue }
                    captureNames.formUnion(path.captureNames)
                    let terminal = PatternTrie.Terminal(
                        intent: intentNumber, pattern: patternNumber,
                        specificity: .init(
                            literalWords: path.literalWords, typedElements: path.typedElements,
                            wildcards: path.wildcards, priority: Int32(clamping: definition.priority)),
                        captureLayout: -1)
                    pendingPaths.append(.init(steps: path.steps, captureNames: path.captureNames, terminal: terminal))
                    pathCount += 1
                    if k < Self.maxDocumentsPerPattern && !path.literalTerms.isEmpty {
                        documents.append((intentNumber, collapse(path.literalTerms), false, pattern.value))
                    }
                }
            }
            var fixedService: Int32 = -1
            if let name = definition.service {
                if let index = serviceIndex[name] {
                    fixedService = index
                } else if !source.services.isEmpty || name != "" {
                    let known = serviceIndex.keys.sorted()
                    let suggestion = Self.closest(name, among: known).map { " (did you mean '\($0)'?)" } ?? ""
                    error(
                        definition.id.location,
                        "intent '\(id)' names service '\(name)', but no knowledge file defines it\(suggestion)")
                    hasProblem = true
                }
            }
            var slotNames = Set<String>()
            for slot in definition.slots {
                if !slotNames.insert(slot.name.value).inserted {
                    error(slot.name.location, "slot '\(slot.name.value)' is declared twice")
                    hasProblem = true
                }
            }
            for example in definition.examples {
                let exampleTerms = collapse(terms(of: example.value))
                if exampleTerms.isEmpty {
                    error(example.location, "this example has no words")
                    hasProblem = true
                }
                documents.append((intentNumber, exampleTerms, true, example.value))
            }
            var replies: [ReplyTemplate] = []
            var needsService = definition.slots.contains { $0.type == .service }
            for reply in definition.replies {
                do {
                    // Parsed here, not ahead with the patterns: templates live as long as the brain, and allocated
                    // on the parsing thread they would keep its (otherwise freed) memory resident.
                    let template = try ReplyTemplate(reply.value)
                    for name in template.placeholders where name == "service" || name.hasPrefix("service.") {
                        needsService = true
                        let path = name.split(separator: ".").dropFirst().map(String.init)
                        guard !path.isEmpty, !services.isEmpty || source.services.isEmpty else { continue }
                        if fixedService >= 0 {
                            if services[Int(fixedService)].fields.value(at: path) == nil {
                                error(
                                    reply.location,
                                    "the reply uses {\(name)}, but service '\(services[Int(fixedService)].id)' "
                                        + "has no field '\(path.joined(separator: "."))'")
                                hasProblem = true
                            }
                        } else if !services.contains(where: { $0.fields.value(at: path) != nil }) {
                            error(
                                reply.location,
                                "the reply uses {\(name)}, but no service has a field "
                                    + "'\(path.joined(separator: "."))'")
                            hasProblem = true
                        }
                    }
                    for name in template.placeholders
                    where !captureNames.contains(name) && !slotNames.contains(name) && name != "service"
                        && name != "variant" && !name.hasPrefix("service.")
                    {
                        let known = captureNames.sorted().joined(separator: ", ")
                        error(
                            reply.location,
                            "the reply uses {\(name)}, but no pattern of '\(id)' captures a value by that name"
                                + (known.isEmpty ? "" : " (captured here: \(known))"))
                        hasProblem = true
                    }
                    replies.append(template)
                } catch {
                    let scalars = reply.value.prefix(error.offset).unicodeScalars.count
                    self.error(reply.location.advanced(by: scalars), error.message)
                    hasProblem = true
                }
            }
            if needsService && services.isEmpty {
                error(
                    definition.id.location,
                    "intent '\(id)' answers from service fields, but there are no services: add files to knowledge/")
                hasProblem = true
            }
            if definition.replies.isEmpty && definition.action == nil {
                error(definition.id.location, "intent '\(id)' has no reply")
                hasProblem = true
            }
            _ = hasProblem
            let title = definition.title ?? definition.examples.first?.value ?? id
            intentIndex[id] = intentNumber
            intentRequires.append(definition.requires.reduce(0) { $0 | (flagBits[$1] ?? 0) })
            intents.append(
                Brain.Intent(
                    id: id, title: title, replies: replies, plainMessages: replies.map { $0.plain.map { [$0] } },
                    quickReplies: definition.quickReplies,
                    setsContext: definition.setsContext, requires: definition.requires, action: definition.action,
                    service: definition.service, location: definition.id.location, titleTerms: terms(of: title),
                    slots: definition.slots, followUp: definition.followUp, needsService: needsService,
                    serviceIndex: fixedService, safeguarding: definition.safeguarding))
        }

        trieInsertion.insert(pendingPaths, releasing: parsedChunk)
        parsedChunk = []
        trieInsertion.startBuilding(concepts: ConceptTable(members: conceptMembers))

        // Before the vocabulary is frozen: yes and no become known words.
        let yesPhrases = settings.yesWords.map { terms(of: $0) }.filter { !$0.isEmpty }
        let noPhrases = settings.noWords.map { terms(of: $0) }.filter { !$0.isEmpty }
        let neverCorrected = source.settings.protectedWords + CommonWords.words(for: source.language)
        let protectedBuilder = neverCorrected.reduce(into: ByteTable.Builder()) { builder, word in
            for folded in lexicon.tokenizer.tokens(word) { builder.insert(folded) }
        }
        var vocabulary: [String] = []
        for index in 0..<lexicon.surfaces.count { vocabulary.append(lexicon.surfaces.key(Int32(index))) }
        // The scorer and the spelling index are built from what the loop gathered and not from each other or
        // the trie (which is being built already): on every core at once.
        let built = Mutex<(scorer: Scorer?, spelling: SpellingIndex?)>((nil, nil))
        let termCount = lexicon.terms.count
        let intentCount = intents.count
        let frequencies = lexicon.frequency
        let (documentParts, words) = (documents, vocabulary)
        DispatchQueue.concurrentPerform(iterations: 2) { part in
            if part == 0 {
                let scorer = Scorer(documents: documentParts, termCount: termCount, intentCount: intentCount)
                built.withLock { $0.scorer = scorer }
            } else {
                let spelling = SpellingIndex(words: words, frequencies: frequencies)
                built.withLock { $0.spelling = spelling }
            }
        }
        let (scorer, spelling) = built.withLock { ($0.scorer!, $0.spelling!) }
        let trie = trieInsertion.trie()
        let builtLexicon = Lexicon(
            tokenizer: tokenizer, stemmer: stemmer, surfaces: lexicon.surfaces.build(),
            surfaceTerm: lexicon.surfaceTerm, terms: lexicon.terms.build(), spelling: spelling,
            protectedWords: protectedBuilder.build(), substitutions: substitutions)
        let statistics = Brain.Statistics(
            intents: intents.count, patterns: patterns.count, paths: pathCount, trieNodes: trie.nodeCount,
            documents: scorer.documentCount, vocabulary: lexicon.surfaces.count, terms: lexicon.terms.count)
        return Brain(
            lexicon: builtLexicon, trie: trie, scorer: scorer, intents: intents, intentIndex: intentIndex,
            flagBits: flagBits, patterns: patterns, services: services,
            serviceIndex: serviceIndex, serviceGroups: serviceGroups, servicePhrases: servicePhrases,
            variantPhrases: PhraseTable(variantPhraseList), variantNames: variantNames, serviceTerm: serviceTerm,
            intentGates: Brain.IntentGate.list(
                requires: intentRequires, services: intents.map(\.serviceIndex), urgent: intents.map(\.safeguarding)),
            yesPhrases: yesPhrases, noPhrases: noPhrases,
            clarifyMessage: Self.split(source.settings.clarifyMessage), settings: source.settings,
            statistics: statistics)
    }

    /// Splits the clarify message around `{options}` (appended at the end when missing).
    static func split(_ message: String) -> (prefix: String, suffix: String) {
        guard let range = message.range(of: "{options}") else { return (message + " ", "") }
        return (String(message[..<range.lowerBound]), String(message[range.upperBound...]))
    }

    /// Terms of a content text after substitutions.
    private mutating func terms(of text: String) -> [Int32] {
        let hash = TextCache.hash(text)
        if let cached = termCache.value(of: text, hash: hash) {
            lexicon.recount(cached.surfaces)
            return cached.terms
        }
        let surfaces = lexicon.surfaceIDs(of: text)
        let terms = substitute(surfaces).map { lexicon.term(ofSurface: $0) }
        termCache.insert(text, hash: hash, (surfaces, terms))
        return terms
    }

    /// Named services replaced by the shared service term, as the scorer sees messages.
    private func collapse(_ terms: [Int32]) -> [Int32] {
        guard !servicePhrases.isEmpty else { return terms }
        var result: [Int32] = []
        var index = 0
        while index < terms.count {
            if let (length, _) = servicePhrases.longestMatch(terms, from: index) {
                result.append(serviceTerm)
                index += length
            } else {
                result.append(terms[index])
                index += 1
            }
        }
        return result
    }

    /// The closest known name to a misspelt one, for "did you mean" hints.
    static func closest(_ name: String, among known: [String]) -> String? {
        let best = known.map { ($0, EditDistance.osa(name, $0)) }.min { $0.1 < $1.1 }
        guard let best, best.1 <= max(2, name.count / 3) else { return nil }
        return best.0
    }

    private func substitute(_ surfaces: [Int32]) -> [Int32] {
        guard !substitutions.isEmpty else { return surfaces }
        var result: [Int32] = []
        var index = 0
        while index < surfaces.count {
            if let (length, replacement) = substitutions.longestMatch(surfaces, from: index) {
                result.append(contentsOf: substitutions.replacement(replacement))
                index += length
            } else {
                result.append(surfaces[index])
                index += 1
            }
        }
        return result
    }

    /// About how many steps the longest path of a pattern has (words, wildcards, concepts, captures), rounded up:
    /// a path built with that much room seldom grows its arrays.
    static func steps(_ pattern: String) -> Int {
        let spaces = pattern.utf8.withContiguousStorageIfAvailable { bytes in
            var count = 0
            for byte in bytes where byte == UInt8(ascii: " ") { count += 1 }
            return count
        }
        return 2 + (spaces ?? pattern.utf8.count / 2)
    }

    /// Expands optional parts and alternatives into concrete paths, each with room for `capacity` steps; nil
    /// (with a problem recorded) on error.
    private mutating func expand(
        _ elements: [Pattern.Element], at location: SourceLocation, capacity: Int
    )
        -> [PathDraft]?
    {
        var paths = [PathDraft(capacity: capacity)]
        for element in elements {
            switch element {
            case .word(let text):
                let terms = terms(of: text)
                for i in paths.indices {
                    for term in terms { paths[i].steps.append(.term(term)) }
                    paths[i].literalWords += Int32(terms.count)
                    paths[i].literalTerms.append(contentsOf: terms)
                }
            case .wildcard:
                for i in paths.indices {
                    paths[i].steps.append(.wildcard)
                    paths[i].wildcards += 1
                    paths[i].captureNames.append(String(paths[i].wildcards))
                }
            case .concept(let name):
                guard let id = conceptIDs[name] else {
                    let known = conceptIDs.keys.sorted().joined(separator: ", ")
                    error(
                        location,
                        "unknown concept '~\(name)'; define it in intents/concepts.yaml"
                            + (known.isEmpty ? "" : " (known: \(known))"))
                    return nil
                }
                for i in paths.indices {
                    paths[i].steps.append(.concept(id))
                    paths[i].typedElements += 1
                    paths[i].captureNames.append(name)
                }
            case .slot(let name, let type):
                for i in paths.indices {
                    if type == .service { paths[i].literalTerms.append(serviceTerm) }
                    paths[i].steps.append(.slot(type))
                    paths[i].typedElements += 1
                    paths[i].captureNames.append(name)
                }
            case .group(let alternatives, let optional):
                var expanded: [PathDraft] = []
                expanded.reserveCapacity(paths.count * (alternatives.count + (optional ? 1 : 0)))
                for alternative in alternatives {
                    // Most alternatives are plain words (`[the]`, `(renew|extend)`): each head gets their terms.
                    if alternative.allSatisfy({ if case .word = $0 { true } else { false } }) {
                        var words: [Int32] = []
                        for case .word(let text) in alternative { words += terms(of: text) }
                        for head in paths { expanded.append(head.appending(words, capacity: capacity)) }
                        continue
                    }
                    guard let tails = expand(alternative, at: location, capacity: alternative.count + 2) else {
                        return nil
                    }
                    for head in paths {
                        for tail in tails {
                            expanded.append(head.joined(with: tail, capacity: capacity))
                        }
                    }
                }
                if optional { expanded.append(contentsOf: paths) }
                paths = expanded
            }
            if paths.count > Self.maxPathsPerPattern {
                error(
                    location,
                    "this pattern has more than \(Self.maxPathsPerPattern) combinations of optional words and "
                        + "alternatives; split it into several patterns or use a concept")
                return nil
            }
        }
        return paths
    }
}

/// Inserts expanded pattern paths into a ``PatternTrieBuilder`` on a serial queue, in the order the compiler
/// sends them, then builds the trie there: the compiler's loop goes on reading the next intents meanwhile. The
/// builder sees the same insertions in the same order as it would on one thread, so the trie is the same.
final class TrieInsertion: Sendable {
    /// One expanded path; the terminal's capture layout is filled in when the path is inserted.
    struct Path: Sendable {
        var steps: [PatternTrie.Step]
        var captureNames: [String]
        var terminal: PatternTrie.Terminal
    }

    private let queue = DispatchQueue(label: "clerk.trie-insertion")
    /// Only the queue's work items touch it, one after another; the lock is never contended.
    private let builder: Mutex<PatternTrieBuilder>
    private let built = Mutex<PatternTrie?>(nil)

    init(expectedEdges: Int) {
        builder = Mutex(PatternTrieBuilder())
        // The large edge table is allocated and cleared on the queue too.
        queue.async { [self] in builder.withLock { $0 = PatternTrieBuilder(expectedEdges: expectedEdges) } }
    }

    /// Inserts `paths` after every batch sent before, then frees them and `garbage` there: freeing thousands of
    /// small arrays costs the compiler's loop time it can spend on the next intents.
    func insert(_ paths: [Path], releasing garbage: some Sendable) {
        queue.async { [self] in
            builder.withLock { builder in
                for path in paths {
                    var terminal = path.terminal
                    terminal.captureLayout = builder.layout(path.captureNames[...])
                    builder.insert(path.steps[...], terminal: terminal)
                }
            }
            withExtendedLifetime(garbage) {}
        }
    }

    /// Builds the trie once every batch sent before is inserted.
    func startBuilding(concepts: ConceptTable) {
        queue.async { [self] in
            let trie = builder.withLock { $0.build(concepts: concepts) }
            built.withLock { $0 = trie }
        }
    }

    /// The trie, waiting for ``startBuilding(concepts:)`` to finish.
    func trie() -> PatternTrie {
        queue.sync {}
        return built.withLock { $0! }
    }
}

/// The patterns of the intents parsed in chunks, in order: on another thread ahead of the compiler's main loop
/// (``parseAhead()``), and by the loop itself (``parsed(chunk:)``) for any chunk that thread has not started,
/// so the loop never depends on the other thread running at all.
final class PatternParsing: Sendable {
    static let chunkSize = 256

    /// One intent's patterns, parsed.
    struct Intent: Sendable {
        var patterns: [Result<Pattern, Pattern.SyntaxError>]
    }

    /// The intents of one chunk.
    typealias Parsed = [Intent]

    private enum State: Sendable {
        case waiting
        case parsing
        case parsed(Parsed)
    }

    private let intents: [IntentDefinition]
    private let states: Mutex<[State]>
    /// Signalled when the other thread has parsed a chunk.
    private let finished: [DispatchSemaphore]

    init(_ intents: [IntentDefinition]) {
        self.intents = intents
        let count = (intents.count + Self.chunkSize - 1) / Self.chunkSize
        states = Mutex([State](repeating: .waiting, count: count))
        finished = (0..<count).map { _ in DispatchSemaphore(value: 0) }
    }

    /// Parses, in order, every chunk nobody has started.
    func parseAhead() {
        for chunk in finished.indices where claim(chunk) {
            let parsed = parse(chunk)
            states.withLock { $0[chunk] = .parsed(parsed) }
            finished[chunk].signal()
        }
    }

    /// The intents of the chunk parsed, parsing them here unless the other thread has started.
    func parsed(chunk: Int) -> Parsed {
        if claim(chunk) { return parse(chunk) }
        finished[chunk].wait()
        return states.withLock { states in
            guard case .parsed(let parsed) = states[chunk] else { preconditionFailure("signalled before parsed") }
            // Taken once: the loop holds it from here.
            states[chunk] = .parsing
            return parsed
        }
    }

    private func claim(_ chunk: Int) -> Bool {
        states.withLock { states in
            guard case .waiting = states[chunk] else { return false }
            states[chunk] = .parsing
            return true
        }
    }

    private func parse(_ chunk: Int) -> Parsed {
        let range = (chunk * Self.chunkSize)..<min((chunk + 1) * Self.chunkSize, intents.count)
        return intents[range].map { definition in
            Intent(
                patterns: definition.patterns.map { pattern in
                    Result { () throws(Pattern.SyntaxError) in try Pattern.parse(pattern.value) }
                })
        }
    }
}

extension PathDraft {
    /// This path followed by `tail`, with room for `capacity` steps.
    func joined(with tail: PathDraft, capacity: Int) -> PathDraft {
        var result = PathDraft(capacity: Swift.max(capacity, steps.count + tail.steps.count))
        result.steps += steps
        result.steps += tail.steps
        result.literalWords = literalWords + tail.literalWords
        result.typedElements = typedElements + tail.typedElements
        result.captureNames = captureNames
        // Wildcards inside a group continue the numbering of the head.
        result.captureNames += tail.captureNames.map { name in
            if let number = Int(name), number <= tail.wildcards { return String(number + Int(wildcards)) }
            return name
        }
        result.wildcards = wildcards + tail.wildcards
        result.literalTerms += literalTerms
        result.literalTerms += tail.literalTerms
        return result
    }

    /// This path followed by literal words (their terms), with room for `capacity` steps: what
    /// ``joined(with:capacity:)`` gives for a tail of plain words.
    func appending(_ terms: [Int32], capacity: Int) -> PathDraft {
        var result = PathDraft(capacity: Swift.max(capacity, steps.count + terms.count))
        result.steps += steps
        for term in terms { result.steps.append(.term(term)) }
        result.literalWords = literalWords + Int32(terms.count)
        result.typedElements = typedElements
        result.wildcards = wildcards
        result.captureNames = captureNames
        result.literalTerms += literalTerms
        result.literalTerms += terms
        return result
    }
}

extension Array where Element: Sendable {
    /// `map` with the elements transformed concurrently, in chunks of at least `chunk` elements (at most 16
    /// chunks); the results keep the elements' order. For pure work: fewer than two chunks' worth is mapped on
    /// the calling thread.
    package func concurrentMap<T: Sendable>(chunk: Int = 1, _ transform: @Sendable (Element) -> T) -> [T] {
        let chunkCount = Swift.min(count / Swift.max(chunk, 1), 16)
        guard chunkCount > 1 else { return map(transform) }
        let chunks = Mutex([[T]](repeating: [], count: chunkCount))
        DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
            let range = (count * chunk / chunkCount)..<(count * (chunk + 1) / chunkCount)
            let values = self[range].map(transform)
            chunks.withLock { $0[chunk] = values }
        }
        return chunks.withLock { $0.flatMap { $0 } }
    }
}
