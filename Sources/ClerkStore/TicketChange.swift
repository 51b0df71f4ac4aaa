import Foundation

/// A row of the append-only change feed. A server polls it (``TicketStore/changes(after:limit:)``) to bring
/// changes made by another process, such as `clerk tickets reply`, into live conversations.
public struct TicketChange: Sendable, Codable, Hashable {
    /// What kind of change a feed row records.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case created
        /// The status or the holder changed (claim, unclaim, transfer, resolve, reopen, close).
        case status
        case agentMessage = "agent_message"
        case citizenMessage = "citizen_message"
        /// An internal note: never deliver it to the citizen.
        case note
        /// Contact details were given; the feed never carries them.
        case contact
    }

    /// Increases with every change, in commit order.
    public var id: Int64
    public var reference: TicketReference
    public var kind: Kind
    /// The ticket's status after the change.
    public var status: TicketStatus
    /// The message text for message and note changes.
    public var text: String?
    /// Who made the change (the agent for agent messages and claims).
    public var actor: String?
    public var at: Date

    public init(
        id: Int64, reference: TicketReference, kind: Kind, status: TicketStatus, text: String? = nil,
        actor: String? = nil, at: Date
    ) {
        self.id = id
        self.reference = reference
        self.kind = kind
        self.status = status
        self.text = text
        self.actor = actor
        self.at = at
    }
}
