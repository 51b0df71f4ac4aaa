import ClerkEngine
import ClerkStore
import Foundation
import Logging
import NIOCore
import Synchronization

/// One conversation: its engine state, its masked transcript, its ticket and its subscribers, behind one lock.
///
/// A turn runs the engine while holding the lock, so the turns of one conversation run one at a time; different
/// conversations run in parallel. An ordinary turn needs nothing else and completes synchronously on the caller's
/// thread (``handleNow(_:)``: a line connection's event loop, an HTTP request's task), without a hop to another
/// executor. Work that waits for the store (a handover, a message to a person) releases the lock while it waits.
final class Session: Sendable {
    let id: String
    let tokenHash: String
    unowned let owner: Conversations
    /// The owner's brains, turn log and clock, held here so that the session reaches them without `owner`'s
    /// unowned reference (which costs an atomic retain and release per use).
    private let brains: BrainStore
    private let writer: BatchWriter
    private let clock: @Sendable () -> Date
    private let state: Mutex<State>
    /// The same list as `state.subscribers`, reachable without the state lock.
    private let subscribers: Subscribers

    /// Everything that changes, guarded by ``state``.
    private struct State {
        var engine = ConversationState()
        /// The masked transcript; may hold up to ``Session/historyLimit`` + ``Session/historySlack`` lines, read
        /// through ``transcript``.
        var history: [TicketMessage] = []
        /// The last lines of ``history`` that are not saved yet: the next save appends them to the stored
        /// transcript.
        var unsavedLines = 0
        /// Lines of the stored transcript: once they are well past what is kept, the next save replaces them with
        /// the lines kept.
        var storedLines = 0
        /// Unsaved lines were dropped from a long transcript: the next save replaces the stored transcript.
        var unsavedDropped = false
        var slots: [String: String] = [:]
        var ticket: TicketReference?
        var ticketStatus: TicketStatus?
        var replyBy: Date?
        var agent: String?
        var awaitingContact = false
        var lastActivity: Date
        var ended = false
        var dirty = false
        /// The streams following the conversation, behind their own lock (see ``Subscribers``).
        let subscribers = Subscribers()
        /// Recent events, for long polls that reconnect with the last sequence number they saw.
        var recentEvents: [SequencedEvent] = []
        var nextSeq = 1
        var turnNumber = 0
        /// Intents of the last ``Session/recentTurns`` replies, for feedback: turn n's at (n - 1) % recentTurns.
        var turnIntents: [String?] = []
        /// The last message the assistant answered and the state it was answered in, to explain it on request.
        var lastAnswered: (text: String, state: ConversationState)?

        var handoffState: HandoffState {
            switch ticketStatus {
            case nil: .none
            case .queued: .queued
            case .assigned: .withAgent
            case .waitingOnCitizen: .waitingOnCitizen
            case .resolved, .closed: .resolved
            }
        }

        var summary: TicketSummary? {
            guard let ticket, let ticketStatus else { return nil }
            return TicketSummary(reference: ticket.description, status: ticketStatus.rawValue, replyBy: replyBy)
        }

        /// The transcript of a long conversation is kept to its last ``Session/historyLimit`` lines.
        var transcript: [TicketMessage] {
            history.count <= Session.historyLimit ? history : Array(history.suffix(Session.historyLimit))
        }

        mutating func appendHistory(_ message: TicketMessage) {
            history.append(message)
            unsavedLines += 1
            if history.count > Session.historyLimit + Session.historySlack {
                history.removeFirst(history.count - Session.historyLimit)
                if unsavedLines > history.count {
                    unsavedLines = history.count
                    unsavedDropped = true
                }
            }
        }

        func reply(_ messages: [String], outcome: String) -> BotReply {
            BotReply(messages: messages, ticket: summary, handoff: handoffState, outcome: outcome)
        }

        /// Takes the engine's new state and builds the reply, before any action is carried out.
        mutating func begin(_ turn: Turn) -> BotReply {
            engine = turn.state
            slots.merge(turn.slots) { $1 }
            return BotReply(
                messages: turn.messages, quickReplies: turn.quickReplies, links: turn.links, ticket: summary,
                handoff: handoffState,
                // "Shall I pass this to a person?" is a question, not an answer to rate.
                outcome: turn.state.pendingHandoff != nil && turn.actions.isEmpty
                    ? "ask" : Session.outcomeName(turn.outcome),
                intent: turn.intent, service: turn.service)
        }

