import Foundation

/// A conversation's saved state, so a citizen can resume it with its secret resume token.
public struct StoredSession: Sendable, Codable, Hashable {
    public var id: String
    /// The SHA-256 of the resume token (see ``AgentToken/hash(_:)``); the token itself is never stored.
    public var resumeTokenHash: String
    /// The conversation state, encoded by the caller.
    public var state: Data
    public var updatedAt: Date

    public init(id: String, resumeTokenHash: String, state: Data, updatedAt: Date) {
        self.id = id
        self.resumeTokenHash = resumeTokenHash
        self.state = state
        self.updatedAt = updatedAt
    }
}

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
