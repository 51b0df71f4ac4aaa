import ClerkStore
import Foundation
import Testing

/// One behaviour every ticket store must have, named by what a citizen or agent would see.
struct ConformanceCheck: Sendable, CustomTestStringConvertible {
    let name: String
    let run: @Sendable (StoreHarness) async throws -> Void

    init(_ name: String, _ run: @escaping @Sendable (StoreHarness) async throws -> Void) {
        self.name = name
        self.run = run
    }

    var testDescription: String { name }
}

@Suite("SQLite ticket store")
struct SQLiteConformanceTests {
    @Test("Every ticket store behaviour holds on SQLite", arguments: ConformanceCheck.all)
    func conformance(_ check: ConformanceCheck) async throws {
        try await withStore(.sqlite, check.run)
    }
}

@Suite("PostgreSQL ticket store", .enabled(if: TestPostgres.isConfigured, TestPostgres.skipMessage))
struct PostgresConformanceTests {
    @Test("Every ticket store behaviour holds on PostgreSQL", arguments: ConformanceCheck.all)
    func conformance(_ check: ConformanceCheck) async throws {
        try await withStore(.postgres, check.run)
    }
}

extension ConformanceCheck {
    static let all: [ConformanceCheck] = [
        ConformanceCheck("A new ticket is queued and reads back exactly as created", newTicketReadsBack),
        ConformanceCheck("References start at T-1001, increase by one and parse back", referencesIncrease),
        ConformanceCheck("Many tickets created at once all get different references", concurrentCreations),
        ConformanceCheck("A ticket walks the whole lifecycle and the audit trail shows every step", fullLifecycle),
        ConformanceCheck("Out-of-order actions are refused with a clear message and change nothing", illegalActions),
        ConformanceCheck("A claimed ticket cannot be claimed by another agent unless forced", claimConflict),
        ConformanceCheck("Claiming a ticket you already hold changes nothing", claimAgainIsNoOp),
        ConformanceCheck("Of many agents claiming one ticket at once exactly one wins", concurrentClaims),
        ConformanceCheck("A citizen message on a resolved ticket reopens it into the queue", citizenReopens),
        ConformanceCheck("An agent reply waits on the citizen and the citizen's answer returns it", replyAndAnswer),
        ConformanceCheck("Unclaim, transfer and reopen move the ticket and record who did it", unclaimTransfer),
        ConformanceCheck("An unknown reference is reported as not found", unknownReference),
        ConformanceCheck("The ticket list shows urgent tickets first, then the oldest", listOrder),
        ConformanceCheck("The change feed lists every change in commit order", changeFeed),
        ConformanceCheck("Internal notes and contact details never reach the citizen's feed", notesAndContact),
        ConformanceCheck("Resolved tickets past the grace period are closed", closeResolved),
        ConformanceCheck("An agent token signs in until revoked and is never stored in clear", agentTokens),
        ConformanceCheck("Only recently active, unrevoked agents count as available", agentActivity),
        ConformanceCheck("A saved session is found by its resume token and expires", sessions),
        ConformanceCheck("The turn log returns masked turns within a time range in order", turnLog),
    ]
}

// MARK: - Tickets

private func newTicketReadsBack(_ h: StoreHarness) async throws {
    let replyBy = h.clock.now.addingTimeInterval(4 * 3600 + 0.123)
    let created = try await h.store.createTicket(
        NewTicket(
            conversationID: "conv-42", service: "passport", category: "renewal", priority: .high,
            transcript: [TicketMessage(author: .citizen, text: "My passport ran out", at: h.clock.now)],
            slots: ["service": "passport", "city": "Example City"], replyBy: replyBy, actor: "bot"))
    #expect(created.status == .queued)
    #expect(created.agent == nil)
    #expect(created.priority == .high)
    #expect(created.createdAt == h.clock.now)
    #expect(created.replyBy.map { abs($0.timeIntervalSince(replyBy)) < 0.001 } == true)
    let fetched = try await h.store.ticket(created.reference)
    #expect(fetched == created)
    let audit = try await h.store.audit(created.reference)
    #expect(audit == [AuditEntry(actor: "bot", at: h.clock.now, from: nil, to: .queued, action: "created")])
}