        mutating func record(_ reply: inout BotReply, at date: Date) {
            for message in reply.messages { appendHistory(TicketMessage(author: .bot, text: message, at: date)) }
            turnNumber += 1
            reply.turnID = "t\(turnNumber)"
            let slot = (turnNumber - 1) % Session.recentTurns
            if slot < turnIntents.count {
                turnIntents[slot] = reply.intent
            } else {
                turnIntents.append(reply.intent)
            }
        }

        /// The intent of the reply with this turn id, while it is one of the last ``Session/recentTurns``.
        func intent(ofTurn turnID: String) -> String? {
            guard turnID.hasPrefix("t"), let number = Int(turnID.dropFirst()), number >= 1, number <= turnNumber,
                turnNumber - number < Session.recentTurns
            else { return nil }
            return turnIntents[(number - 1) % Session.recentTurns]
        }

        mutating func emit(_ event: ConversationEvent) {
            let item = SequencedEvent(seq: nextSeq, event: event)
            nextSeq += 1
            recentEvents.append(item)
            if recentEvents.count > 200 { recentEvents.removeFirst(recentEvents.count - 200) }
            // Under the state lock, so every stream gets the events in order; but not under the subscribers'
            // lock, which a stream's termination handler needs (see ``Subscribers``).
            for continuation in subscribers.current() { continuation.yield(item) }
        }
    }

    /// The event streams of one conversation. A stream's termination handler runs while the Swift runtime holds
    /// the consuming task's lock, and unsubscribes here; yielding to a stream needs that same task lock. So this
    /// lock is never held while yielding or finishing, and unsubscribing never takes the conversation's state
    /// lock (which is held while yielding): otherwise a client that disconnects while an agent's message is
    /// delivered would deadlock the two.
    final class Subscribers: Sendable {
        private let streams = Mutex<[UUID: AsyncStream<SequencedEvent>.Continuation]>([:])

        func add(_ key: UUID, _ continuation: AsyncStream<SequencedEvent>.Continuation) {
            streams.withLock { $0[key] = continuation }
        }

        func remove(_ key: UUID) { streams.withLock { _ = $0.removeValue(forKey: key) } }

        func current() -> [AsyncStream<SequencedEvent>.Continuation] { streams.withLock { Array($0.values) } }

        /// Removes every stream, for the caller to finish.
        func takeAll() -> [AsyncStream<SequencedEvent>.Continuation] {
            streams.withLock { streams in
                defer { streams = [:] }
                return Array(streams.values)
            }
        }
    }

    static let historyLimit = 500
    /// Lines dropped at once from a long transcript: dropping one per line would move the whole array every turn.
    static let historySlack = 100
    /// Replies whose intent is kept for feedback.
    static let recentTurns = 100

    /// A new conversation, or one resumed from its `snapshot` and stored `transcript`.
    init(
        id: String, tokenHash: String, owner: Conversations, now: Date, snapshot: SessionSnapshot? = nil,
        transcript: [TicketMessage] = []
    ) {
        self.id = id
        self.tokenHash = tokenHash
        self.owner = owner
        brains = owner.brains
        writer = owner.writer
        clock = owner.clock
        var initial = State(lastActivity: now)
        // A new conversation is saved with the next batch, so that it can be resumed; a resumed one already is.
        initial.dirty = snapshot == nil
        if let snapshot {
            initial.engine = snapshot.engine
            initial.history = transcript
            // A transcript saved inside an older snapshot is stored apart with the next save.
            initial.unsavedLines = min(snapshot.history?.count ?? 0, transcript.count)
            initial.storedLines = transcript.count - initial.unsavedLines
            initial.ticket = snapshot.ticket.flatMap(TicketReference.init)
        }
        subscribers = initial.subscribers
        state = Mutex(initial)
    }

    // MARK: Turns

