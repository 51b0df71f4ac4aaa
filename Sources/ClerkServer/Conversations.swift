import ClerkEngine
import ClerkStore
import Foundation
import Logging
import NIOCore
import Synchronization

/// Settings of the handover and of conversation lifetimes (`config/handoff.yaml`).
public struct HandoffSettings: Sendable, Hashable {
    /// An agent counts as signed in while their last agent-API call or `clerk tickets` command is this recent.
    public var agentActiveWindow: TimeInterval = 10 * 60
    /// A conversation with no message for this long ends with a notice.
    public var idleTimeout: TimeInterval = 30 * 60
    /// How long a conversation can be resumed with its token after its last message.
    public var resumeDays: Int = 7
    /// Told when no person can be reached (the store is unavailable).
    public var fallbackContact =
        "Please call Example City's Service Centre on +1 555 0100, Monday to Friday 9:00–17:00."
    /// How often the store's change feed is read for agent actions taken elsewhere.
    public var pollInterval: Duration = .milliseconds(250)
    /// How often conversation state and the turn log are written in a batch.
    public var flushInterval: Duration = .seconds(1)

    public init() {}
}

/// Where a conversation stands with respect to a person.
public enum HandoffState: String, Sendable, Codable, Hashable {
    /// Only the assistant is involved.
    case none
    /// A ticket waits in the queue for a person; the assistant still answers.
    case queued
    /// A person has taken the conversation; the assistant is silent.
    case withAgent = "with_agent"
    /// The person answered and waits for the citizen.
    case waitingOnCitizen = "waiting_on_citizen"
    /// The person resolved it; the assistant answers again.
    case resolved
}

/// A ticket as the citizen may see it: never the transcript or contact details.
public struct TicketSummary: Sendable, Codable, Hashable {
    public var reference: String
    public var status: String
    public var replyBy: Date?
}

/// The assistant's reply to one message, as every channel shows it.
public struct BotReply: Sendable, Hashable {
    public var messages: [String]
    public var quickReplies: [String] = []
    public var links: [TurnLink] = []
    public var ticket: TicketSummary?
    public var handoff: HandoffState
    /// `answer`, `clarify`, `ask`, `miss`, `handoff`, `agent` (passed to a person) or `notice`.
    public var outcome: String
    public var intent: String?
    public var service: String?
    /// Names this reply for feedback ("was this helpful?").
    public var turnID: String = ""
}

/// An event with its place in the conversation's event sequence (for Server-Sent Events ids and long polls).
public struct SequencedEvent: Sendable, Hashable {
    public var seq: Int
    public var event: ConversationEvent
}

/// One line of a conversation's history, as the citizen may see it again after a reload.
public struct HistoryEntry: Sendable, Hashable {
    public var from: String
    public var name: String?
    public var text: String
    public var at: Date
}

/// Things that happen in a conversation, pushed to every channel subscribed to it.
public enum ConversationEvent: Sendable, Hashable {
    /// The assistant said something outside a turn (a notice: resolved, back in the queue).
    case bot(BotReply)
    /// A person took the conversation.
    case agentJoined(agent: String)
    /// A person wrote to the citizen.
    case agentMessage(agent: String, text: String)
    /// The ticket changed status.
    case ticketStatus(TicketSummary)
    /// The conversation ended (idle, or closed by the server).
    case ended(reason: String)
}

/// A conversation started or resumed: its id and the secret token that resumes it.
public struct ConversationHandle: Sendable, Hashable {
    public var id: String
    public var resumeToken: String
}

/// Errors a channel shows to the citizen or client.
public enum ConversationError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownConversation(String)
    case ended(String)
    case invalidResumeToken

    public var description: String {
        switch self {
        case .unknownConversation(let id): "no conversation '\(id)'"
        case .ended(let id): "conversation '\(id)' has ended; start a new one or resume it with its token"
        case .invalidResumeToken: "this resume token is not valid (or the conversation is too old to resume)"
        }
    }
}