private func referencesIncrease(_ h: StoreHarness) async throws {
    let first = try await h.newTicket()
    let second = try await h.newTicket()
    #expect(first.reference.description == "T-1001")
    #expect(second.reference.number == first.reference.number + 1)
    #expect(try TicketReference(parsing: second.reference.description.lowercased()) == second.reference)
    #expect(try await h.store.ticket(TicketReference(parsing: "t-1002"))?.reference == second.reference)
}

private func concurrentCreations(_ h: StoreHarness) async throws {
    let store = h.store
    let tickets = try await withThrowingTaskGroup(of: Ticket.self) { group in
        for index in 0..<200 {
            group.addTask { try await store.createTicket(NewTicket(conversationID: "c-\(index)")) }
        }
        return try await group.reduce(into: []) { $0.append($1) }
    }
    let numbers = Set(tickets.map(\.reference.number))
    #expect(numbers.count == 200)
    #expect(numbers.min() == 1001 && numbers.max() == 1200)
    for ticket in tickets.prefix(10) {
        #expect(try await store.ticket(ticket.reference) == ticket)
    }
    #expect(try await store.latestChangeID() >= 200)
}

private func fullLifecycle(_ h: StoreHarness) async throws {
    let ref = try await h.newTicket().reference
    let store = h.store
    h.clock.advance(by: 60)
    #expect(try await store.claim(ref, agent: "alice").status == .assigned)
    h.clock.advance(by: 60)
    let replied = try await store.agentReply(ref, text: "Hello, I can help.")
    #expect(replied.status == .waitingOnCitizen)
    #expect(
        replied.transcript.last
            == TicketMessage(author: .agent, name: "alice", text: "Hello, I can help.", at: h.clock.now))
    h.clock.advance(by: 60)
    #expect(try await store.citizenMessage(ref, text: "Thanks! It's about renewal.").status == .assigned)
    h.clock.advance(by: 60)
    let resolved = try await store.resolve(ref, actor: "alice", note: "Renewal explained")
    #expect(resolved.status == .resolved)
    #expect(resolved.agent == "alice")
    h.clock.advance(by: 60)
    let closed = try await store.close(ref, actor: "system")
    #expect(closed.status == .closed)
    #expect(closed.updatedAt == h.clock.now)
    #expect(try await store.ticket(ref) == closed)

    let audit = try await store.audit(ref)
    #expect(audit.map(\.action) == ["created", "claimed", "agent_reply", "citizen_message", "resolved", "closed"])
    #expect(audit.map(\.to) == [.queued, .assigned, .waitingOnCitizen, .assigned, .resolved, .closed])
    #expect(audit.map(\.from) == [nil, .queued, .assigned, .waitingOnCitizen, .assigned, .resolved])
    #expect(audit.map(\.actor) == ["bot", "alice", "alice", "citizen", "alice", "system"])
    #expect(audit[4].note == "Renewal explained")
    #expect(zip(audit, audit.dropFirst()).allSatisfy { $0.at < $1.at })
}

/// Puts a fresh ticket into `status`.
private func ticket(in status: TicketStatus, _ h: StoreHarness) async throws -> TicketReference {
    let ref = try await h.newTicket().reference
    switch status {
    case .queued: break
    case .assigned: try await h.store.claim(ref, agent: "alice")
    case .waitingOnCitizen:
        try await h.store.claim(ref, agent: "alice")
        try await h.store.agentReply(ref, text: "Hello")
    case .resolved:
        try await h.store.claim(ref, agent: "alice")
        try await h.store.resolve(ref, actor: "alice")
    case .closed:
        try await h.store.claim(ref, agent: "alice")
        try await h.store.resolve(ref, actor: "alice")
        try await h.store.close(ref, actor: "alice")
    }
    return ref
}

