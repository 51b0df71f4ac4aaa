import ClerkText

/// The brain's vocabulary and the rules that map a message's tokens onto it: folded words, their stems,
/// spelling correction bounded by the vocabulary, protected words, and substitutions.
final class Lexicon: Sendable {
    let tokenizer: Tokenizer
    let stemmer: Stemmer
    /// Folded vocabulary word → surface id.
    let surfaces: ByteTable
    /// Surface id → term id.
    let surfaceTerm: [Int32]
    /// Term key (stem, or the folded text of a protected token) → term id.
    let terms: ByteTable
    let spelling: SpellingIndex
    /// Words never corrected, nor read as another word where the words around them would fit it:
    /// `protected_words` from the settings and everyday words (``CommonWords``: "car" is not a typo of "card").
    let protectedWords: ByteTable
    let substitutions: SubstitutionTrie
    /// Bit (first byte × 256 + second byte) set for every term's first two bytes. A word whose first two
    /// bytes start no term cannot stem to a term (a stem keeps the word's beginning), so the stemmer is skipped.
    let stemPrefixes: [UInt64]
    /// Whether each vocabulary word is the first word of some substitution.
    let startsSubstitution: [Bool]

    init(
        tokenizer: Tokenizer, stemmer: Stemmer, surfaces: ByteTable, surfaceTerm: [Int32], terms: ByteTable,
        spelling: SpellingIndex, protectedWords: ByteTable, substitutions: SubstitutionTrie
    ) {
        self.tokenizer = tokenizer
        self.stemmer = stemmer
        self.surfaces = surfaces
        self.surfaceTerm = surfaceTerm
        self.terms = terms
        self.spelling = spelling
        self.protectedWords = protectedWords
        self.substitutions = substitutions
        var prefixes = [UInt64](repeating: 0, count: 1024)
        for index in 0..<terms.count {
            terms.withKey(Int32(index)) { key in
                guard key.count >= 2 else { return }
                let bit = Int(key[0]) << 8 | Int(key[1])
                prefixes[bit >> 6] |= 1 << UInt64(bit & 63)
            }
        }
        stemPrefixes = prefixes
        var starts = [Bool](repeating: false, count: surfaces.count)
        for first in substitutions.firstWords where Int(first) < starts.count { starts[Int(first)] = true }
        startsSubstitution = starts
    }

    /// How a token was read; recorded only when an explanation is requested.
    enum Reading: Sendable, Hashable {
        case known
        case stem(term: Int32)
        case corrected(surface: Int32, distance: Int)
        case unknown
        case protected(TokenKind)

        /// Whether the word was not found as written and not by its stem: it may be misspelt.
        var isGuess: Bool {
            switch self {
            case .corrected, .unknown: true
            case .known, .stem, .protected: false
            }
        }
    }

    /// Tokenises `message` and maps it onto the vocabulary, into `scratch.utterance`.
    func analyze(_ message: String, scratch: Scratch, trace: Trace?) {
        tokenizer.tokenize(message, into: scratch.tokens)
        let tokens = scratch.tokens
        if !scratch.preSurfaces.isEmpty || !scratch.preTerms.isEmpty {
            scratch.preSurfaces.removeAll(keepingCapacity: true)
            scratch.preTerms.removeAll(keepingCapacity: true)
        }
        let utterance = scratch.utterance
        utterance.removeAll()
        let rewritten = tokens.withStorage { folded, spans -> Bool in
            // Read every token straight into the utterance, its text left where the tokenizer folded it (the
            // storage changes hands below); only when a token can start a substitution is the utterance rebuilt
            // with the substitutions applied, its text copied.
            var mayRewrite = false
            for span in spans {
                let bytes = UnsafeBufferPointer(rebasing: folded[Int(span.start)..<Int(span.end)])
                let (surface, term, reading, guessed) = read(bytes, hash: span.hash, kind: span.kind, scratch)
                utterance.append(
                    term: term, surface: surface, kind: span.kind, textRange: (span.start, span.end),
                    original: (span.originalStart, span.originalEnd), guessed: guessed)
                if surface >= 0 && startsSubstitution[Int(surface)] { mayRewrite = true }
                trace?.reading(token: String(decoding: bytes, as: UTF8.self), original: span, describe(reading))
            }
            if mayRewrite {
                scratch.preGuessed.removeAll(keepingCapacity: true)
                for item in utterance.items.buffer {
                    scratch.preSurfaces.append(item.surface)
                    scratch.preGuessed.append(item.guessed)
                }
                scratch.preTerms.append(contentsOf: utterance.terms)
                applySubstitutions(scratch: scratch, folded: folded, spans: spans, trace: trace)
            }
            return mayRewrite
        }
        if let trace {
            for conversion in tokens.numberConversions {
                trace.note("number words '\(conversion.words)' read as \(tokens.text(conversion.tokenIndex))")
            }
            if tokens.usedUnicodePath { trace.note("non-ASCII text segmented and folded with ICU") }
        }
        // The utterance's items point into the tokenizer's folded bytes: it takes them over.
        if !rewritten { tokens.exchangeFoldedBytes(with: &utterance.bytes) }
    }

