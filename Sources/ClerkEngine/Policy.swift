import ClerkText
import Foundation

extension Brain {
    /// Replies to one message of a conversation. Pure: the same message and state give the same turn.
    public func reply(to message: String, in state: ConversationState) -> Turn {
        pool.withScratch { decide(message, state, scratch: $0, trace: nil) }
    }

    /// Replies and explains the decision, step by step (slower; for `clerk explain`, `?explain=true` and tests).
    public func explain(_ message: String, in state: ConversationState = ConversationState()) -> (Turn, Explanation) {
        let trace = Trace(input: message)
        let turn = pool.withScratch { decide(message, state, scratch: $0, trace: trace) }
        trace.explanation.messages = turn.messages
        return (turn, trace.explanation)
    }

    /// Confidence from the example scorer for the best intents, best first (for evaluation and reports).
    public func candidates(for message: String, limit: Int = 5) -> [(intent: String, score: Double)] {
        pool.withScratch { scratch in
            lexicon.analyze(message, scratch: scratch, trace: nil)
            scorer.score(scratch.utterance, floor: 0, scratch: scratch)
            return scratch.candidates.prefix(limit).map { (intents[Int($0.intent)].id, Double($0.score)) }
        }
    }

    // MARK: - The decision

    func decide(_ message: String, _ given: ConversationState, scratch: Scratch, trace: Trace?) -> Turn {
        lexicon.analyze(message, scratch: scratch, trace: trace)
        let utterance = scratch.utterance
        recognizeEntities(utterance)
        if let trace {
            trace.explanation.normalized = (0..<utterance.count).map {
                utterance.terms[$0] >= 0 ? lexicon.terms.key(utterance.terms[$0]) : "?" + utterance.text($0)
            }
            explainEntities(trace, utterance, message)
        }
        // Most turns have no question pending and nothing to forget: they go on with the state as given, which
        // spares copying it (the answer copies it once, into the turn).
        guard given.pendingHandoff != nil || given.pending != nil || given.currentService != nil else {
            return decideMessage(
                message, utterance, given, contextMask: contextBits(given), active: activeServices(utterance, given),
                scratch: scratch, trace: trace)
        }
        // A reloaded brain may no longer know what the conversation refers to: forget it quietly.
        var state = given
        if let service = state.currentService, serviceIndex[service] == nil {
            state.currentService = nil
            state.variant = nil
        }
        if let pending = state.pending, intentIndex[pending.intent] == nil { state.pending = nil }
        let contextMask = contextBits(state)
        let active = activeServices(utterance, state)

        // 0. The answer to "Shall I pass this to a person?".
        if let reason = state.pendingHandoff {
            state.pendingHandoff = nil
            if let turn = answerHandoff(reason, utterance: utterance, state: state, trace: trace) { return turn }
        }

        // 0. The answer to a question the engine asked.
        if let pending = state.pending {
            if let turn = continuePending(
                pending, message: message, utterance: utterance, state: state, contextMask: contextMask,
                active: active, scratch: scratch, trace: trace)
            {
                return turn
            }
            state.pending = nil
        }
        return decideMessage(
            message, utterance, state, contextMask: contextMask, active: active, scratch: scratch, trace: trace)
    }

    /// The context flags of a conversation as a bit mask.
    private func contextBits(_ state: ConversationState) -> UInt64 {
        var mask: UInt64 = 0
        for flag in state.context { mask |= flagBits[flag] ?? 0 }
        return mask
    }