/// The I/O side of the engine: sessions with their engine state, the handover to people through the ticket
/// store, and an event stream per conversation. Channels are thin adapters over ``start()``, ``send(_:to:)``,
/// ``resume(token:)`` and ``events(of:)``.
///
/// Turns of one conversation run one at a time (each session is an actor); different conversations run in
/// parallel. The engine call itself takes no lock. Transcripts and session state are written in batches off the
/// turn's path (see docs/operations.md for what a crash can lose); a ticket is on disk before its reference is
/// shown.
public final class Conversations: Sendable {
    let brains: BrainStore
    let store: any TicketStore
    let officeHours: OfficeHours?
    let settings: HandoffSettings
    let clock: @Sendable () -> Date
    let logger: Logger
    private let sessions = Mutex<[String: Session]>([:])
    private let byTokenHash = Mutex<[String: String]>([:])
    private let byTicket = Mutex<[TicketReference: String]>([:])
    let writer: BatchWriter

    public init(
        brains: BrainStore, store: any TicketStore, officeHours: OfficeHours?, settings: HandoffSettings = .init(),
        logger: Logger = Logger(label: "clerk.conversations"), clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.brains = brains
        self.store = store
        self.officeHours = officeHours
        self.settings = settings
        self.clock = clock
        self.logger = logger
        writer = BatchWriter(store: store, logger: logger)
    }

    // MARK: Starting and resuming

    /// Starts a conversation.
    public func start() -> ConversationHandle {
        let id = "c_" + Self.randomToken(bytes: 12)
        let token = Self.randomToken(bytes: 24)
        let session = Session(id: id, tokenHash: AgentToken.hash(token), owner: self, now: clock())
        sessions.withLock { $0[id] = session }
        byTokenHash.withLock { $0[session.tokenHash] = id }
        return ConversationHandle(id: id, resumeToken: token)
    }

    /// Resumes a conversation by its secret token (never by a ticket reference), on this node or from the store.
    /// Returns the conversation's id; a new token is not issued.
    public func resume(token: String) async throws -> String {
        let hash = AgentToken.hash(token)
        if let id = byTokenHash.withLock({ $0[hash] }), let session = sessions.withLock({ $0[id] }) {
            session.reopen(now: clock())
            return id
        }
        guard let stored = try? await store.session(resumeTokenHash: hash),
            clock().timeIntervalSince(stored.updatedAt) <= Double(settings.resumeDays) * 86_400,
            let snapshot = try? JSONDecoder().decode(SessionSnapshot.self, from: stored.state)
        else {
            throw ConversationError.invalidResumeToken
        }
        let session = Session(
            id: stored.id, tokenHash: hash, owner: self, now: clock(), snapshot: snapshot,
            transcript: snapshot.transcript(stored.transcript, logger: logger))
        sessions.withLock { $0[stored.id] = session }
        byTokenHash.withLock { $0[hash] = stored.id }
        if let reference = snapshot.ticket.flatMap(TicketReference.init) {
            register(reference, for: stored.id)
            await session.refreshTicket()
        }
        return stored.id
    }

    /// The live session with this id.
    func session(_ id: String) throws -> Session {
        guard let session = sessions.withLock({ $0[id] }) else { throw ConversationError.unknownConversation(id) }
        return session
    }

    /// Whether a conversation with this id is live on this node.
    public func exists(_ id: String) -> Bool { sessions.withLock { $0[id] != nil } }

    /// Number of live conversations.
    public var count: Int { sessions.withLock { $0.count } }

    // MARK: Turns and events

    /// Sends the citizen's message and returns the reply. While a person holds the conversation the message goes
    /// to them and the reply has no messages. With `explain`, the engine's explanation comes along.
    public func send(_ text: String, to id: String, explain: Bool = false) async throws -> (BotReply, Explanation?) {
        try await session(id).handle(text, explain: explain)
    }

    /// The reply to the citizen's message, given at once on the calling thread, when the turn needs nothing from
    /// the store (no handover, no ticket look-up, no person holding the conversation). Otherwise nil, and nothing
    /// changed: use ``send(_:to:explain:)``.
    public func sendNow(_ text: String, to id: String) throws -> BotReply? {
        try session(id).handleNow(text)
    }

    /// Hands the conversation to a person at once (an explicit request, such as `/human`: no consent question).
    public func requestPerson(in id: String) async throws -> BotReply {
        try await session(id).requestPerson()
    }

    /// How the last message the assistant answered in this conversation was understood.
    public func explainLast(in id: String) async throws -> Explanation? {
        try session(id).explainLast()
    }

    /// Records whether the last answer helped, for the editors' report.
    public func feedback(on id: String, turn: String? = nil, helpful: Bool, comment: String?) async {
        guard let session = sessions.withLock({ $0[id] }) else { return }
        session.feedback(turn: turn, helpful: helpful, comment: comment)
    }

