import ClerkStore
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `clerk serve` as a child process on free ports, with what it printed so far.
private struct ServerProcess {
    /// What the server printed, filled from a background reader.
    final class Output: Sendable {
        let text = Mutex("")
    }

    let process: Process
    let output = Output()

    init(store: String, content: String = packageRoot.path) throws {
        let binary = try #require(clerkBinary, "no clerk binary found: build with 'swift build --build-tests' first")
        process = Process()
        process.executableURL = binary
        process.arguments = [
            "serve", "--chat-port", "0", "--http-port", "0", "--store", "sqlite:\(store)", "--content", content,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let output = self.output
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
            } else {
                output.text.withLock { $0 += String(decoding: data, as: UTF8.self) }
            }
        }
        try process.run()
    }

    /// The line-protocol port, once the server prints that it serves it.
    func chatPort(sourceLocation: SourceLocation = #_sourceLocation) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline && process.isRunning {
            let printed = output.text.withLock { $0 }
            if let range = printed.range(of: #"serving chat on 127\.0\.0\.1:\d+"#, options: .regularExpression),
                let port = Int(printed[range].split(separator: ":").last ?? "")
            {
                return port
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let printed = output.text.withLock { $0 }
        Issue.record("clerk serve printed no chat port: \(printed)", sourceLocation: sourceLocation)
        throw CancellationError()
    }

    /// Kills the server without warning, as a power cut or the OOM killer would.
    func killNow() {
        _ = kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Stops the server with SIGTERM (and SIGKILL when it does not stop).
    func stop() async {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(15)
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { killNow() }
    }
}

/// A plain blocking TCP client for the line protocol (and raw HTTP), as `nc` would be: no NIO, no Clerk code.
struct LineSocket {
    enum Failure: Error {
        case cannotConnect(Int32)
        case cannotSend(Int32)
        case cannotReceive(Int32)
    }

    let descriptor: Int32
    private var pending: [UInt8] = []

    /// Connects to 127.0.0.1:`port`; a read waits at most `timeout` seconds.
    init(port: Int, timeout: Int = 15) throws {
        #if canImport(Glibc)
            descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw Failure.cannotConnect(errno) }
        var wait = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let code = errno
            close(descriptor)
            throw Failure.cannotConnect(code)
        }
    }

    func write(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Self.noSignal) }
            guard count > 0 else { throw Failure.cannotSend(errno) }
            sent += count
        }
    }

    /// The next line without its LF; nil when the server closed the connection.
    mutating func line() throws -> String? {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                defer { pending.removeSubrange(...newline) }
                return String(decoding: pending[..<newline], as: UTF8.self)
            }
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { return nil }
            guard count > 0 else { throw Failure.cannotReceive(errno) }
            pending += chunk[..<count]
        }
    }

    /// The next `count` bytes; fewer when the server closed the connection.
    mutating func bytes(_ count: Int) throws -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while pending.count < count {
            let received = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if received == 0 { break }
            guard received > 0 else { throw Failure.cannotReceive(errno) }
            pending += chunk[..<received]
        }
        let taken = Array(pending.prefix(count))
        pending.removeFirst(taken.count)
        return taken
    }

    /// Lines through the `count`-th `END` (or until the server closes the connection).
    mutating func lines(throughEnd count: Int) throws -> [String] {
        var lines: [String] = []
        var ends = 0
        while ends < count, let line = try line() {
            lines.append(line)
            if line == "END" { ends += 1 }
        }
        return lines
    }

    func disconnect() { close(descriptor) }

    /// A server that died must fail a send, not kill the test process with SIGPIPE.
    #if os(Linux)
        private static let noSignal = Int32(MSG_NOSIGNAL)
    #else
        private static let noSignal: Int32 = 0
    #endif
}

/// Runs blocking work on a thread of its own, so it never holds one of the few shared concurrency threads.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Ticket references shown to citizens, collected from several threads.
private final class Acknowledged: Sendable {
    let references = Mutex<[String]>([])
}

/// A fresh folder for a store; `remove()` deletes it.
private struct StoreFolder {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clerk-handoff-\(UUID().uuidString)")
    var path: String { folder.appendingPathComponent("clerk.sqlite").path }

    func remove() { try? FileManager.default.removeItem(at: folder) }
}

