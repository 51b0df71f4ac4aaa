import ClerkContent
import ClerkEngine
import Testing

// MARK: - Which pattern wins

private let lostIntents = """
    - id: lost.passport
      patterns: ["lost my passport"]
      reply: "Report your lost passport."
    - id: lost.document
      patterns: ["lost my ~document"]
      reply: "Report your lost {document}."
    - id: lost.anything
      patterns: ["lost my *"]
      reply: "Ask the lost and found about your {1}."
    """

private let documents = "document: [passport, id card]"

@Test func literalWordBeatsConceptAndWildcard() throws {
    let brain = try brain(intents: lostIntents, concepts: documents)
    let (turn, explanation) = brain.explain("lost my passport")
    #expect(turn.intent == "lost.passport")
    #expect(Set(explanation.patternMatches.map(\.intent)) == ["lost.passport", "lost.document", "lost.anything"])
    #expect(
        explanation.runnersUp.sorted() == [
            "'lost.anything' (pattern \"lost my *\") lost: fewer literal words (2 < 3)",
            "'lost.document' (pattern \"lost my ~document\") lost: fewer literal words (2 < 3)",
        ])
}

@Test func conceptBeatsWildcard() throws {
    let brain = try brain(intents: lostIntents, concepts: documents)
    let (turn, explanation) = brain.explain("lost my id card")
    #expect(turn.intent == "lost.document")
    #expect(turn.messages == ["Report your lost id card."])
    #expect(
        explanation.runnersUp == [
            "'lost.anything' (pattern \"lost my *\") lost: fewer concepts or typed captures (0 < 1)"
        ])
}

@Test func wildcardCatchesWhatNothingMoreSpecificCovers() throws {
    let brain = try brain(intents: lostIntents, concepts: documents)
    let turn = brain.reply(to: "lost my umbrella", in: ConversationState())
    #expect(turn.intent == "lost.anything")
    #expect(turn.messages == ["Ask the lost and found about your umbrella."])
}

@Test func patternWithMoreLiteralWordsWins() throws {
    let brain = try brain(
        intents: """
            - id: general
              patterns: ["how much *"]
              reply: "It depends."
            - id: specific
              patterns: ["how much is a *"]
              reply: "Prices are on the website."
            """)
    let (turn, explanation) = brain.explain("how much is a passport")
    #expect(turn.intent == "specific")
    #expect(explanation.runnersUp == ["'general' (pattern \"how much *\") lost: fewer literal words (2 < 4)"])
}

@Test func fewerWildcardsWinWhenLiteralWordsAreEqual() throws {
    let brain = try brain(
        intents: """
            - id: two.wildcards
              patterns: ["* passport *"]
              reply: "Two."
            - id: one.wildcard
              patterns: ["* lost"]
              reply: "One."
            """)
    let (turn, explanation) = brain.explain("my passport is lost")
    #expect(turn.intent == "one.wildcard")
    #expect(explanation.runnersUp == ["'two.wildcards' (pattern \"* passport *\") lost: more wildcards (2 > 1)"])
}

@Test func higherPriorityBreaksATieBetweenEquallySpecificPatterns() throws {
    let brain = try brain(
        intents: """
            - id: first
              patterns: ["help me *"]
              reply: "First."
            - id: urgent
              priority: 5
              patterns: ["help me *"]
              reply: "Urgent."
            """)
    let (turn, explanation) = brain.explain("help me please")
    #expect(turn.intent == "urgent")
    #expect(explanation.runnersUp == ["'first' (pattern \"help me *\") lost: lower priority (0 < 5)"])
}

@Test func patternWrittenFirstWinsAnExactTie() throws {
    let brain = try brain(
        intents: """
            - id: first
              patterns: ["help me *"]
              reply: "First."
            - id: second
              patterns: ["help me *"]
              reply: "Second."
            """)
    let (turn, explanation) = brain.explain("help me please")
    #expect(turn.intent == "first")
    #expect(
        explanation.runnersUp == [
            "'second' (pattern \"help me *\") lost: equally specific, but written later in the content"
        ])
}

@Test func priorityDoesNotOutweighMoreLiteralWords() throws {
    let brain = try brain(
        intents: """
            - id: loud
              priority: 100
              patterns: ["passport *"]
              reply: "Loud."
            - id: precise
              patterns: ["passport fee *"]
              reply: "Precise."
            """)
    #expect(brain.reply(to: "passport fee for children", in: ConversationState()).intent == "precise")
}

// MARK: - Context

private let contextIntents = """
    - id: passport.renew
      patterns: ["renew my passport"]
      context: passport
      reply: "Renew online."
    - id: passport.cost
      requires: passport
      patterns: ["how much does it cost"]
      reply: "A passport costs 35 euro."
    - id: general.cost
      patterns: ["how much does * cost"]
      reply: "Which service do you mean?"
    - id: hours
      patterns: ["opening hours"]
      reply: "Nine to five."
    """

@Test func followUpQuestionIsOnlyAnsweredAfterTheIntentThatSetsItsContext() throws {
    let brain = try brain(intents: contextIntents)
    let cold = brain.explain("how much does it cost")
    #expect(cold.0.intent == "general.cost")
    let blocked = try #require(cold.1.patternMatches.first { $0.intent == "passport.cost" })
    #expect(!blocked.eligible)
    #expect(
        cold.1.runnersUp.contains {
            $0.hasPrefix("'passport.cost' (pattern \"how much does it cost\") lost: needs context [\"passport\"]")
        })

    let turns = converse(brain, ["renew my passport", "how much does it cost"])
    #expect(turns[0].state.context == ["passport"])
    #expect(turns[1].intent == "passport.cost")
    #expect(turns[1].messages == ["A passport costs 35 euro."])
}

@Test func contextBoundFollowUpBeatsAMoreSpecificGeneralPattern() throws {
    let brain = try brain(
        intents: """
            - id: passport.renew
              patterns: ["renew my passport"]
              context: passport
              reply: "Renew online."
            - id: passport.cost
              requires: passport
              patterns: ["how much *"]
              reply: "A passport costs 35 euro."
            - id: general.cost
              patterns: ["how much does it cost"]
              reply: "Which service do you mean?"
            """)
    var state = ConversationState()
    state.context = ["passport"]
    let (turn, explanation) = brain.explain("how much does it cost", in: state)
    #expect(turn.intent == "passport.cost")
    #expect(
        explanation.runnersUp == [
            "'general.cost' (pattern \"how much does it cost\") lost: the winner follows up on the conversation's context"
        ])
}

@Test func contextIsReplacedByTheNextAnswer() throws {
    let brain = try brain(intents: contextIntents)
    let turns = converse(brain, ["renew my passport", "opening hours", "how much does it cost"])
    #expect(turns[1].state.context == [])
    #expect(turns[2].intent == "general.cost")
}

@Test func followUpIsNotReachedByItsExamplesWithoutContext() throws {
    let brain = try brain(
        intents: """
            - id: passport.renew
              patterns: ["renew my passport"]
              context: passport
              reply: "Renew online."
            - id: passport.cost
              requires: passport
              examples: ["and what does that cost then"]
              reply: "A passport costs 35 euro."
            """)
    let cold = brain.reply(to: "and what does that cost then", in: ConversationState())
    #expect(cold.intent == nil)
    let warm = converse(brain, ["renew my passport", "and what does that cost then"])
    #expect(warm[1].intent == "passport.cost")
    #expect(warm[1].evidence == .examples)
}