private func illegalActions(_ h: StoreHarness) async throws {
    let refused: [(TicketStatus, TicketAction, String)] = [
        (
            .resolved, .resolve(actor: "alice", note: nil),
            "is resolved; only an assigned or waiting ticket can be resolved"
        ),
        (.queued, .resolve(actor: "alice", note: nil), "is queued; only an assigned or waiting ticket can be resolved"),
        (.closed, .resolve(actor: "alice", note: nil), "is closed; only an assigned or waiting ticket can be resolved"),
        (.queued, .unclaim(actor: "alice"), "is queued; only an assigned or waiting ticket can be unclaimed"),
        (.resolved, .unclaim(actor: "alice"), "is resolved; only an assigned or waiting ticket can be unclaimed"),
        (
            .queued, .transfer(to: "bob", actor: "alice"),
            "is queued; only an assigned or waiting ticket can be transferred"
        ),
        (.assigned, .transfer(to: "alice", actor: "alice"), "is already held by alice"),
        (.queued, .agentReply(agent: nil, text: "Hi"), "is queued; claim it before replying"),
        (
            .resolved, .agentReply(agent: nil, text: "Hi"),
            "is resolved; only an assigned or waiting ticket can be replied to"
        ),
        (
            .resolved, .claim(agent: "bob", force: false),
            "is resolved; only a queued ticket can be claimed (reopen it first)"
        ),
        (.closed, .claim(agent: "bob", force: true), "is closed; only a queued ticket can be claimed"),
        (.queued, .reopen(actor: "alice"), "is queued; only a resolved ticket can be reopened"),
        (.closed, .reopen(actor: "alice"), "is closed; only a resolved ticket can be reopened"),
        (.assigned, .close(actor: "alice"), "is assigned; only a resolved ticket can be closed"),
        (.waitingOnCitizen, .close(actor: "alice"), "is waiting on the citizen; only a resolved ticket can be closed"),
        (.closed, .citizenMessage(text: "Hello?"), "is closed; a closed ticket takes no more messages"),
        (.closed, .setContact("anna@example.org"), "is closed; a closed ticket cannot change"),
    ]
    for (status, action, message) in refused {
        let ref = try await ticket(in: status, h)
        let before = try await h.store.ticket(ref)
        let auditBefore = try await h.store.audit(ref)
        let feedBefore = try await h.store.latestChangeID()
        h.clock.advance(by: 1)
        let error = await #expect(throws: TicketStoreError.self, "\(action) on a \(status) ticket") {
            try await h.store.apply(action, to: ref)
        }
        #expect(error?.description.hasPrefix("\(ref) \(message)") == true, "\(error?.description ?? "no error")")
        #expect(try await h.store.ticket(ref) == before)
        #expect(try await h.store.audit(ref) == auditBefore)
        #expect(try await h.store.latestChangeID() == feedBefore)
    }
    // Empty input is refused too.
    let ref = try await ticket(in: .assigned, h)
    await #expect(throws: TicketStoreError.invalidInput("The reply is empty")) {
        try await h.store.agentReply(ref, text: "  ")
    }
    await #expect(throws: TicketStoreError.invalidInput("The agent name is empty")) {
        try await h.store.claim(ref, agent: "", force: true)
    }
}

private func claimConflict(_ h: StoreHarness) async throws {
    let ref = try await ticket(in: .assigned, h)
    await #expect(throws: TicketStoreError.heldByAnother(ref, holder: "alice")) {
        try await h.store.claim(ref, agent: "bob")
    }
    let error = await #expect(throws: TicketStoreError.self) { try await h.store.claim(ref, agent: "bob") }
    #expect(
        error?.description
            == "\(ref) is held by alice; claim it with force to take it over, or ask alice to transfer it")
    // Replying as someone else is refused the same way.
    await #expect(throws: TicketStoreError.heldByAnother(ref, holder: "alice")) {
        try await h.store.agentReply(ref, agent: "bob", text: "Hi")
    }
    let forced = try await h.store.claim(ref, agent: "bob", force: true)
    #expect(forced.agent == "bob")
    #expect(forced.status == .assigned)
    let last = try #require(try await h.store.audit(ref).last)
    #expect(last.action == "force_claimed")
    #expect(last.actor == "bob")
    #expect(last.note == "taken over from alice")
}

