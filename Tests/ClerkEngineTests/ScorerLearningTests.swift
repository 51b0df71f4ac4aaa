import ClerkContent
import ClerkEngine
import Testing

/// Two bank intents that share the words "credit" and "score", as public data sets have them.
private let bankIntents = """
    - id: credit_score
      examples:
        - what is my credit score
        - tell me my credit score
        - how good is my credit score right now
        - check my current credit score
      reply: "Your score is on the statement."
    - id: improve_credit_score
      examples:
        - how can i improve my credit score
        - what can i do to raise my credit score
        - help me get a better credit score
        - ways to boost my credit score
      reply: "Pay on time."
    - id: weather
      examples:
        - what is the weather like today
        - will it rain tomorrow
      reply: "Sunny."
    """

private let bank = Result { try brain(intents: bankIntents) }

@Test func anIntentWhoseExamplesAgreeBeatsOneLookAlikeExample() throws {
    let brain = try bank.get()
    let candidates = brain.candidates(for: "how do i raise my score")
    #expect(candidates.first?.intent == "improve_credit_score", "\(candidates)")
}

@Test func messageEqualToAnExampleStillScoresOneAmongSimilarIntents() throws {
    let brain = try bank.get()
    let best = try #require(brain.candidates(for: "tell me my credit score").first)
    #expect(best.intent == "credit_score")
    #expect(abs(best.score - 1) < 1e-6)
}

@Test func explanationSharesStillAddUpToTheConfidence() throws {
    let brain = try bank.get()
    let (_, explanation) = brain.explain("ways to get a better credit score")
    let best = try #require(explanation.scored.first)
    #expect(best.intent == "improve_credit_score")
    #expect(abs(best.contributions.map(\.weight).reduce(0, +) - best.score) < 1e-4)
    // Every shared word of the nearest example is shown, the telling ones first.
    #expect(best.contributions.first.map { ["better", "way", "get"].contains($0.word) } == true, "\(best)")
}
