import Foundation

/// One turn of a conversation, kept for later reporting.
public struct TurnRecord: Sendable, Codable, Hashable {
    public var conversationID: String
    public var at: Date
    /// The citizen's message, already masked by the caller.
    public var text: String
    /// `answer`, `clarify`, `miss`, …
    public var outcome: String
    public var intent: String?
    public var score: Double?

    public init(
        conversationID: String, at: Date, text: String, outcome: String, intent: String? = nil, score: Double? = nil
    ) {
        self.conversationID = conversationID
        self.at = at
        self.text = text
        self.outcome = outcome
        self.intent = intent
        self.score = score
    }
}