private func claimAgainIsNoOp(_ h: StoreHarness) async throws {
    let ref = try await ticket(in: .waitingOnCitizen, h)
    let before = try await h.store.ticket(ref)
    let auditCount = try await h.store.audit(ref).count
    let feed = try await h.store.latestChangeID()
    h.clock.advance(by: 5)
    #expect(try await h.store.claim(ref, agent: "alice") == before)
    #expect(try await h.store.claim(ref, agent: " alice ", force: true) == before)
    #expect(try await h.store.audit(ref).count == auditCount)
    #expect(try await h.store.latestChangeID() == feed)
}

private func concurrentClaims(_ h: StoreHarness) async throws {
    let ref = try await h.newTicket().reference
    let store = h.store
    let outcomes = await withTaskGroup(of: Result<String, any Error>.self) { group in
        for index in 0..<24 {
            group.addTask {
                do {
                    return .success(try await store.claim(ref, agent: "agent-\(index)").agent ?? "")
                } catch {
                    return .failure(error)
                }
            }
        }
        return await group.reduce(into: []) { $0.append($1) }
    }
    let winners = outcomes.compactMap { try? $0.get() }
    #expect(winners.count == 1)
    for case .failure(let error) in outcomes {
        guard case TicketStoreError.heldByAnother(_, let holder) = error else {
            Issue.record("unexpected error \(error)")
            continue
        }
        #expect(holder == winners.first)
    }
    let ticket = try #require(try await store.ticket(ref))
    #expect(ticket.agent == winners.first && ticket.status == .assigned)
    #expect(try await store.audit(ref).filter { $0.action == "claimed" }.count == 1)
}

private func citizenReopens(_ h: StoreHarness) async throws {
    let ref = try await ticket(in: .resolved, h)
    let reopened = try await h.store.citizenMessage(ref, text: "It still doesn't work")
    #expect(reopened.status == .queued)
    #expect(reopened.agent == nil)
    #expect(reopened.transcript.last?.text == "It still doesn't work")
    let last = try #require(try await h.store.audit(ref).last)
    #expect((last.from, last.to, last.actor) == (.resolved, .queued, "citizen"))
    // Queued and assigned tickets keep their status.
    #expect(try await h.store.citizenMessage(ref, text: "Hello?").status == .queued)
    try await h.store.claim(ref, agent: "bob")
    #expect(try await h.store.citizenMessage(ref, text: "Anyone?").status == .assigned)
}

private func replyAndAnswer(_ h: StoreHarness) async throws {
    let ref = try await ticket(in: .assigned, h)
    let replied = try await h.store.agentReply(ref, agent: "alice", text: "Which document do you need?")
    #expect(replied.status == .waitingOnCitizen)
    #expect(try await h.store.agentReply(ref, text: "Are you there?").status == .waitingOnCitizen)
    let answered = try await h.store.citizenMessage(ref, text: "A passport")
    #expect(answered.status == .assigned)
    #expect(answered.agent == "alice")
    #expect(answered.transcript.suffix(3).map(\.author) == [.agent, .agent, .citizen])
}

private func unclaimTransfer(_ h: StoreHarness) async throws {
    let ref = try await ticket(in: .waitingOnCitizen, h)
    let transferred = try await h.store.transfer(ref, to: "bob", actor: "alice")
    #expect(transferred.agent == "bob")
    #expect(transferred.status == .waitingOnCitizen)
    let unclaimed = try await h.store.unclaim(ref, actor: "bob")
    #expect(unclaimed.status == .queued)
    #expect(unclaimed.agent == nil)
    let trail = try await h.store.audit(ref).suffix(2)
    #expect(trail.map(\.action) == ["transferred", "unclaimed"])
    #expect(trail.first?.note == "from alice to bob")
    #expect(trail.last?.note == "was held by bob")

    let resolved = try await ticket(in: .resolved, h)
    let reopened = try await h.store.reopen(resolved, actor: "carol")
    #expect(reopened.status == .queued)
    #expect(try await h.store.audit(resolved).last?.actor == "carol")
}