@Suite("clerk serve: the line protocol and handovers, on the real binary")
struct HandoffCLITests {
    @Test func twoLinesPipedIntoASocketGetAGreetingAndTwoCompleteTurns() async throws {
        let store = StoreFolder()
        defer { store.remove() }
        let server = try ServerProcess(store: store.path)
        let port = try await server.chatPort()
        // printf 'hello\nhow much is a passport\n' | nc 127.0.0.1 PORT
        let lines = try await onThread {
            var socket = try LineSocket(port: port)
            defer { socket.disconnect() }
            try socket.write("hello\nhow much is a passport\n")
            return try socket.lines(throughEnd: 3)
        }
        await server.stop()
        #expect(server.process.terminationStatus == 0)

        let blocks = lines.split(separator: "END", omittingEmptySubsequences: false).map(Array.init)
        try #require(blocks.count == 4 && blocks[3].isEmpty, "three blocks, each ending with END: \(lines)")
        #expect(blocks[0].first?.hasPrefix("HELLO clerk-chat/1 ") == true, "\(lines)")
        #expect(blocks[0].contains { $0.hasPrefix("TOKEN ") }, "\(lines)")
        #expect(blocks[1].first?.hasPrefix("SAY ") == true, "the reply to hello: \(lines)")
        #expect(blocks[2].contains { $0.hasPrefix("SAY ") && $0.contains("€35") }, "the passport fee: \(lines)")
    }

