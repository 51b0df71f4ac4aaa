import ArgumentParser
import CEpoll
import ClerkServer
import ClerkStore
import Foundation
import NIOCore
import NIOPosix
import Synchronization

struct ChatBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Measure the line chat protocol: turns per second over loopback, and connections held.",
        discussion: """
            Starts the line server in this process on 127.0.0.1 (content from --content, tickets in a temporary \
            SQLite file), then (1) opens --conversations connections that each send a message, wait for its END \
            and send the next, for --seconds, and counts turns (the client is one thread with non-blocking sockets \
            and epoll, like wrk for HTTP, so that it takes little of the CPU it shares with the server); (2) a second process opens --connections connections \
            and counts how many got their greeting (the open-file limit is raised to its hard limit first). Client and \
            server share this machine, as the benchmark asks. The per-connection rate limit is lifted for (1): it \
            is a policy, not a cost.

            Examples:
              clerk bench chat
              clerk bench chat --conversations 1000 --seconds 10 --connections 10000 --json
            """
    )

    @OptionGroup var contentOptions: ContentOptions

    @Option(help: "Connections sending turns at once in the throughput test.")
    var conversations = 1000

    @Option(help: "Length of the throughput test in seconds.")
    var seconds = 10.0

    @Option(help: "Connections to open and hold in the second test (0 skips it).")
    var connections = 10_000

    @Flag(help: "Print one JSON object.")
    var json = false

    @Option(help: .hidden)
    var holdOnly: Int?

    func run() async throws {
        raiseFileLimit()
        if let port = holdOnly {
            let (held, failed) = try await Self.hold(port: port, count: connections)
            print("HELD \(held) FAILED \(failed)")
            fflush(nil)
            // Hold them until the parent closes our standard input.
            _ = await Task.detached { FileHandle.standardInput.readDataToEndOfFile() }.value
            return
        }
        let brain = try contentOptions.loadBrain()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clerk-bench-chat-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await openStore(.sqlite(path: folder.appendingPathComponent("clerk.sqlite").path))
        var handoff = HandoffSettings()
        handoff.flushInterval = .seconds(1)
        let conversationService = Conversations(
            brains: BrainStore(brain), store: store, officeHours: nil, settings: handoff)
        var settings = LineServerSettings()
        settings.messagesPerSecond = 1e9
        settings.burst = 1e9
        settings.maxConnections = connections + conversations + 100
        let server = LineServer(conversations: conversationService, settings: settings, logger: .init(label: "bench"))
        let port = Mutex(0)
        let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
        let serverTask = Task {
            try await server.run(host: "127.0.0.1", port: 0) { bound in
                port.withLock { $0 = bound }
                readyContinuation.yield()
            }
        }
        let background = Task { await conversationService.run() }
        for await _ in ready { break }
        let bound = port.withLock { $0 }

        // 1. Turns per second.
        let messages = [
            "how much is a passport", "and for my child?", "how long does it take", "what about an id card",
            "where do i apply for a parking permit", "who can get child benefit", "thanks", "hello",
        ]
        let load = try LineLoad(port: bound, connections: conversations, messages: messages)
        let finished = load.start()
        // Warm up for a second, then measure.
        try await Task.sleep(for: .seconds(1))
        load.phase.store(LineLoad.measuring, ordering: .relaxed)
        let startCount = load.turns.load(ordering: .relaxed)
        let start = ContinuousClock.now
        let startCPU = processCPUSeconds()
        try await Task.sleep(for: .seconds(seconds))
        let turns = load.turns.load(ordering: .relaxed) - startCount
        let elapsed = ContinuousClock.now - start
        // Client and server together: the machine's two cores at this cost per turn would give 2e6 / µs turns/s.
        let cpuPerTurn = turns > 0 ? (processCPUSeconds() - startCPU) / Double(turns) * 1e6 : 0
        load.phase.store(LineLoad.stopped, ordering: .relaxed)
        for await _ in finished { break }
        let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let turnsPerSecond = Double(turns) / elapsedSeconds
        var sorted = load.latencies.withLock { $0 }
        sorted.sort()
        let p99 = sorted.isEmpty ? 0 : Double(sorted[min(sorted.count - 1, sorted.count * 99 / 100)]) / 1e6
        let p50 = sorted.isEmpty ? 0 : Double(sorted[sorted.count / 2]) / 1e6

        // 2. Connections held: opened by a second process, so that the server alone uses this process's file
        // descriptors (a client in the same process would need as many again).
        var held = 0
        var failed = 0
        var rss = 0.0
        if connections > 0 {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            child.arguments = ["bench", "chat", "--hold-only", "\(bound)", "--connections", "\(connections)"]
            let output = Pipe()
            let input = Pipe()
            child.standardOutput = output
            child.standardInput = input
            try child.run()
            // The child prints "HELD n FAILED m" once every connection was greeted (or 30 s passed), then holds
            // them until its standard input closes.
            let line = await Task.detached {
                var bytes: [UInt8] = []
                while true {
                    let chunk = output.fileHandleForReading.readData(ofLength: 1)
                    if chunk.isEmpty || chunk[0] == UInt8(ascii: "\n") { break }
                    bytes.append(chunk[0])
                }
                return String(decoding: bytes, as: UTF8.self)
            }.value
            let words = line.split(separator: " ")
            if words.count == 4 {
                held = Int(words[1]) ?? 0
                failed = Int(words[3]) ?? 0
            }
            rss = residentMegabytes()
            try? input.fileHandleForWriting.close()
            child.waitUntilExit()
        }
        // One report: the throughput test, then the connections held when they were measured.
        let turnsPart = String(
            format:
                "\"conversations\": %d, \"seconds\": %.1f, \"turns\": %d, \"turns_per_second\": %.0f, "
                + "\"p50_ms\": %.3f, \"p99_ms\": %.3f, \"cpu_us_per_turn\": %.1f, \"server_event_loops\": %d",
            conversations, elapsedSeconds, turns, turnsPerSecond, p50, p99, cpuPerTurn,
            NIOSingletons.groupLoopCountSuggestion)
        if json {
            let heldPart =
                connections > 0
                ? String(
                    format:
                        ", \"connections_attempted\": %d, \"connections_held\": %d, \"connections_failed\": %d, "
                        + "\"resident_mb_while_holding\": %.0f",
                    connections, held, failed, rss)
                : ""
            print("{" + turnsPart + heldPart + "}")
        } else {
            print(
                String(
                    format:
                        "turns: %d in %.1f s with %d connections = %.0f turns/s (p50 %.2f ms, p99 %.2f ms; "
                        + "%.1f µs CPU per turn, client and server)",
                    turns, elapsedSeconds, conversations, turnsPerSecond, p50, p99, cpuPerTurn))
            if connections > 0 {
                print(
                    "connections held: \(held) of \(connections) (\(failed) failed to connect), resident \(Int(rss)) MB"
                )
            }
        }
        serverTask.cancel()
        background.cancel()
        // The background work writes its last batch when cancelled: the store closes after it.
        await background.value
        await store.shutdown()
    }

    private func raiseFileLimit() {
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
    }

    /// Opens `count` connections to 127.0.0.1:`port` and waits until each was greeted (at most 30 s).
    static func hold(port: Int, count: Int) async throws -> (held: Int, failed: Int) {
        let greeted = BenchCounters()
        var open: [Channel] = []
        open.reserveCapacity(count)
        var failed = 0
        for _ in 0..<count {
            // A client whose connection attempt is refused (a full accept queue) tries again, as any would.
            var attempt = 0
            while true {
                do {
                    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                        .channelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineSplitter()))
                                try channel.pipeline.syncOperations.addHandler(GreetingCounter(greeted: greeted))
                            }
                        }
                        .connect(host: "127.0.0.1", port: port).get()
                    open.append(channel)
                    break
                } catch {
                    attempt += 1
                    if attempt == 3 {
                        failed += 1
                        break
                    }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while greeted.greeted.load(ordering: .relaxed) < open.count && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        return (greeted.greeted.load(ordering: .relaxed), failed)
    }

    private func residentMegabytes() -> Double {
        Double(memoryKiB("VmRSS")) / 1024
    }
}