    func handle(_ text: String, explain: Bool) async throws -> (BotReply, Explanation?) {
        let now = clock()
        let masked = Redaction.mask(text)
        let held: TicketReference? = try state.withLock { state in
            guard !state.ended else { throw ConversationError.ended(id) }
            state.lastActivity = now
            state.dirty = true
            state.appendHistory(TicketMessage(author: .citizen, text: masked, at: now))
            guard let ticket = state.ticket, let status = state.ticketStatus, status.isHeld else { return nil }
            // The citizen now talks to the person; the offer to leave contact details has lapsed.
            state.awaitingContact = false
            return ticket
        }

        // A person holds the conversation: the message is theirs, the assistant stays silent.
        if let ticket = held {
            do {
                let updated = try await owner.store.citizenMessage(ticket, text: masked)
                state.withLock { $0.ticketStatus = updated.status }
            } catch {
                owner.logger.error("cannot pass a message to \(ticket): \(error)")
                return (
                    state.withLock {
                        $0.reply(
                            ["Your message could not reach the person right now. " + owner.settings.fallbackContact],
                            outcome: "notice")
                    }, nil
                )
            }
            log(masked, outcome: "agent", intent: nil, score: nil, at: now)
            return (state.withLock { $0.reply([], outcome: "agent") }, nil)
        }

        // Contact details, offered after a handover: only what the citizen chooses to give.
        let contactFor: (awaiting: Bool, ticket: TicketReference?) = state.withLock { state in
            guard state.awaitingContact else { return (false, nil) }
            state.awaitingContact = false
            return (true, state.ticket)
        }
        if contactFor.awaiting {
            if let contact = Redaction.contact(in: text), let ticket = contactFor.ticket {
                let message: String
                do {
                    _ = try await owner.store.apply(.setContact(contact), to: ticket)
                    message =
                        "Thank you. The person can also reach you at \(contact). You can keep chatting here meanwhile."
                } catch {
                    owner.logger.error("cannot save contact details for \(ticket): \(error)")
                    message = "I could not save your contact details right now. " + owner.settings.fallbackContact
                }
                let result = state.withLock { state in
                    var result = state.reply([message], outcome: "notice")
                    state.record(&result, at: now)
                    return result
                }
                log(masked, outcome: "contact", intent: nil, score: nil, at: now)
                return (result, nil)
            }
            if Self.declines(text) {
                let result = state.withLock { state in
                    var result = state.reply(
                        ["All right. A person will answer here in this conversation."], outcome: "notice")
                    state.record(&result, at: now)
                    return result
                }
                return (result, nil)
            }
        }

        let served = brains.served
        let (turn, explanation, begun) = state.withLock { state in
            state.lastAnswered = (text, state.engine)
            let turn: Turn
            var explanation: Explanation?
            if explain {
                (turn, explanation) = served.brain.explain(text, in: state.engine)
            } else {
                turn = served.brain.reply(to: text, in: state.engine)
            }
            return (turn, explanation, state.begin(turn))
        }
        var result = begun
        for action in turn.actions {
            switch action {
            case .escalate(let reason): await handOver(reason, text: masked, into: &result)
            case .ticketStatus(let reference): await lookUp(reference, into: &result)
            }
        }
        state.withLock { $0.record(&result, at: now) }
        log(turn, result, masked: masked, at: now)
        return (result, explanation)
    }

    /// The reply to a message when the assistant can give it without waiting for the store, on the calling
    /// thread: nil (and nothing changed) when a person holds the conversation, contact details are awaited, the
    /// conversation ended, or the engine asks for an action (a handover, a ticket look-up). Then
    /// ``handle(_:explain:)`` answers it, running the same turn again (the engine is pure, so it decides the same).
    func handleNow(_ text: String) -> BotReply? {
        let served = brains.served
        return state.withLock { state -> BotReply? in
            guard !state.ended, !state.awaitingContact, !(state.ticket != nil && state.ticketStatus?.isHeld == true)
            else { return nil }
            let turn = served.brain.reply(to: text, in: state.engine)
            guard turn.actions.isEmpty else { return nil }
            let now = clock()
            state.lastActivity = now
            state.dirty = true
            let masked = Redaction.mask(text)
            state.appendHistory(TicketMessage(author: .citizen, text: masked, at: now))
            state.lastAnswered = (text, state.engine)
            var result = state.begin(turn)
            state.record(&result, at: now)
            log(turn, result, masked: masked, at: now)
            return result
        }
    }

    /// Writes the turn to the turn log.
    private func log(_ turn: Turn, _ result: BotReply, masked: String, at now: Date) {
        var score: Double?
        if case .answer(_, let confidence, _) = turn.outcome { score = confidence }
        log(masked, outcome: result.outcome, intent: turn.intent, score: score, at: now)
    }

    func requestPerson() async throws -> BotReply {
        let now = clock()
        let handoffMessage = brains.served.brain.settings.handoffMessage
        var result = try state.withLock { state in
            guard !state.ended else { throw ConversationError.ended(id) }
            state.lastActivity = now
            return BotReply(
                messages: [handoffMessage], ticket: state.summary, handoff: state.handoffState, outcome: "handoff")
        }
        await handOver(.requested, text: "(asked for a person)", into: &result)
        state.withLock { $0.record(&result, at: now) }
        log("(asked for a person)", outcome: result.outcome, intent: nil, score: nil, at: now)
        return result
    }

