import Foundation

/// One line of a ticket's audit trail: who did what, when, and how the status moved.
public struct AuditEntry: Sendable, Codable, Hashable {
    /// The agent, `citizen`, `bot` or `system` (for automatic closing).
    public var actor: String
    public var at: Date
    /// The status before the action; nil only for the ticket's creation.
    public var from: TicketStatus?
    /// The status after the action (equal to `from` when the action kept it, e.g. a note or a transfer).
    public var to: TicketStatus?
    /// What happened: `created`, `claimed`, `force_claimed`, `unclaimed`, `transferred`, `agent_reply`,
    /// `citizen_message`, `note`, `resolved`, `reopened`, `closed` or `contact_set`.
    public var action: String
    /// Details, e.g. the resolution note or `taken over from alice`.
    public var note: String?

    public init(
        actor: String, at: Date, from: TicketStatus? = nil, to: TicketStatus? = nil, action: String,
        note: String? = nil
    ) {
        self.actor = actor
        self.at = at
        self.from = from
        self.to = to
        self.action = action
        self.note = note
    }
}