    /// Steps 1–3 of the decision: no question is pending (any was answered or dropped).
    private func decideMessage(
        _ message: String, _ utterance: Utterance, _ state: ConversationState, contextMask: UInt64,
        active: [Int32], scratch: Scratch, trace: Trace?
    ) -> Turn {
        // 1. A pick from the options of a "Did you mean …?" question.
        if !state.pendingChoices.isEmpty, let choice = pickedChoice(state.pendingChoices, utterance) {
            trace?.explanation.reason = "the message picks '\(intents[Int(choice)].id)' from the options offered"
            return answer(
                choice, confidence: 1, via: .choice, captures: .none, message: message, utterance: utterance,
                state: state, trace: trace)
        }

        // 2. The most specific pattern that covers the whole message; failing that (2b), one that does with a
        // misspelt word read as the vocabulary word the pattern needs ("los" → lost, "diving" → driving): the words
        // around it confirm the reading, which on its own is a guess.
        if let (terminal, captures) = patternMatch(
            message, utterance, contextMask: contextMask, active: active, scratch: scratch, trace: trace)
            ?? correctedPatternMatch(
                message, utterance, contextMask: contextMask, active: active, scratch: scratch, trace: trace)
        {
            if let trace { explainPatterns(trace, winner: terminal) }
            return answer(
                trie.terminals[Int(terminal)].intent, confidence: 1, via: .pattern, captures: captures,
                message: message, utterance: utterance, state: state, trace: trace)
        }

        // 3. The example scorer, on the message with named services as one shared word.
        let scored = collapseServices(utterance, into: scratch.collapsed)
        scorer.score(scored, floor: Float(settings.clarifyThreshold), scratch: scratch)
        if contextMask != ~0 || !active.isEmpty {
            // Drop candidates whose intent needs context the conversation lacks, or belongs to another service.
            scratch.candidates.removeAll {
                let gate = intentGates[Int($0.intent)]
                return gate.requires & ~contextMask != 0
                    || !(gate.service < 0 || active.isEmpty || active.contains(gate.service))
            }
        }
        let eligible = scratch.candidates
        if let trace { explainScores(trace, eligible, queryMass: Double(scratch.queryMass)) }
        let settings = self.settings
        if let first = eligible.first {
            let score = Double(first.score)
            let second = eligible.count > 1 ? Double(eligible[1].score) : 0
            let clear = score - second >= settings.clarifyMargin
            if score >= settings.answerThreshold && clear && scorer.documentInfo[Int(first.document)].isExample {
                trace?.explanation.reason = String(
                    format: "closest examples score %.2f, at or above the answer threshold %.2f and %.2f ahead",
                    score, settings.answerThreshold, score - second)
                return answer(
                    first.intent, confidence: score, via: .examples, captures: .none, message: message,
                    utterance: utterance, state: state, trace: trace)
            }
            if score >= settings.clarifyThreshold {
                var options = [first.intent]
                if eligible.count > 1 && second >= settings.clarifyThreshold && !clear {
                    options.append(eligible[1].intent)
                }
                if let trace {
                    trace.explanation.reason =
                        score >= settings.answerThreshold && !scorer.documentInfo[Int(first.document)].isExample
                        ? "closest to a pattern, but patterns need the whole message to match; asking instead"
                        : String(
                            format: "best score %.2f is %@, so asking which was meant", score,
                            clear ? "below the answer threshold" : "too close to the next one")
                }
                return clarify(options, state: state, utterance: utterance, trace: trace)
            }
        }
        trace?.explanation.reason = String(
            format: "nothing scored at or above the clarify threshold %.2f", settings.clarifyThreshold)
        return miss(state: state, trace: trace)
    }

    /// The services an intent with a fixed service must belong to: those the message names, or else the
    /// conversation's current one. Empty when neither is known.
    private func activeServices(_ utterance: Utterance, _ state: ConversationState) -> [Int32] {
        let named = mentionedServices(utterance)
        if !named.isEmpty { return named }
        if let current = state.currentService, let index = serviceIndex[current] { return [index] }
        return []
    }

    /// A pattern match with misspelt words read as their alternatives (``Lexicon/alternatives(for:scratch:)``),
    /// when all the eligible matches found are of one intent. The readings taken are noted in the explanation.
    private func correctedPatternMatch(
        _ message: String, _ utterance: Utterance, contextMask: UInt64, active: [Int32], scratch: Scratch,
        trace: Trace?
    ) -> (Int32, Captures)? {
        guard lexicon.alternatives(for: utterance, scratch: scratch) else { return nil }
        let found = scratch.alternativeStarts.withUnsafeBufferPointer { starts in
            scratch.alternativeTerms.withUnsafeBufferPointer { terms in
                patternMatch(
                    message, utterance, contextMask: contextMask, active: active, scratch: scratch, trace: trace,
                    alternatives: Alternatives(starts: starts, terms: terms))
            }
        }
        if let trace {
            if let found {
                for (position, term) in scratch.chosenAlternatives {
                    trace.note(
                        "'\(utterance.text(Int(position)))' read as '\(lexicon.alternativeWord(utterance, Int(position), term))', "
                            + "so that pattern '\(patterns[Int(trie.terminals[Int(found.0)].pattern)].text)' matches "
                            + "the whole message")
                }
            } else if scratch.alternativesAmbiguous {
                trace.note("misspelt words could be read to match patterns of more than one intent; none is chosen")
            }
        }
        return found
    }

