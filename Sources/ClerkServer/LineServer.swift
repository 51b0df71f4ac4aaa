import ClerkEngine
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Limits of the line channel (docs/protocol.md).
public struct LineServerSettings: Sendable, Hashable {
    /// Longest accepted line in bytes, without its line end; the rest of a longer line is discarded.
    public var maxLineBytes = 4096
    /// A connection that sends nothing for this long gets a goodbye and is closed.
    public var idleTimeout: TimeAmount = .minutes(10)
    /// Connections beyond this are refused with an error line.
    public var maxConnections = 10_000
    /// Messages a connection may send per second on average, and in a burst.
    public var messagesPerSecond = 5.0
    public var burst = 10.0

    public init() {}
}

/// The line-based chat protocol over TCP (docs/protocol.md): one conversation per connection, through
/// ``Conversations``, so tickets, agent replies and resume behave as on HTTP.
public final class LineServer: Sendable {
    public static let version = "clerk-chat/1"

    let conversations: Conversations
    let settings: LineServerSettings
    let logger: Logger
    private let open = Atomic<Int>(0)

    public init(conversations: Conversations, settings: LineServerSettings = .init(), logger: Logger) {
        self.conversations = conversations
        self.settings = settings
        self.logger = logger
    }

    /// Binds `host:port` (0 picks a free port) and serves until cancelled. `onReady` gets the bound port.
    public func run(host: String, port: Int, onReady: @Sendable (Int) async -> Void) async throws {
        let maxLine = settings.maxLineBytes
        let idle = settings.idleTimeout
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // A client that stops sending (`nc -N`, `shutdown(SHUT_WR)`) still gets the replies to its last lines.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 32 * 1024, high: 64 * 1024))
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LineDecoder(maxLength: maxLine)))
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idle))
                    try channel.pipeline.syncOperations.addHandler(IdleCloser())
                    return try NIOAsyncChannel<LineFrame, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        await onReady(server.channel.localAddress?.port ?? port)
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { connections in
                for try await connection in connections {
                    group.addTask { await self.serve(connection) }
                }
            }
        }
    }

    private func serve(_ connection: NIOAsyncChannel<LineFrame, ByteBuffer>) async {
        let count = open.wrappingAdd(1, ordering: .relaxed).newValue
        defer { open.wrappingSubtract(1, ordering: .relaxed) }
        do {
            try await connection.executeThenClose { inbound, outbound in
                if count > settings.maxConnections {
                    try await outbound.write(
                        Self.lines(["ERROR too-many-connections the server is full; try again later"]))
                    return
                }
                var connectionState = ConnectionState(
                    conversations: conversations, settings: settings,
                    write: { lines in try await outbound.write(LineServer.lines(lines)) },
                    finish: { outbound.finish() })
                try await connectionState.greet()
                defer { connectionState.stopEvents() }
                for try await frame in inbound {
                    if try await !connectionState.handle(frame) { break }
                }
            }
        } catch {
            logger.debug("line connection closed: \(error)")
        }
    }

    /// Lines joined into one buffer, each ended with LF.
    static func lines(_ lines: [String]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for line in lines {
            buffer.writeString(line)
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        return buffer
    }
}

/// What the decoder hands on: a line's bytes (without its line end), or notice that a line was too long.
enum LineFrame: Sendable {
    case line(ByteBuffer)
    case tooLong
}

/// Splits the byte stream at LF (a CR before it is dropped). A line longer than `maxLength` produces one
/// `.tooLong` and the rest of it, up to the next LF, is discarded without being buffered.
struct LineDecoder: ByteToMessageDecoder {
    typealias InboundOut = LineFrame
    let maxLength: Int
    private var discarding = false

    init(maxLength: Int) {
        self.maxLength = maxLength
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n"))
        if discarding {
            guard let newline else {
                buffer.moveReaderIndex(to: buffer.writerIndex)
                return .needMoreData
            }
            buffer.moveReaderIndex(to: newline + 1)
            discarding = false
            return .continue
        }
        guard let newline else {
            // A line of `maxLength` bytes may still be followed by the CR of its CRLF before the LF arrives.
            if buffer.readableBytes > maxLength + 1 {
                buffer.moveReaderIndex(to: buffer.writerIndex)
                discarding = true
                context.fireChannelRead(wrapInboundOut(.tooLong))
                return .continue
            }
            return .needMoreData
        }
        var length = newline - buffer.readerIndex
        var line = buffer.readSlice(length: length + 1)!
        length -=
            line.getInteger(at: line.readerIndex + length - 1, as: UInt8.self) == UInt8(ascii: "\r") && length > 0
            ? 1 : 0
        line = line.getSlice(at: line.readerIndex, length: length)!
        context.fireChannelRead(wrapInboundOut(length > maxLength ? .tooLong : .line(line)))
        return .continue
    }

    mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws
        -> DecodingState
    {
        // A last line without LF still counts.
        if !discarding, buffer.readableBytes > 0 {
            let line = buffer.readSlice(length: buffer.readableBytes)!
            context.fireChannelRead(wrapInboundOut(line.readableBytes > maxLength ? .tooLong : .line(line)))
        }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}

/// Says goodbye and closes a connection that stayed quiet past the idle timeout.
final class IdleCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = LineFrame
    typealias InboundOut = LineFrame

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            let bye = LineServer.lines(["BYE idle this connection was quiet for too long; goodbye"])
            let channel = context.channel
            context.writeAndFlush(NIOAny(bye)).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// One connection's conversation: parses lines, runs turns one at a time, forwards events.
struct ConnectionState {
    let conversations: Conversations
    /// Sends lines to the client, in order; suspends while the client is slow to read.
    let write: @Sendable ([String]) async throws -> Void
    /// Closes the connection (after a goodbye).
    let finish: @Sendable () -> Void
    let settings: LineServerSettings
    var id = ""
    var events: Task<Void, Never>?
    var tokens: Double
    var lastRefill = ContinuousClock.now

    init(
        conversations: Conversations, settings: LineServerSettings,
        write: @escaping @Sendable ([String]) async throws -> Void, finish: @escaping @Sendable () -> Void = {}
    ) {
        self.conversations = conversations
        self.write = write
        self.finish = finish
        self.settings = settings
        tokens = settings.burst
    }

    mutating func greet() async throws {
        let handle = conversations.start()
        id = handle.id
        let welcome = conversations.brains.brain.settings.welcomeMessage
        try await write(
            ["HELLO \(LineServer.version) \(handle.id)", "TOKEN \(handle.resumeToken)"] + Self.say(welcome) + ["END"])
        await startEvents()
    }

    mutating func startEvents() async {
        events?.cancel()
        guard let stream = try? await conversations.events(of: id) else { return }
        let write = self.write
        let finish = self.finish
        events = Task {
            for await event in stream {
                guard !Task.isCancelled else { break }
                try? await write(Self.lines(for: event))
                // The conversation ended (idle): after the goodbye, the connection closes.
                if case .ended = event {
                    finish()
                    break
                }
            }
        }
    }

    func stopEvents() { events?.cancel() }

    /// Handles one frame; false when the connection should close.
    mutating func handle(_ frame: LineFrame) async throws -> Bool {
        guard case .line(let buffer) = frame else {
            try await error(
                "line-too-long", "a line may have at most \(settings.maxLineBytes) bytes; the rest was ignored")
            return true
        }
        guard let text = String(validating: buffer.readableBytesView, as: UTF8.self) else {
            try await error("invalid-utf8", "lines must be UTF-8 text")
            return true
        }
        if text.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
            try await error("control-characters", "lines must not contain NUL or other control characters")
            return true
        }
        let line = text.trimmingCharacters(in: .whitespaces)
        if line.isEmpty { return true }
        let isCommand = line.hasPrefix("/") && !line.hasPrefix("//")
        // Messages are rate-limited; commands (/quit, /help…) are not.
        guard isCommand || takeToken() else {
            try await error(
                "rate-limited",
                "too many messages; at most \(Int(settings.messagesPerSecond)) a second — this one was ignored")
            return true
        }
        if isCommand {
            return try await command(line)
        }
        try await turn(line.hasPrefix("//") ? String(line.dropFirst()) : line)
        return true
    }

