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