    private func patternMatch(
        _ message: String, _ utterance: Utterance, contextMask: UInt64, active: [Int32], scratch: Scratch,
        trace: Trace?, alternatives: Alternatives? = nil
    ) -> (Int32, Captures)? {
        guard
            let match = trie.match(
                utterance, gates: intentGates, contextMask: contextMask, active: active, scratch: scratch,
                trace: trace, alternatives: alternatives)
        else { return nil }
        let terminal = trie.terminals[Int(match.terminal)]
        // Token ranges become byte ranges of the message.
        var ranges = CaptureRanges()
        for range in match.captures { ranges.append(utterance.originalRange(range)) }
        return (
            match.terminal,
            Captures(names: trie.captureLayouts[Int(terminal.captureLayout)], ranges: ranges, message: message)
        )
    }

    private func pickedChoice(_ choices: [String], _ utterance: Utterance) -> Int32? {
        let offered = choices.compactMap { intentIndex[$0] }
        // "1", "2": the option's number.
        if utterance.count == 1, utterance.kind(0) == .number,
            let number = Int(utterance.text(0)), (1...offered.count).contains(number)
        {
            return offered[number - 1]
        }
        if let title = offered.first(where: { intents[Int($0)].titleTerms.elementsEqual(utterance.terms) }) {
            return title
        }
        // "yes" to a question with one option.
        if offered.count == 1, yesPhrases.contains(where: { $0.elementsEqual(utterance.terms) }) { return offered[0] }
        return nil
    }

    // MARK: - Questions the engine asked

    /// Handles the answer to a pending question; nil when the message is about something else.
    private func continuePending(
        _ pending: PendingQuestion, message: String, utterance: Utterance, state: ConversationState,
        contextMask: UInt64, active: [Int32], scratch: Scratch, trace: Trace?
    ) -> Turn? {
        guard let intentNumber = intentIndex[pending.intent] else { return nil }
        let intent = intents[Int(intentNumber)]
        guard let slotName = pending.slot else {
            // Which service?
            guard let service = pickedService(pending.services, utterance) else { return nil }
            trace?.explanation.reason =
                "the message answers the question which service: '\(services[Int(service)].id)'"
            return answer(
                intentNumber, confidence: 1, via: .choice, captures: .none, message: message, utterance: utterance,
                state: state, values: pending.values, pickedService: service, trace: trace)
        }
        guard let slot = intent.slots.first(where: { $0.name.value == slotName }) else { return nil }
        var values = pending.values
        var picked: Int32?
        // A typed value answers the question even when it would also match a pattern ("passport" for a service).
        let typed = slot.type == .text ? nil : slotValue(slot.type, in: utterance, message: message, service: &picked)
        // Otherwise a message that fully matches another intent's pattern changes the subject; for a free-text
        // answer only a clear request does ("talk to a person", a safeguarding topic, two or more literal words).
        if typed == nil,
            let (terminal, _) = patternMatch(
                message, utterance, contextMask: contextMask, active: active, scratch: scratch, trace: nil),
            trie.terminals[Int(terminal)].intent != intentNumber,
            slot.type != .text || trie.terminals[Int(terminal)].specificity.literalWords >= 2
                || intents[Int(trie.terminals[Int(terminal)].intent)].action == .escalate
        {
            trace?.note(
                "the message matches a pattern of '\(intents[Int(trie.terminals[Int(terminal)].intent)].id)', "
                    + "so the question about \(slotName) is dropped")
            return nil
        }
        if let value = typed
            ?? (slot.type == .text ? slotValue(.text, in: utterance, message: message, service: &picked) : nil)
        {
            values[slotName] = value
            trace?.explanation.reason = "the message gives \(slotName) = \(value), asked for by '\(intent.id)'"
            return answer(
                intentNumber, confidence: 1, via: .choice, captures: .none, message: message, utterance: utterance,
                state: state, values: values, pickedService: picked, trace: trace)
        }
        var next = state
        next.turnCount += 1
        next.pendingChoices = []
        var question = pending
        question.failedAttempts += 1
        if question.failedAttempts >= settings.slotAttempts {
            next.pending = nil
            if let trace {
                trace.explanation.outcome = "miss"
                trace.explanation.reason =
                    "no valid \(slot.type.rawValue) for \(slotName) after \(question.failedAttempts) tries; "
                    + "offering a person"
            }
            next.pendingHandoff = .unansweredQuestion
            return Turn(
                outcome: .miss, messages: [settings.slotGiveUpMessage], quickReplies: yesNo, actions: [],
                state: next, captured: .none, service: next.currentService, slots: values)
        }
        next.pending = question
        if let trace {
            trace.explanation.outcome = "ask"
            trace.explanation.intent = intent.id
            trace.explanation.reason = "the message is not a valid \(slot.type.rawValue) for \(slotName); asking again"
        }
        let text = [slot.hint, slot.prompt].compactMap { $0 }.joined(separator: " ")
        return Turn(
            outcome: .ask(intent: intent.id, slot: slotName), messages: [text], quickReplies: [], actions: [],
            state: next, captured: .none, service: next.currentService)
    }

