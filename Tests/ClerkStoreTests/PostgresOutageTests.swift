import ClerkStore
import Foundation
import Testing

@Suite("PostgreSQL outages", .enabled(if: TestPostgres.isConfigured, TestPostgres.skipMessage))
struct PostgresOutageTests {
    /// Runs `scripts/postgres.sh` with `arguments`; returns what it printed on standard output.
    ///
    /// Through `system`, which waits for exactly this child: Foundation's `Process` here can miss the exit of a
    /// script whose daemon outlives it. Output goes to a file, since the daemon inherits the script's descriptors.
    private func postgresScript(_ arguments: [String]) throws -> String {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/postgres.sh")
        let outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("postgres-sh-\(UUID())")
        defer { try? FileManager.default.removeItem(at: outputURL) }
        let command = ([script.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let status = system("\(command) > '\(outputURL.path)' 2>/dev/null")
        try #require(status == 0, "scripts/postgres.sh \(arguments) failed (\(status))")
        return try String(contentsOf: outputURL, encoding: .utf8)
    }

    @Test func aServerThatGoesAwayGivesAClearErrorWithinTheTimeoutInsteadOfHanging() async throws {
        // A private server, since this test stops it.
        var exports: [String: String] = [:]
        for line in try postgresScript([]).split(separator: "\n") where line.hasPrefix("export ") {
            let pair = line.dropFirst("export ".count).split(separator: "=", maxSplits: 1)
            if pair.count == 2 { exports[String(pair[0])] = String(pair[1]) }
        }
        let url = try #require(exports["CLERK_TEST_POSTGRES_URL"])
        let folder = try #require(exports["CLERK_TEST_POSTGRES_DIR"])
        defer {  // when the test fails before it stops the server itself
            if FileManager.default.fileExists(atPath: folder) { _ = try? postgresScript(["stop", folder]) }
        }
        // The timeout must also cover opening and the first ticket while the whole suite loads both cores.
        let store = try await PostgresTicketStore.open(try PostgresLocation(parsing: url), timeout: .seconds(15))
        let ticket = try await store.createTicket(NewTicket(conversationID: "c"))
        _ = try postgresScript(["stop", folder])

        let started = ContinuousClock.now
        let error = await #expect(throws: TicketStoreError.self) {
            _ = try await store.createTicket(NewTicket(conversationID: "d"))
        }
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(error?.description.contains("PostgreSQL at 127.0.0.1") == true, "\(String(describing: error))")
        await #expect(throws: TicketStoreError.self) { _ = try await store.ticket(ticket.reference) }
        await store.shutdown()
    }
}
