import ClerkStore
import Foundation
import Testing

/// A SQLite store in a fresh temporary folder, seeded through the library; the commands under test open the same
/// file from another process.
private struct SeededStore {
    let folder: URL
    let path: String
    var location: String { "sqlite:\(path)" }

    init() {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("clerk-tickets-\(UUID().uuidString)")
        path = folder.appendingPathComponent("data/clerk.sqlite").path
    }

    func open() throws -> SQLiteTicketStore { try SQLiteTicketStore(path: path) }

    /// Creates tickets with these priorities, in order; returns their references.
    @discardableResult
    func seed(_ priorities: [TicketPriority]) async throws -> [TicketReference] {
        let store = try open()
        var references: [TicketReference] = []
        for (index, priority) in priorities.enumerated() {
            let ticket = try await store.createTicket(
                NewTicket(
                    conversationID: "conv-\(index)", service: "passport", priority: priority,
                    transcript: [TicketMessage(author: .citizen, text: "I need a person, please", at: Date())]))
            references.append(ticket.reference)
        }
        await store.shutdown()
        return references
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }
}

@Suite("clerk tickets and clerk agents")
struct TicketsCLITests {
    @Test func ticketsListShowsOpenTicketsUrgentFirstOnePerLine() async throws {
        let store = SeededStore()
        defer { store.remove() }
        let refs = try await store.seed([.normal, .urgent, .high])
        let run = try await clerk(["tickets", "list", "--store", store.location])
        #expect(run.status == 0, "\(run)")
        let lines = run.stdout.split(separator: "\n")
        #expect(
            lines.map { $0.split(separator: "\t").first.map(String.init) }
                == [refs[1], refs[2], refs[0]].map(\.description))
        #expect(lines.first?.split(separator: "\t").prefix(3) == [refs[1].description[...], "urgent", "queued"])
    }

    @Test func ticketsListJSONGivesEveryFieldToScripts() async throws {
        let store = SeededStore()
        defer { store.remove() }
        try await store.seed([.high])
        let run = try await clerk([
            "tickets", "list", "--status", "queued,assigned", "--json", "--store", store.location,
        ])
        #expect(run.status == 0, "\(run)")
        let array = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        #expect(array.count == 1)
        #expect(array.first?["reference"] as? String == "T-1001")
        #expect(array.first?["status"] as? String == "queued")
        #expect(array.first?["conversation_id"] as? String == "conv-0")
        #expect((array.first?["transcript"] as? [Any])?.count == 1)
    }

    @Test func claimReplyAndResolveChangeTheTicketAndTheServerSeesIt() async throws {
        let store = SeededStore()
        defer { store.remove() }
        try await store.seed([.normal])
        let server = try store.open()
        let start = try await server.latestChangeID()

        let claim = try await clerk(["tickets", "claim", "t-1001", "--agent", "alice", "--store", store.location])
        #expect(claim.status == 0, "\(claim)")
        #expect(claim.stdout == "T-1001 is assigned to alice\n")
        let reply = try await clerk([
            "tickets", "reply", "T-1001", "Your appointment is on Monday.", "--store", store.location,
        ])
        #expect(reply.status == 0, "\(reply)")
        #expect(reply.stdout == "T-1001: reply sent; waiting on the citizen (alice)\n")
        let note = try await clerk([
            "tickets", "note", "T-1001", "Booked by phone", "--agent", "alice", "--store", store.location,
        ])
        #expect(note.status == 0, "\(note)")
        let resolve = try await clerk(
            ["tickets", "resolve", "T-1001", "--agent", "alice", "--note", "Booked", "--store", store.location])
        #expect(resolve.status == 0, "\(resolve)")
        #expect(resolve.stdout == "T-1001 is resolved\n")

        // A running server polling the change feed sees the agent's reply text.
        let changes = try await server.changes(after: start, limit: 10)
        #expect(changes.map(\.kind) == [.status, .agentMessage, .note, .status])
        #expect(changes[1].text == "Your appointment is on Monday.")
        #expect(try await server.agentsActive(since: Date().addingTimeInterval(-60)) == ["alice"])
        await server.shutdown()

        let show = try await clerk(["tickets", "show", "T-1001", "--store", store.location])
        #expect(show.status == 0, "\(show)")
        #expect(show.stdout.contains("status:       resolved"))
        #expect(show.stdout.contains("citizen: I need a person, please"))
        #expect(show.stdout.contains("alice: Your appointment is on Monday."))
        #expect(show.stdout.contains("alice (internal note): Booked by phone"))
        for action in ["created", "claimed", "agent_reply", "note", "resolved"] {
            #expect(show.stdout.contains(action), "missing \(action) in\n\(show.stdout)")
        }

        let json = try await clerk(["tickets", "show", "T-1001", "--json", "--store", store.location])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let audit = try #require(object["audit"] as? [[String: Any]])
        #expect(audit.map { $0["action"] as? String } == ["created", "claimed", "agent_reply", "note", "resolved"])
        #expect((object["ticket"] as? [String: Any])?["status"] as? String == "resolved")
    }

    @Test func claimingATicketAnotherAgentHoldsNeedsForce() async throws {
        let store = SeededStore()
        defer { store.remove() }
        try await store.seed([.normal])
        _ = try await clerk(["tickets", "claim", "T-1001", "--agent", "alice", "--store", store.location])
        let refused = try await clerk(["tickets", "claim", "T-1001", "--agent", "bob", "--store", store.location])
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.contains("T-1001 is held by alice; claim it with force to take it over"))
        let forced = try await clerk([
            "tickets", "claim", "T-1001", "--agent", "bob", "--force", "--store", store.location,
        ])
        #expect(forced.status == 0, "\(forced)")
        #expect(forced.stdout == "T-1001 is assigned to bob\n")
        let transfer = try await clerk(
            ["tickets", "transfer", "T-1001", "--to", "carol", "--agent", "bob", "--store", store.location])
        #expect(transfer.stdout == "T-1001 is assigned to carol\n")
        let unclaim = try await clerk(["tickets", "unclaim", "T-1001", "--agent", "carol", "--store", store.location])
        #expect(unclaim.stdout == "T-1001 is back in the queue\n")
    }

    @Test func unknownAndMalformedReferencesExitOneWithAClearMessage() async throws {
        let store = SeededStore()
        defer { store.remove() }
        try await store.seed([.normal])
        let unknown = try await clerk(["tickets", "show", "T-9999", "--store", store.location])
        #expect(unknown.status == 1, "\(unknown)")
        #expect(unknown.stderr == "error: There is no ticket T-9999\n")
        let malformed = try await clerk(["tickets", "claim", "1001", "--agent", "alice", "--store", store.location])
        #expect(malformed.status == 1, "\(malformed)")
        #expect(malformed.stderr == "error: '1001' is not a ticket reference; references look like T-1042\n")
    }

    @Test func anActionTheStatusDoesNotAllowExitsOneAndChangesNothing() async throws {
        let store = SeededStore()
        defer { store.remove() }
        try await store.seed([.normal])
        let resolve = try await clerk(["tickets", "resolve", "T-1001", "--agent", "alice", "--store", store.location])
        #expect(resolve.status == 1, "\(resolve)")
        #expect(resolve.stderr == "error: T-1001 is queued; only an assigned or waiting ticket can be resolved\n")
        let reopened = try await clerk(["tickets", "reopen", "T-1001", "--agent", "alice", "--store", store.location])
        #expect(reopened.status == 1, "\(reopened)")
        let opened = try store.open()
        #expect(try await opened.ticket(TicketReference(number: 1001))?.status == .queued)
        #expect(try await opened.audit(TicketReference(number: 1001)).count == 1)
        await opened.shutdown()
    }

    @Test func usageMistakesExitTwo() async throws {
        let store = SeededStore()
        defer { store.remove() }
        let badStatus = try await clerk(["tickets", "list", "--status", "done", "--store", store.location])
        #expect(badStatus.status == 2, "\(badStatus)")
        #expect(badStatus.stderr.contains("Unknown status 'done'"))
        let missing = try await clerk(["tickets", "reply", "T-1001", "--store", store.location])
        #expect(missing.status == 2, "\(missing)")
        let badStore = try await clerk(["tickets", "list", "--store", "mysql://root@localhost/clerk"])
        #expect(badStore.status == 2, "\(badStore)")
        #expect(badStore.stderr.contains("'mysql' is not a supported store"))
    }

    @Test func anUnreachableStoreExitsOneWithAClearMessage() async throws {
        let run = try await clerk(["tickets", "list", "--store", "postgres://clerk@127.0.0.1:1/clerk"])
        #expect(run.status == 1, "\(run)")
        #expect(run.stderr.hasPrefix("error: ") && run.stderr.contains("127.0.0.1:1"), "\(run)")
    }

    @Test func agentsAddPrintsTheTokenOnceAndRevokeStopsIt() async throws {
        let store = SeededStore()
        defer { store.remove() }
        let add = try await clerk(["agents", "add", "alice", "--role", "admin", "--store", store.location])
        #expect(add.status == 0, "\(add)")
        let token = add.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("clerk_"))
        #expect(add.stderr.contains("shown only this once"))
        let opened = try store.open()
        #expect(try await opened.agent(forToken: token)?.role == .admin)

        let again = try await clerk(["agents", "add", "alice", "--store", store.location])
        #expect(again.status == 1, "\(again)")
        #expect(again.stderr.contains("An agent named 'alice' already exists"))

        let revoke = try await clerk(["agents", "revoke", "alice", "--store", store.location])
        #expect(revoke.status == 0, "\(revoke)")
        #expect(try await opened.agent(forToken: token) == nil)
        await opened.shutdown()

        let list = try await clerk(["agents", "list", "--store", store.location])
        #expect(list.stdout.hasPrefix("alice\tadmin\trevoked\t"), "\(list)")
        let unknown = try await clerk(["agents", "revoke", "bob", "--store", store.location])
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "error: There is no active agent named 'bob'\n")
        let badRole = try await clerk(["agents", "add", "bob", "--role", "boss", "--store", store.location])
        #expect(badRole.status == 2, "\(badRole)")
    }
}

