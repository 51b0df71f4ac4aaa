import Crypto
import Foundation

/// What an agent may do through the HTTP agent API.
public enum AgentRole: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Works tickets.
    case agent
    /// Works tickets and manages agents.
    case admin

    public var description: String { rawValue }
}

/// A person who works tickets, known by a unique name and signed in with a bearer token.
public struct Agent: Sendable, Codable, Hashable {
    public var name: String
    public var role: AgentRole
    public var createdAt: Date
    /// When the agent was last active (agent API or `clerk tickets`), if ever.
    public var lastSeenAt: Date?
    /// When the token was revoked; a revoked agent cannot sign in.
    public var revokedAt: Date?

    public init(name: String, role: AgentRole, createdAt: Date, lastSeenAt: Date? = nil, revokedAt: Date? = nil) {
        self.name = name
        self.role = role
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.revokedAt = revokedAt
    }

    /// Whether the agent can still sign in.
    public var isActive: Bool { revokedAt == nil }
}

/// Bearer tokens for agents: made at random, shown once, stored only as a SHA-256 hash.
public enum AgentToken {
    /// A new token: `clerk_` and 43 URL-safe characters (256 random bits).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let encoded = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return "clerk_" + encoded
    }

    /// The lowercase hexadecimal SHA-256 of the token's UTF-8 bytes: what the store keeps.
    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