private func unknownReference(_ h: StoreHarness) async throws {
    let missing = TicketReference(number: 999_999)
    #expect(try await h.store.ticket(missing) == nil)
    await #expect(throws: TicketStoreError.notFound(missing)) {
        try await h.store.claim(missing, agent: "alice")
    }
    #expect(TicketStoreError.notFound(missing).description == "There is no ticket T-999999")
    #expect(try await h.store.audit(missing).isEmpty)
}

private func listOrder(_ h: StoreHarness) async throws {
    let oldNormal = try await h.newTicket("a", priority: .normal)
    h.clock.advance(by: 10)
    let high = try await h.newTicket("b", priority: .high)
    h.clock.advance(by: 10)
    let urgent = try await h.newTicket("c", priority: .urgent)
    h.clock.advance(by: 10)
    let newNormal = try await h.newTicket("d", priority: .normal)
    h.clock.advance(by: 10)
    let olderUrgent = try await h.newTicket("e", priority: .urgent)
    try await h.store.claim(olderUrgent.reference, agent: "alice")

    let all = try await h.store.tickets(status: nil, limit: 100)
    #expect(all.map(\.reference) == [urgent, olderUrgent, high, oldNormal, newNormal].map(\.reference))
    let queued = try await h.store.tickets(status: [.queued], limit: 100)
    #expect(queued.map(\.reference) == [urgent, high, oldNormal, newNormal].map(\.reference))
    #expect(try await h.store.tickets(status: [.queued], limit: 2).count == 2)
    #expect(try await h.store.tickets(status: [.assigned, .resolved], limit: 10).map(\.agent) == ["alice"])
    #expect(try await h.store.tickets(status: [], limit: 10).isEmpty)
    #expect(queued.first?.transcript.count == 2)
}

private func changeFeed(_ h: StoreHarness) async throws {
    let start = try await h.store.latestChangeID()
    let ref = try await h.newTicket().reference
    try await h.store.claim(ref, agent: "alice")
    try await h.store.agentReply(ref, text: "Hello from alice")
    try await h.store.citizenMessage(ref, text: "Hi!")
    try await h.store.addNote(ref, actor: "alice", text: "Seems urgent")
    try await h.store.resolve(ref, actor: "alice")

    let changes = try await h.store.changes(after: start, limit: 100)
    #expect(changes.map(\.kind) == [.created, .status, .agentMessage, .citizenMessage, .note, .status])
    #expect(changes.map(\.status) == [.queued, .assigned, .waitingOnCitizen, .assigned, .assigned, .resolved])
    #expect(changes.allSatisfy { $0.reference == ref })
    #expect(zip(changes, changes.dropFirst()).allSatisfy { $0.id < $1.id })
    #expect(changes[2].text == "Hello from alice" && changes[2].actor == "alice")
    #expect(try await h.store.latestChangeID() == changes.last?.id)
    // Paging: a poller that remembers the last id sees each change once.
    let firstPage = try await h.store.changes(after: start, limit: 4)
    let secondPage = try await h.store.changes(after: firstPage.last!.id, limit: 4)
    #expect(firstPage + secondPage == changes)
    #expect(try await h.store.changes(after: changes.last!.id, limit: 10).isEmpty)
}