@Suite("Crash safety")
struct CrashSafetyTests {
    @Test func killingClerkWhileItCreatesTicketsLeavesEveryTicketWhole() async throws {
        let store = SeededStore()
        defer { store.remove() }
        let binary = try #require(clerkBinary, "no clerk binary found: build with 'swift build --build-tests' first")
        let process = Process()
        process.executableURL = binary
        process.arguments = [
            "bench", "tickets", "--store", store.location, "--count", "10000000", "--concurrency", "64",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()

        // Wait until a few thousand tickets are committed, then kill it mid-stream.
        let deadline = ContinuousClock.now + .seconds(60)
        var committed: Int64 = 0
        while committed < 3000, ContinuousClock.now < deadline, process.isRunning {
            try await Task.sleep(for: .milliseconds(100))
            if FileManager.default.fileExists(atPath: store.path), let reader = try? store.open() {
                committed = (try? await reader.latestChangeID()) ?? 0
                await reader.shutdown()
            }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(committed >= 3000)

        let reopened = try store.open()
        let tickets = try await reopened.tickets(status: nil, limit: 100_000_000)
        let created = try await reopened.changes(after: 0, limit: 100_000_000).filter { $0.kind == .created }
        await reopened.shutdown()
        #expect(tickets.count >= Int(committed))
        // Each transaction is all or nothing: every ticket has its transcript and its feed row, and the numbers
        // have no holes.
        #expect(Set(created.map(\.reference)) == Set(tickets.map(\.reference)))
        #expect(tickets.allSatisfy { $0.transcript.count == 2 })
        let numbers = tickets.map(\.reference.number).sorted()
        #expect(numbers.first == 1001 && numbers.last == 1000 + Int64(numbers.count))
    }
}
