import ClerkContent
import ClerkEngine
import Foundation
import Testing

/// Parses content written inline as YAML, the way content editors write it, into a ``BrainSource``.
/// Parse problems are recorded as test issues: tests that want problems call the parsers themselves.
func source(
    intents: String, concepts: String = "", substitutions: String = "", settings: PolicySettings = PolicySettings(),
    knowledge: [String: String] = [:], sourceLocation: Testing.SourceLocation = #_sourceLocation
) -> BrainSource {
    let parsedIntents = ContentLoader.parseIntents(yaml: intents, file: "intents/test.yaml")
    let parsedConcepts = ContentLoader.parseConcepts(yaml: concepts, file: "intents/concepts.yaml")
    let parsedSubstitutions = ContentLoader.parseSubstitutions(yaml: substitutions, file: "intents/substitutions.yaml")
    var problems = parsedIntents.problems + parsedConcepts.problems + parsedSubstitutions.problems
    var services: [ServiceDefinition] = []
    for (id, yaml) in knowledge.sorted(by: { $0.key < $1.key }) {
        let parsed = ContentLoader.parseService(yaml: yaml, file: "knowledge/\(id).yaml")
        problems += parsed.problems
        if let service = parsed.service { services.append(service) }
    }
    #expect(problems.isEmpty, "content does not parse: \(problems)", sourceLocation: sourceLocation)
    var result = BrainSource(
        intents: parsedIntents.intents, concepts: parsedConcepts.concepts,
        substitutions: parsedSubstitutions.substitutions, settings: settings)
    result.services = services
    return result
}

/// Compiles inline YAML content into a brain, requiring that it compiles without any problem.
func brain(
    intents: String, concepts: String = "", substitutions: String = "", settings: PolicySettings = PolicySettings(),
    knowledge: [String: String] = [:], sourceLocation: Testing.SourceLocation = #_sourceLocation
) throws -> Brain {
    let content = source(
        intents: intents, concepts: concepts, substitutions: substitutions, settings: settings, knowledge: knowledge,
        sourceLocation: sourceLocation)
    let (compiled, problems) = Brain.compile(content)
    #expect(problems.isEmpty, "content does not compile: \(problems)", sourceLocation: sourceLocation)
    return try #require(compiled, sourceLocation: sourceLocation)
}

/// Sends `messages` one after another in one conversation; returns every turn.
func converse(_ brain: Brain, _ messages: [String], from start: ConversationState = ConversationState()) -> [Turn] {
    var state = start
    var turns: [Turn] = []
    for message in messages {
        let turn = brain.reply(to: message, in: state)
        state = turn.state
        turns.append(turn)
    }
    return turns
}

extension Turn {
    /// How the answer was reached, or nil when the turn is not an answer.
    var evidence: Evidence? {
        if case .answer(_, _, let via) = outcome { return via }
        return nil
    }

    var confidence: Double? {
        if case .answer(_, let confidence, _) = outcome { return confidence }
        return nil
    }

    var isMiss: Bool { outcome == .miss }

    var clarifyOptions: [String]? {
        if case .clarify(let options) = outcome { return options }
        return nil
    }
}

extension Explanation {
    /// The reading of the token the citizen typed as `original`.
    func reading(of original: String) -> Reading? {
        readings.first { $0.original == original }
    }
}
