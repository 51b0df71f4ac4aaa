import ClerkEngine
import Foundation

/// The checks `clerk lint` runs beyond loading: what compiles but will not behave as an editor expects.
///
/// - a pattern whose own sample message ("how much is a passport" for `how much is a {service}`) is answered by
///   another intent: shadowed by a more specific pattern, or clashing with an equally specific one;
/// - an example that another intent's pattern answers;
/// - an example the example scorer would give to another intent if it were not listed (cross-validated, with
///   the scores);
/// - concepts nothing uses; services no intent can answer from;
/// - knowledge files not reviewed within the review age;
/// - transcripts asserting intents or services that do not exist.
public enum ContentLinter {
    /// `progress` is called once per intent checked (for a progress bar over large content).
    public static func check(
        source: BrainSource, brain: Brain, transcripts: [Transcript], today: Date, reviewAgeDays: Int,
        progress: () -> Void = {}
    ) -> [ContentProblem] {
        var problems: [ContentProblem] = []
        let sampler = Sampler(source: source)
        for intent in source.intents {
            progress()
            guard brain.hasIntent(intent.id.value) && intent.requires.isEmpty else { continue }
            let id = intent.id.value
            for pattern in intent.patterns {
                guard let parsed = try? Pattern.parse(pattern.value) else { continue }
                for sample in sampler.samples(parsed.elements) {
                    let (turn, explanation) = brain.explain(sample)
                    guard let winner = explanation.intent, winner != id, turn.intent != nil || isAsk(turn),
                        let won = explanation.patternMatches.first(where: { $0.intent == winner }),
                        let mine = explanation.patternMatches.first(where: {
                            $0.intent == id && $0.pattern == pattern.value
                        })
                    else { continue }
                    let equal =
                        won.literalWords == mine.literalWords && won.typedElements == mine.typedElements
                        && won.wildcards == mine.wildcards && won.priority == mine.priority
                    problems.append(
                        ContentProblem(
                            pattern.location,
                            equal
                                ? "this pattern clashes with '\(winner)' (pattern \"\(won.pattern)\" at \(won.location)): "
                                    + "both accept \"\(sample)\" equally, and '\(winner)' wins only because it comes first; "
                                    + "make one more specific or give one a priority"
                                : "this pattern can lose to '\(winner)': \"\(sample)\" goes to its more specific pattern "
                                    + "\"\(won.pattern)\" (\(won.location))",
                            severity: .warning))
                    break
                }
            }
            for example in intent.examples {
                let (turn, explanation) = brain.explain(example.value)
                guard let other = turn.intent, other != id, case .answer(_, _, .pattern) = turn.outcome,
                    let won = explanation.patternMatches.first(where: { $0.intent == other })
                else { continue }
                problems.append(
                    ContentProblem(
                        example.location,
                        "this example of '\(id)' is answered by '\(other)': its pattern \"\(won.pattern)\" "
                            + "(\(won.location)) matches the whole sentence",
                        severity: .warning))
            }
        }

        problems += scorerConfusions(source: source, brain: brain)

        // Concepts: used in a pattern, or naming a variant of a service field.
        let patternText = source.intents.flatMap { $0.patterns.map(\.value) }.joined(separator: " ")
        let variants = Set(
            source.services.flatMap { service in
                service.fields.flatMap { entry -> [String] in
                    guard entry.key != "office", case .map(let parts) = entry.value else { return [] }
                    return parts.map(\.key)
                }
            })
        for concept in source.concepts {
            let name = concept.name.value
            let used = patternText.range(of: "~" + name, options: []) != nil
            if !used && !variants.contains(name) {
                problems.append(
                    ContentProblem(
                        concept.name.location,
                        "concept '\(name)' is not used: no pattern says ~\(name), and no service field has a "
                            + "variant called \(name)",
                        severity: .warning))
            }
        }

        // Services: something must answer from them.
        if let first = source.services.first, !brain.intentIDs.contains(where: { brain.readsServices(intent: $0) }) {
            problems.append(
                ContentProblem(
                    first.id.location,
                    "no intent answers from services: add intents whose replies read {service.…} fields "
                        + "(see intents/services.yaml in the Example City content)",
                    severity: .warning))
        }

        // Review age.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for service in source.services {
            guard let reviewed = service.lastReviewed, let components = KnowledgeFileParser.date(reviewed.value),
                let date = calendar.date(from: components)
            else { continue }
            let days = calendar.dateComponents([.day], from: date, to: today).day ?? 0
            if days > reviewAgeDays {
                problems.append(
                    ContentProblem(
                        reviewed.location,
                        "'\(service.id.value)' was last reviewed \(days) days ago (\(reviewed.value)); the review age "
                            + "is \(reviewAgeDays) days: check the facts, then update last_reviewed",
                        severity: .warning))
            } else if days < -1 {
                problems.append(
                    ContentProblem(
                        reviewed.location, "last_reviewed \(reviewed.value) is in the future", severity: .warning))
            }
        }