    /// The service a message picks among `offered` ids: by number, by naming one, or by a word only one of
    /// them has ("the taxi one").
    private func pickedService(_ offered: [String], _ utterance: Utterance) -> Int32? {
        let candidates = offered.compactMap { serviceIndex[$0] }
        if utterance.count == 1, utterance.kind(0) == .number, let number = Int(utterance.text(0)),
            (1...max(1, candidates.count)).contains(number), number <= candidates.count
        {
            return candidates[number - 1]
        }
        for mention in utterance.mentions where mention.kind == .service {
            let group = serviceGroups[Int(mention.value)]
            if group.count == 1 { return group[0] }
            let common = group.filter { candidates.contains($0) }
            if common.count == 1 { return common[0] }
        }
        // A distinguishing word ("the taxi one") counts only in a short answer; a longer message is a new question.
        guard !candidates.isEmpty, utterance.count <= 3 else { return nil }
        let words = Set(utterance.terms.filter { $0 >= 0 })
        let overlaps = candidates.map { services[Int($0)].nameTerms.intersection(words).count }
        guard let best = overlaps.max(), best > 0, overlaps.filter({ $0 == best }).count == 1 else { return nil }
        return candidates[overlaps.firstIndex(of: best)!]
    }

    /// A value of `type` found in the message, as the citizen wrote it (a service: its id).
    private func slotValue(
        _ type: SlotType, in utterance: Utterance, message: String, service: inout Int32?
    )
        -> String?
    {
        switch type {
        case .text:
            let text = message.trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty ? nil : text
        case .service:
            for mention in utterance.mentions where mention.kind == .service {
                let group = serviceGroups[Int(mention.value)]
                if group.count == 1 {
                    service = group[0]
                    return services[Int(group[0])].id
                }
            }
            return nil
        default:
            for index in 0..<utterance.count {
                var longest = 0
                type.forEachMatch(in: utterance, at: index) { longest = max(longest, $0) }
                if longest > 0 { return originalText(message, utterance.originalRange(index..<(index + longest))) }
            }
            return nil
        }
    }

    private func originalText(_ message: String, _ range: Range<Int>) -> String {
        String(decoding: message.utf8.dropFirst(range.lowerBound).prefix(range.count), as: UTF8.self)
    }

    // MARK: - Building turns
    //
    // The common turns are built with an empty state that is then swapped for the new one: passed directly, the
    // state (a `var` changed along the way) was copied into the turn, retaining each of its strings and arrays,
    // and the original then released field by field.