    /// The conversation's events from now on. The stream finishes when the conversation ends.
    public func events(of id: String) async throws -> AsyncStream<ConversationEvent> {
        let sequenced = try await sequencedEvents(of: id)
        let (stream, continuation) = AsyncStream<ConversationEvent>.makeStream(bufferingPolicy: .bufferingNewest(256))
        let task = Task {
            for await item in sequenced { continuation.yield(item.event) }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Events after `seq` that are still kept, or, when there are none, the first to come within `wait`.
    public func events(of id: String, after seq: Int, wait: Duration) async throws -> [SequencedEvent] {
        let session = try session(id)
        if wait <= .zero { return session.events(after: seq) }
        // Subscribe first, then look back: an event emitted in between is in one or the other.
        let stream = try await sequencedEvents(of: id)
        let recent = session.events(after: seq)
        if !recent.isEmpty { return recent }
        return await withTaskGroup(of: [SequencedEvent].self) { group in
            group.addTask {
                for await item in stream where item.seq > seq { return [item] }
                return []
            }
            group.addTask {
                try? await Task.sleep(for: wait)
                return []
            }
            let first = await group.next() ?? []
            group.cancelAll()
            return first
        }
    }

    /// What the citizen may see again of the conversation (e-mail addresses and numbers stay masked).
    public func history(of id: String) async throws -> [HistoryEntry] {
        try session(id).visibleHistory()
    }

    /// The conversation's events with their sequence numbers, from now on.
    /// Subscribed before it returns: no event emitted afterwards is missed.
    public func sequencedEvents(of id: String) async throws -> AsyncStream<SequencedEvent> {
        try sequencedEventsNow(of: id)
    }

    /// ``sequencedEvents(of:)`` without suspending.
    func sequencedEventsNow(of id: String) throws -> AsyncStream<SequencedEvent> {
        let session = try session(id)
        let (stream, continuation) = AsyncStream<SequencedEvent>.makeStream(bufferingPolicy: .bufferingNewest(256))
        let key = UUID()
        continuation.onTermination = { _ in session.unsubscribe(key) }
        session.subscribe(key, continuation)
        return stream
    }

    /// The current handover state and ticket of a conversation.
    public func status(of id: String) async throws -> (HandoffState, TicketSummary?) {
        try session(id).status()
    }

    func register(_ reference: TicketReference, for id: String) {
        byTicket.withLock { $0[reference] = id }
    }

    func forget(_ id: String) {
        guard let session = sessions.withLock({ $0.removeValue(forKey: id) }) else { return }
        byTokenHash.withLock { $0[session.tokenHash] = nil }
    }

    // MARK: Background work

    /// Runs until cancelled: delivers agent actions from the store's change feed (within `pollInterval`), ends
    /// idle conversations, and flushes state and transcripts in batches.
    public func run() async {
        var after = (try? await store.latestChangeID()) ?? 0
        var lastFlush = ContinuousClock.now
        var lastSweep = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: settings.pollInterval)
            after = await deliverChanges(after: after)
            let now = ContinuousClock.now
            if now - lastFlush >= settings.flushInterval {
                lastFlush = now
                await flush()
            }
            if now - lastSweep >= .seconds(5) {
                lastSweep = now
                await endIdleConversations()
            }
        }
        // The last flush must not inherit the cancellation that stopped the loop.
        await Task { await self.flush() }.value
    }

    /// Ends every open event stream (at shutdown, so long-lived HTTP and line connections let the server stop).
    public func closeStreams() async {
        let all = sessions.withLock { Array($0.values) }
        for session in all { session.closeStreams() }
    }

    /// The sequence number of the conversation's newest event (0 before any).
    public func lastEventSeq(of id: String) async throws -> Int {
        try session(id).lastSeq
    }

    /// Writes dirty sessions and queued turn records now.
    public func flush() async {
        let all = sessions.withLock { Array($0.values) }
        for (index, session) in all.enumerated() {
            // Thousands of snapshots take a while: let requests and turns waiting for this thread go first.
            if index % 32 == 31 { await Task.yield() }
            if let snapshot = session.takeDirtySnapshot() { writer.save(snapshot) }
        }
        await writer.flush()
    }