    /// How the last message the assistant answered was understood.
    func explainLast() -> Explanation? {
        guard let lastAnswered = state.withLock({ $0.lastAnswered }) else { return nil }
        return brains.served.brain.explain(lastAnswered.text, in: lastAnswered.state).1
    }

    func feedback(turn: String?, helpful: Bool, comment: String?) {
        let now = clock()
        let intent = state.withLock { state in turn.flatMap(state.intent(ofTurn:)) ?? state.engine.lastIntent }
        log(
            comment.map(Redaction.mask) ?? "", outcome: helpful ? "feedback_helpful" : "feedback_not_helpful",
            intent: intent, score: nil, at: now)
    }

    private func handOver(_ reason: EscalationReason, text: String, into result: inout BotReply) async {
        let store = owner.store
        let open: (TicketReference, TicketStatus)? = state.withLock { state in
            guard let ticket = state.ticket, let status = state.ticketStatus, status != .closed else { return nil }
            return (ticket, status)
        }
        if let (ticket, status) = open {
            if status == .resolved {
                do {
                    let updated = try await store.citizenMessage(ticket, text: text)
                    state.withLock { $0.ticketStatus = updated.status }
                    result.messages = ["I have reopened \(ticket). A person will look at it again."]
                } catch {
                    result.messages = ["I cannot reach a person right now. " + owner.settings.fallbackContact]
                }
            } else {
                result.messages = [
                    "You are already in the queue with \(ticket). A person will answer here; you do not need to ask again."
                ]
            }
            state.withLock { state in
                result.ticket = state.summary
                result.handoff = state.handoffState
            }
            return
        }
        let priority: TicketPriority = reason == .safeguarding ? .urgent : .normal
        let now = clock()
        let due = owner.officeHours?.replyBy(priority: priority, from: now)
        let handoffMessage = brains.served.brain.settings.handoffMessage
        let newTicket = state.withLock { state in
            NewTicket(
                conversationID: id, service: state.engine.currentService,
                category: state.engine.lastIntent ?? reason.rawValue, priority: priority, transcript: state.transcript,
                slots: state.slots, replyBy: due, actor: "clerk")
        }
        do {
            let created = try await store.createTicket(newTicket)
            state.withLock { state in
                state.ticket = created.reference
                state.ticketStatus = created.status
                state.replyBy = created.replyBy
                state.dirty = true
            }
            owner.register(created.reference, for: id)
            var messages = result.messages.filter { $0 != handoffMessage }
            messages.append("I have passed this to a person. Your reference is \(created.reference).")
            if await owner.personAvailable(at: now) {
                messages.append("A person is available now and will answer here shortly.")
            } else if let due = created.replyBy {
                let open = owner.officeHours?.isOpen(at: now) ?? true
                messages.append(
                    (open ? "No one is free right now." : "We are closed right now.")
                        + " A person will answer by \(owner.describe(due)). You can come back to this conversation later."
                )
            } else {
                messages.append("A person will answer here as soon as possible.")
            }
            messages.append(
                "If you would like a reply by e-mail or phone as well, write your e-mail address or phone number. "
                    + "This is optional.")
            state.withLock { $0.awaitingContact = true }
            result.messages = messages
            result.outcome = "handoff"
        } catch {
            owner.logger.error("cannot create a ticket: \(error)")
            result.messages = result.messages.filter { $0 != handoffMessage }
            result.messages.append("I cannot reach a person right now. " + owner.settings.fallbackContact)
        }
        state.withLock { state in
            result.ticket = state.summary
            result.handoff = state.handoffState
        }
    }

    private func lookUp(_ text: String, into result: inout BotReply) async {
        guard let reference = try? TicketReference(parsing: text) else {
            result.messages = ["\(text) is not a ticket reference. A reference looks like T-1042."]
            return
        }
        do {
            guard let found = try await owner.store.ticket(reference) else {
                result.messages = ["I cannot find \(reference). Please check the reference."]
                return
            }
            // A reference alone reveals the status and the reply-by time, never the conversation.
            var text: String
            switch found.status {
            case .queued: text = "\(reference) is waiting for a person."
            case .assigned: text = "A person is working on \(reference)."
            case .waitingOnCitizen: text = "A person has answered \(reference) and is waiting for a reply."
            case .resolved: text = "\(reference) has been resolved."
            case .closed: text = "\(reference) is closed."
            }
            if let due = found.replyBy, found.status == .queued || found.status == .assigned {
                text += " We aim to answer by \(owner.describe(due))."
            }
            result.messages = [text]
        } catch {
            result.messages = ["I cannot look up tickets right now. " + owner.settings.fallbackContact]
        }
    }