    /// The answer of an intent: resolves its service and variant, asks for what is missing, renders the reply.
    private func answer(
        _ intentNumber: Int32, confidence: Double, via evidence: Turn.Evidence, captures: Captures, message: String,
        utterance: Utterance, state: ConversationState, values given: [String: String] = [:],
        pickedService: Int32? = nil, trace: Trace?
    ) -> Turn {
        var intent = intents[Int(intentNumber)]
        if intent.isPlain && trace == nil && pickedService == nil && given.isEmpty && utterance.mentions.isEmpty {
            return plainAnswer(intent, confidence: confidence, via: evidence, captures: captures, state: state)
        }
        let matched = intent.id
        // A follow-up answers the last intent again with what this message adds.
        if intent.followUp, let last = state.lastIntent, let lastNumber = intentIndex[last],
            intents[Int(lastNumber)].needsService, !intents[Int(lastNumber)].followUp
        {
            trace?.note("'\(intent.id)' follows up on the last answer, '\(last)'")
            intent = intents[Int(lastNumber)]
        }
        var next = state
        next.turnCount += 1
        next.pendingChoices = []
        next.pending = nil

        // The service: picked, fixed, named in the message, or the conversation's.
        var service: Int32? = pickedService
        var serviceSource = "picked from the options"
        if service == nil, intent.serviceIndex >= 0 {
            service = intent.serviceIndex
            serviceSource = "the intent's own service"
        }
        if service == nil, utterance.mentions.contains(where: { $0.kind == .service }) {
            let current = state.currentService.flatMap { serviceIndex[$0] }
            let groups = utterance.mentions.filter { $0.kind == .service }.map { serviceGroups[Int($0.value)] }
            if let clear = groups.first(where: { $0.count == 1 }) {
                // "a permit for a street party": the clear name wins over the ambiguous word.
                service = clear[0]
                serviceSource = "named in the message"
            } else if let current, groups.allSatisfy({ $0.contains(current) }) {
                service = current
                serviceSource = "the conversation's service, among those the message may mean"
            } else if let current, let mention = utterance.mentions.first(where: { $0.kind == .service }),
                (Int(mention.start)..<Int(mention.end)).allSatisfy({
                    services[Int(current)].nameTerms.contains(utterance.terms[$0])
                })
            {
                // "the permit" while talking about the Street Trading Permit.
                service = current
                serviceSource = "the conversation's service, whose name has the word the message uses"
            } else if intent.needsService {
                return askService(intent, offering: groups[0], values: given, state: next, trace: trace)
            }
        }
        if service == nil, !given.isEmpty, let id = given["service"], let index = serviceIndex[id] {
            service = index
            serviceSource = "given earlier"
        }
        if service == nil, intent.needsService, let current = state.currentService.flatMap({ serviceIndex[$0] }) {
            service = current
            serviceSource = "the conversation's service"
        }
        if service == nil, intent.needsService, !intent.slots.contains(where: { $0.type == .service }) {
            return askService(intent, offering: [], values: given, state: next, trace: trace)
        }
        if let service {
            let id = services[Int(service)].id
            if id != state.currentService { next.variant = nil }
            next.currentService = id
            trace?.explanation.service = "\(id) (\(serviceSource))"
        }
        if let mention = utterance.mentions.first(where: { $0.kind == .variant }) {
            next.variant = variantNames[Int(mention.value)]
        }
        trace?.explanation.variant = next.variant

        // Slots: captured by the pattern, given earlier, or found in the message; ask for the first missing one.
        var values = given
        for slot in intent.slots where values[slot.name.value] == nil {
            let name = slot.name.value
            if let captured = captures[name] {
                values[name] = slot.type == .service ? service.map { services[Int($0)].id } ?? captured : captured
            } else if slot.type == .service, let service, serviceSource != "the conversation's service" {
                values[name] = services[Int(service)].id
            } else if slot.type != .text && slot.type != .service {
                var ignored: Int32?
                if let found = slotValue(slot.type, in: utterance, message: message, service: &ignored) {
                    values[name] = found
                }
            }
            if values[name] == nil {
                next.pending = PendingQuestion(intent: intent.id, slot: name, values: values)
                if let trace {
                    trace.explanation.outcome = "ask"
                    trace.explanation.intent = intent.id
                    trace.explanation.slots = values
                    trace.explanation.reason +=
                        (trace.explanation.reason.isEmpty ? "" : "; ")
                        + "'\(intent.id)' needs \(name), so asking for it"
                }
                return Turn(
                    outcome: .ask(intent: intent.id, slot: name), messages: [slot.prompt], quickReplies: [],
                    actions: [], state: next, captured: captures, service: next.currentService, slots: values)
            }
        }

        next.lastIntent = intent.id
        next.context = intent.setsContext
        next.consecutiveMisses = 0
        let renderer = service.map { ServiceFieldRenderer(service: services[Int($0)], variant: next.variant) }
        var messages: [String] = []
        var links: [TurnLink] = []
        let count = intent.replyCount
        if count > 0 {
            let start = state.turnCount % count
            if renderer == nil, let plain = count == 1 ? intent.onlyPlainMessages : intent.plainMessages[start] {
                messages = plain
            } else {
                func value(_ name: String) -> String? {
                    if let captured = captures[name] ?? values[name] {
                        return name == "service" ? renderer?.render("") ?? captured : captured
                    }
                    if name == "service" { return renderer?.render("") }
                    if name == "variant" { return next.variant.map(ServiceFieldRenderer.label) }
                    if name.hasPrefix("service.") { return renderer?.render(name.dropFirst(8)) }
                    return nil
                }
                var chosen: String?
                for offset in 0..<count where chosen == nil {
                    chosen = intent.replies[(start + offset) % count].render(value)
                }
                if chosen == nil, let renderer, intent.needsService {
                    chosen = settings.missingFieldMessage.replacingPlaceholder("{service}", with: renderer.service.name)
                    trace?.note("service '\(renderer.service.id)' lacks a field this reply needs")
                }
                // Only an answer from examples lacks captures; leave the placeholders out rather than fail.
                messages.append(chosen ?? intent.replies[start].literalText)
            }
            if let renderer, let source = renderer.service.source, intent.needsService || intent.serviceIndex >= 0 {
                links.append(TurnLink(title: renderer.service.name, url: source))
                if let last = messages.last,
                    !intent.replies.contains(where: { $0.placeholders.contains("service.source") })
                {
                    messages[messages.count - 1] = last + " Source: " + source
                }
            }
        }
        var actions: [TurnAction] = []
        var quickReplies = intent.quickReplies
        if intent.safeguarding {
            // No question asked: a person is needed now, and the emergency number comes first.
            messages.insert(settings.emergencyMessage, at: 0)
            actions.append(.escalate(reason: .safeguarding))
        }
        switch intent.action {
        case .escalate where !intent.safeguarding:
            // Ask first; the handover happens when the citizen says yes.
            if messages.isEmpty { messages.append(settings.consentMessage) }
            next.pendingHandoff = .requested
            quickReplies = yesNo
        case .escalate:
            break
        case .ticketStatus:
            if let slot = intent.slots.first(where: { $0.type == .ticket }), let reference = values[slot.name.value] {
                actions.append(.ticketStatus(reference: reference))
            }
        case nil:
            break
        }
        if let trace {
            trace.explanation.outcome = "answer"
            trace.explanation.intent = intent.id
            trace.explanation.confidence = confidence
            trace.explanation.slots = values
        }
        var turn = Turn(
            outcome: .answer(intent: intent.id, confidence: confidence, via: evidence), messages: messages,
            quickReplies: quickReplies, actions: actions, state: ConversationState(), captured: captures,
            service: service.map { services[Int($0)].id }, slots: values, links: links,
            matchedIntent: matched == intent.id ? nil : matched)
        swap(&turn.state, &next)
        return turn
    }