    /// Reads the change feed once; returns the last id seen.
    func deliverChanges(after: Int64) async -> Int64 {
        var last = after
        guard let changes = try? await store.changes(after: after, limit: 500) else { return last }
        for change in changes {
            last = max(last, change.id)
            guard let id = byTicket.withLock({ $0[change.reference] }), let session = sessions.withLock({ $0[id] })
            else { continue }
            await session.apply(change)
        }
        return last
    }

    private func endIdleConversations() async {
        let now = clock()
        let all = sessions.withLock { Array($0.values) }
        for session in all where session.isIdle(since: now.addingTimeInterval(-settings.idleTimeout)) {
            session.end(reason: "idle", notice: Self.idleNotice)
            if let snapshot = session.takeDirtySnapshot(force: true) { writer.save(snapshot) }
            forget(session.id)
        }
    }

    static let idleNotice =
        "This conversation has ended because it was quiet for a while. You can come back to it with your resume token."

    static func randomToken(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Whether a person can answer now: within office hours and at least one agent signed in.
    func personAvailable(at now: Date) async -> Bool {
        guard officeHours?.isOpen(at: now) ?? true else { return false }
        let active = (try? await store.agentsActive(since: now.addingTimeInterval(-settings.agentActiveWindow))) ?? []
        return !active.isEmpty
    }

    /// "Monday 30 November at 10:00", in the office's time zone.
    func describe(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_GB")
        formatter.timeZone = officeHours?.timeZone ?? TimeZone.current
        formatter.dateFormat = "EEEE d MMMM 'at' HH:mm"
        return formatter.string(from: date)
    }
}

/// What is saved of a conversation to resume it later, beside its transcript (``StoredSession/transcript``).
struct SessionSnapshot: Codable {
    var engine: ConversationState
    /// The transcript, in snapshots saved before transcripts were stored apart from the state; nil since.
    var history: [TicketMessage]?
    var ticket: String?
    var ended: Bool
}

extension SessionSnapshot {
    /// The snapshot as JSON that `JSONDecoder` reads back as a `SessionSnapshot`.
    func encoded() throws -> Data {
        try Self.encode(engine: engine, ticket: ticket, ended: ended)
    }

    /// A snapshot's JSON, without a transcript.
    static func encode(engine: ConversationState, ticket: String?, ended: Bool) throws -> Data {
        var buffer = ByteBuffer()
        buffer.writeStaticString("{\"engine\":")
        buffer.writeBytes(try JSONEncoder().encode(engine))
        if let ticket {
            buffer.writeStaticString(",\"ticket\":")
            FastJSON.string(ticket, &buffer)
        }
        buffer.writeStaticString(ended ? ",\"ended\":true}" : ",\"ended\":false}")
        return Data(buffer.readableBytesView)
    }

    /// Transcript lines as one chunk: a JSON array that `JSONDecoder` reads back as `[TicketMessage]` (dates as
    /// seconds since 2001, as `JSONEncoder` writes them), written directly, which costs a fraction of
    /// `JSONEncoder`.
    static func encodeTranscript(_ messages: some Collection<TicketMessage>) -> Data {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(2 + messages.reduce(0) { $0 + 64 + $1.text.utf8.count })
        buffer.writeStaticString("[")
        for (index, message) in messages.enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            buffer.writeStaticString("{\"author\":")
            FastJSON.string(message.author.rawValue, &buffer)
            if let name = message.name {
                buffer.writeStaticString(",\"name\":")
                FastJSON.string(name, &buffer)
            }
            buffer.writeStaticString(",\"text\":")
            FastJSON.string(message.text, &buffer)
            buffer.writeStaticString(",\"at\":")
            // The shortest text that reads back as the same Double.
            buffer.writeString(message.at.timeIntervalSinceReferenceDate.description)
            buffer.writeStaticString("}")
        }
        buffer.writeStaticString("]")
        return Data(buffer.readableBytesView)
    }

    /// The transcript of a stored session: the snapshot's own (saved before transcripts were stored apart), then
    /// every chunk in order, of which the last ``Session/historyLimit`` lines are kept. A chunk that cannot be read
    /// is left out.
    func transcript(_ chunks: [Data], logger: Logger) -> [TicketMessage] {
        var lines = history ?? []
        let decoder = JSONDecoder()
        for chunk in chunks {
            do {
                lines += try decoder.decode([TicketMessage].self, from: chunk)
            } catch {
                logger.warning("a transcript chunk cannot be read and is left out: \(error)")
            }
        }
        return lines.count <= Session.historyLimit ? lines : Array(lines.suffix(Session.historyLimit))
    }
}