        // Transcripts.
        for transcript in transcripts {
            for step in transcript.steps {
                for (expectation, line) in step.expectations {
                    let location = SourceLocation(file: transcript.file, line: line, column: 3)
                    switch expectation {
                    case .intent(let id) where !brain.hasIntent(id):
                        let suggestion = closest(id, brain.intentIDs).map { " (did you mean '\($0)'?)" } ?? ""
                        problems.append(ContentProblem(location, "no intent '\(id)' exists\(suggestion)"))
                    case .service(let id) where !brain.hasService(id):
                        let suggestion = closest(id, brain.serviceIDs).map { " (did you mean '\($0)'?)" } ?? ""
                        problems.append(ContentProblem(location, "no service '\(id)' exists\(suggestion)"))
                    default:
                        break
                    }
                }
            }
        }
        return problems
    }

    /// Folds for ``scorerConfusions(source:brain:)``: every `folds`-th example of each intent is held out together.
    static let folds = 5

    /// Examples the scorer would give to another intent if they were not listed: each example is held out (with a
    /// fifth of every intent's examples, so five brains are compiled, not one per example) and the brain built
    /// from the rest scores it, the way it scores a citizen's message that no example repeats. An example whose
    /// best intent is another one, with a confidence that would make that intent the answer or the first
    /// suggestion, is reported with both scores: the two intents' examples overlap, and citizens who write like
    /// it may get the other answer. Examples a pattern answers are not checked: the pattern decides them.
    static func scorerConfusions(source: BrainSource, brain: Brain) -> [ContentProblem] {
        struct HeldOut {
            var intent: String
            var example: Located<String>
        }
        let clarify = source.settings.clarifyThreshold
        var foldsOut = [[HeldOut]](repeating: [], count: folds)
        var trimmed = [BrainSource](repeating: source, count: folds)
        for (index, intent) in source.intents.enumerated() where !intent.examples.isEmpty {
            guard brain.hasIntent(intent.id.value) && intent.requires.isEmpty else { continue }
            for (position, example) in intent.examples.enumerated() {
                // Decided by a pattern (the intent's own, or another's, which the check above reports): the
                // scorer never sees it.
                let turn = brain.reply(to: example.value, in: ConversationState())
                if case .answer(_, _, .pattern) = turn.outcome { continue }
                foldsOut[position % folds].append(HeldOut(intent: intent.id.value, example: example))
            }
            for fold in 0..<folds {
                trimmed[fold].intents[index].examples = intent.examples.enumerated()
                    .filter { $0.offset % folds != fold }.map(\.element)
            }
        }
        var problems: [ContentProblem] = []
        for fold in 0..<folds where !foldsOut[fold].isEmpty {
            guard let foldBrain = Brain.compile(trimmed[fold]).brain else { continue }
            for held in foldsOut[fold] {
                let candidates = foldBrain.candidates(for: held.example.value, limit: 12)
                guard let best = candidates.first, best.intent != held.intent, best.score >= clarify else { continue }
                let own = candidates.first { $0.intent == held.intent }
                let ownText =
                    own.map { "'\(held.intent)' \(format($0.score))" }
                    ?? "'\(held.intent)' below \(format(candidates.last?.score ?? 0))"
                problems.append(
                    ContentProblem(
                        held.example.location,
                        "the scorer gives this example of '\(held.intent)' to '\(best.intent)' when it is not listed "
                            + "('\(best.intent)' \(format(best.score)), \(ownText)): messages written like it may get "
                            + "the other answer; reword it, or add examples or a pattern that tell the two apart",
                        severity: .warning))
            }
        }
        return problems
    }

    private static func format(_ score: Double) -> String { String(format: "%.2f", score) }

    private static func isAsk(_ turn: Turn) -> Bool {
        if case .ask = turn.outcome { return true }
        return false
    }

    private static func closest(_ name: String, _ known: [String]) -> String? {
        NodeReader.suggestion(for: name, among: known)
    }

    /// Sample messages a pattern accepts: optional parts left out, then put in; the first alternative of each
    /// group; a concept's first word; a typical value for each capture.
    struct Sampler {
        let concepts: [String: String]
        let service: String
        let variant: String

        init(source: BrainSource) {
            var concepts: [String: String] = [:]
            for concept in source.concepts {
                if let first = concept.members.first { concepts[concept.name.value] = first.value }
            }
            self.concepts = concepts
            service = source.services.first?.name.value ?? "passport"
            variant =
                source.services.lazy.flatMap { service in
                    service.fields.compactMap { entry -> String? in
                        guard entry.key != "office", case .map(let parts) = entry.value else { return nil }
                        return parts.first?.key
                    }
                }.first ?? "child"
        }

        func samples(_ elements: [Pattern.Element]) -> [String] {
            let short = render(elements, includeOptional: false)
            let long = render(elements, includeOptional: true)
            return short == long ? [short] : [short, long]
        }

        private func render(_ elements: [Pattern.Element], includeOptional: Bool) -> String {
            var words: [String] = []
            for element in elements {
                switch element {
                case .word(let text): words.append(text)
                case .wildcard: words.append("something")
                case .concept(let name): words.append(concepts[name] ?? name)
                case .slot(_, let type):
                    switch type {
                    case .number: words.append("3")
                    case .date: words.append("2026-12-03")
                    case .ticket: words.append("T-1042")
                    case .postcode: words.append("10115")
                    case .service: words.append(service)
                    case .variant: words.append(variant.replacingOccurrences(of: "_", with: " "))
                    case .text: words.append("something")
                    }
                case .group(let alternatives, let optional):
                    if optional && !includeOptional { continue }
                    if let first = alternatives.first {
                        let inner = render(first, includeOptional: includeOptional)
                        if !inner.isEmpty { words.append(inner) }
                    }
                }
            }
            return words.joined(separator: " ")
        }
    }
}
