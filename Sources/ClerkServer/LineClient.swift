import Foundation
import NIOCore
import NIOPosix

/// Something that speaks the line protocol with a client: a TCP connection to `clerk serve`, or a conversation
/// in this process. `clerk chat` uses either through this one interface, so editors (`--local`) and citizens
/// (`--connect`) see the same thing.
public protocol LineChannel: Sendable {
    /// Every line the server sends, in order; finishes when the connection closes.
    var lines: AsyncStream<String> { get }
    /// Sends one line (without its line end).
    func send(_ line: String) async throws
    /// Closes the connection.
    func close() async
}

/// The line protocol over TCP.
public final class LineClient: LineChannel {
    public let lines: AsyncStream<String>
    private let outgoing: AsyncStream<String>.Continuation
    private let task: Task<Void, Never>

    private init(lines: AsyncStream<String>, outgoing: AsyncStream<String>.Continuation, task: Task<Void, Never>) {
        self.lines = lines
        self.outgoing = outgoing
        self.task = task
    }

    /// Connects to `host:port`.
    public static func connect(host: String, port: Int) async throws -> LineClient {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LineDecoder(maxLength: 1 << 20)))
                    return try NIOAsyncChannel<LineFrame, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let (incoming, incomingContinuation) = AsyncStream<String>.makeStream()
        let (outgoing, outgoingContinuation) = AsyncStream<String>.makeStream()
        let task = Task {
            try? await channel.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await frame in inbound {
                            if case .line(let buffer) = frame { incomingContinuation.yield(String(buffer: buffer)) }
                        }
                    }
                    group.addTask {
                        for await line in outgoing {
                            var buffer = ByteBuffer(string: line)
                            buffer.writeInteger(UInt8(ascii: "\n"))
                            try await outbound.write(buffer)
                        }
                    }
                    _ = try await group.next()
                    group.cancelAll()
                }
            }
            incomingContinuation.finish()
        }
        return LineClient(lines: incoming, outgoing: outgoingContinuation, task: task)
    }

    public func send(_ line: String) async throws {
        outgoing.yield(line)
    }

    public func close() async {
        outgoing.finish()
        task.cancel()
        await task.value
    }
}

/// The line protocol with a conversation in this process (`clerk chat --local`): the same session code the
/// server runs per connection, without a socket.
public actor LocalLineChannel: LineChannel {
    public nonisolated let lines: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation
    private var state: ConnectionState
    private var started = false

    public init(conversations: Conversations) {
        let (lines, continuation) = AsyncStream<String>.makeStream()
        self.lines = lines
        self.continuation = continuation
        var settings = LineServerSettings()
        // One person at a keyboard, or a script piping a file: no rate limit.
        settings.messagesPerSecond = 1e9
        settings.burst = 1e9
        state = ConnectionState(
            conversations: conversations, settings: settings,
            write: { lines in for line in lines { continuation.yield(line) } },
            finish: { continuation.finish() })
    }

    /// Greets: the same HELLO, TOKEN and welcome lines a connection gets.
    public func start() async throws {
        guard !started else { return }
        started = true
        var session = state
        try await session.greet()
        state = session
    }

    public func send(_ line: String) async throws {
        if !started { try await start() }
        var session = state
        let open = try await session.handle(.line(ByteBuffer(string: line)))
        state = session
        if !open { await close() }
    }

    public func close() async {
        state.stopEvents()
        continuation.finish()
    }
}
