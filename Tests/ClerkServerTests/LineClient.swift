import ClerkServer
import Foundation
import NIOCore
import NIOPosix
import Testing

/// A `LineServer` on 127.0.0.1 and a free port, over a fresh ``ServerHarness``; `stop()` ends both.
struct RunningLineServer: Sendable {
    let harness: ServerHarness
    let port: Int
    private let serving: Task<Void, any Error>

    static func start(
        _ settings: LineServerSettings = .init(), handoff: HandoffSettings = fastSettings()
    ) async throws -> RunningLineServer {
        let harness = try await ServerHarness.open(settings: handoff)
        let server = LineServer(conversations: harness.conversations, settings: settings, logger: quietLogger)
        let (ports, ready) = AsyncStream<Int>.makeStream()
        let serving = Task {
            defer { ready.finish() }
            try await server.run(host: "127.0.0.1", port: 0) { port in ready.yield(port) }
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            await harness.close()
            if case .failure(let error) = await serving.result { throw error }
            throw LineClientError.serverDidNotStart
        }
        return RunningLineServer(harness: harness, port: port, serving: serving)
    }

    private init(harness: ServerHarness, port: Int, serving: Task<Void, any Error>) {
        self.harness = harness
        self.port = port
        self.serving = serving
    }

    func stop() async {
        serving.cancel()
        _ = await serving.result
        await harness.close()
    }
}

/// Starts a line server, runs `body` with it, and stops it even when `body` throws.
func withLineServer(
    _ settings: LineServerSettings = .init(), _ body: (RunningLineServer) async throws -> Void
) async throws {
    let server = try await RunningLineServer.start(settings)
    do {
        try await body(server)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}

enum LineClientError: Error {
    case serverDidNotStart
}

/// One client connection speaking the line protocol: raw bytes out, lines in (LF removed).
struct LineConnection {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var pending: [UInt8] = []
    private var closed = false

    fileprivate init(
        inbound: NIOAsyncChannelInboundStream<ByteBuffer>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) {
        self.inbound = inbound.makeAsyncIterator()
        self.outbound = outbound
    }

    /// Sends `text` and a LF.
    func send(_ text: String) async throws {
        try await send(bytes: Array((text + "\n").utf8))
    }

    /// Sends bytes exactly as given.
    func send(bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// Closes the sending side only (like `nc -N` at the end of its input); replies can still arrive.
    func finishSending() {
        outbound.finish()
    }

    /// The next line; nil once the server has closed the connection (or the test's time ran out).
    mutating func line() async throws -> String? {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            if closed { return nil }
            do {
                guard let buffer = try await inbound.next() else {
                    closed = true
                    continue
                }
                pending += buffer.readableBytesView
            } catch {
                closed = true
            }
        }
    }

    /// Lines up to and including the first that `isLast` accepts; stops early when the connection closes.
    mutating func lines(through isLast: (String) -> Bool) async throws -> [String] {
        var lines: [String] = []
        while let line = try await line() {
            lines.append(line)
            if isLast(line) { break }
        }
        return lines
    }

    /// One reply: lines up to and including `END`, or a single `ERROR` line.
    mutating func reply() async throws -> [String] {
        try await lines { $0 == "END" || $0.hasPrefix("ERROR ") }
    }

    /// Sends a message and returns the reply (see ``reply()``).
    mutating func turn(_ text: String) async throws -> [String] {
        try await send(text)
        return try await reply()
    }

    /// Whether the server closed the connection: no more lines arrive.
    mutating func isClosedByServer() async throws -> Bool {
        try await line() == nil
    }
}

/// Connects to the line server on `port`, runs `body`, and closes the connection. A connection still open after
/// `timeout` is closed from outside, so a missing line fails the test instead of hanging it.
func withConnection<T: Sendable>(
    to port: Int, timeout: Duration = .seconds(15), _ body: (inout LineConnection) async throws -> T
) async throws -> T {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .channelOption(.socketOption(.tcp_nodelay), value: 1)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                    wrappingChannelSynchronously: channel,
                    configuration: .init(isOutboundHalfClosureEnabled: true))
            }
        }
    let raw = channel.channel
    let watchdog = Task {
        try await Task.sleep(for: timeout)
        try await raw.close()
    }
    defer { watchdog.cancel() }
    return try await channel.executeThenClose { inbound, outbound in
        var connection = LineConnection(inbound: inbound, outbound: outbound)
        return try await body(&connection)
    }
}

/// The greeting: `HELLO clerk-chat/1 ID`, `TOKEN t`, `SAY …` lines, `END`.
struct Greeting {
    var id: String
    var token: String
    var lines: [String]

    init(_ lines: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        self.lines = lines
        let hello = try #require(lines.first, "no greeting", sourceLocation: sourceLocation)
        let parts = hello.split(separator: " ")
        try #require(
            parts.count == 3 && parts[0] == "HELLO" && parts[1] == "clerk-chat/1", "\(lines)",
            sourceLocation: sourceLocation)
        id = String(parts[2])
        let tokenLine = try #require(
            lines.first { $0.hasPrefix("TOKEN ") }, "\(lines)", sourceLocation: sourceLocation)
        token = String(tokenLine.dropFirst("TOKEN ".count))
    }
}

extension LineConnection {
    /// Reads the greeting block up to its `END`.
    mutating func greeting(sourceLocation: SourceLocation = #_sourceLocation) async throws -> Greeting {
        try Greeting(try await lines { $0 == "END" }, sourceLocation: sourceLocation)
    }
}
