import Foundation

/// A conversation's saved state, so a citizen can resume it with its secret resume token.
///
/// The transcript is kept apart from the state, in chunks that are appended and never rewritten: saving a long
/// conversation every second then writes the lines it gained, not all of them again.
///
/// ```swift
/// // Saves the state and appends the two lines said since the last save.
/// try await store.saveSessions([
///     StoredSession(id: id, resumeTokenHash: hash, state: state, updatedAt: now, transcript: [twoLines])
/// ])
/// ```
public struct StoredSession: Sendable, Codable, Hashable {
    public var id: String
    /// The SHA-256 of the resume token (see ``AgentToken/hash(_:)``); the token itself is never stored.
    public var resumeTokenHash: String
    /// The conversation state, encoded by the caller.
    public var state: Data
    public var updatedAt: Date
    /// Transcript chunks, each encoded by the caller, oldest first. Read back: every chunk stored for the session.
    /// Saved: the chunks to add after those stored (or instead of them, with ``replacesTranscript``).
    public var transcript: [Data]
    /// When saving: the stored chunks are deleted before ``transcript`` is added (a long transcript shortened).
    public var replacesTranscript: Bool

    public init(
        id: String, resumeTokenHash: String, state: Data, updatedAt: Date, transcript: [Data] = [],
        replacesTranscript: Bool = false
    ) {
        self.id = id
        self.resumeTokenHash = resumeTokenHash
        self.state = state
        self.updatedAt = updatedAt
        self.transcript = transcript
        self.replacesTranscript = replacesTranscript
    }

    /// This save, following `earlier`, which was not written yet: the two as one save, with the chunks of both
    /// unless this one replaces them.
    public func following(_ earlier: StoredSession) -> StoredSession {
        var combined = self
        if !replacesTranscript {
            combined.transcript = earlier.transcript + transcript
            combined.replacesTranscript = earlier.replacesTranscript
        }
        return combined
    }
}