    @Test(.timeLimit(.minutes(2)))
    func contentEditedUnderARunningServerIsUsedWithinASecondAndABrokenEditKeepsTheOldContent() async throws {
        let store = StoreFolder()
        defer { store.remove() }
        let manager = FileManager.default
        let content = manager.temporaryDirectory.appendingPathComponent("clerk-reload-\(UUID().uuidString)")
        defer { try? manager.removeItem(at: content) }
        try manager.createDirectory(at: content, withIntermediateDirectories: true)
        for folder in ["intents", "knowledge", "config"] {
            try manager.copyItem(
                at: packageRoot.appendingPathComponent(folder), to: content.appendingPathComponent(folder))
        }
        let server = try ServerProcess(store: store.path, content: content.path)
        let port = try await server.chatPort()

        // A client asking all the time, across both reloads: every turn must be answered.
        let stop = Mutex(false)
        let loop = Task {
            try await onThread { () -> (Int, Int) in
                var socket = try LineSocket(port: port)
                defer { socket.disconnect() }
                _ = try socket.lines(throughEnd: 1)
                var turns = 0
                var failures = 0
                while !stop.withLock({ $0 }) {
                    try socket.write("how much is a passport\n")
                    var answered = false
                    while let line = try socket.line() {
                        if line.hasPrefix("SAY") && line.contains("€35") { answered = true }
                        if line == "END" || line.hasPrefix("ERROR") { break }
                    }
                    if !answered { failures += 1 }
                    turns += 1
                    // Within the per-connection rate limit (5 messages a second).
                    Thread.sleep(forTimeInterval: 0.25)
                }
                return (turns, failures)
            }
        }
        /// The reply to "thanks" on a new connection.
        func thanks() async throws -> String {
            try await onThread {
                var socket = try LineSocket(port: port)
                defer { socket.disconnect() }
                _ = try socket.lines(throughEnd: 1)
                try socket.write("thanks\n")
                return try socket.lines(throughEnd: 1).filter { $0.hasPrefix("SAY ") }.joined(separator: " ")
            }
        }
        #expect(try await thanks().contains("You are welcome"))

        let general = content.appendingPathComponent("intents/general.yaml")
        let original = try String(contentsOf: general, encoding: .utf8)
        try original.replacingOccurrences(
            of: "You are welcome. Is there anything else I can help with?", with: "Glad to help! Anything else?"
        ).write(to: general, atomically: true, encoding: .utf8)
        let edited = ContinuousClock.now
        var reloaded = false
        while ContinuousClock.now - edited < .seconds(10) {
            if try await thanks().contains("Glad to help!") {
                reloaded = true
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let delay = ContinuousClock.now - edited
        #expect(reloaded, "the edited reply never arrived")
        // The goal is one second; `clerk bench reload` shows it in BENCHMARKS.md (saved to swapped ~0.3 s in a
        // release build). This debug build runs beside every other suite on two cores, where it has taken up to
        // 3.5 s, so the test allows five: it checks that the edit arrives, the benchmark how fast.
        #expect(delay < .seconds(5), "the new content took \(delay)")

        // A broken edit: the old content keeps serving and the error is logged with its place.
        try "- id: broken\n  patterns: [\"~nothing\"]\n  reply: x\n".write(
            to: content.appendingPathComponent("intents/zz.yaml"), atomically: true, encoding: .utf8)
        let broken = ContinuousClock.now
        while ContinuousClock.now - broken < .seconds(10),
            !server.output.text.withLock({ $0.contains("intents/zz.yaml:2:15: error") })
        {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await thanks().contains("Glad to help!"))
        let printed = server.output.text.withLock { $0 }
        #expect(printed.contains("intents/zz.yaml:2:15: error: unknown concept '~nothing'"), "\(printed)")

        stop.withLock { $0 = true }
        let (turns, failures) = try await loop.value
        await server.stop()
        #expect(turns >= 4, "the client loop ran \(turns) turns")
        #expect(failures == 0, "\(failures) of \(turns) turns failed during the reloads")
    }

    @Test func reportOnAScriptedSessionListsThePlantedMissesFirst() async throws {
        let store = StoreFolder()
        defer { store.remove() }
        let server = try ServerProcess(store: store.path)
        let port = try await server.chatPort()
        try await onThread {
            for _ in 0..<3 {
                var socket = try LineSocket(port: port)
                defer { socket.disconnect() }
                try socket.write("where can I rent a kayak\nhow much is a passport\n")
                _ = try socket.lines(throughEnd: 3)
            }
            var socket = try LineSocket(port: port)
            defer { socket.disconnect() }
            try socket.write("zebra crossing paint colour\n")
            _ = try socket.lines(throughEnd: 2)
        }
        // SIGTERM: the server writes its last batch of turns before it exits.
        await server.stop()
        let run = try await clerk([
            "report", "--json", "--store", "sqlite:\(store.path)", "--content", packageRoot.path,
        ])
        #expect(run.status == 0, "\(run)")
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let groups = try #require(object?["unanswered"] as? [[String: Any]], "\(run)")
        #expect(groups.first?["count"] as? Int == 3, "\(run)")
        #expect((groups.first?["example"] as? String)?.contains("kayak") == true, "\(run)")
        #expect(groups.count == 2, "\(run)")
        #expect((object?["answered"] as? Int ?? 0) >= 3, "\(run)")
    }

    @Test(.timeLimit(.minutes(2)))
    func everyTicketReferenceShownSurvivesKillNineOfTheServer() async throws {
        let store = StoreFolder()
        defer { store.remove() }
        let server = try ServerProcess(store: store.path)
        let port = try await server.chatPort()

        // Citizens ask for a person on new connections, four at a time, until the server dies under them.
        let acknowledged = Acknowledged()
        let workers = (0..<4).map { _ in
            Task {
                try await onThread {
                    while true {
                        guard var socket = try? LineSocket(port: port, timeout: 10) else { return }
                        defer { socket.disconnect() }
                        do {
                            _ = try socket.lines(throughEnd: 1)
                            try socket.write("/human\n")
                            for line in try socket.lines(throughEnd: 1) where line.hasPrefix("TICKET ") {
                                let reference = String(line.split(separator: " ")[1])
                                acknowledged.references.withLock { $0.append(reference) }
                            }
                        } catch {
                            return
                        }
                    }
                }
            }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while acknowledged.references.withLock({ $0.count }) < 150 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        server.killNow()
        for worker in workers { try await worker.value }
        let references = acknowledged.references.withLock { $0 }
        #expect(references.count >= 150, "only \(references.count) tickets before the deadline")

        // The server starts again on the same file, and every reference it showed is there.
        let restarted = try ServerProcess(store: store.path)
        let newPort = try await restarted.chatPort()
        let reopened = try SQLiteTicketStore(path: store.path)
        for reference in references {
            let ticket = try await reopened.ticket(try TicketReference(parsing: reference))
            #expect(ticket?.status == .queued, "\(reference) was shown to a citizen but is not in the store")
        }
        // A new ticket never reuses a reference that was shown before the crash.
        let next = try await onThread {
            var socket = try LineSocket(port: newPort)
            defer { socket.disconnect() }
            _ = try socket.lines(throughEnd: 1)
            try socket.write("/human\n")
            return try socket.lines(throughEnd: 1).first { $0.hasPrefix("TICKET ") }
        }
        let nextReference = try TicketReference(parsing: try #require(next).split(separator: " ")[1])
        let shown = try references.map { try TicketReference(parsing: $0) }
        #expect(
            shown.allSatisfy { $0 < nextReference },
            "\(nextReference) after \(shown.max().map(\.description) ?? "none")")
        await reopened.shutdown()
        await restarted.stop()
    }
}
