import ClerkStore
import Foundation
import GRDB
import Logging
import PostgresNIO
import Synchronization
import Testing

/// A clock the tests move by hand.
final class TestClock: Sendable {
    private let current: Mutex<Date>

    /// 2026-03-02 09:00:00 UTC, a Monday.
    static let start = Date(timeIntervalSince1970: 1_772_442_000)

    init(_ start: Date = TestClock.start) { current = Mutex(start) }

    var now: Date { current.withLock { $0 } }

    func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    var closure: StoreClock { { [self] in now } }
}

/// The PostgreSQL server the tests may use, from `CLERK_TEST_POSTGRES_URL` (scripts/postgres.sh prints one).
enum TestPostgres {
    static let url = ProcessInfo.processInfo.environment["CLERK_TEST_POSTGRES_URL"].flatMap {
        $0.isEmpty ? nil : $0
    }
    static var isConfigured: Bool { url != nil }
    static let skipMessage: Comment =
        "CLERK_TEST_POSTGRES_URL is not set: PostgreSQL conformance skipped (scripts/postgres.sh starts a server)"

    /// Runs SQL on the test server with a client of its own.
    static func withClient<T: Sendable>(
        _ location: PostgresLocation, _ body: @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database, tls: .disable)
        if let schema = location.schema {
            configuration.options.additionalStartupParameters = [("search_path", schema)]
        }
        let client = PostgresClient(configuration: configuration, backgroundLogger: Logger(label: "test"))
        let running = Task { await client.run() }
        defer { running.cancel() }
        return try await body(client)
    }
}

/// A backend the conformance suite runs on.
enum Backend: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

/// A fresh, empty store with a test clock; `close()` removes it.
struct StoreHarness: Sendable {
    let backend: Backend
    let store: any TicketStore
    let clock: TestClock
    /// The SQLite file, or the PostgreSQL database and schema.
    let sqlitePath: String?
    let postgres: PostgresLocation?

    static func open(_ backend: Backend) async throws -> StoreHarness {
        let clock = TestClock()
        switch backend {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clerk-store-\(UUID())")
            let path = folder.appendingPathComponent("clerk.sqlite").path
            let store = try SQLiteTicketStore(path: path, clock: clock.closure)
            return StoreHarness(backend: backend, store: store, clock: clock, sqlitePath: path, postgres: nil)
        case .postgres:
            let url = try #require(TestPostgres.url, TestPostgres.skipMessage)
            var location = try PostgresLocation(parsing: url)
            location.schema = "clerk_test_" + UUID().uuidString.prefix(8).lowercased()
            // Generous: the whole suite runs in parallel on two cores, with every store migrating its own schema.
            let store = try await PostgresTicketStore.open(location, clock: clock.closure, timeout: .seconds(60))
            return StoreHarness(backend: backend, store: store, clock: clock, sqlitePath: nil, postgres: location)
        }
    }

    func close() async {
        await store.shutdown()
        if let sqlitePath {
            try? FileManager.default.removeItem(atPath: (sqlitePath as NSString).deletingLastPathComponent)
        }
        if let postgres, let schema = postgres.schema {
            var admin = postgres
            admin.schema = nil
            _ = try? await TestPostgres.withClient(admin) { client in
                try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \(schema) CASCADE"))
            }
        }
    }

    /// Every value in the agents table, as text: to prove what is (not) stored.
    func storedAgentValues() async throws -> [String] {
        if let sqlitePath {
            let queue = try DatabaseQueue(path: sqlitePath)
            return try await queue.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM agents").flatMap { row in
                    row.databaseValues.map { String.fromDatabaseValue($0) ?? $0.description }
                }
            }
        }
        guard let postgres else { return [] }
        return try await TestPostgres.withClient(postgres) { client in
            var values: [String] = []
            let rows = try await client.query("SELECT name, role, token_hash FROM agents")
            for try await (name, role, hash) in rows.decode((String, String, String).self) {
                values += [name, role, hash]
            }
            return values
        }
    }

    /// A new ticket in conversation `conversation`, with a short transcript.
    @discardableResult
    func newTicket(
        _ conversation: String = "c-1", priority: TicketPriority = .normal, service: String? = "passport"
    ) async throws -> Ticket {
        try await store.createTicket(
            NewTicket(
                conversationID: conversation, service: service, priority: priority,
                transcript: [
                    TicketMessage(author: .citizen, text: "I want to talk to a human", at: clock.now),
                    TicketMessage(author: .bot, text: "Shall I pass this to a person?", at: clock.now),
                ]))
    }
}

/// Opens a fresh store on `backend`, runs `body`, and removes the store, even when `body` throws.
func withStore(_ backend: Backend, _ body: (StoreHarness) async throws -> Void) async throws {
    let harness = try await StoreHarness.open(backend)
    do {
        try await body(harness)
    } catch {
        await harness.close()
        throw error
    }
    await harness.close()
}