    /// The answer of an intent that is only a fixed reply (``Intent/isPlain``) to a message that names no service
    /// or variant: the same turn as `answer` gives, built without copying the whole state or working out
    /// services, slots and actions that cannot apply (most answers of a large brain).
    private func plainAnswer(
        _ intent: Intent, confidence: Double, via evidence: Turn.Evidence, captures: Captures,
        state: ConversationState
    ) -> Turn {
        var next = ConversationState()
        next.turnCount = state.turnCount + 1
        next.lastIntent = intent.id
        next.context = intent.setsContext
        next.currentService = state.currentService
        next.variant = state.variant
        next.pendingHandoff = state.pendingHandoff
        var turn = Turn(
            outcome: .answer(intent: intent.id, confidence: confidence, via: evidence),
            messages: intent.onlyPlainMessages ?? [], quickReplies: intent.quickReplies, actions: [],
            state: ConversationState(), captured: captures, service: nil)
        swap(&turn.state, &next)
        return turn
    }

    /// The quick replies of a handover question.
    private var yesNo: [String] { ["Yes", "No"] }

    /// The answer to "Shall I pass this to a person?": yes hands over, no declines; anything else is a new
    /// message (nil).
    private func answerHandoff(
        _ reason: EscalationReason, utterance: Utterance, state: ConversationState, trace: Trace?
    )
        -> Turn?
    {
        let terms = utterance.terms
        func saysAny(_ phrases: [[Int32]]) -> Bool {
            // The whole message is one of the phrases, or starts with one followed by a filler ("yes please").
            phrases.contains { phrase in
                terms.count >= phrase.count && terms.starts(with: phrase) && terms.count <= phrase.count + 2
            }
        }
        var next = state
        next.turnCount += 1
        next.pendingChoices = []
        next.pending = nil
        // "1" and "2" pick the Yes and No buttons.
        let number = utterance.count == 1 && utterance.kind(0) == .number ? Int(utterance.text(0)) : nil
        let saysNo =
            number == 2 || (number == nil && saysAny(noPhrases) && !saysAny(yesPhrases.filter { $0.count > 1 }))
        if saysNo {
            if let trace {
                trace.explanation.outcome = "handoff declined"
                trace.explanation.reason = "the citizen declined the handover"
            }
            return Turn(
                outcome: .handoff(accepted: false), messages: [settings.declinedMessage],
                quickReplies: [], actions: [], state: next, captured: .none, service: next.currentService)
        }
        guard number == 1 || (number == nil && saysAny(yesPhrases)) else { return nil }
        next.consecutiveMisses = 0
        if let trace {
            trace.explanation.outcome = "handoff"
            trace.explanation.reason = "the citizen agreed to the handover (\(reason.rawValue))"
        }
        return Turn(
            outcome: .handoff(accepted: true), messages: [settings.handoffMessage],
            quickReplies: [], actions: [.escalate(reason: reason)], state: next, captured: .none,
            service: next.currentService)
    }

