import ClerkContent
import ClerkEngine
import Testing

private let policyIntents = """
    - id: passport.children
      title: Passport fee for children
      examples: ["passport fee for children"]
      reply: "20 euro for children."
    - id: passport.adults
      title: Passport fee for adults
      examples: ["passport fee for adults"]
      reply: "35 euro for adults."
    - id: passport.renew
      title: Renew a passport
      patterns: ["renew my passport"]
      examples: ["i want to renew my passport"]
      reply: "Renew online."
    - id: hours
      title: Opening hours
      patterns: ["what are the opening hours"]
      reply: "Nine to five."
    - id: human
      title: Talk to a person
      action: escalate
      patterns: ["talk to a person"]
      reply: "Passing you to a colleague."
    - id: greeting
      patterns: ["hello"]
      reply:
        - "Hello!"
        - "Hi there!"
        - "Good day!"
    """

private let policyBrain = Result { try brain(intents: policyIntents) }

// MARK: - Answers

@Test func messageCoveredByAPatternIsAnsweredWithFullConfidence() throws {
    let brain = try policyBrain.get()
    let turn = brain.reply(to: "Renew my passport", in: ConversationState())
    #expect(turn.outcome == .answer(intent: "passport.renew", confidence: 1, via: .pattern))
    #expect(turn.messages == ["Renew online."])
    #expect(turn.actions.isEmpty)
    #expect(turn.state.lastIntent == "passport.renew")
    #expect(turn.state.turnCount == 1)
}

@Test func messageCloseToAnExampleIsAnsweredFromExamples() throws {
    let brain = try policyBrain.get()
    let (turn, explanation) = brain.explain("i really want to renew my passport")
    #expect(turn.intent == "passport.renew")
    #expect(turn.evidence == .examples)
    let confidence = try #require(turn.confidence)
    #expect(confidence >= brain.settings.answerThreshold && confidence < 1)
    #expect(explanation.outcome == "answer")
}

@Test func sameMessageInTheSameStateGetsTheSameReply() throws {
    let brain = try policyBrain.get()
    let first = brain.reply(to: "i really want to renew my passport", in: ConversationState())
    let second = brain.reply(to: "i really want to renew my passport", in: ConversationState())
    #expect(first.outcome == second.outcome)
    #expect(first.messages == second.messages)
    #expect(first.state == second.state)
}

// MARK: - Clarifying questions

@Test func twoCloseIntentsAreOfferedAsQuickReplies() throws {
    let brain = try policyBrain.get()
    let (turn, explanation) = brain.explain("passport fee")
    #expect(turn.outcome == .clarify(["passport.children", "passport.adults"]))
    #expect(turn.messages == ["Did you mean “Passport fee for children” or “Passport fee for adults”?"])
    #expect(turn.quickReplies == ["Passport fee for children", "Passport fee for adults"])
    #expect(turn.state.pendingChoices == ["passport.children", "passport.adults"])
    #expect(explanation.outcome == "clarify")
    #expect(explanation.reason.contains("too close to the next one"))
    #expect(explanation.runnersUp.first?.hasPrefix("'passport.adults' scored") == true)
}

@Test func oneIntentBelowTheAnswerThresholdIsOfferedAlone() throws {
    let brain = try brain(
        intents: """
            - id: passport.renew
              title: Renew a passport
              examples: ["i want to renew my passport"]
              reply: "Renew online."
            - id: hours
              examples: ["what are the opening hours"]
              reply: "Nine to five."
            - id: parking
              examples: ["where can i park my car"]
              reply: "Behind the town hall."
            """)
    let (turn, explanation) = brain.explain("renew passport")
    #expect(turn.outcome == .clarify(["passport.renew"]))
    #expect(turn.messages == ["Did you mean “Renew a passport”?"])
    #expect(turn.quickReplies == ["Renew a passport"])
    #expect(explanation.reason.contains("below the answer threshold"))
}

@Test func messageNearAPatternButNotCoveredByItGetsAQuestionNotAnAnswer() throws {
    let brain = try policyBrain.get()
    let (turn, explanation) = brain.explain("what are the opening hours today")
    #expect(turn.outcome == .clarify(["hours"]))
    #expect(explanation.reason == "closest to a pattern, but patterns need the whole message to match; asking instead")
}

@Test(arguments: [
    ("1", "passport.children"), ("2", "passport.adults"), ("Passport fee for adults", "passport.adults"),
    ("passport FEE for children!", "passport.children"),
])
func optionIsPickedByItsNumberOrItsTitle(_ pick: String, _ intent: String) throws {
    let brain = try policyBrain.get()
    let turns = converse(brain, ["passport fee", pick])
    #expect(turns[1].outcome == .answer(intent: intent, confidence: 1, via: .choice))
    #expect(turns[1].state.pendingChoices.isEmpty)
}

@Test func numberOutsideTheOptionsIsNotAPick() throws {
    let brain = try policyBrain.get()
    let turns = converse(brain, ["passport fee", "3"])
    #expect(turns[1].evidence != .choice)
}

@Test func optionNumberMeansNothingWithoutAQuestion() throws {
    let brain = try policyBrain.get()
    #expect(brain.reply(to: "1", in: ConversationState()).isMiss)
}

// MARK: - Misses and handover

@Test func firstMissAsksToRephrase() throws {
    let brain = try policyBrain.get()
    let (turn, explanation) = brain.explain("zzxq blorf")
    #expect(turn.isMiss)
    #expect(turn.messages == [PolicySettings().rephraseMessage])
    #expect(turn.actions.isEmpty)
    #expect(turn.state.consecutiveMisses == 1)
    #expect(explanation.outcome == "miss")
}