    // MARK: Changes made by people

    /// Applies a change from the store's feed (an agent's action, here or on another node).
    func apply(_ change: TicketChange) async {
        guard state.withLock({ $0.ticket }) == change.reference else { return }
        var holder = change.actor
        if change.kind == .status, change.status == .assigned {
            // A transfer is recorded with who made it; the ticket says who holds it now.
            holder = (try? await owner.store.ticket(change.reference))?.agent ?? change.actor
        }
        state.withLock { state in
            let old = state.ticketStatus
            state.ticketStatus = change.status
            state.dirty = true
            switch change.kind {
            case .status:
                if change.status == .assigned, let holder, holder != state.agent || !(old?.isHeld ?? false) {
                    state.agent = holder
                    state.emit(.agentJoined(agent: holder))
                }
                if change.status == .resolved && old != .resolved {
                    state.emit(
                        .bot(
                            state.reply(
                                [
                                    "The person helping you has marked this as resolved. I am the automated assistant "
                                        + "again: ask me anything, or ask for a person."
                                ], outcome: "notice")))
                }
                if change.status == .queued && (old?.isHeld ?? false) {
                    state.agent = nil
                    state.emit(
                        .bot(
                            state.reply(
                                ["Your request is back in the queue. A person will take it soon."], outcome: "notice")))
                }
                state.emit(.ticketStatus(state.summary!))
            case .agentMessage:
                let name = change.actor ?? state.agent ?? "agent"
                let text = change.text ?? ""
                state.appendHistory(TicketMessage(author: .agent, name: name, text: text, at: change.at))
                state.emit(.agentMessage(agent: name, text: text))
                if old != change.status { state.emit(.ticketStatus(state.summary!)) }
            default:
                break
            }
        }
    }

    /// Reads the ticket's status from the store (after a resume).
    func refreshTicket() async {
        guard let ticket = state.withLock({ $0.ticket }), let found = try? await owner.store.ticket(ticket) else {
            return
        }
        state.withLock { state in
            state.ticketStatus = found.status
            state.agent = found.agent
            state.replyBy = found.replyBy
        }
    }

    // MARK: State

    func status() -> (HandoffState, TicketSummary?) { state.withLock { ($0.handoffState, $0.summary) } }

    /// The conversation's state (a ``SessionSnapshot``) and the transcript lines said since the last time, to
    /// save, if it changed since it was last taken (or `force`). The stored transcript is appended to; once it
    /// holds twice the lines kept, it is replaced by the lines kept.
    func takeDirtySnapshot(force: Bool = false) -> StoredSession? {
        typealias Taken = (
            engine: ConversationState, lines: [TicketMessage], replaces: Bool, ticket: String?, ended: Bool,
            updatedAt: Date
        )
        let taken = state.withLock { state -> Taken? in
            guard state.dirty || force else { return nil }
            state.dirty = false
            let replaces =
                state.unsavedDropped || state.storedLines + state.unsavedLines > 2 * Session.historyLimit
            let lines = replaces ? state.transcript : Array(state.history.suffix(state.unsavedLines))
            state.storedLines = replaces ? lines.count : state.storedLines + lines.count
            state.unsavedLines = 0
            state.unsavedDropped = false
            return (state.engine, lines, replaces, state.ticket?.description, state.ended, state.lastActivity)
        }
        guard let taken,
            let data = try? SessionSnapshot.encode(engine: taken.engine, ticket: taken.ticket, ended: taken.ended)
        else { return nil }
        return StoredSession(
            id: id, resumeTokenHash: tokenHash, state: data, updatedAt: taken.updatedAt,
            transcript: taken.lines.isEmpty ? [] : [SessionSnapshot.encodeTranscript(taken.lines)],
            replacesTranscript: taken.replaces)
    }

    func isIdle(since date: Date) -> Bool { state.withLock { !$0.ended && $0.lastActivity < date } }

    func reopen(now: Date) {
        state.withLock { state in
            state.ended = false
            state.lastActivity = now
        }
    }

