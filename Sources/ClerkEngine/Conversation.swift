/// What the engine remembers between turns of one conversation. Intents are kept by id, so a state stays
/// valid when the brain is reloaded (an id that no longer exists is simply ignored).
public struct ConversationState: Sendable, Hashable, Codable {
    /// Turns taken so far; also picks among reply variants, so replies vary without randomness.
    public var turnCount = 0
    /// The last intent that answered.
    public var lastIntent: String?
    /// Context flags set by the last answering intent (see `context:` in intent files).
    public var context: [String] = []
    /// Misses in a row; reset by any answer.
    public var consecutiveMisses = 0
    /// Intents offered in a "Did you mean …?" question, in the order offered.
    public var pendingChoices: [String] = []
    /// The service the conversation is about: named last, or used by the last answer.
    public var currentService: String?
    /// The variant last named for the current service ("child"), if any.
    public var variant: String?
    /// A question the engine asked and waits for an answer to.
    public var pending: PendingQuestion?
    /// "Shall I pass this to a person?" was asked, for this reason; a yes hands over.
    public var pendingHandoff: EscalationReason?

    public init() {}
}

/// A question the engine asked to complete an answer: a missing value (slot filling) or which service.
public struct PendingQuestion: Sendable, Hashable, Codable {
    /// The intent that answers once the question is answered.
    public var intent: String
    /// The slot asked for; `nil` when the question is which service.
    public var slot: String?
    /// Services offered when a word fitted several (ids, in the order offered).
    public var services: [String] = []
    /// Values given so far, by slot name.
    public var values: [String: String] = [:]
    /// Answers to this question that were not valid.
    public var failedAttempts = 0

    public init(intent: String, slot: String?, services: [String] = [], values: [String: String] = [:]) {
        self.intent = intent
        self.slot = slot
        self.services = services
        self.values = values
    }
}

/// The engine's reply to one message.
public struct Turn: Sendable {
    /// How the engine decided.
    public enum Outcome: Sendable, Hashable {
        /// A confident answer from `intent`.
        case answer(intent: String, confidence: Double, via: Evidence)
        /// A "Did you mean …?" question offering these intents.
        case clarify([String])
        /// Nothing matched well enough.
        case miss
        /// The engine asked for something `intent` needs: a slot's value, or (`slot` = "service") which service.
        case ask(intent: String, slot: String)
        /// The citizen answered "Shall I pass this to a person?": yes (a handover action follows) or no.
        case handoff(accepted: Bool)
    }

    /// What an answer rested on.
    public enum Evidence: String, Sendable, Hashable, Codable {
        /// A pattern matched the whole message.
        case pattern
        /// The message was close enough to the intent's examples.
        case examples
        /// The citizen picked an option from a "Did you mean …?" question.
        case choice
    }

    public var outcome: Outcome
    /// Messages to show, in order.
    public var messages: [String]
    /// Suggested next messages, shown as buttons.
    public var quickReplies: [String]
    /// What the I/O side should do besides showing messages.
    public var actions: [TurnAction]
    /// The conversation's state after this turn; pass it to the next call.
    public var state: ConversationState
    /// What the answering pattern captured; kept as positions in the message until someone asks.
    public var captured: Captures
    /// The service the answer is about, if any.
    public var service: String?
    /// Values of the intent's slots, once all are given (for tickets and reports).
    public var slots: [String: String] = [:]
    /// Links to show besides the messages (the source of a service answer).
    public var links: [TurnLink] = []
    /// The intent the message matched when another one answered (a follow-up answers the last question again).
    public var matchedIntent: String?

    /// Captured values by name (`1`, `2`… for wildcards; slot and concept names), as the citizen wrote them.
    public var captures: [String: String] { captured.dictionary }

    /// The answering intent's id, if the outcome is an answer.
    public var intent: String? {
        if case .answer(let intent, _, _) = outcome { return intent }
        return nil
    }
}

/// A link offered with a turn.
public struct TurnLink: Sendable, Hashable, Codable {
    public var title: String
    public var url: String

    public init(title: String, url: String) {
        self.title = title
        self.url = url
    }
}

/// Things a turn asks the surrounding service to do.
public enum TurnAction: Sendable, Hashable {
    /// Hand the conversation to a human agent.
    case escalate(reason: EscalationReason)
    /// Tell the citizen the status of this ticket (a reference such as `T-1042`, as written).
    case ticketStatus(reference: String)
}

/// Why the engine asked for a human.
public enum EscalationReason: String, Sendable, Hashable, Codable {
    /// The citizen asked for a person.
    case requested
    /// The engine missed several times in a row.
    case repeatedMisses = "repeated_misses"
    /// The citizen could not give a value the engine asked for.
    case unansweredQuestion = "unanswered_question"
    /// A safeguarding topic: urgent, handed over without asking.
    case safeguarding
}

/// Values a pattern captured, as the citizen wrote them. Stored as byte ranges of the message, so a turn that
/// never shows a capture never builds one.
public struct Captures: Sendable, Hashable {
    let names: [String]
    /// UTF-8 byte ranges in `message`, in the order of `names`.
    let ranges: CaptureRanges
    let message: String

    /// Nothing captured.
    public static let none = Captures(names: [], ranges: CaptureRanges(), message: "")

    /// True when nothing was captured.
    public var isEmpty: Bool { ranges.count == 0 }

    /// The text captured as `name`.
    public subscript(name: String) -> String? {
        guard let index = names.prefix(ranges.count).firstIndex(of: name) else { return nil }
        let range = ranges[index]
        let utf8 = message.utf8
        guard range.lowerBound >= 0, range.upperBound <= utf8.count else { return nil }
        return String(
            message[
                utf8.index(
                    utf8.startIndex, offsetBy: range.lowerBound)..<utf8.index(
                        utf8.startIndex, offsetBy: range.upperBound)])
    }

    /// Every capture by name.
    public var dictionary: [String: String] {
        var result: [String: String] = [:]
        for name in names.prefix(ranges.count) { result[name] = self[name] }
        return result
    }
}

/// The byte ranges of a turn's captures. Up to four are kept inline, so a pattern answer with a few captures
/// allocates nothing for them; more (or offsets beyond 32 bits) go to an array.
struct CaptureRanges: Sendable, Hashable {
    /// Lower and upper bounds of the first four ranges.
    private var inline = SIMD8<Int32>()
    private var spilled: [Range<Int>] = []
    private(set) var count = 0

    init() {}

    subscript(index: Int) -> Range<Int> {
        precondition(index >= 0 && index < count, "capture index out of range")
        if !spilled.isEmpty { return spilled[index] }
        return Int(inline[2 * index])..<Int(inline[2 * index + 1])
    }

    mutating func append(_ range: Range<Int>) {
        if spilled.isEmpty && count < 4 && range.lowerBound >= 0 && range.upperBound <= Int(Int32.max) {
            inline[2 * count] = Int32(range.lowerBound)
            inline[2 * count + 1] = Int32(range.upperBound)
        } else {
            if spilled.isEmpty { spilled = (0..<count).map { self[$0] } }
            spilled.append(range)
        }
        count += 1
    }

    static func == (a: CaptureRanges, b: CaptureRanges) -> Bool {
        a.count == b.count && (0..<a.count).allSatisfy { a[$0] == b[$0] }
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for index in 0..<count { hasher.combine(self[index]) }
    }
}