private func notesAndContact(_ h: StoreHarness) async throws {
    let ref = try await ticket(in: .assigned, h)
    let noted = try await h.store.addNote(ref, actor: "alice", text: "Citizen sounded worried")
    #expect(noted.transcript.last?.author == .note)
    #expect(noted.transcript.last?.isVisibleToCitizen == false)
    #expect(noted.status == .assigned)
    let before = try await h.store.latestChangeID()
    let contacted = try await h.store.setContact(ref, contact: "anna@example.org")
    #expect(contacted.contact == "anna@example.org")
    #expect(try await h.store.ticket(ref)?.contact == "anna@example.org")
    let change = try #require(try await h.store.changes(after: before, limit: 10).first)
    #expect(change.kind == .contact)
    #expect(change.text == nil)
    #expect(try await h.store.audit(ref).last?.note == nil)
}

private func closeResolved(_ h: StoreHarness) async throws {
    let old = try await ticket(in: .resolved, h)
    h.clock.advance(by: 8 * 24 * 3600)
    let recent = try await ticket(in: .resolved, h)
    let open = try await ticket(in: .assigned, h)
    h.clock.advance(by: 3600)
    let closed = try await h.store.closeResolved(olderThan: h.clock.now.addingTimeInterval(-7 * 24 * 3600))
    #expect(closed.map(\.reference) == [old])
    #expect(try await h.store.ticket(old)?.status == .closed)
    #expect(try await h.store.ticket(recent)?.status == .resolved)
    #expect(try await h.store.ticket(open)?.status == .assigned)
    #expect(try await h.store.audit(old).last?.actor == "system")
}

// MARK: - Agents, sessions, turns

private func agentTokens(_ h: StoreHarness) async throws {
    let token = try await h.store.addAgent(name: "alice", role: .agent)
    let adminToken = try await h.store.addAgent(name: "root", role: .admin)
    #expect(token.hasPrefix("clerk_") && token.count > 40)
    #expect(token != adminToken)
    #expect(try await h.store.agent(forToken: token)?.name == "alice")
    #expect(try await h.store.agent(forToken: adminToken)?.role == .admin)
    #expect(try await h.store.agent(forToken: "clerk_wrong") == nil)
    await #expect(throws: TicketStoreError.agentExists("alice")) {
        try await h.store.addAgent(name: "alice", role: .admin)
    }

    let stored = try await h.storedAgentValues()
    #expect(!stored.contains { $0.contains(token) || $0.contains(adminToken) })
    #expect(stored.contains(AgentToken.hash(token)))

    try await h.store.revokeAgent("alice")
    #expect(try await h.store.agent(forToken: token) == nil)
    await #expect(throws: TicketStoreError.unknownAgent("alice")) { try await h.store.revokeAgent("alice") }
    let listed = try await h.store.agents()
    #expect(listed.map(\.name) == ["alice", "root"])
    #expect(listed[0].revokedAt == h.clock.now && !listed[0].isActive)
    // A revoked name can be issued a new token; the old one stays dead.
    let renewed = try await h.store.addAgent(name: "alice", role: .agent)
    #expect(try await h.store.agent(forToken: renewed)?.name == "alice")
    #expect(try await h.store.agent(forToken: token) == nil)
}

private func agentActivity(_ h: StoreHarness) async throws {
    _ = try await h.store.addAgent(name: "alice", role: .agent)
    _ = try await h.store.addAgent(name: "bob", role: .agent)
    let now = h.clock.now
    try await h.store.touchAgent("alice", at: now)
    try await h.store.touchAgent("bob", at: now.addingTimeInterval(-3600))
    try await h.store.touchAgent("cli-carol", at: now.addingTimeInterval(-60))
    try await h.store.touchAgent("alice", at: now.addingTimeInterval(-7200))  // an older report changes nothing
    #expect(try await h.store.agentsActive(since: now.addingTimeInterval(-300)) == ["alice", "cli-carol"])
    #expect(try await h.store.agents().first { $0.name == "alice" }?.lastSeenAt == now)
    try await h.store.revokeAgent("alice")
    #expect(try await h.store.agentsActive(since: now.addingTimeInterval(-300)) == ["cli-carol"])
}

