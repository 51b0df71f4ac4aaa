import ArgumentParser
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
            and send the next, for --seconds, and counts turns; (2) a second process opens --connections connections \
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
        let shared = BenchCounters()
        let group = MultiThreadedEventLoopGroup.singleton
        var channels: [Channel] = []
        for index in 0..<conversations {
            let handler = TurnLoop(messages: messages, offset: index, shared: shared)
            let channel = try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .connect(host: "127.0.0.1", port: bound).get()
            channels.append(channel)
        }
        // Every connection is open: now they all start sending.
        for channel in channels { channel.pipeline.fireUserInboundEventTriggered(TurnLoop.Start()) }
        // Warm up for a second, then measure.
        try await Task.sleep(for: .seconds(1))
        shared.latencies.withLock { $0.removeAll() }
        let startCount = shared.turns.load(ordering: .relaxed)
        let start = ContinuousClock.now
        let startCPU = processCPUSeconds()
        try await Task.sleep(for: .seconds(seconds))
        let turns = shared.turns.load(ordering: .relaxed) - startCount
        let elapsed = ContinuousClock.now - start
        // Client and server together: the machine's two cores at this cost per turn would give 2e6 / µs turns/s.
        let cpuPerTurn = turns > 0 ? (processCPUSeconds() - startCPU) / Double(turns) * 1e6 : 0
        shared.stop.store(true, ordering: .relaxed)
        let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let turnsPerSecond = Double(turns) / elapsedSeconds
        var sorted = shared.latencies.withLock { $0 }
        sorted.sort()
        let p99 = sorted.isEmpty ? 0 : Double(sorted[min(sorted.count - 1, sorted.count * 99 / 100)]) / 1e6
        let p50 = sorted.isEmpty ? 0 : Double(sorted[sorted.count / 2]) / 1e6
        for channel in channels { try? await channel.close() }
        channels.removeAll()

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
                + "\"p50_ms\": %.3f, \"p99_ms\": %.3f, \"cpu_us_per_turn\": %.1f",
            conversations, elapsedSeconds, turns, turnsPerSecond, p50, p99, cpuPerTurn)
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

/// Counters shared by the benchmark's client connections.
private final class BenchCounters: Sendable {
    let turns = Atomic<Int>(0)
    let stop = Atomic<Bool>(false)
    let latencies = Mutex<[UInt64]>([])
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

/// Sends a message after every END, until stopped; counts turns and their latency. Reads the raw bytes (no
/// per-line events): the client shares the machine's two cores with the server, so it must cost little.
private final class TurnLoop: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Sent once every connection is open.
    struct Start: Sendable {}

    static let endLine: [UInt8] = Array("END\n".utf8)
    let messages: [ByteBuffer]
    var next: Int
    let shared: BenchCounters
    var sentAt: ContinuousClock.Instant?
    var greeted = false
    var started = false
    /// Bytes of `END\n` matched since the current line began, or -1 when this line is something else.
    var matched = 0

    init(messages: [String], offset: Int, shared: BenchCounters) {
        self.messages = messages.map { ByteBuffer(string: $0 + "\n") }
        next = offset % messages.count
        self.shared = shared
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is Start else { return context.fireUserInboundEventTriggered(event) }
        started = true
        if greeted { send(context: context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        var ends = 0
        buffer.withUnsafeReadableBytes { bytes in
            for byte in bytes {
                if matched >= 0, byte == Self.endLine[matched] {
                    matched += 1
                    if matched == Self.endLine.count {
                        ends += 1
                        matched = 0
                    }
                } else {
                    matched = byte == UInt8(ascii: "\n") ? 0 : -1
                }
            }
        }
        for _ in 0..<ends { turnEnded(context: context) }
    }

    private func turnEnded(context: ChannelHandlerContext) {
        guard greeted else {
            greeted = true
            if started { send(context: context) }
            return
        }
        if let sentAt {
            shared.turns.wrappingAdd(1, ordering: .relaxed)
            let elapsed = ContinuousClock.now - sentAt
            let nanos =
                UInt64(elapsed.components.seconds) * 1_000_000_000
                + UInt64(elapsed.components.attoseconds / 1_000_000_000)
            if next % 8 == 0 { shared.latencies.withLock { $0.append(nanos) } }
        }
        send(context: context)
    }

    private func send(context: ChannelHandlerContext) {
        guard !shared.stop.load(ordering: .relaxed) else { return }
        let message = messages[next]
        next = (next + 1) % messages.count
        sentAt = .now
        context.writeAndFlush(wrapOutboundOut(message), promise: nil)
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
