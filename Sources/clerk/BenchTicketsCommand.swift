import ArgumentParser
import ClerkStore
import Foundation

struct TicketsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tickets",
        abstract: "Measure ticket creations per second: many concurrent callers, each waiting for a durable commit.",
        discussion: """
            Each creation stores a ticket with a two-message transcript and slots, its audit row and its change-feed \
            row, and returns only once committed. Concurrent creations share transactions (group commit). Without \
            --store, a fresh SQLite file in a temporary folder is used and deleted afterwards; a PostgreSQL store \
            keeps the tickets it creates, so point it at a throw-away database (scripts/postgres.sh).

            Examples:
              clerk bench tickets --synchronous full
              clerk bench tickets --synchronous normal --count 50000 --json
              clerk bench tickets --store "$CLERK_TEST_POSTGRES_URL"
            """
    )

    @Option(help: "Where to create the tickets (default: a temporary SQLite file).")
    var store: String?

    @Option(help: "How many tickets to create (timed).")
    var count = 20_000

    @Option(help: "How many callers create tickets at the same time.")
    var concurrency = 64

    @Option(help: "SQLite only: full (every commit flushed to disk) or normal.")
    var synchronous = "full"

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard count > 0, concurrency > 0 else { throw ValidationError("--count and --concurrency must be positive.") }
        guard SQLiteSynchronous(name: synchronous) != nil else {
            throw ValidationError("--synchronous must be full or normal.")
        }
        if let store {
            do {
                _ = try StoreLocation(parsing: store)
            } catch {
                throw ValidationError(error.description)
            }
        }
    }

    func run() async throws {
        let synchronous = SQLiteSynchronous(name: self.synchronous) ?? .full
        var temporary: URL?
        let location: StoreLocation
        if let store {
            location = try StoreLocation(parsing: store)
        } else {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clerk-bench-\(UUID())")
            temporary = folder
            location = .sqlite(path: folder.appendingPathComponent("clerk.sqlite").path)
        }
        defer { if let temporary { try? FileManager.default.removeItem(at: temporary) } }
        let opened: any TicketStore
        do {
            opened = try await openStore(location, synchronous: synchronous)
        } catch {
            printError("error: \(error.localizedDescription)")
            throw ExitCode(1)
        }

        // Warm up: the schema is in the page cache and the connections are open before timing starts.
        _ = try await createAll(on: opened, count: min(500, count), concurrency: concurrency)
        let start = ContinuousClock.now
        var latencies = try await createAll(on: opened, count: count, concurrency: concurrency)
        let elapsed = ContinuousClock.now - start
        await opened.shutdown()

        latencies.sort()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = Double(count) / seconds
        func percentile(_ p: Double) -> Double {
            latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] * 1000
        }
        let backend: String
        switch location {
        case .sqlite: backend = "sqlite (synchronous=\(synchronous.rawValue))"
        case .postgres: backend = "postgresql"
        }
        if json {
            let result: [String: Any] = [
                "backend": backend, "count": count, "concurrency": concurrency, "seconds": seconds,
                "creations_per_s": rate.rounded(), "p50_ms": percentile(0.5), "p99_ms": percentile(0.99),
                "max_ms": (latencies.last ?? 0) * 1000,
            ]
            let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("\(backend): \(count) tickets, \(concurrency) concurrent callers")
            print(
                String(
                    format: "%.0f creations/s in %.2f s; latency p50 %.2f ms, p99 %.2f ms, max %.2f ms", rate,
                    seconds, percentile(0.5), percentile(0.99), (latencies.last ?? 0) * 1000))
        }
    }

    /// Creates `count` tickets from `concurrency` callers; returns each creation's latency in seconds.
    private func createAll(on store: any TicketStore, count: Int, concurrency: Int) async throws -> [Double] {
        try await withThrowingTaskGroup(of: [Double].self) { group in
            for caller in 0..<min(concurrency, count) {
                let share = count / concurrency + (caller < count % concurrency ? 1 : 0)
                group.addTask {
                    var latencies: [Double] = []
                    latencies.reserveCapacity(share)
                    for index in 0..<share {
                        let started = ContinuousClock.now
                        _ = try await store.createTicket(Self.sample(caller: caller, index: index))
                        let taken = ContinuousClock.now - started
                        latencies.append(
                            Double(taken.components.seconds) + Double(taken.components.attoseconds) / 1e18)
                    }
                    return latencies
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }

    private static func sample(caller: Int, index: Int) -> NewTicket {
        let now = Date()
        return NewTicket(
            conversationID: "bench-\(caller)-\(index)", service: "passport", category: "renewal", priority: .normal,
            transcript: [
                TicketMessage(author: .citizen, text: "My passport ran out and I travel next week", at: now),
                TicketMessage(author: .bot, text: "Shall I pass this to a person?", at: now),
            ], slots: ["service": "passport"], replyBy: now.addingTimeInterval(16 * 3600))
    }
}