    /// Asks which service the citizen means: among `offering` (an ambiguous word), or any.
    private func askService(
        _ intent: Intent, offering: [Int32], values: [String: String], state: ConversationState, trace: Trace?
    ) -> Turn {
        var next = state
        let ids = offering.map { services[Int($0)].id }
        let names = offering.map { services[Int($0)].name }
        next.pending = PendingQuestion(intent: intent.id, slot: nil, services: ids, values: values)
        let text: String
        if names.isEmpty {
            let examples = services.prefix(3).map(\.name).joined(separator: ", ")
            text = settings.askServiceMessage.replacingPlaceholder("{examples}", with: examples)
        } else {
            let list =
                names.count == 1
                ? names[0] : names.dropLast().joined(separator: ", ") + " or " + names[names.count - 1]
            text = settings.chooseServiceMessage.replacingPlaceholder("{options}", with: list)
        }
        if let trace {
            trace.explanation.outcome = "ask"
            trace.explanation.intent = intent.id
            trace.explanation.reason +=
                (trace.explanation.reason.isEmpty ? "" : "; ")
                + (ids.isEmpty
                    ? "'\(intent.id)' needs a service and none is known, so asking which"
                    : "the message may mean \(ids.joined(separator: ", ")), so asking which")
        }
        return Turn(
            outcome: .ask(intent: intent.id, slot: "service"), messages: [text], quickReplies: names, actions: [],
            state: next, captured: .none, service: nil, slots: values)
    }

    private func clarify(_ options: [Int32], state: ConversationState, utterance: Utterance, trace: Trace?) -> Turn {
        let titles = options.map { intents[Int($0)].title }
        var next = state
        next.turnCount += 1
        next.pendingChoices = options.map { intents[Int($0)].id }
        // A service named here still counts for the answer the citizen picks next.
        let named = mentionedServices(utterance)
        if named.count == 1 {
            next.currentService = services[Int(named[0])].id
        }
        let quoted = titles.map { "“\($0)”" }.joined(separator: " or ")
        let text = clarifyMessage.prefix + quoted + clarifyMessage.suffix
        if let trace {
            trace.explanation.outcome = "clarify"
            trace.explanation.intent = nil
        }
        var turn = Turn(
            outcome: .clarify(next.pendingChoices), messages: [text], quickReplies: titles, actions: [],
            state: ConversationState(), captured: .none)
        swap(&turn.state, &next)
        return turn
    }

    private func miss(state: ConversationState, trace: Trace?) -> Turn {
        var next = state
        next.turnCount += 1
        next.pendingChoices = []
        next.consecutiveMisses += 1
        trace?.explanation.outcome = "miss"
        if next.consecutiveMisses >= settings.missesBeforeEscalation {
            next.consecutiveMisses = 0
            next.pendingHandoff = .repeatedMisses
            trace?.explanation.reason += "; \(settings.missesBeforeEscalation) misses in a row, so offering a person"
            return Turn(
                outcome: .miss, messages: [settings.escalationMessage], quickReplies: yesNo, actions: [], state: next,
                captured: .none)
        }
        var turn = Turn(
            outcome: .miss, messages: [settings.rephraseMessage], quickReplies: [], actions: [],
            state: ConversationState(), captured: .none)
        swap(&turn.state, &next)
        return turn
    }

    // MARK: - Explanations

