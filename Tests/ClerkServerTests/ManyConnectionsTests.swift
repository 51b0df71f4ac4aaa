import ClerkServer
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@Suite("Line protocol under load")
struct ManyConnectionsTests {
    /// Each connection needs a file on both ends; the default soft limit (often 1,024) is too low.
    static func raiseFileLimit() throws {
        var limit = rlimit()
        try #require(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0)
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            try #require(setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aThousandCitizensConnectedAtOnceEachGetAnAnswer() async throws {
        try Self.raiseFileLimit()
        let clients = 1000
        try await withLineServer { server in
            let answered = Counter()
            let failed = Counter()
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<clients {
                    group.addTask {
                        try await withConnection(to: server.port, timeout: .seconds(30)) { connection in
                            _ = try await connection.greeting()
                            let reply = try await connection.turn("how much is a passport")
                            guard reply.contains(where: { $0.contains("€35") }) else {
                                failed.add()
                                return false
                            }
                            answered.add()
                            // Stay connected until every client has its answer: all of them are open at once.
                            while answered.value + failed.value < clients {
                                try await Task.sleep(for: .milliseconds(20))
                            }
                            return true
                        }
                    }
                }
                var ok = 0
                for try await success in group where success { ok += 1 }
                #expect(ok == clients)
            }
            #expect(server.harness.conversations.count == clients)
        }
    }
}

/// A count shared by many tasks.
final class Counter: Sendable {
    private let count = Atomic<Int>(0)

    func add() { count.add(1, ordering: .relaxed) }

    var value: Int { count.load(ordering: .relaxed) }
}