    /// A reading in words, for explanations: (status, detail).
    func describe(_ reading: Reading) -> (String, String?) {
        switch reading {
        case .known: ("known", nil)
        case .stem(let term): ("stem", terms.key(term))
        case .corrected(let surface, let distance):
            ("corrected", "\(surfaces.key(surface)) (\(distance) edit\(distance == 1 ? "" : "s"))")
        case .unknown: ("unknown", nil)
        case .protected(let kind): ("protected", "\(kind)")
        }
    }

    /// Maps one folded token to (surface, term). `hash`: the token's ``ByteTable/hash(_:)`` if the tokenizer
    /// worked it out, else 0.
    @inline(__always)
    private func read(
        _ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64 = 0, kind: TokenKind, _ scratch: Scratch
    )
        -> (Int32, Int32, Reading, guessed: Bool)
    {
        if let surface = surfaces.index(of: bytes, hash: hash != 0 ? hash : ByteTable.hash(bytes)) {
            return (surface, surfaceTerm[Int(surface)], kind.isProtected ? .protected(kind) : .known, false)
        }
        if kind.isProtected {
            return (-1, terms.index(of: bytes) ?? -1, .protected(kind), false)
        }
        let key = hash != 0 ? hash : ByteTable.hash(bytes)
        if let remembered = scratch.readings.reading(of: bytes, hash: key) {
            return (remembered.0, remembered.1, remembered.2, remembered.2.isGuess)
        }
        let result = readUnknown(bytes, kind: kind, scratch)
        scratch.readings.remember(bytes, hash: key, result)
        return (result.0, result.1, result.2, result.2.isGuess)
    }

    /// Reads a word the vocabulary does not hold: without its apostrophes, by its stem, or corrected.
    private func readUnknown(
        _ bytes: UnsafeBufferPointer<UInt8>, kind: TokenKind, _ scratch: Scratch
    )
        -> (Int32, Int32, Reading)
    {
        // "citizen's" → "citizen"; "o'brien" → "obrien".
        if bytes.contains(UInt8(ascii: "'")) {
            let variant = Self.withoutApostrophes(bytes)
            if let result = variant.withUnsafeBufferPointer({ v -> (Int32, Int32, Reading)? in
                guard !v.isEmpty else { return nil }
                let reading = read(v, kind: kind, scratch)
                return reading.1 >= 0 ? (reading.0, reading.1, reading.2) : nil
            }) {
                return result
            }
        }
        if bytes.count >= 2,
            stemPrefixes[(Int(bytes[0]) << 8 | Int(bytes[1])) >> 6]
                & (1 << UInt64((Int(bytes[0]) << 8 | Int(bytes[1])) & 63)) != 0
        {
            scratch.stemScratch.removeAll(keepingCapacity: true)
            stemmer.stem(bytes, into: &scratch.stemScratch)
            if let term = scratch.stemScratch.withUnsafeBufferPointer({ terms.index(of: $0) }) {
                return (-1, term, .stem(term: term))
            }
        }
        guard protectedWords.index(of: bytes) == nil, !bytes.contains(where: { $0 &- 0x30 < 10 }),
            let correction = spelling.correct(bytes)
        else {
            return (-1, -1, .unknown)
        }
        let surface = correction.wordIndex
        return (surface, surfaceTerm[Int(surface)], .corrected(surface: surface, distance: correction.distance))
    }

    private static func withoutApostrophes(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var result = Array(bytes)
        if result.count > 2, result[result.count - 2] == UInt8(ascii: "'"),
            result[result.count - 1] == UInt8(ascii: "s")
        {
            result.removeLast(2)
        }
        result.removeAll { $0 == UInt8(ascii: "'") }
        return result
    }

