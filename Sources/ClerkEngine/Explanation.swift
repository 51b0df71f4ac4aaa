import ClerkText

/// Why the engine answered as it did: how the message was read, which patterns matched, how the examples
/// scored, and what was decided. Built on request (``Brain/explain(_:in:)``) by running the same decision
/// path as ``Brain/reply(to:in:)`` with recording switched on.
public struct Explanation: Sendable, Codable, Hashable {
    /// How one token was read.
    public struct Reading: Sendable, Codable, Hashable {
        /// What the citizen wrote.
        public var original: String
        /// Folded form (case, accents, width removed).
        public var folded: String
        /// `known`, `stem`, `corrected`, `unknown` or `protected`.
        public var status: String
        /// The stem, correction or protected kind, when there is one.
        public var detail: String?
    }

    /// A pattern that matched the whole message.
    public struct PatternCandidate: Sendable, Codable, Hashable {
        public var intent: String
        public var pattern: String
        public var location: String
        public var literalWords: Int
        public var typedElements: Int
        public var wildcards: Int
        public var priority: Int
        /// False when the intent requires context flags the conversation does not have.
        public var eligible: Bool
    }

    /// An intent the example scorer considered.
    public struct ScoredCandidate: Sendable, Codable, Hashable {
        public var intent: String
        public var score: Double
        /// The closest example or pattern.
        public var nearest: String
        /// `example` or `pattern`.
        public var source: String
        /// Each shared word's share of the score.
        public var contributions: [Contribution]
    }

    /// One word's part in a score.
    public struct Contribution: Sendable, Codable, Hashable {
        public var word: String
        public var weight: Double
    }

    public var input: String
    public var readings: [Reading] = []
    /// Steps that are not one token's reading: substitutions, number words, ICU use.
    public var notes: [String] = []
    /// The terms matched against patterns and examples, in order (`?` for an unknown word).
    public var normalized: [String] = []
    public var patternMatches: [PatternCandidate] = []
    public var scored: [ScoredCandidate] = []
    /// `answer`, `clarify`, `ask` or `miss`.
    public var outcome: String = "miss"
    public var intent: String?
    /// Services and variants the message names, as "service passport (from 'pasport')".
    public var entities: [String] = []
    /// The service the answer is about, and where it came from (the message, the conversation, a choice).
    public var service: String?
    public var variant: String?
    /// Slot values the answer used.
    public var slots: [String: String] = [:]
    public var confidence: Double?
    /// The decisive reason, in words.
    public var reason: String = ""
    /// Why each runner-up lost.
    public var runnersUp: [String] = []
    /// The reply given.
    public var messages: [String] = []
}

/// Records a decision while it is made; only allocated when an explanation is requested.
final class Trace {
    var explanation: Explanation
    var terminals: [(index: Int32, eligible: Bool)] = []

    init(input: String) {
        explanation = Explanation(input: input)
    }

    func note(_ text: String) {
        explanation.notes.append(text)
    }

    func reading(token folded: String, original span: TokenSpan, _ reading: (status: String, detail: String?)) {
        let original = String(
            decoding: explanation.input.utf8.dropFirst(Int(span.originalStart)).prefix(
                Int(span.originalEnd - span.originalStart)), as: UTF8.self)
        explanation.readings.append(
            Explanation.Reading(original: original, folded: folded, status: reading.status, detail: reading.detail))
    }

    func patternMatch(terminal: Int32, eligible: Bool) {
        if !terminals.contains(where: { $0.index == terminal }) {
            terminals.append((terminal, eligible))
        }
    }
}