/// Counts the held connections that were greeted.
private final class BenchCounters: Sendable {
    let greeted = Atomic<Int>(0)
}

/// Splits the byte stream into lines (benchmark client).
private struct LineSplitter: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else { return .needMoreData }
        let line = buffer.readSlice(length: newline - buffer.readerIndex)!
        buffer.moveReaderIndex(forwardBy: 1)
        context.fireChannelRead(wrapInboundOut(line))
        return .continue
    }
}

/// The throughput test's client, as lean as wrk is for HTTP: each connection sends a message, waits for its `END`
/// and sends the next. All connections are non-blocking sockets in one epoll set, served by one thread of its own
/// (not the server's event loops), one `read` per ready connection and one `write` per message. Every turn is still
/// a real request and reply through the server's socket; the client only costs less of the two cores it shares with
/// the server than a NIO pipeline per connection would.
private final class LineLoad: Sendable {
    static let warmingUp = 0
    static let measuring = 1
    static let stopped = 2

    /// ``warmingUp``, then ``measuring`` (latencies collected before are dropped), then ``stopped``.
    let phase = Atomic<Int>(LineLoad.warmingUp)
    /// Turns answered so far (the greeting is not a turn).
    let turns = Atomic<Int>(0)
    /// Every 8th turn's latency in nanoseconds while measuring, once the client stopped.
    let latencies = Mutex<[UInt64]>([])
    private let sockets: [Int32]
    private let messages: [[UInt8]]

