import ClerkEngine
import ClerkStore
import Foundation
import Logging
import NIOCore
import Synchronization

/// One conversation: its engine state, its masked transcript, its ticket and its subscribers. An actor, so the
/// turns of one conversation run one at a time.
///
/// The actor runs on a NIO event loop (`loop`): a line connection creates its conversation on its own loop, so its
/// handler can answer a turn synchronously on that loop (``handleNow(_:)``), without a hop to another thread.
actor Session {
    nonisolated let id: String
    nonisolated let tokenHash: String
    unowned let owner: Conversations
    /// The event loop this actor runs on.
    nonisolated let loop: any EventLoop
    private var engine = ConversationState()
    /// The masked transcript; may hold up to ``historyLimit`` + ``historySlack`` lines, read through ``transcript``.
    private var history: [TicketMessage] = []
    private var slots: [String: String] = [:]
    private var ticket: TicketReference?
    private var ticketStatus: TicketStatus?
    private var replyBy: Date?
    private var agent: String?
    private var awaitingContact = false
    private var lastActivity: Date
    private var ended = false
    private var dirty = false
    private var subscribers: [UUID: AsyncStream<SequencedEvent>.Continuation] = [:]
    /// Recent events, for long polls that reconnect with the last sequence number they saw.
    private var recentEvents: [SequencedEvent] = []
    private var nextSeq = 1
    private var turnNumber = 0
    /// Intents of recent replies by turn id, for feedback.
    private var turnIntents: [String: String] = [:]
    /// The last message the assistant answered and the state it was answered in, to explain it on request.
    private var lastAnswered: (text: String, state: ConversationState)?

    nonisolated var unownedExecutor: UnownedSerialExecutor { loop.executor.asUnownedSerialExecutor() }

    init(
        id: String, tokenHash: String, owner: Conversations, now: Date, loop: any EventLoop,
        snapshot: SessionSnapshot? = nil
    ) {
        self.id = id
        self.tokenHash = tokenHash
        self.owner = owner
        self.loop = loop
        lastActivity = now
        // A new conversation is saved with the next batch, so that it can be resumed; a resumed one already is.
        dirty = snapshot == nil
        if let snapshot {
            engine = snapshot.engine
            history = snapshot.history
            ticket = snapshot.ticket.flatMap(TicketReference.init)
        }
    }

    // MARK: Turns

    func handle(_ text: String, explain: Bool) async throws -> (BotReply, Explanation?) {
        guard !ended else { throw ConversationError.ended(id) }
        let now = owner.clock()
        lastActivity = now
        dirty = true
        let masked = Redaction.mask(text)
        appendHistory(TicketMessage(author: .citizen, text: masked, at: now))

        // A person holds the conversation: the message is theirs, the assistant stays silent.
        if let ticket, let status = ticketStatus, status.isHeld {
            // The citizen now talks to the person; the offer to leave contact details has lapsed.
            awaitingContact = false
            do {
                let updated = try await owner.store.citizenMessage(ticket, text: masked)
                ticketStatus = updated.status
            } catch {
                owner.logger.error("cannot pass a message to \(ticket): \(error)")
                return (
                    reply(
                        ["Your message could not reach the person right now. " + owner.settings.fallbackContact],
                        outcome: "notice"), nil
                )
            }
            log(masked, outcome: "agent", intent: nil, score: nil, at: now)
            return (reply([], outcome: "agent"), nil)
        }

        // Contact details, offered after a handover: only what the citizen chooses to give.
        if awaitingContact {
            awaitingContact = false
            if let contact = Redaction.contact(in: text), let ticket {
                var result: BotReply
                do {
                    _ = try await owner.store.apply(.setContact(contact), to: ticket)
                    result = reply(
                        [
                            "Thank you. The person can also reach you at \(contact). You can keep chatting here meanwhile."
                        ],
                        outcome: "notice")
                } catch {
                    owner.logger.error("cannot save contact details for \(ticket): \(error)")
                    result = reply(
                        ["I could not save your contact details right now. " + owner.settings.fallbackContact],
                        outcome: "notice")
                }
                record(&result, at: now)
                log(masked, outcome: "contact", intent: nil, score: nil, at: now)
                return (result, nil)
            }
            if Self.declines(text) {
                var result = reply(
                    ["All right. A person will answer here in this conversation."], outcome: "notice")
                record(&result, at: now)
                return (result, nil)
            }
        }

        let brain = owner.brains.brain
        lastAnswered = (text, engine)
        let turn: Turn
        var explanation: Explanation?
        if explain {
            (turn, explanation) = brain.explain(text, in: engine)
        } else {
            turn = brain.reply(to: text, in: engine)
        }
        var result = begin(turn)
        for action in turn.actions {
            switch action {
            case .escalate(let reason): await handOver(reason, text: masked, into: &result)
            case .ticketStatus(let reference): await lookUp(reference, into: &result)
            }
        }
        finish(turn, &result, masked: masked, at: now)
        return (result, explanation)
    }

    /// The reply to a message when the assistant can give it without waiting for the store: nil (and nothing
    /// changed) when a person holds the conversation, contact details are awaited, the conversation ended, or the
    /// engine asks for an action (a handover, a ticket look-up). Then ``handle(_:explain:)`` answers it, running
    /// the same turn again (the engine is pure, so it decides the same).
    func handleNow(_ text: String) -> BotReply? {
        guard !ended, !awaitingContact, !(ticket != nil && ticketStatus?.isHeld == true) else { return nil }
        let turn = owner.brains.brain.reply(to: text, in: engine)
        guard turn.actions.isEmpty else { return nil }
        let now = owner.clock()
        lastActivity = now
        dirty = true
        let masked = Redaction.mask(text)
        appendHistory(TicketMessage(author: .citizen, text: masked, at: now))
        lastAnswered = (text, engine)
        var result = begin(turn)
        finish(turn, &result, masked: masked, at: now)
        return result
    }

    /// Takes the engine's new state and builds the reply, before any action is carried out.
    private func begin(_ turn: Turn) -> BotReply {
        engine = turn.state
        slots.merge(turn.slots) { $1 }
        return BotReply(
            messages: turn.messages, quickReplies: turn.quickReplies, links: turn.links, ticket: summary,
            handoff: handoffState,
            // "Shall I pass this to a person?" is a question, not an answer to rate.
            outcome: turn.state.pendingHandoff != nil && turn.actions.isEmpty ? "ask" : Self.outcomeName(turn.outcome),
            intent: turn.intent, service: turn.service)
    }

    /// Records the reply in the history and the turn log.
    private func finish(_ turn: Turn, _ result: inout BotReply, masked: String, at now: Date) {
        record(&result, at: now)
        var score: Double?
        if case .answer(_, let confidence, _) = turn.outcome { score = confidence }
        log(masked, outcome: result.outcome, intent: turn.intent, score: score, at: now)
    }

    func requestPerson() async throws -> BotReply {
        guard !ended else { throw ConversationError.ended(id) }
        let now = owner.clock()
        lastActivity = now
        var result = BotReply(
            messages: [owner.brains.brain.settings.handoffMessage], ticket: summary, handoff: handoffState,
            outcome: "handoff")
        await handOver(.requested, text: "(asked for a person)", into: &result)
        record(&result, at: now)
        log("(asked for a person)", outcome: result.outcome, intent: nil, score: nil, at: now)
        return result
    }

    /// How the last message the assistant answered was understood.
    func explainLast() -> Explanation? {
        guard let lastAnswered else { return nil }
        return owner.brains.brain.explain(lastAnswered.text, in: lastAnswered.state).1
    }

    func feedback(turn: String?, helpful: Bool, comment: String?) {
        let now = owner.clock()
        let intent = turn.flatMap { turnIntents[$0] } ?? engine.lastIntent
        log(
            comment.map(Redaction.mask) ?? "", outcome: helpful ? "feedback_helpful" : "feedback_not_helpful",
            intent: intent, score: nil, at: now)
    }

    private func handOver(_ reason: EscalationReason, text: String, into result: inout BotReply) async {
        let store = owner.store
        if let ticket, let status = ticketStatus, status != .closed {
            if status == .resolved {
                do {
                    let updated = try await store.citizenMessage(ticket, text: text)
                    ticketStatus = updated.status
                    result.messages = ["I have reopened \(ticket). A person will look at it again."]
                } catch {
                    result.messages = ["I cannot reach a person right now. " + owner.settings.fallbackContact]
                }
            } else {
                result.messages = [
                    "You are already in the queue with \(ticket). A person will answer here; you do not need to ask again."
                ]
            }
            result.ticket = summary
            result.handoff = handoffState
            return
        }
        let priority: TicketPriority = reason == .safeguarding ? .urgent : .normal
        let now = owner.clock()
        let due = owner.officeHours?.replyBy(priority: priority, from: now)
        do {
            let created = try await store.createTicket(
                NewTicket(
                    conversationID: id, service: engine.currentService, category: engine.lastIntent ?? reason.rawValue,
                    priority: priority, transcript: transcript, slots: slots, replyBy: due, actor: "clerk"))
            ticket = created.reference
            ticketStatus = created.status
            replyBy = created.replyBy
            owner.register(created.reference, for: id)
            dirty = true
            var messages = result.messages.filter { $0 != owner.brains.brain.settings.handoffMessage }
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
            awaitingContact = true
            result.messages = messages
            result.outcome = "handoff"
        } catch {
            owner.logger.error("cannot create a ticket: \(error)")
            result.messages = result.messages.filter { $0 != owner.brains.brain.settings.handoffMessage }
            result.messages.append("I cannot reach a person right now. " + owner.settings.fallbackContact)
        }
        result.ticket = summary
        result.handoff = handoffState
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
        guard change.reference == ticket else { return }
        var holder = change.actor
        if change.kind == .status, change.status == .assigned {
            // A transfer is recorded with who made it; the ticket says who holds it now.
            holder = (try? await owner.store.ticket(change.reference))?.agent ?? change.actor
        }
        let old = ticketStatus
        ticketStatus = change.status
        dirty = true
        switch change.kind {
        case .status:
            if change.status == .assigned, let holder, holder != agent || !(old?.isHeld ?? false) {
                agent = holder
                emit(.agentJoined(agent: holder))
            }
            if change.status == .resolved && old != .resolved {
                emit(
                    .bot(
                        reply(
                            [
                                "The person helping you has marked this as resolved. I am the automated assistant "
                                    + "again: ask me anything, or ask for a person."
                            ], outcome: "notice")))
            }
            if change.status == .queued && (old?.isHeld ?? false) {
                agent = nil
                emit(.bot(reply(["Your request is back in the queue. A person will take it soon."], outcome: "notice")))
            }
            emit(.ticketStatus(summary!))
        case .agentMessage:
            let name = change.actor ?? agent ?? "agent"
            let text = change.text ?? ""
            appendHistory(TicketMessage(author: .agent, name: name, text: text, at: change.at))
            emit(.agentMessage(agent: name, text: text))
            if old != change.status { emit(.ticketStatus(summary!)) }
        default:
            break
        }
    }

    /// Reads the ticket's status from the store (after a resume).
    func refreshTicket() async {
        guard let ticket, let found = try? await owner.store.ticket(ticket) else { return }
        ticketStatus = found.status
        agent = found.agent
        replyBy = found.replyBy
    }

    // MARK: State

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

    func status() -> (HandoffState, TicketSummary?) { (handoffState, summary) }

    static let historyLimit = 500
    /// Lines dropped at once from a long transcript: dropping one per line would move the whole array every turn.
    static let historySlack = 100

    /// The transcript of a long conversation is kept to its last ``historyLimit`` lines.
    private var transcript: [TicketMessage] {
        history.count <= Self.historyLimit ? history : Array(history.suffix(Self.historyLimit))
    }

    private func appendHistory(_ message: TicketMessage) {
        history.append(message)
        if history.count > Self.historyLimit + Self.historySlack {
            history.removeFirst(history.count - Self.historyLimit)
        }
    }

    func takeDirtySnapshot(force: Bool = false) -> (SessionSnapshot, Date)? {
        guard dirty || force else { return nil }
        dirty = false
        return (
            SessionSnapshot(engine: engine, history: transcript, ticket: ticket?.description, ended: ended),
            lastActivity
        )
    }

    func isIdle(since date: Date) -> Bool { !ended && lastActivity < date }

    func reopen(now: Date) {
        ended = false
        lastActivity = now
    }

    func end(reason: String, notice: String) {
        guard !ended else { return }
        ended = true
        dirty = true
        emit(.bot(reply([notice], outcome: "notice")))
        emit(.ended(reason: reason))
        for continuation in subscribers.values { continuation.finish() }
        subscribers = [:]
    }

    func subscribe(_ key: UUID, _ continuation: AsyncStream<SequencedEvent>.Continuation) {
        if ended {
            continuation.finish()
            return
        }
        subscribers[key] = continuation
    }

    func unsubscribe(_ key: UUID) { subscribers[key] = nil }

    private func emit(_ event: ConversationEvent) {
        let item = SequencedEvent(seq: nextSeq, event: event)
        nextSeq += 1
        recentEvents.append(item)
        if recentEvents.count > 200 { recentEvents.removeFirst(recentEvents.count - 200) }
        for continuation in subscribers.values { continuation.yield(item) }
    }

    func events(after seq: Int) -> [SequencedEvent] { recentEvents.filter { $0.seq > seq } }

    var lastSeq: Int { nextSeq - 1 }

    func closeStreams() {
        for continuation in subscribers.values { continuation.finish() }
        subscribers = [:]
    }

    func visibleHistory() -> [HistoryEntry] {
        transcript.filter(\.isVisibleToCitizen).map {
            HistoryEntry(from: $0.author.rawValue, name: $0.name, text: $0.text, at: $0.at)
        }
    }

    private func reply(_ messages: [String], outcome: String) -> BotReply {
        BotReply(messages: messages, ticket: summary, handoff: handoffState, outcome: outcome)
    }

    private func record(_ reply: inout BotReply, at date: Date) {
        for message in reply.messages { appendHistory(TicketMessage(author: .bot, text: message, at: date)) }
        turnNumber += 1
        reply.turnID = "t\(turnNumber)"
        if let intent = reply.intent {
            turnIntents[reply.turnID] = intent
            if turnIntents.count > 100 { turnIntents.removeAll() }
        }
    }

    private func log(_ text: String, outcome: String, intent: String?, score: Double?, at date: Date) {
        owner.writer.log(
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

    func saveSession(id: String, tokenHash: String, state: Data, updatedAt: Date) {
        pending.withLock {
            $0.sessions[id] = StoredSession(id: id, resumeTokenHash: tokenHash, state: state, updatedAt: updatedAt)
        }
    }

    func flush() async {
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
                    pending.sessions.merge(batch.sessions) { newer, _ in newer }
                }
            }
        }
    }
}