    /// Alternatives that a word may stand for when it is misspelt: the vocabulary words one edit away
    /// (``SpellingIndex/candidates(_:limit:into:)``) of every word of `utterance` that the vocabulary does not
    /// hold as written (unknown, or corrected on its own). Known words, stems, numbers, protected tokens, words
    /// with digits, `protected_words` and everyday words get none. Fills `scratch.alternativeStarts` and
    /// `alternativeTerms`; false when no word has any.
    func alternatives(for utterance: Utterance, scratch: Scratch) -> Bool {
        scratch.alternativeStarts.removeAll(keepingCapacity: true)
        scratch.alternativeTerms.removeAll(keepingCapacity: true)
        scratch.alternativeStarts.append(0)
        for index in 0..<utterance.count {
            if utterance.items[index].guessed {
                utterance.withText(index) { text in
                    let hash = ByteTable.hash(text)
                    if let known = scratch.readings.alternatives(of: text, hash: hash) {
                        scratch.alternativeTerms.append(contentsOf: known)
                        return
                    }
                    let first = scratch.alternativeTerms.count
                    if protectedWords.index(of: text) == nil, !text.contains(where: { $0 &- 0x30 < 10 }) {
                        spelling.candidates(text, limit: Self.maxAlternatives, into: &scratch.candidateWords)
                        for word in scratch.candidateWords {
                            let candidate = surfaceTerm[Int(word)]
                            if candidate >= 0 && !scratch.alternativeTerms[first...].contains(candidate) {
                                scratch.alternativeTerms.append(candidate)
                            }
                        }
                    }
                    scratch.alternativeTerms.withUnsafeBufferPointer {
                        scratch.readings.rememberAlternatives(
                            of: text, hash: hash, UnsafeBufferPointer(rebasing: $0[first...]))
                    }
                }
            }
            scratch.alternativeStarts.append(Int32(scratch.alternativeTerms.count))
        }
        return !scratch.alternativeTerms.isEmpty
    }

    /// The vocabulary word behind alternative `term` of word `index` (for explanations): the closest word one
    /// edit away that has this term, or the term itself.
    func alternativeWord(_ utterance: Utterance, _ index: Int, _ term: Int32) -> String {
        var words: [Int32] = []
        utterance.withText(index) { spelling.candidates($0, limit: .max, into: &words) }
        return words.first { surfaceTerm[Int($0)] == term }.map { surfaces.key($0) } ?? terms.key(term)
    }

    /// Alternatives kept per word, the most frequent vocabulary words first.
    static let maxAlternatives = 8

    /// Rewrites the pre-substitution tokens into `scratch.utterance`, replacing the longest matching
    /// substitution source at each position.
    private func applySubstitutions(
        scratch: Scratch, folded: UnsafeBufferPointer<UInt8>, spans: UnsafeBufferPointer<TokenSpan>, trace: Trace?
    ) {
        let utterance = scratch.utterance
        utterance.removeAll()
        let pre = scratch.preSurfaces
        let hasSubstitutions = !substitutions.isEmpty
        var index = 0
        while index < pre.count {
            if hasSubstitutions, let (length, replacement) = substitutions.longestMatch(pre, from: index) {
                let original = (spans[index].originalStart, spans[index + length - 1].originalEnd)
                for surface in substitutions.replacement(replacement) {
                    surfaces.withKey(surface) { text in
                        utterance.append(
                            term: surfaceTerm[Int(surface)], surface: surface,
                            kind: text.allSatisfy({ $0 &- 0x30 < 10 }) ? .number : .word, text: text, original: original
                        )
                    }
                }
                if let trace {
                    let from = (index..<(index + length)).map { surfaces.key(pre[$0]) }.joined(separator: " ")
                    let to = substitutions.replacement(replacement).map { surfaces.key($0) }.joined(separator: " ")
                    trace.note("substitution '\(from)' → '\(to)'")
                }
                index += length
                continue
            }
            let span = spans[index]
            utterance.append(
                term: scratch.preTerms[index], surface: pre[index], kind: span.kind,
                text: UnsafeBufferPointer(rebasing: folded[Int(span.start)..<Int(span.end)]),
                original: (span.originalStart, span.originalEnd), guessed: scratch.preGuessed[index])
            index += 1
        }
    }
}

/// Substitution sources as a trie over surface ids, for the longest match at each position (a ``PhraseTable``
/// whose values are replacement indexes).
final class SubstitutionTrie: Sendable {
    private let sources: PhraseTable
    let replacements: [[Int32]]
    /// The first word of every substitution source.
    let firstWords: [Int32]

    var isEmpty: Bool { replacements.isEmpty }

    init(rules: [(from: [Int32], to: [Int32])]) {
        var phrases: [(terms: [Int32], value: Int32)] = []
        var replacements: [[Int32]] = []
        for rule in rules where !rule.from.isEmpty {
            phrases.append((rule.from, Int32(replacements.count)))
            replacements.append(rule.to)
        }
        sources = PhraseTable(phrases)
        self.replacements = replacements
        firstWords = rules.compactMap(\.from.first)
    }