    /// Opens `connections` connections to 127.0.0.1:`port`.
    init(port: Int, connections: Int, messages: [String]) throws {
        self.messages = messages.map { Array(($0 + "\n").utf8) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
        var sockets: [Int32] = []
        for _ in 0..<connections {
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard socket >= 0 else { throw LineLoadError.socket(errno) }
            sockets.append(socket)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else {
                for socket in sockets { close(socket) }
                throw LineLoadError.connect(errno)
            }
            var one: Int32 = 1
            _ = setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            _ = fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) | O_NONBLOCK)
        }
        self.sockets = sockets
    }

    /// Starts the client's thread; the stream yields once it stopped and closed its connections.
    func start() -> AsyncStream<Void> {
        let (finished, continuation) = AsyncStream<Void>.makeStream()
        let thread = Thread { [self] in
            run()
            continuation.yield()
            continuation.finish()
        }
        thread.name = "bench-chat-client"
        thread.start()
        return finished
    }

    private struct Connection {
        var greeted = false
        /// Bytes of `END\n` matched since the current line began, or -1 when this line is something else.
        var matched = 0
        var next: Int
        var sentAt: UInt64 = 0
    }

    private static let endLine: [UInt8] = Array("END\n".utf8)

    private func run() {
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        defer {
            for socket in sockets { close(socket) }
            close(epoll)
        }
        for (index, socket) in sockets.enumerated() {
            var event = epoll_event()
            event.events = EPOLLIN.rawValue
            event.data.u32 = UInt32(index)
            _ = epoll_ctl(epoll, EPOLL_CTL_ADD, socket, &event)
        }
        var connections = sockets.indices.map { Connection(next: $0 % messages.count) }
        var events = [epoll_event](repeating: epoll_event(), count: 1024)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var sampled: [UInt64] = []
        var measuring = false
        var answered = 0
        while true {
            let phase = phase.load(ordering: .relaxed)
            if phase == Self.stopped { break }
            if phase == Self.measuring, !measuring {
                measuring = true
                sampled.removeAll(keepingCapacity: true)
            }
            let ready = epoll_wait(epoll, &events, Int32(events.count), 100)
            guard ready > 0 else { continue }
            for event in events[0..<Int(ready)] {
                let index = Int(event.data.u32)
                let count = buffer.withUnsafeMutableBytes { read(sockets[index], $0.baseAddress, $0.count) }
                guard count > 0 else {
                    // Closed by the server (or failed): this connection takes no further part.
                    if count == 0 || errno != EAGAIN { _ = epoll_ctl(epoll, EPOLL_CTL_DEL, sockets[index], nil) }
                    continue
                }
                let ends = buffer.withUnsafeBytes {
                    Self.countEnds(in: UnsafeRawBufferPointer(rebasing: $0.prefix(count)), &connections[index].matched)
                }
                for _ in 0..<ends {
                    if connections[index].greeted {
                        answered += 1
                        if connections[index].next % 8 == 0 {
                            sampled.append(Self.nanoseconds() - connections[index].sentAt)
                        }
                    }
                    connections[index].greeted = true
                    send(on: index, &connections[index])
                }
            }
            // One atomic update per batch of ready connections, not per turn.
            turns.wrappingAdd(answered, ordering: .relaxed)
            answered = 0
        }
        latencies.withLock { $0 = sampled }
    }

    /// Counts the `END` lines in `bytes`, the next bytes of a connection's stream. `matched` carries what is known
    /// of the current line from one read to the next: how many bytes of `END\n` it began with, or -1 when it is
    /// something else. Line breaks are found with `memchr`, so the bytes of other lines are not looked at one by one.
    static func countEnds(in bytes: UnsafeRawBufferPointer, _ matched: inout Int) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var ends = 0
        var offset = 0
        while offset < bytes.count {
            if matched >= 0 {
                while matched < endLine.count, offset < bytes.count, bytes[offset] == endLine[matched] {
                    matched += 1
                    offset += 1
                }
                if matched == endLine.count {
                    ends += 1
                    matched = 0
                    continue
                }
                if offset == bytes.count { break }
                matched = -1
            }
            guard let newline = memchr(base + offset, Int32(UInt8(ascii: "\n")), bytes.count - offset) else {
                break
            }
            offset = UnsafeRawPointer(newline) - base + 1
            matched = 0
        }
        return ends
    }

    private func send(on index: Int, _ connection: inout Connection) {
        let message = messages[connection.next]
        connection.next = (connection.next + 1) % messages.count
        // Every 8th turn's latency is kept (see `run`): only those need the clock.
        if connection.next % 8 == 0 { connection.sentAt = Self.nanoseconds() }
        // One short message at a time on an otherwise idle socket: its send buffer always has room, so the
        // write takes it whole (a retry covers the impossible EAGAIN).
        var offset = 0
        while offset < message.count {
            let written = message.withUnsafeBytes { write(sockets[index], $0.baseAddress! + offset, $0.count - offset) }
            if written > 0 {
                offset += written
            } else if written < 0, errno != EAGAIN, errno != EINTR {
                return
            }
        }
    }

    private static func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}

enum LineLoadError: Error, CustomStringConvertible {
    case socket(Int32)
    case connect(Int32)

    var description: String {
        switch self {
        case .socket(let code): "cannot create a socket: \(String(cString: strerror(code)))"
        case .connect(let code): "cannot connect to the line server: \(String(cString: strerror(code)))"
        }
    }
}

/// Counts connections that received their greeting's END.
private final class GreetingCounter: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let shared: BenchCounters
    var done = false

    init(greeted: BenchCounters) {
        shared = greeted
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        if !done, line.readableBytes == 3, line.getString(at: line.readerIndex, length: 3) == "END" {
            done = true
            shared.greeted.wrappingAdd(1, ordering: .relaxed)
        }
    }
}