@Test func secondMissInARowOffersAPersonAndYesHandsOver() throws {
    let brain = try policyBrain.get()
    let turns = converse(brain, ["zzxq blorf", "still blorf", "yes"])
    #expect(turns[1].isMiss)
    #expect(turns[1].actions.isEmpty)
    #expect(turns[1].messages == [PolicySettings().escalationMessage])
    #expect(turns[1].quickReplies == ["Yes", "No"])
    #expect(turns[1].state.consecutiveMisses == 0)
    #expect(turns[2].outcome == .handoff(accepted: true))
    #expect(turns[2].actions == [.escalate(reason: .repeatedMisses)])
    #expect(turns[2].messages == [PolicySettings().handoffMessage])
}

@Test func noToTheHandoverQuestionKeepsTheBotAnswering() throws {
    let brain = try policyBrain.get()
    let turns = converse(brain, ["talk to a person", "no thanks", "hello"])
    #expect(turns[1].outcome == .handoff(accepted: false))
    #expect(turns[1].actions.isEmpty)
    #expect(turns[1].messages == [PolicySettings().declinedMessage])
    #expect(turns[2].intent == "greeting")
}

@Test func anotherQuestionInsteadOfYesIsAnsweredAndNothingIsHandedOver() throws {
    let brain = try policyBrain.get()
    let turns = converse(brain, ["talk to a person", "hello"])
    #expect(turns[1].intent == "greeting")
    #expect(turns[1].actions.isEmpty)
    #expect(turns[1].state.pendingHandoff == nil)
}

@Test func answerBetweenTwoMissesStartsTheCountAgain() throws {
    let brain = try policyBrain.get()
    let turns = converse(brain, ["zzxq blorf", "hello", "still blorf"])
    #expect(turns[2].isMiss)
    #expect(turns[2].actions.isEmpty)
    #expect(turns[2].messages == [PolicySettings().rephraseMessage])
}

@Test func handoverWaitsForTheConfiguredNumberOfMisses() throws {
    var settings = PolicySettings()
    settings.missesBeforeEscalation = 3
    settings.rephraseMessage = "Pardon?"
    settings.escalationMessage = "Let me fetch a colleague."
    let brain = try brain(intents: policyIntents, settings: settings)
    let turns = converse(brain, ["blorf", "blorf blorf", "blorf blorf blorf"])
    #expect(turns.map(\.messages) == [["Pardon?"], ["Pardon?"], ["Let me fetch a colleague."]])
    #expect(turns.map(\.state.pendingHandoff) == [nil, nil, .repeatedMisses])
}

@Test func askingForAPersonAsksForConsentFirst() throws {
    let brain = try policyBrain.get()
    let turns = converse(brain, ["talk to a person", "yes please"])
    #expect(turns[0].intent == "human")
    #expect(turns[0].actions.isEmpty)
    #expect(turns[0].messages == ["Passing you to a colleague."])
    #expect(turns[0].quickReplies == ["Yes", "No"])
    #expect(turns[1].actions == [.escalate(reason: .requested)])
}

@Test func handoverIntentWithoutReplyAsksTheConsentQuestion() throws {
    let brain = try brain(
        intents: """
            - id: human
              action: escalate
              patterns: ["operator"]
            """)
    let turn = brain.reply(to: "operator", in: ConversationState())
    #expect(turn.actions.isEmpty)
    #expect(turn.messages == [PolicySettings().consentMessage])
    #expect(turn.state.pendingHandoff == .requested)
}

@Test func safeguardingTopicHandsOverAtOnceWithTheEmergencyMessage() throws {
    let brain = try brain(
        intents: """
            - id: danger
              action: escalate
              safeguarding: true
              patterns: ["* hits me"]
              reply: "A person will contact you now."
            """)
    let turn = brain.reply(to: "my partner hits me", in: ConversationState())
    #expect(turn.actions == [.escalate(reason: .safeguarding)])
    #expect(turn.messages == [PolicySettings().emergencyMessage, "A person will contact you now."])
}

// MARK: - Reply variants

@Test func replyVariantsRotateWithTheTurnCount() throws {
    let brain = try policyBrain.get()
    let turns = converse(brain, ["hello", "hello", "hello", "hello"])
    #expect(turns.map(\.messages) == [["Hello!"], ["Hi there!"], ["Good day!"], ["Hello!"]])
}

@Test func replyVariantDependsOnTurnsTakenNotOnTimesAnswered() throws {
    let brain = try policyBrain.get()
    var state = ConversationState()
    state.turnCount = 7
    #expect(brain.reply(to: "hello", in: state).messages == ["Hi there!"])
}

// MARK: - Served and explained turns agree

/// The parts of a turn a citizen or the service around the engine sees.
private func visible(_ turn: Turn) -> [AnyHashable] {
    [
        turn.outcome, turn.messages, turn.quickReplies, turn.actions, turn.state, turn.captures, turn.service,
        turn.slots, turn.links, turn.matchedIntent,
    ]
}

@Test func aServedTurnIsTheTurnItsExplanationDescribes() throws {
    let brain = try policyBrain.get()
    var states = [ConversationState()]
    var later = ConversationState()
    later.turnCount = 7
    later.context = ["passport"]
    later.lastIntent = "hours"
    later.consecutiveMisses = 1
    states.append(later)
    for start in states {
        // One conversation through answers by pattern and by example, a question, a pick and a miss.
        var state = start
        for message in [
            "renew my passport", "hello", "passport fee", "1", "hello", "zzxq blorf", "what are the opening hours",
            "i want to renew my passport", "talk to a person", "hello",
        ] {
            let served = brain.reply(to: message, in: state)
            let (explained, _) = brain.explain(message, in: state)
            #expect(visible(served) == visible(explained), "\(message)")
            state = served.state
        }
    }
}
