import ClerkStore
import Foundation

/// Stands in for a ticket store that could not be opened: every operation fails with
/// ``TicketStoreError/unavailable(_:)``, so the assistant keeps answering and tells citizens that a person cannot
/// be reached right now.
public struct UnavailableStore: TicketStore {
    let reason: String

    public init(reason: String) {
        self.reason = reason
    }

    private var failure: TicketStoreError { .unavailable(reason) }

    public func createTicket(_ new: NewTicket) async throws -> Ticket { throw failure }
    public func ticket(_ reference: TicketReference) async throws -> Ticket? { throw failure }
    public func tickets(status: [TicketStatus]?, limit: Int) async throws -> [Ticket] { throw failure }
    public func apply(_ action: TicketAction, to reference: TicketReference) async throws -> Ticket { throw failure }
    public func closeResolved(olderThan date: Date) async throws -> [Ticket] { throw failure }
    public func audit(_ reference: TicketReference) async throws -> [AuditEntry] { throw failure }
    public func changes(after id: Int64, limit: Int) async throws -> [TicketChange] { throw failure }
    public func latestChangeID() async throws -> Int64 { throw failure }
    public func addAgent(name: String, role: AgentRole) async throws -> String { throw failure }
    public func revokeAgent(_ name: String) async throws { throw failure }
    public func agent(forToken token: String) async throws -> Agent? { throw failure }
    public func agents() async throws -> [Agent] { throw failure }
    public func touchAgent(_ name: String, at date: Date) async throws { throw failure }
    public func agentsActive(since date: Date) async throws -> [String] { throw failure }
    public func saveSession(id: String, resumeTokenHash: String, state: Data, updatedAt: Date) async throws {
        throw failure
    }
    public func saveSessions(_ sessions: [StoredSession]) async throws { throw failure }
    public func session(resumeTokenHash: String) async throws -> StoredSession? { throw failure }
    public func session(id: String) async throws -> StoredSession? { throw failure }
    public func deleteSessions(olderThan date: Date) async throws -> Int { throw failure }
    public func appendTurns(_ turns: [TurnRecord]) async throws { throw failure }
    public func turns(from: Date, to: Date) async throws -> [TurnRecord] { throw failure }
    public func shutdown() async {}
}