private func sessions(_ h: StoreHarness) async throws {
    let state = Data("{\"turns\": 3}".utf8)
    let now = h.clock.now
    try await h.store.saveSession(id: "conv-1", resumeTokenHash: "hash-1", state: state, updatedAt: now)
    try await h.store.saveSession(id: "conv-2", resumeTokenHash: "hash-2", state: Data([0, 1, 2]), updatedAt: now)
    #expect(
        try await h.store.session(resumeTokenHash: "hash-1")
            == StoredSession(id: "conv-1", resumeTokenHash: "hash-1", state: state, updatedAt: now))
    #expect(try await h.store.session(id: "conv-2")?.state == Data([0, 1, 2]))
    #expect(try await h.store.session(resumeTokenHash: "nope") == nil)
    // Saving again replaces the state.
    let later = now.addingTimeInterval(3600)
    try await h.store.saveSession(id: "conv-1", resumeTokenHash: "hash-1", state: Data("new".utf8), updatedAt: later)
    #expect(try await h.store.session(id: "conv-1")?.state == Data("new".utf8))
    #expect(try await h.store.deleteSessions(olderThan: now.addingTimeInterval(60)) == 1)
    #expect(try await h.store.session(id: "conv-2") == nil)
    #expect(try await h.store.session(id: "conv-1")?.updatedAt == later)
    // A batch saves and replaces several at once.
    try await h.store.saveSessions([
        StoredSession(id: "conv-1", resumeTokenHash: "hash-1", state: Data("batch".utf8), updatedAt: later),
        StoredSession(id: "conv-3", resumeTokenHash: "hash-3", state: Data([3]), updatedAt: later),
    ])
    #expect(try await h.store.session(id: "conv-1")?.state == Data("batch".utf8))
    #expect(try await h.store.session(resumeTokenHash: "hash-3")?.id == "conv-3")
    // Transcript chunks are appended in order, replaced when asked, and deleted with their session.
    func save(_ chunks: [String], replacing: Bool = false, at date: Date? = nil) async throws {
        try await h.store.saveSessions([
            StoredSession(
                id: "conv-3", resumeTokenHash: "hash-3", state: Data([3]), updatedAt: date ?? later,
                transcript: chunks.map { Data($0.utf8) }, replacesTranscript: replacing)
        ])
    }
    try await save(["[1,2]"])
    try await save(["[3]", "[4]"])
    try await save([])
    try await h.store.saveSession(id: "conv-3", resumeTokenHash: "hash-3", state: Data([4]), updatedAt: later)
    #expect(try await h.store.session(id: "conv-3")?.transcript == ["[1,2]", "[3]", "[4]"].map { Data($0.utf8) })
    #expect(try await h.store.session(id: "conv-1")?.transcript == [])
    try await save(["[4]"], replacing: true)
    try await save(["[5]"])
    #expect(try await h.store.session(resumeTokenHash: "hash-3")?.transcript == ["[4]", "[5]"].map { Data($0.utf8) })
    try await save([], at: now)
    #expect(try await h.store.deleteSessions(olderThan: now.addingTimeInterval(60)) == 1)
    try await save([])
    #expect(try await h.store.session(id: "conv-3")?.transcript == [])
}

private func turnLog(_ h: StoreHarness) async throws {
    let now = h.clock.now
    let turns = (0..<50).map { (index: Int) -> TurnRecord in
        let missed = index % 5 == 0
        return TurnRecord(
            conversationID: "conv-\(index % 3)", at: now.addingTimeInterval(Double(index)),
            text: "message \(index) from [email]", outcome: missed ? "miss" : "answer",
            intent: missed ? nil : "passport.renew", score: missed ? nil : 0.875)
    }
    try await h.store.appendTurns(Array(turns[25...]))
    try await h.store.appendTurns(Array(turns[..<25]))
    try await h.store.appendTurns([])
    let range = try await h.store.turns(from: now.addingTimeInterval(10), to: now.addingTimeInterval(20))
    #expect(range == Array(turns[10..<20]))
    #expect(try await h.store.turns(from: now, to: now.addingTimeInterval(100)).count == 50)
}
