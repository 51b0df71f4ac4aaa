import ClerkContent
import ClerkEngine
import Testing

private let examplesOnly = """
    - id: passport.renew
      examples: ["i want to renew my passport"]
      reply: "Renew online."
    - id: hours
      examples: ["what are the opening hours of the office"]
      reply: "Nine to five."
    - id: parking
      examples: ["where can i park my car"]
      reply: "Behind the town hall."
    """

private let scorerBrain = Result { try brain(intents: examplesOnly) }

private func score(_ brain: Brain, _ message: String, for intent: String) -> Double {
    brain.candidates(for: message).first { $0.intent == intent }?.score ?? 0
}

@Test func messageEqualToAnExampleScoresOne() throws {
    let brain = try scorerBrain.get()
    let best = try #require(brain.candidates(for: "I want to renew my passport").first)
    #expect(best.intent == "passport.renew")
    #expect(abs(best.score - 1) < 1e-6)
}

@Test func addingAWordSharedWithTheExampleRaisesTheScore() throws {
    let brain = try scorerBrain.get()
    let steps = ["passport", "renew passport", "renew my passport", "want to renew my passport"]
    let scores = steps.map { score(brain, $0, for: "passport.renew") }
    for (lower, higher) in zip(scores, scores.dropFirst()) {
        #expect(lower < higher, "\(scores)")
    }
}

@Test(arguments: ["renew my passport banana", "renew my passport hours", "renew my passport quickly today"])
func addingAnUnrelatedWordLowersTheScore(_ longer: String) throws {
    let brain = try scorerBrain.get()
    #expect(score(brain, longer, for: "passport.renew") < score(brain, "renew my passport", for: "passport.renew"))
}

@Test(arguments: [
    "renew", "hours", "park", "renew hours park", "banana", "what", "i want to renew my passport and park my car",
])
func everyScoreLiesBetweenZeroAndOne(_ message: String) throws {
    let brain = try scorerBrain.get()
    for candidate in brain.candidates(for: message) {
        #expect((0...1).contains(candidate.score), "\(candidate)")
    }
}

@Test func candidatesAreBestFirstAndLimited() throws {
    let brain = try scorerBrain.get()
    let candidates = brain.candidates(for: "renew my passport and park my car at the office")
    #expect(candidates.map(\.score) == candidates.map(\.score).sorted(by: >))
    #expect(brain.candidates(for: "renew my passport and park my car at the office", limit: 1).count == 1)
}

@Test func messageOfUnknownWordsHasNoCandidates() throws {
    let brain = try scorerBrain.get()
    #expect(brain.candidates(for: "zzxq blorf").isEmpty)
    #expect(brain.candidates(for: "").isEmpty)
}

@Test func explanationShowsTheNearestExampleAndEachSharedWord() throws {
    let brain = try scorerBrain.get()
    let (turn, explanation) = brain.explain("i want to renew my passport today")
    #expect(turn.intent == "passport.renew")
    #expect(turn.evidence == .examples)
    let best = try #require(explanation.scored.first)
    #expect(best.intent == "passport.renew")
    #expect(best.nearest == "i want to renew my passport")
    #expect(best.source == "example")
    #expect(Set(best.contributions.map(\.word)).isSuperset(of: ["renew", "passport"]))
    #expect(abs(best.contributions.map(\.weight).reduce(0, +) - best.score) < 1e-4)
    #expect(explanation.reason.hasPrefix("closest examples score"))
}