    private func explainPatterns(_ trace: Trace, winner: Int32) {
        let won = trie.terminals[Int(winner)]
        for (index, eligible) in trace.terminals {
            let terminal = trie.terminals[Int(index)]
            let pattern = patterns[Int(terminal.pattern)]
            let s = terminal.specificity
            trace.explanation.patternMatches.append(
                Explanation.PatternCandidate(
                    intent: intents[Int(terminal.intent)].id, pattern: pattern.text,
                    location: pattern.location.description, literalWords: Int(s.literalWords),
                    typedElements: Int(s.typedElements), wildcards: Int(s.wildcards), priority: Int(s.priority),
                    eligible: eligible))
            guard index != winner, terminal.pattern != won.pattern else { continue }
            let name = "'\(intents[Int(terminal.intent)].id)' (pattern \"\(pattern.text)\")"
            let why: String
            let w = won.specificity
            let gate = intentGates[Int(terminal.intent)]
            if !eligible && gate.service >= 0 && gate.requires == 0 {
                why =
                    "belongs to service '\(services[Int(gate.service)].id)', and the conversation is about another"
            } else if !eligible {
                why = "needs context \(intents[Int(terminal.intent)].requires) that the conversation does not have"
            } else if intentGates[Int(won.intent)].requires != 0 && gate.requires == 0 {
                why = "the winner follows up on the conversation's context"
            } else if s.literalWords != w.literalWords {
                why = "fewer literal words (\(s.literalWords) < \(w.literalWords))"
            } else if s.typedElements != w.typedElements {
                why = "fewer concepts or typed captures (\(s.typedElements) < \(w.typedElements))"
            } else if s.wildcards != w.wildcards {
                why = "more wildcards (\(s.wildcards) > \(w.wildcards))"
            } else if s.priority != w.priority {
                why = "lower priority (\(s.priority) < \(w.priority))"
            } else {
                why = "equally specific, but written later in the content"
            }
            trace.explanation.runnersUp.append("\(name) lost: \(why)")
        }
        let pattern = patterns[Int(won.pattern)]
        trace.explanation.reason =
            "pattern \"\(pattern.text)\" (\(pattern.location)) matches the whole message and is the most specific"
    }

    private func explainEntities(_ trace: Trace, _ utterance: Utterance, _ message: String) {
        for mention in utterance.mentions {
            let words = originalText(message, utterance.originalRange(Int(mention.start)..<Int(mention.end)))
            switch mention.kind {
            case .service:
                let ids = serviceGroups[Int(mention.value)].map { services[Int($0)].id }
                trace.explanation.entities.append(
                    ids.count == 1
                        ? "'\(words)' names the service \(ids[0])"
                        : "'\(words)' may name \(ids.joined(separator: ", "))")
            case .variant:
                trace.explanation.entities.append("'\(words)' names the variant \(variantNames[Int(mention.value)])")
            }
        }
    }

    private func explainScores(_ trace: Trace, _ eligible: [Scorer.Candidate], queryMass: Double) {
        for candidate in eligible.prefix(5) {
            var contributions: [Explanation.Contribution] = []
            // Support, profile and coverage scale every shared word's share alike: the shares add up to the score.
            let factor = candidate.nearest > 0 ? Double(candidate.score / candidate.nearest) : 1
            for term in scorer.terms(of: candidate.document)
            where trace.explanation.normalized.contains(lexicon.terms.key(term)) {
                let weight =
                    2 * Double(scorer.weights[Int(term)]) * factor
                    / (queryMass + Double(scorer.documentInfo[Int(candidate.document)].mass))
                contributions.append(Explanation.Contribution(word: lexicon.terms.key(term), weight: weight))
            }
            trace.explanation.scored.append(
                Explanation.ScoredCandidate(
                    intent: intents[Int(candidate.intent)].id, score: Double(candidate.score),
                    nearest: scorer.documentText[Int(candidate.document)],
                    source: scorer.documentInfo[Int(candidate.document)].isExample ? "example" : "pattern",
                    contributions: contributions.sorted { $0.weight > $1.weight }))
        }
        if let first = eligible.first {
            for other in eligible.dropFirst().prefix(4) {
                trace.explanation.runnersUp.append(
                    String(
                        format: "'%@' scored %.2f, %.2f below '%@'", intents[Int(other.intent)].id,
                        Double(other.score), Double(first.score - other.score), intents[Int(first.intent)].id))
            }
        }
    }

}

extension String {
    /// The text with every `placeholder` replaced.
    fileprivate func replacingPlaceholder(_ placeholder: String, with value: String) -> String {
        components(separatedBy: placeholder).joined(separator: value)
    }
}
