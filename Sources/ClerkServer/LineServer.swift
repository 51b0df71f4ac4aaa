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
///
/// Each connection is served by a ``LineConnectionHandler`` on its event loop. An ordinary turn (decode the line,
/// run the engine, encode the reply) completes synchronously there, and the replies to all lines of one read go out
/// with one flush. Commands and turns that wait for the store (a
/// handover) run as tasks; the connection reads nothing more until they are answered.
public final class LineServer: Sendable {
    public static let version = "clerk-chat/1"

    let conversations: Conversations
    let settings: LineServerSettings
    let logger: Logger
    let open = Atomic<Int>(0)
    /// Open connections, to say goodbye to at shutdown.
    let connections = Mutex<[ObjectIdentifier: any Channel]>([:])

    public init(conversations: Conversations, settings: LineServerSettings = .init(), logger: Logger) {
        self.conversations = conversations
        self.settings = settings
        self.logger = logger
    }

    /// Binds `host:port` (0 picks a free port) and serves until cancelled. `onReady` gets the bound port. When
    /// cancelled, every open connection gets `BYE shutdown` and is closed.
    public func run(host: String, port: Int, onReady: @Sendable (Int) async -> Void) async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // A client that stops sending (`nc -N`, `shutdown(SHUT_WR)`) still gets the replies to its last lines.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 32 * 1024, high: 64 * 1024))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(LineConnectionHandler(server: self))
                }
            }
            .bind(host: host, port: port).get()
        await onReady(server.localAddress?.port ?? port)
        await withTaskCancellationHandler {
            try? await server.closeFuture.get()
        } onCancel: {
            server.close(promise: nil)
        }
        // Goodbye to every open connection; each closes once its goodbye is written.
        let open = connections.withLock { Array($0.values) }
        for channel in open {
            channel.pipeline.fireUserInboundEventTriggered(LineConnectionHandler.Shutdown())
        }
        try? await EventLoopFuture.andAllComplete(
            open.map(\.closeFuture), on: MultiThreadedEventLoopGroup.singleton.any()
        ).get()
    }

    /// Lines joined into one buffer, each ended with LF.
    static func lines(_ lines: [String]) -> ByteBuffer {
        var buffer = ByteBuffer()
        write(lines, to: &buffer)
        return buffer
    }

    /// Appends lines to a buffer, each ended with LF.
    static func write(_ lines: [String], to buffer: inout ByteBuffer) {
        for line in lines {
            buffer.writeString(line)
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
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

    /// The next frame in `buffer`, whose bytes it consumes; nil when the rest is the start of a line whose LF has
    /// not arrived yet (or part of a too long line, which is dropped).
    mutating func next(_ buffer: inout ByteBuffer) -> LineFrame? {
        while true {
            let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n"))
            if discarding {
                guard let newline else {
                    buffer.moveReaderIndex(to: buffer.writerIndex)
                    return nil
                }
                buffer.moveReaderIndex(to: newline + 1)
                discarding = false
                continue
            }
            guard let newline else {
                // A line of `maxLength` bytes may still be followed by the CR of its CRLF before the LF arrives.
                if buffer.readableBytes > maxLength + 1 {
                    buffer.moveReaderIndex(to: buffer.writerIndex)
                    discarding = true
                    return .tooLong
                }
                return nil
            }
            var length = newline - buffer.readerIndex
            var line = buffer.readSlice(length: length + 1)!
            length -=
                line.getInteger(at: line.readerIndex + length - 1, as: UInt8.self) == UInt8(ascii: "\r") && length > 0
                ? 1 : 0
            line = line.getSlice(at: line.readerIndex, length: length)!
            return length > maxLength ? .tooLong : .line(line)
        }
    }

    /// The last frame once the stream ended: a last line without LF still counts.
    mutating func last(_ buffer: inout ByteBuffer) -> LineFrame? {
        defer { buffer.moveReaderIndex(to: buffer.writerIndex) }
        guard !discarding, buffer.readableBytes > 0 else { return nil }
        let line = buffer.readSlice(length: buffer.readableBytes)!
        return line.readableBytes > maxLength ? .tooLong : .line(line)
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = next(&buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws
        -> DecodingState
    {
        if let frame = last(&buffer) { context.fireChannelRead(wrapInboundOut(frame)) }
        return .needMoreData
    }
}

/// Serves one connection on its event loop: splits the bytes read into lines (``LineDecoder``), greets, answers
/// ordinary turns synchronously (one flush for the replies to all lines of a read), runs commands and turns that
/// wait for the store as tasks, one at a time, and reads nothing more while one runs or while the client is slow to
/// read its replies (back-pressure: at most the write buffer's high-water mark is written ahead). A connection that
/// sends no line for the idle timeout gets a goodbye and is closed.
///
/// Splitting lines and watching for idleness here, rather than in a `ByteToMessageHandler` and an
/// `IdleStateHandler` of their own, saves each read three hops through the pipeline.
final class LineConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Sent through every connection's pipeline when the server stops: a goodbye, then the close.
    struct Shutdown: Sendable {}

    private let server: LineServer
    private var decoder: LineDecoder
    /// The start of a line whose LF has not arrived yet.
    private var unread: ByteBuffer?
    private var state: ConnectionState?
    /// `state` is set: checked instead of the optional, whose test would copy it (retaining each of its fields).
    private var hasState = false
    /// Frames read but not yet answered (a task runs, or the client is slow to read).
    private var queue = CircularBuffer<LineFrame>()
    /// A command or turn runs as a task; frames wait until it answered.
    private var busy = false
    /// A read was held back; it is passed on once the queue is empty.
    private var readHeld = false
    /// The channel's writability, as its last `channelWritabilityChanged` said (checked for every line).
    private var writable = true
    /// The buffer of the last reply, kept once the connection has had a turn (a quiet connection holds none).
    private var replies: ByteBuffer?
    private var unflushed = false
    private var inputClosed = false
    private var closing = false
    private var counted = false
    /// A line was read since the last read completed.
    private var lineRead = false
    /// When the last read that held a line completed.
    private var lastLineRead = NIODeadline.now()
    private var idleCheck: Scheduled<Void>?

    init(server: LineServer) {
        self.server = server
        decoder = LineDecoder(maxLength: server.settings.maxLineBytes)
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        writable = channel.isWritable
        let count = server.open.wrappingAdd(1, ordering: .relaxed).newValue
        counted = true
        server.connections.withLock { $0[ObjectIdentifier(channel)] = channel }
        lastLineRead = .now()
        scheduleIdleCheck(context: context, in: server.settings.idleTimeout)
        context.fireChannelActive()
        if count > server.settings.maxConnections {
            close(after: ["ERROR too-many-connections the server is full; try again later"], context: context)
            return
        }
        var state = ConnectionState(
            conversations: server.conversations, settings: server.settings,
            write: { lines in try await channel.writeAndFlush(LineServer.lines(lines)) },
            finish: { channel.close(promise: nil) })
        let greeting = state.greetNow()
        self.state = state
        hasState = true
        send(greeting, context: context)
        flushIfNeeded(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        endOfInput(context: context)
        idleCheck?.cancel()
        idleCheck = nil
        if counted {
            counted = false
            server.open.wrappingSubtract(1, ordering: .relaxed)
            let key = ObjectIdentifier(context.channel)
            server.connections.withLock { _ = $0.removeValue(forKey: key) }
        }
        state?.stopEvents()
        closing = true
        queue.removeAll()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if var start = unread {
            unread = nil
            start.writeBuffer(&bytes)
            bytes = start
        }
        while let frame = decoder.next(&bytes) {
            receive(frame, context: context)
        }
        if bytes.readableBytes > 0 { unread = bytes }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if lineRead {
            lineRead = false
            lastLineRead = .now()
        }
        flushIfNeeded(context: context)
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writable = context.channel.isWritable
        if writable { drain(context: context) }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is Shutdown {
            close(after: ["BYE shutdown the server is stopping; goodbye"], context: context)
            // A client that reads nothing must not hold the shutdown.
            let channel = context.channel
            context.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
            return
        }
        if event as? ChannelEvent == .inputClosed {
            endOfInput(context: context)
            inputClosed = true
            drain(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func read(context: ChannelHandlerContext) {
        guard !busy, queue.isEmpty, !closing, writable else {
            readHeld = true
            return
        }
        context.read()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        server.logger.debug("line connection closed: \(error)")
        context.close(promise: nil)
    }

    // MARK: Reading

    private func receive(_ frame: LineFrame, context: ChannelHandlerContext) {
        lineRead = true
        guard !closing else { return }
        if busy || !queue.isEmpty || !writable {
            queue.append(frame)
        } else {
            process(frame, context: context)
        }
    }

    /// The client sent its last byte: a last line without LF still counts.
    private func endOfInput(context: ChannelHandlerContext) {
        guard var rest = unread else { return }
        unread = nil
        if let frame = decoder.last(&rest) { receive(frame, context: context) }
    }

    /// Says goodbye to a connection that sent no line for the idle timeout, and closes it once that is written;
    /// checks again one timeout later (a client that reads nothing may hold the goodbye).
    private func scheduleIdleCheck(context: ChannelHandlerContext, in delay: TimeAmount) {
        let timeout = server.settings.idleTimeout
        idleCheck = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            guard context.channel.isActive else { return }
            let quiet = NIODeadline.now() - lastLineRead
            if lineRead {
                scheduleIdleCheck(context: context, in: timeout)
            } else if quiet >= timeout {
                scheduleIdleCheck(context: context, in: timeout)
                let bye = LineServer.lines(["BYE idle this connection was quiet for too long; goodbye"])
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(bye)).whenComplete { _ in channel.close(promise: nil) }
            } else {
                scheduleIdleCheck(context: context, in: timeout - quiet)
            }
        }
    }

    // MARK: Answering

    private func process(_ frame: LineFrame, context: ChannelHandlerContext) {
        // The state is used in place (`state!`): copying it out and back would retain and release each of its
        // fields.
        guard hasState else { return }
        let request = state!.classify(frame)
        // Once NIO has written the last reply and let go of its buffer, clearing it reuses its memory.
        var buffer = replies ?? context.channel.allocator.buffer(capacity: 512)
        replies = nil
        buffer.clear()
        if state!.answerNow(request, into: &buffer) {
            if buffer.readableBytes > 0 {
                context.write(wrapOutboundOut(buffer), promise: nil)
                unflushed = true
            }
            replies = buffer
            return
        }
        // A command, or a turn that waits for the store: a task, while this connection reads nothing more.
        let state = state!
        busy = true
        flushIfNeeded(context: context)
        let loop = context.eventLoop
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: loop)
        Task {
            var running = state
            let open = (try? await running.perform(request)) ?? false
            let state = running
            loop.execute {
                let (handler, context) = bound.value
                handler.busy = false
                guard !handler.closing else {
                    state.stopEvents()
                    return
                }
                handler.state = state
                if open {
                    handler.drain(context: context)
                } else {
                    handler.closing = true
                    context.close(promise: nil)
                }
            }
        }
    }

    /// Answers queued frames while the client keeps up, then reads again (or closes after the client's last line).
    private func drain(context: ChannelHandlerContext) {
        while !busy, !closing, writable, let frame = queue.popFirst() {
            process(frame, context: context)
        }
        flushIfNeeded(context: context)
        guard !busy, !closing, queue.isEmpty else { return }
        if inputClosed {
            // The client sent its last line and every line is answered: close once the replies are out.
            close(after: [], context: context)
        } else if readHeld, writable {
            readHeld = false
            context.read()
        }
    }

    private func send(_ lines: [String], context: ChannelHandlerContext) {
        guard !lines.isEmpty else { return }
        var buffer = context.channel.allocator.buffer(capacity: 256)
        LineServer.write(lines, to: &buffer)
        context.write(wrapOutboundOut(buffer), promise: nil)
        unflushed = true
    }

    private func flushIfNeeded(context: ChannelHandlerContext) {
        guard unflushed else { return }
        unflushed = false
        context.flush()
    }

    private func close(after lines: [String], context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        state?.stopEvents()
        var buffer = context.channel.allocator.buffer(capacity: 64)
        LineServer.write(lines, to: &buffer)
        let channel = context.channel
        // Writes complete in order: once this one is out, every reply before it is too.
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
        unflushed = false
    }
}

/// One connection's conversation: parses lines, runs turns one at a time, forwards events.
struct ConnectionState: Sendable {
    let conversations: Conversations
    /// Sends lines to the client, in order; suspends while the client is slow to read.
    let write: @Sendable ([String]) async throws -> Void
    /// Closes the connection (after a goodbye).
    let finish: @Sendable () -> Void
    let settings: LineServerSettings
    var id = ""
    /// The conversation's session while it is live on this node, so that an ordinary turn needs no look-up by id.
    var session: Session?
    var events: Task<Void, Never>?
    var tokens: Double
    /// When `tokens` was last topped up (NIO's monotonic clock: plain nanoseconds, cheaper to subtract than a
    /// `Duration`).
    var lastRefill = NIODeadline.now()

    /// What a client line asks for.
    enum Request: Sendable {
        /// Lines to send at once (an error), or none (an empty line).
        case reply([String])
        /// A message to the assistant.
        case message(String)
        /// A `/` command.
        case command(String)
    }

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
        session = try? conversations.session(id)
        try await write(greeting(handle))
        await startEvents()
    }

    /// Starts the conversation and subscribes to its events without suspending; returns the greeting.
    mutating func greetNow() -> [String] {
        let handle = conversations.start()
        id = handle.id
        session = try? conversations.session(id)
        if let stream = try? conversations.sequencedEventsNow(of: id) {
            events = relay(stream)
        }
        return greeting(handle)
    }

    private func greeting(_ handle: ConversationHandle) -> [String] {
        let welcome = conversations.brains.served.brain.settings.welcomeMessage
        return ["HELLO \(LineServer.version) \(handle.id)", "TOKEN \(handle.resumeToken)"] + Self.say(welcome) + ["END"]
    }

    mutating func startEvents() async {
        events?.cancel()
        guard let stream = try? await conversations.sequencedEvents(of: id) else { return }
        events = relay(stream)
    }

    /// Writes the conversation's events as lines; after `BYE` (the conversation ended), closes the connection.
    private func relay(_ stream: AsyncStream<SequencedEvent>) -> Task<Void, Never> {
        let write = self.write
        let finish = self.finish
        return Task {
            for await item in stream {
                guard !Task.isCancelled else { break }
                try? await write(Self.lines(for: item.event))
                if case .ended = item.event {
                    finish()
                    break
                }
            }
        }
    }

    func stopEvents() { events?.cancel() }

    /// Handles one frame; false when the connection should close.
    mutating func handle(_ frame: LineFrame) async throws -> Bool {
        try await perform(classify(frame))
    }

    /// Reads a frame: an error to answer at once, an empty line, a message (rate-limited) or a command.
    mutating func classify(_ frame: LineFrame) -> Request {
        guard case .line(let buffer) = frame else {
            return .reply(
                Self.error(
                    "line-too-long", "a line may have at most \(settings.maxLineBytes) bytes; the rest was ignored"))
        }
        let line: String
        if let plain = Self.plainASCII(buffer) {
            line = plain
        } else {
            guard let text = buffer.withUnsafeReadableBytes({ String(validating: $0, as: UTF8.self) }) else {
                return .reply(Self.error("invalid-utf8", "lines must be UTF-8 text"))
            }
            if text.utf8.contains(where: { ($0 < 0x20 && $0 != UInt8(ascii: "\t")) || $0 == 0x7F }) {
                return .reply(
                    Self.error("control-characters", "lines must not contain NUL or other control characters"))
            }
            line = text.trimmingCharacters(in: .whitespaces)
        }
        if line.isEmpty { return .reply([]) }
        let isCommand = line.hasPrefix("/") && !line.hasPrefix("//")
        // Messages are rate-limited; commands (/quit, /help…) are not.
        guard isCommand || takeToken() else {
            return .reply(
                Self.error(
                    "rate-limited",
                    "too many messages; at most \(Int(settings.messagesPerSecond)) a second — this one was ignored"))
        }
        if isCommand { return .command(line) }
        return .message(line.hasPrefix("//") ? String(line.dropFirst()) : line)
    }

    /// A line of printable ASCII (nearly every line), with spaces and tabs trimmed as `.whitespaces` would trim
    /// them, in one pass; nil for anything else (non-ASCII or control characters), which takes the general path.
    static func plainASCII(_ buffer: ByteBuffer) -> String? {
        buffer.withUnsafeReadableBytes { bytes -> String? in
            for byte in bytes where byte >= 0x7F || (byte < 0x20 && byte != UInt8(ascii: "\t")) { return nil }
            func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
            var start = 0
            var end = bytes.count
            while start < end, isBlank(bytes[start]) { start += 1 }
            while end > start, isBlank(bytes[end - 1]) { end -= 1 }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        }
    }

    /// The answer to a request when it needs no waiting: errors, empty lines
    /// and ordinary turns, written into `buffer`. False for commands and for turns that wait for the store (see
    /// ``perform(_:)``); then nothing was written. (Mutating only so that it runs on the connection's state in
    /// place: a copy would retain and release each of its fields, every turn.)
    mutating func answerNow(_ request: Request, into buffer: inout ByteBuffer) -> Bool {
        switch request {
        case .reply(let lines):
            LineServer.write(lines, to: &buffer)
        case .command:
            return false
        case .message(let text):
            do {
                // A session that ended here (and may live on as another, resumed) answers nil: ``perform(_:)``
                // then finds the conversation by id, as every other path does.
                let answer = try session.map { $0.handleNow(text) } ?? conversations.sendNow(text, to: id)
                guard let reply = answer else { return false }
                Self.write(reply, to: &buffer)
            } catch {
                LineServer.write(Self.error("conversation-ended", "\(error)"), to: &buffer)
            }
        }
        return true
    }

    /// Answers a request, waiting for the store where needed; false when the connection should close.
    mutating func perform(_ request: Request) async throws -> Bool {
        switch request {
        case .reply(let lines):
            if !lines.isEmpty { try await write(lines) }
            return true
        case .message(let text):
            try await turn(text)
            return true
        case .command(let line):
            return try await command(line)
        }
    }

    private mutating func takeToken() -> Bool {
        let now = NIODeadline.now()
        let seconds = Double((now - lastRefill).nanoseconds) / 1e9
        lastRefill = now
        tokens = min(settings.burst, tokens + seconds * settings.messagesPerSecond)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    private func turn(_ text: String) async throws {
        do {
            let (reply, _) = try await conversations.send(text, to: id)
            try await write(Self.lines(for: reply))
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
            try await write(Self.lines(for: reply))
        case "/resume":
            guard !argument.isEmpty else {
                try await error("missing-token", "write /resume followed by the token you were given")
                return true
            }
            do {
                let resumed = try await conversations.resume(token: argument)
                id = resumed
                session = try? conversations.session(resumed)
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
        try await write(Self.error(code, text))
    }

    static func error(_ code: String, _ text: String) -> [String] {
        ["ERROR \(code) \(text)"]
    }

    // MARK: Formatting

    /// A message as SAY lines: a message with line breaks becomes several lines.
    static func say(_ message: String) -> [String] {
        message.split(separator: "\n", omittingEmptySubsequences: true).map { "SAY " + $0 }
    }

    /// A reply's lines and its `END`, each ended with LF, written straight into `buffer`: `SAY` lines (a message
    /// with line breaks becomes several), then `OPTION`, `LINK` and `TICKET` lines.
    static func write(_ reply: BotReply, to buffer: inout ByteBuffer) {
        for var message in reply.messages {
            message.withUTF8 { bytes in
                guard let base = bytes.baseAddress else { return }
                var start = 0
                while start < bytes.count {
                    // `memchr` finds the next line break many bytes at a time.
                    let end =
                        memchr(base + start, Int32(UInt8(ascii: "\n")), bytes.count - start).map {
                            UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base
                        } ?? bytes.count
                    if end > start {
                        buffer.writeStaticString("SAY ")
                        buffer.writeBytes(UnsafeRawBufferPointer(start: base + start, count: end - start))
                        buffer.writeInteger(UInt8(ascii: "\n"))
                    }
                    start = end + 1
                }
            }
        }
        for (index, option) in reply.quickReplies.enumerated() {
            buffer.writeStaticString("OPTION ")
            buffer.writeString(String(index + 1))
            buffer.writeInteger(UInt8(ascii: " "))
            buffer.writeString(option)
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        for link in reply.links {
            buffer.writeStaticString("LINK ")
            buffer.writeString(link.url)
            buffer.writeInteger(UInt8(ascii: " "))
            buffer.writeString(link.title)
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        if let ticket = reply.ticket {
            buffer.writeString(ticketLine(ticket, reply.handoff))
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        buffer.writeStaticString("END\n")
    }

    /// A reply's lines and its `END`, as ``write(_:to:)`` sends them.
    static func lines(for reply: BotReply) -> [String] {
        var buffer = ByteBuffer()
        write(reply, to: &buffer)
        return buffer.readableBytesView.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
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