    private mutating func takeToken() -> Bool {
        let now = ContinuousClock.now
        let elapsed = now - lastRefill
        lastRefill = now
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(settings.burst, tokens + seconds * settings.messagesPerSecond)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    private func turn(_ text: String) async throws {
        do {
            let (reply, _) = try await conversations.send(text, to: id)
            try await write(Self.lines(for: reply) + ["END"])
        } catch let error as ConversationError {
            try await self.error("conversation-ended", error.description)
        }
    }

    private mutating func command(_ line: String) async throws -> Bool {
        let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
        let name = parts[0].lowercased()
        let argument = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        switch name {
        case "/help":
            try await write(
                [
                    "SAY Type your question and press Enter. Commands:",
                    "SAY /human  talk to a person",
                    "SAY /resume TOKEN  continue an earlier conversation with its secret token",
                    "SAY /feedback yes|no [comment]  tell us whether the last answer helped",
                    "SAY /lang  the languages I speak",
                    "SAY /explain  how your last message was understood",
                    "SAY /quit  leave",
                    "SAY Start a message with // to begin it with a slash.",
                    "END",
                ])
        case "/human":
            let reply = try await conversations.requestPerson(in: id)
            try await write(Self.lines(for: reply) + ["END"])
        case "/resume":
            guard !argument.isEmpty else {
                try await error("missing-token", "write /resume followed by the token you were given")
                return true
            }
            do {
                let resumed = try await conversations.resume(token: argument)
                id = resumed
                await startEvents()
                let (state, ticket) = try await conversations.status(of: resumed)
                var lines = ["RESUMED \(resumed)"]
                if let ticket { lines.append(Self.ticketLine(ticket, state)) }
                try await write(lines + ["END"])
            } catch {
                try await self.error("invalid-token", "that resume token is not valid or has expired")
            }
        case "/feedback":
            let words = argument.split(separator: " ", maxSplits: 1).map(String.init)
            guard let first = words.first?.lowercased(), first == "yes" || first == "no" else {
                try await error("bad-feedback", "write /feedback yes or /feedback no, optionally followed by a comment")
                return true
            }
            await conversations.feedback(on: id, helpful: first == "yes", comment: words.count > 1 ? words[1] : nil)
            try await write(["SAY Thank you for your feedback.", "END"])
        case "/explain":
            guard let explanation = try await conversations.explainLast(in: id) else {
                try await write(["SAY There is no answer to explain yet.", "END"])
                return true
            }
            var lines = [
                "SAY You wrote: \(explanation.input)", "SAY Read as: \(explanation.normalized.joined(separator: " "))",
            ]
            lines += explanation.entities.map { "SAY \($0)" }
            var decision = "SAY Decision: \(explanation.outcome)"
            if let intent = explanation.intent { decision += " \(intent)" }
            if let service = explanation.service { decision += ", service \(service)" }
            lines.append(decision)
            if !explanation.reason.isEmpty { lines.append("SAY Because \(explanation.reason)") }
            for candidate in explanation.scored.prefix(3) {
                lines.append(String(format: "SAY Candidate %@ %.2f", candidate.intent, candidate.score))
            }
            try await write(lines.map { $0.replacingOccurrences(of: "\n", with: " ") } + ["END"])
        case "/lang":
            if argument.isEmpty || argument.lowercased() == "en" {
                try await write(["LANG en", "SAY I answer in English.", "END"])
            } else {
                try await error("unsupported-language", "only English (en) is available")
            }
        case "/quit":
            try await write(["BYE goodbye"])
            return false
        default:
            try await error("unknown-command", "unknown command \(parts[0]); type /help for the list")
        }
        return true
    }

    private func error(_ code: String, _ text: String) async throws {
        try await write(["ERROR \(code) \(text)"])
    }

    // MARK: Formatting

    /// A message as SAY lines: a message with line breaks becomes several lines.
    static func say(_ message: String) -> [String] {
        message.split(separator: "\n", omittingEmptySubsequences: true).map { "SAY " + $0 }
    }

    static func lines(for reply: BotReply) -> [String] {
        var lines = reply.messages.flatMap(say)
        for (index, option) in reply.quickReplies.enumerated() { lines.append("OPTION \(index + 1) \(option)") }
        for link in reply.links { lines.append("LINK \(link.url) \(link.title)") }
        if let ticket = reply.ticket { lines.append(ticketLine(ticket, reply.handoff)) }
        return lines
    }

    static func ticketLine(_ ticket: TicketSummary, _ state: HandoffState) -> String {
        var line = "TICKET \(ticket.reference) \(ticket.status)"
        if let due = ticket.replyBy { line += " " + ISO8601DateFormatter().string(from: due) }
        return line
    }

    static func lines(for event: ConversationEvent) -> [String] {
        switch event {
        case .bot(let reply): reply.messages.map { "NOTICE " + $0.replacingOccurrences(of: "\n", with: " ") }
        case .agentJoined(let agent): ["AGENT-JOINED \(agent)"]
        case .agentMessage(let agent, let text):
            text.split(separator: "\n").map { "AGENT \(agent) \($0)" }
        case .ticketStatus(let ticket): [ticketLine(ticket, .none)]
        case .ended(let reason): ["BYE \(reason)"]
        }
    }
}