    func end(reason: String, notice: String) {
        let subscribers = state.withLock { state -> Subscribers? in
            guard !state.ended else { return nil }
            state.ended = true
            state.dirty = true
            state.emit(.bot(state.reply([notice], outcome: "notice")))
            state.emit(.ended(reason: reason))
            return state.subscribers
        }
        // Streams added before `ended` was set are all in the list; later ones are finished by `subscribe`.
        for continuation in subscribers?.takeAll() ?? [] { continuation.finish() }
    }

    func subscribe(_ key: UUID, _ continuation: AsyncStream<SequencedEvent>.Continuation) {
        let ended = state.withLock { state in
            if !state.ended { state.subscribers.add(key, continuation) }
            return state.ended
        }
        if ended { continuation.finish() }
    }

    /// Called from a stream's termination handler: takes only the subscribers' lock (see ``Subscribers``).
    func unsubscribe(_ key: UUID) { subscribers.remove(key) }

    func events(after seq: Int) -> [SequencedEvent] { state.withLock { $0.recentEvents.filter { $0.seq > seq } } }

    var lastSeq: Int { state.withLock { $0.nextSeq - 1 } }

    func closeStreams() {
        for continuation in subscribers.takeAll() { continuation.finish() }
    }

    func visibleHistory() -> [HistoryEntry] {
        state.withLock { $0.transcript }.filter(\.isVisibleToCitizen).map {
            HistoryEntry(from: $0.author.rawValue, name: $0.name, text: $0.text, at: $0.at)
        }
    }

    private func log(_ text: String, outcome: String, intent: String?, score: Double?, at date: Date) {
        writer.log(
            TurnRecord(conversationID: id, at: date, text: text, outcome: outcome, intent: intent, score: score))
    }

    static func outcomeName(_ outcome: Turn.Outcome) -> String {
        switch outcome {
        case .answer: "answer"
        case .clarify: "clarify"
        case .ask: "ask"
        case .miss: "miss"
        case .handoff(let accepted): accepted ? "handoff" : "declined"
        }
    }

    static func declines(_ text: String) -> Bool {
        let words = text.lowercased().filter { $0.isLetter || $0 == " " }.split(separator: " ").joined(separator: " ")
        return ["no", "no thanks", "no thank you", "nope", "not now", "skip", "no need"].contains(words)
    }
}

/// Collects session snapshots and turn records and writes them in batches, off the turns' path.
final class BatchWriter: Sendable {
    private struct Pending {
        var sessions: [String: StoredSession] = [:]
        var turns: [TurnRecord] = []
    }

    private let store: any TicketStore
    private let logger: Logger
    private let pending = Mutex(Pending())
    private let lastFlush = Mutex<Task<Void, Never>?>(nil)
    /// Turn records kept at most while the store cannot be written (older ones are dropped, with a log line).
    static let maximumQueuedTurns = 100_000

    init(store: any TicketStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    func log(_ turn: TurnRecord) {
        pending.withLock {
            if $0.turns.count >= Self.maximumQueuedTurns { $0.turns.removeFirst($0.turns.count / 10) }
            $0.turns.append(turn)
        }
    }

    /// Queues a conversation's save; one still queued for it is combined with it (its transcript lines first).
    func save(_ session: StoredSession) {
        pending.withLock { pending in
            let earlier = pending.sessions[session.id]
            pending.sessions[session.id] = earlier.map(session.following) ?? session
        }
    }

    /// Writes what is queued. Flushes run one after another, so that a conversation's transcript chunks are stored
    /// in the order they were said.
    func flush() async {
        let flush = lastFlush.withLock { last -> Task<Void, Never> in
            let previous = last
            let next = Task {
                await previous?.value
                await self.write()
            }
            last = next
            return next
        }
        await flush.value
    }

    private func write() async {
        let batch = pending.withLock { pending -> Pending in
            defer { pending = Pending() }
            return pending
        }
        if !batch.turns.isEmpty {
            do {
                try await store.appendTurns(batch.turns)
            } catch {
                logger.error("cannot write \(batch.turns.count) turn records: \(error); will retry")
                pending.withLock { $0.turns.insert(contentsOf: batch.turns, at: 0) }
            }
        }
        if !batch.sessions.isEmpty {
            do {
                // One transaction for the batch: one disk flush, however many conversations changed.
                try await store.saveSessions(Array(batch.sessions.values))
            } catch {
                logger.error("cannot save \(batch.sessions.count) conversations: \(error); will retry")
                pending.withLock { pending in
                    pending.sessions.merge(batch.sessions) { newer, failed in newer.following(failed) }
                }
            }
        }
    }
}
