import Foundation

/// Where the store reads the time: injected so tests can fix it.
public typealias StoreClock = @Sendable () -> Date

/// Tickets, their audit trail and change feed, agents, saved sessions and the turn log, in SQLite or PostgreSQL.
///
/// Every mutation runs in one transaction together with its audit row and change-feed row, and returns the ticket
/// as it is after the change. An operation that throws changes nothing.
///
/// ```swift
/// let store = try await openStore(.sqlite(path: "data/clerk.sqlite"))
/// let ticket = try await store.createTicket(NewTicket(conversationID: "c-1", service: "passport"))
/// try await store.claim(ticket.reference, agent: "alice")
/// try await store.agentReply(ticket.reference, text: "Hello, I can help with that.")
/// ```
public protocol TicketStore: Sendable {
    // MARK: Tickets

    /// Opens a queued ticket with the next reference. Returns once the ticket is durably stored.
    func createTicket(_ new: NewTicket) async throws -> Ticket

    /// The ticket with this reference, with its whole transcript; nil when there is none.
    func ticket(_ reference: TicketReference) async throws -> Ticket?

    /// Tickets with any of these statuses (all when nil): urgent first, then high, then normal; oldest first within
    /// a priority.
    func tickets(status: [TicketStatus]?, limit: Int) async throws -> [Ticket]

    /// Applies a lifecycle action (see ``TicketAction``) to a ticket and returns it updated.
    ///
    /// - Throws: ``TicketStoreError/notFound(_:)``, ``TicketStoreError/illegalTransition(_:status:message:)``,
    ///   ``TicketStoreError/heldByAnother(_:holder:)``; nothing is changed when it throws.
    func apply(_ action: TicketAction, to reference: TicketReference) async throws -> Ticket

    /// Closes every resolved ticket last changed before `date`; returns them as closed.
    func closeResolved(olderThan date: Date) async throws -> [Ticket]

    /// The ticket's audit trail, oldest first.
    func audit(_ reference: TicketReference) async throws -> [AuditEntry]

    /// Change-feed rows with an id above `id`, in id order (which is commit order), at most `limit`.
    func changes(after id: Int64, limit: Int) async throws -> [TicketChange]

    /// The newest change-feed id (0 when the feed is empty): where a new poller starts.
    func latestChangeID() async throws -> Int64

    // MARK: Agents

    /// Registers an agent and returns its bearer token, the only time the token is seen: the store keeps its hash.
    ///
    /// - Throws: ``TicketStoreError/agentExists(_:)`` when an active agent has the name.
    func addAgent(name: String, role: AgentRole) async throws -> String

    /// Revokes an agent's token: it can no longer sign in.
    ///
    /// - Throws: ``TicketStoreError/unknownAgent(_:)`` when no active agent has the name.
    func revokeAgent(_ name: String) async throws

    /// The active agent whose token this is; nil for an unknown or revoked token.
    func agent(forToken token: String) async throws -> Agent?

    /// Every agent, active and revoked, by name.
    func agents() async throws -> [Agent]

    /// Records that the named agent was active at `date` (agent API calls, `clerk tickets` commands).
    func touchAgent(_ name: String, at date: Date) async throws

    /// Names of agents active since `date` and not revoked, sorted.
    func agentsActive(since date: Date) async throws -> [String]

    // MARK: Sessions

    /// Saves (or replaces) a conversation's state for resuming; its stored transcript stays as it is.
    func saveSession(id: String, resumeTokenHash: String, state: Data, updatedAt: Date) async throws

    /// Saves (or replaces) several conversations' state and appends their transcript chunks (or replaces them, see
    /// ``StoredSession/replacesTranscript``), in one transaction (one disk flush for a whole batch).
    func saveSessions(_ sessions: [StoredSession]) async throws

    /// The session whose resume token has this hash, with its transcript chunks.
    func session(resumeTokenHash: String) async throws -> StoredSession?

    /// The session with this conversation id, with its transcript chunks.
    func session(id: String) async throws -> StoredSession?

    /// Deletes sessions last saved before `date`, and their transcripts; returns how many.
    @discardableResult
    func deleteSessions(olderThan date: Date) async throws -> Int

    // MARK: Turn log

    /// Appends turns in one transaction.
    func appendTurns(_ turns: [TurnRecord]) async throws

    /// Turns with `from <= at < to`, oldest first.
    func turns(from: Date, to: Date) async throws -> [TurnRecord]

    // MARK: Lifetime

    /// Closes connections. Call once, when done; the store cannot be used afterwards.
    func shutdown() async
}

extension TicketStore {
    /// Claims a ticket for `agent`: queued → assigned. The holder claiming again changes nothing; another
    /// agent's claim needs `force` (audited as `force_claimed`).
    @discardableResult
    public func claim(_ reference: TicketReference, agent: String, force: Bool = false) async throws -> Ticket {
        try await apply(.claim(agent: agent, force: force), to: reference)
    }

    /// Puts a held ticket back in the queue.
    @discardableResult
    public func unclaim(_ reference: TicketReference, actor: String) async throws -> Ticket {
        try await apply(.unclaim(actor: actor), to: reference)
    }

    /// Hands a held ticket to `agent`.
    @discardableResult
    public func transfer(_ reference: TicketReference, to agent: String, actor: String) async throws -> Ticket {
        try await apply(.transfer(to: agent, actor: actor), to: reference)
    }

    /// Replies to the citizen as `agent` (default: the holder): assigned → waiting_on_citizen.
    @discardableResult
    public func agentReply(_ reference: TicketReference, agent: String? = nil, text: String) async throws -> Ticket {
        try await apply(.agentReply(agent: agent, text: text), to: reference)
    }

    /// Adds the citizen's message: waiting_on_citizen → assigned, resolved → queued (reopened).
    @discardableResult
    public func citizenMessage(_ reference: TicketReference, text: String) async throws -> Ticket {
        try await apply(.citizenMessage(text: text), to: reference)
    }

    /// Adds an internal note, never shown to the citizen.
    @discardableResult
    public func addNote(_ reference: TicketReference, actor: String, text: String) async throws -> Ticket {
        try await apply(.note(actor: actor, text: text), to: reference)
    }

    /// Resolves a held ticket, with an optional note for the audit trail.
    @discardableResult
    public func resolve(_ reference: TicketReference, actor: String, note: String? = nil) async throws -> Ticket {
        try await apply(.resolve(actor: actor, note: note), to: reference)
    }

    /// Reopens a resolved ticket: back to the queue.
    @discardableResult
    public func reopen(_ reference: TicketReference, actor: String) async throws -> Ticket {
        try await apply(.reopen(actor: actor), to: reference)
    }

    /// Closes a resolved ticket for good.
    @discardableResult
    public func close(_ reference: TicketReference, actor: String) async throws -> Ticket {
        try await apply(.close(actor: actor), to: reference)
    }

    /// Stores contact details the citizen consented to give.
    @discardableResult
    public func setContact(_ reference: TicketReference, contact: String) async throws -> Ticket {
        try await apply(.setContact(contact), to: reference)
    }
}
