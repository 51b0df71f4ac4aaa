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

    func decide(_ message: String, _ state: ConversationState, scratch: Scratch, trace: Trace?) -> Turn {
        lexicon.analyze(message, scratch: scratch, trace: trace)
        let utterance = scratch.utterance
        trace?.explanation.normalized = (0..<utterance.count).map {
            utterance.terms[$0] >= 0 ? lexicon.terms.key(utterance.terms[$0]) : "?" + utterance.text($0)
        }
        var contextMask: UInt64 = 0
        for flag in state.context { contextMask |= flagBits[flag] ?? 0 }

        // 1. A pick from the options of a "Did you mean …?" question.
        if !state.pendingChoices.isEmpty, let choice = pickedChoice(state.pendingChoices, utterance) {
            trace?.explanation.reason = "the message picks '\(intents[Int(choice)].id)' from the options offered"
            return answer(choice, confidence: 1, via: .choice, captures: .none, state: state, trace: trace)
        }

        // 2. The most specific pattern that covers the whole message.
        if var match = trie.match(
            utterance, intentRequires: intentRequires, contextMask: contextMask, scratch: scratch, trace: trace)
        {
            let terminal = trie.terminals[Int(match.terminal)]
            // Token ranges become byte ranges of the message, in place (the array is not shared).
            for index in match.captures.indices {
                match.captures[index] = utterance.originalRange(match.captures[index])
            }
            let captures = Captures(
                names: trie.captureLayouts[Int(terminal.captureLayout)], ranges: match.captures, message: message)
            if let trace { explainPatterns(trace, winner: match.terminal) }
            return answer(terminal.intent, confidence: 1, via: .pattern, captures: captures, state: state, trace: trace)
        }

        // 3. The example scorer.
        scorer.score(utterance, floor: Float(settings.clarifyThreshold), scratch: scratch)
        if contextMask != ~0 {
            // Drop candidates whose intent needs context the conversation lacks (in place: no allocation).
            scratch.candidates.removeAll { intentRequires[Int($0.intent)] & ~contextMask != 0 }
        }
        let eligible = scratch.candidates
        if let trace { explainScores(trace, eligible, queryMass: Double(scratch.queryMass)) }
        let settings = self.settings
        if let first = eligible.first {
            let score = Double(first.score)
            let second = eligible.count > 1 ? Double(eligible[1].score) : 0
            let clear = score - second >= settings.clarifyMargin
            if score >= settings.answerThreshold && clear && scorer.documentIsExample[Int(first.document)] {
                trace?.explanation.reason = String(
                    format: "closest examples score %.2f, at or above the answer threshold %.2f and %.2f ahead",
                    score, settings.answerThreshold, score - second)
                return answer(
                    first.intent, confidence: score, via: .examples, captures: .none, state: state, trace: trace)
            }
            if score >= settings.clarifyThreshold {
                var options = [first.intent]
                if eligible.count > 1 && second >= settings.clarifyThreshold && !clear {
                    options.append(eligible[1].intent)
                }
                if let trace {
                    trace.explanation.reason =
                        score >= settings.answerThreshold && !scorer.documentIsExample[Int(first.document)]
                        ? "closest to a pattern, but patterns need the whole message to match; asking instead"
                        : String(
                            format: "best score %.2f is %@, so asking which was meant", score,
                            clear ? "below the answer threshold" : "too close to the next one")
                }
                return clarify(options, state: state, trace: trace)
            }
        }
        trace?.explanation.reason = String(
            format: "nothing scored at or above the clarify threshold %.2f", settings.clarifyThreshold)
        return miss(state: state, trace: trace)
    }

    private func pickedChoice(_ choices: [String], _ utterance: Utterance) -> Int32? {
        let offered = choices.compactMap { intentIndex[$0] }
        // "1", "2": the option's number.
        if utterance.count == 1, utterance.kind(0) == .number,
            let number = Int(utterance.text(0)), (1...offered.count).contains(number)
        {
            return offered[number - 1]
        }
        return offered.first { intents[Int($0)].titleTerms.elementsEqual(utterance.terms) }
    }

    // MARK: - Building turns

    private func answer(
        _ intentNumber: Int32, confidence: Double, via evidence: Turn.Evidence, captures: Captures,
        state: ConversationState, trace: Trace?
    ) -> Turn {
        let intent = intents[Int(intentNumber)]
        var next = state
        next.turnCount += 1
        next.lastIntent = intent.id
        next.context = intent.setsContext
        next.consecutiveMisses = 0
        next.pendingChoices = []
        var messages: [String] = []
        if !intent.replies.isEmpty {
            let count = intent.replies.count
            let start = state.turnCount % count
            if let plain = intent.plainMessages[start] {
                messages = plain
            } else {
                var chosen: String?
                for offset in 0..<count where chosen == nil {
                    chosen = intent.replies[(start + offset) % count].render(captures)
                }
                // Only an answer from examples lacks captures; leave the placeholders out rather than fail.
                messages.append(
                    chosen ?? intent.replies[start].parts.map { if case .text(let t) = $0 { t } else { "" } }.joined())
            }
        }
        var actions: [TurnAction] = []
        if intent.action == .escalate {
            actions.append(.escalate(reason: .requested))
            if messages.isEmpty { messages.append(settings.escalationMessage) }
        }
        if let trace {
            trace.explanation.outcome = "answer"
            trace.explanation.intent = intent.id
            trace.explanation.confidence = confidence
        }
        return Turn(
            outcome: .answer(intent: intent.id, confidence: confidence, via: evidence), messages: messages,
            quickReplies: intent.quickReplies, actions: actions, state: next, captured: captures)
    }

    private func clarify(_ options: [Int32], state: ConversationState, trace: Trace?) -> Turn {
        let titles = options.map { intents[Int($0)].title }
        var next = state
        next.turnCount += 1
        next.pendingChoices = options.map { intents[Int($0)].id }
        let quoted = titles.map { "“\($0)”" }.joined(separator: " or ")
        let text = clarifyMessage.prefix + quoted + clarifyMessage.suffix
        if let trace {
            trace.explanation.outcome = "clarify"
            trace.explanation.intent = nil
        }
        return Turn(
            outcome: .clarify(next.pendingChoices), messages: [text], quickReplies: titles, actions: [], state: next,
            captured: .none)
    }

    private func miss(state: ConversationState, trace: Trace?) -> Turn {
        var next = state
        next.turnCount += 1
        next.pendingChoices = []
        next.consecutiveMisses += 1
        trace?.explanation.outcome = "miss"
        if next.consecutiveMisses >= settings.missesBeforeEscalation {
            next.consecutiveMisses = 0
            trace?.explanation.reason += "; \(settings.missesBeforeEscalation) misses in a row, so offering a person"
            return Turn(
                outcome: .miss, messages: [settings.escalationMessage], quickReplies: [],
                actions: [.escalate(reason: .repeatedMisses)], state: next, captured: .none)
        }
        return Turn(
            outcome: .miss, messages: [settings.rephraseMessage], quickReplies: [], actions: [], state: next,
            captured: .none)
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
            guard index != winner else { continue }
            let name = "'\(intents[Int(terminal.intent)].id)' (pattern \"\(pattern.text)\")"
            let why: String
            let w = won.specificity
            if !eligible {
                why = "needs context \(intents[Int(terminal.intent)].requires) that the conversation does not have"
            } else if intentRequires[Int(won.intent)] != 0 && intentRequires[Int(terminal.intent)] == 0 {
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

    private func explainScores(_ trace: Trace, _ eligible: [Scorer.Candidate], queryMass: Double) {
        for candidate in eligible.prefix(5) {
            var contributions: [Explanation.Contribution] = []
            // Support, profile and coverage scale every shared word's share alike: the shares add up to the score.
            let factor = candidate.nearest > 0 ? Double(candidate.score / candidate.nearest) : 1
            for term in scorer.terms(of: candidate.document)
            where trace.explanation.normalized.contains(lexicon.terms.key(term)) {
                let weight =
                    2 * Double(scorer.weights[Int(term)]) * factor
                    / (queryMass + Double(scorer.documentMass[Int(candidate.document)]))
                contributions.append(Explanation.Contribution(word: lexicon.terms.key(term), weight: weight))
            }
            trace.explanation.scored.append(
                Explanation.ScoredCandidate(
                    intent: intents[Int(candidate.intent)].id, score: Double(candidate.score),
                    nearest: scorer.documentText[Int(candidate.document)],
                    source: scorer.documentIsExample[Int(candidate.document)] ? "example" : "pattern",
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
