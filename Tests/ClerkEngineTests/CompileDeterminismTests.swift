import ClerkContent
import Testing

@testable import ClerkEngine

/// Intents using every pattern feature (optional words, alternatives of words and of mixed elements, nested
/// groups, wildcards inside groups, concepts and typed captures), more of them than one chunk of the compiler's
/// parse-ahead holds, so every thread the compiler uses takes part.
private func manyIntents(_ count: Int) -> String {
    (0..<count).map { n in
        """
        - id: intent-\(n)
          patterns:
            - "[how] [can|do] i (renew|extend) [my] passport number \(n) *"
            - "* lost [my|the] ~document near {p:postcode} case \(n)"
            - "(book|make) [an|the (new|next)] appointment on {d:date} for case \(n) *"
            - "(tell me about * please|explain *) topic \(n)"
          examples: ["renew passport number \(n)", "lost my passport case \(n)"]
          reply: "Answer \(n): {1}"
        """
    }.joined(separator: "\n")
}

private let manyIntentsSource = source(intents: manyIntents(520), concepts: "document: [passport, id card]")

/// Everything the compiler builds that a turn reads, as comparable values.
private func tables(_ brain: Brain) -> [String] {
    let trie = brain.trie
    let lexicon = brain.lexicon
    return [
        "\(trie.arena)", "\(trie.nodeCount)", "\(trie.captureLayouts)",
        "\(trie.terminals.map { [$0.intent, $0.pattern, $0.captureLayout] })",
        "\(trie.terminals.map { [$0.specificity.literalWords, $0.specificity.typedElements, $0.specificity.wildcards] })",
        "\(trie.extras.map { [$0.conceptStart, $0.conceptCount, $0.slotStart, $0.slotCount] })",
        "\(trie.conceptEdges.map { [$0.concept, $0.child] })", "\(trie.slotEdges.map { "\($0.type) \($0.child)" })",
        "\((0..<lexicon.surfaces.count).map { lexicon.surfaces.key(Int32($0)) })", "\(lexicon.surfaceTerm)",
        "\((0..<lexicon.terms.count).map { lexicon.terms.key(Int32($0)) })",
        "\(brain.scorer.documentTerms)",
        "\(brain.scorer.documentInfo.map { "\($0.termStart) \($0.termEnd) \($0.mass) \($0.intent) \($0.isExample)" })",
        "\(brain.scorer.postings)", "\(brain.scorer.postingMasses)",
        "\(brain.scorer.weights)", "\(brain.patterns.map(\.text))",
    ]
}

@Test func compilingTheSameContentAgainGivesTheSameBrainWhateverTheThreadsDid() throws {
    let first = try #require(Brain.compile(manyIntentsSource).brain)
    #expect(first.statistics.intents == 520)
    let expected = tables(first)
    for _ in 0..<2 {
        let again = try #require(Brain.compile(manyIntentsSource).brain)
        #expect(tables(again) == expected)
    }
}

@Test(
    arguments: [
        ("how can i renew my passport number 3 today", "intent-3", ["1": "today"]),
        ("do i extend passport number 450 before May", "intent-450", ["1": "before May"]),
        (
            "I have lost the id card near 12345 case 299", "intent-299",
            ["1": "I have", "document": "id card", "p": "12345"]
        ),
        (
            "make the next appointment on Friday for case 512 please", "intent-512",
            ["d": "Friday", "1": "please"]
        ),
        ("tell me about fees please topic 519", "intent-519", ["1": "fees"]),
        ("explain fees topic 0", "intent-0", ["1": "fees"]),
    ])
func everyIntentOfALargeBrainAnswersItsOwnPatterns(
    _ message: String, _ intent: String, _ captures: [String: String]
)
    throws
{
    let brain = try #require(Brain.compile(manyIntentsSource).brain)
    let turn = brain.reply(to: message, in: ConversationState())
    #expect(turn.outcome == .answer(intent: intent, confidence: 1, via: .pattern))
    #expect(turn.captures == captures)
}