    /// The longest substitution starting at `start`: (source length, replacement index).
    @inline(__always)
    func longestMatch(_ surfaces: [Int32], from start: Int) -> (Int, Int32)? {
        sources.longestMatch(surfaces, from: start)
    }

    func replacement(_ index: Int32) -> [Int32] { replacements[Int(index)] }
}

/// How recently seen words that the vocabulary does not hold were read (by stem, corrected, or unknown).
/// Stemming and spelling correction cost more than all the rest of a turn, and the same few such words
/// (greetings, fillers, a common misspelling) come back message after message. The memo holds exactly what
/// ``Lexicon`` would work out again (a brain never changes, and a scratch belongs to one brain's pool), so it
/// changes no reading and no explanation. Direct-mapped and owned by one scratch: no locking, no allocation.
final class ReadingMemo {
    /// Words longer than this are not remembered.
    static let maxLength = 24
    static let slotCount = 1024

    private struct Entry {
        var hash: UInt64 = 0
        var length: Int32 = -1
        var surface: Int32 = -1
        var term: Int32 = -1
        var reading: Lexicon.Reading = .unknown
    }

    private let entries = UnsafeMutablePointer<Entry>.allocate(capacity: slotCount)
    private let words = UnsafeMutablePointer<UInt8>.allocate(capacity: slotCount * maxLength)
    /// Per slot: the word's alternatives (``Lexicon/alternatives(for:scratch:)``), worked out only when a
    /// message needs them; the count is -1 until then. Apart from the entries, which every unknown word reads.
    private let alternativeTerms = UnsafeMutablePointer<Int32>.allocate(capacity: slotCount * Lexicon.maxAlternatives)
    private let alternativeCounts = UnsafeMutablePointer<Int8>.allocate(capacity: slotCount)

    init() {
        entries.initialize(repeating: Entry(), count: Self.slotCount)
        words.initialize(repeating: 0, count: Self.slotCount * Self.maxLength)
        alternativeTerms.initialize(repeating: -1, count: Self.slotCount * Lexicon.maxAlternatives)
        alternativeCounts.initialize(repeating: -1, count: Self.slotCount)
    }

    deinit {
        entries.deinitialize(count: Self.slotCount)
        entries.deallocate()
        words.deallocate()
        alternativeTerms.deallocate()
        alternativeCounts.deallocate()
    }

    /// Whether slot `index` holds `bytes`.
    @inline(__always)
    private func holds(_ index: Int, _ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Bool {
        let entry = entries[index]
        guard entry.hash == hash, Int(entry.length) == bytes.count else { return false }
        let word = words + index * Self.maxLength
        for k in 0..<bytes.count where word[k] != bytes[k] { return false }
        return true
    }

    /// The remembered alternatives of `bytes`, if they were worked out since the word was remembered.
    func alternatives(of bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> UnsafeBufferPointer<Int32>? {
        let index = slot(hash)
        guard alternativeCounts[index] >= 0, holds(index, bytes, hash: hash) else { return nil }
        return UnsafeBufferPointer(
            start: alternativeTerms + index * Lexicon.maxAlternatives, count: Int(alternativeCounts[index]))
    }

    /// Remembers the alternatives of `bytes`, when its reading is remembered.
    func rememberAlternatives(of bytes: UnsafeBufferPointer<UInt8>, hash: UInt64, _ terms: UnsafeBufferPointer<Int32>) {
        let index = slot(hash)
        guard holds(index, bytes, hash: hash), let source = terms.baseAddress else { return }
        let count = min(terms.count, Lexicon.maxAlternatives)
        (alternativeTerms + index * Lexicon.maxAlternatives).update(from: source, count: count)
        alternativeCounts[index] = Int8(count)
    }

    @inline(__always)
    private func slot(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: hash >> 40) & (Self.slotCount - 1) }

    /// The remembered reading of `bytes` (whose ``ByteTable/hash(_:)`` is `hash`), if any.
    @inline(__always)
    func reading(of bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> (Int32, Int32, Lexicon.Reading)? {
        let index = slot(hash)
        guard holds(index, bytes, hash: hash) else { return nil }
        let entry = entries[index]
        return (entry.surface, entry.term, entry.reading)
    }

    func remember(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64, _ result: (Int32, Int32, Lexicon.Reading)) {
        guard bytes.count <= Self.maxLength, let source = bytes.baseAddress else { return }
        let index = slot(hash)
        (words + index * Self.maxLength).update(from: source, count: bytes.count)
        entries[index] = Entry(
            hash: hash, length: Int32(bytes.count), surface: result.0, term: result.1, reading: result.2)
        alternativeCounts[index] = -1
    }
}
