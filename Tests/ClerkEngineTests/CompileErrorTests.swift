import ClerkContent
import ClerkEngine
import Foundation
import Testing

private func at(_ line: Int, _ column: Int, _ file: String = "intents/test.yaml") -> ClerkEngine.SourceLocation {
    ClerkEngine.SourceLocation(file: file, line: line, column: column)
}

/// Compiles inline intents that are expected to have problems (the YAML itself must parse cleanly).
private func compileProblems(
    _ intents: String, concepts: String = "", sourceLocation: Testing.SourceLocation = #_sourceLocation
) -> (brain: Brain?, problems: [ContentProblem]) {
    Brain.compile(source(intents: intents, concepts: concepts, sourceLocation: sourceLocation))
}

@Test(
    arguments: [
        // The quoted text starts at column 8 on a "    - \"…\"" line.
        ("renew (passport", 23, "missing ')'"),
        ("renew|extend passport", 13, "'|' separates alternatives"),
        ("on {when:dates}", 17, "unknown capture type 'dates'"),
        ("pásspört }", 17, "'}' without a matching '{'"),
    ])
func badPatternSyntaxPointsAtTheColumnInsideTheQuotedPattern(_ pattern: String, _ column: Int, _ start: String) {
    let (brain, problems) = compileProblems(
        """
        - id: broken
          patterns:
            - "\(pattern)"
          reply: "ok"
        """)
    #expect(brain == nil)
    #expect(problems.count == 1)
    #expect(problems.first?.location == at(3, column))
    #expect(problems.first?.severity == .error)
    #expect(problems.first?.message.hasPrefix(start) == true, "\(problems)")
    #expect(problems.first?.description.hasPrefix("intents/test.yaml:3:\(column): error: \(start)") == true)
}

@Test func badPatternInAPlainFlowListPointsAtItsColumn() {
    let (_, problems) = compileProblems(
        """
        - id: broken
          patterns: [renew (passport]
          reply: "ok"
        """)
    #expect(problems.map(\.location) == [at(2, 29)])
}

@Test func unknownConceptIsReportedAtThePatternAndNamesTheKnownOnes() {
    let (brain, problems) = compileProblems(
        """
        - id: lost
          patterns: ["i lost my ~documnt"]
          reply: "ok"
        """, concepts: "document: [passport]")
    #expect(brain == nil)
    #expect(
        problems == [
            ContentProblem(
                at(2, 15), "unknown concept '~documnt'; define it in intents/concepts.yaml (known: document)")
        ])
}

@Test func patternWithTooManyCombinationsIsReportedWhileTheOtherPatternsStillCompile() {
    // Eleven optional words: 2,048 combinations, over the limit of 1,024.
    let (brain, problems) = compileProblems(
        """
        - id: renew
          patterns: ["[a] [b] [c] [d] [e] [f] [g] [h] [i] [j] [k] renew", "renew passport"]
          reply: "ok"
        - id: lost
          patterns: ["lost ~documnt"]
          reply: "ok"
        """, concepts: "document: [passport]")
    #expect(brain == nil)
    #expect(
        problems == [
            ContentProblem(
                at(2, 15),
                "this pattern has more than 1024 combinations of optional words and alternatives; "
                    + "split it into several patterns or use a concept"),
            ContentProblem(
                at(5, 15), "unknown concept '~documnt'; define it in intents/concepts.yaml (known: document)"),
        ])
}

@Test func syntaxErrorsFarApartInLargeContentAreAllReportedInOrder() {
    // Patterns are parsed in chunks of intents, ahead of the rest of the compiler: every chunk is reported.
    let broken: Set<Int> = [0, 300, 699]
    let intents = (0..<700).map { number in
        let pattern = broken.contains(number) ? "renew (passport" : "renew passport number \(number)"
        return "- id: i\(number)\n  patterns: [\"\(pattern)\"]\n  reply: \"ok\""
    }
    let (brain, problems) = compileProblems(intents.joined(separator: "\n"))
    #expect(brain == nil)
    #expect(problems.map(\.location) == broken.sorted().map { at(3 * $0 + 2, 30) })
    #expect(problems.allSatisfy { $0.message.hasPrefix("missing ')'") })
}

@Test func wordsSeparatedBySeveralSpacesOrTabsReadAsTheWordsAlone() throws {
    #expect(try Pattern.parse("how   much\tis  it *").elements == [.word("how much is it"), .wildcard])
    #expect(
        try Pattern.parse("(driving  license|id\tcard)").elements == [
            .group([[.word("driving license")], [.word("id card")]], optional: false)
        ])
}

@Test func replyPlaceholderThatNoPatternCapturesIsAnError() {
    let (brain, problems) = compileProblems(
        """
        - id: appointment
          patterns: ["book on {when:date}", "book *"]
          reply: "Booked for {day}."
        """)
    #expect(brain == nil)
    #expect(problems.count == 1)
    #expect(problems.first?.location == at(3, 11))
    #expect(
        problems.first?.message
            == "the reply uses {day}, but no pattern of 'appointment' captures a value by that name "
            + "(captured here: 1, when)")
}

@Test func brokenReplyTemplatePointsAtTheBrace() {
    let (brain, problems) = compileProblems(
        """
        - id: greeting
          patterns: ["hello"]
          reply: "Hello {name"
        """)
    #expect(brain == nil)
    #expect(problems.map(\.location) == [at(3, 17)])
    #expect(problems.first?.message.hasPrefix("'{' is never closed") == true)
}

@Test func duplicateIntentIdAcrossFilesIsAnErrorNamingTheFirst() throws {
    let first = ContentLoader.parseIntents(
        yaml: "- id: hours\n  patterns: [opening hours]\n  reply: A\n", file: "intents/a.yaml")
    let second = ContentLoader.parseIntents(
        yaml: "- id: other\n  patterns: [other]\n  reply: B\n- id: hours\n  patterns: [hours]\n  reply: C\n",
        file: "intents/b.yaml")
    #expect(first.problems.isEmpty && second.problems.isEmpty)
    let (brain, problems) = Brain.compile(BrainSource(intents: first.intents + second.intents))
    #expect(brain == nil)
    #expect(
        problems == [
            ContentProblem(
                at(4, 7, "intents/b.yaml"), "duplicate intent id 'hours' (first defined at intents/a.yaml:1:7)")
        ])
}

@Test func duplicateIntentIdAfterHundredsOfIntentsIsTheOnlyNewProblemReported() {
    // 256 intents in one file, the second with a broken pattern; the next file starts by repeating the first id.
    // Each problem is reported once, at its own line: the intents after the duplicate are read with their own
    // patterns.
    func yaml(_ numbers: Range<Int>) -> String {
        numbers.map { n in
            let id = n == 256 ? "intent-0" : "intent-\(n)"
            let pattern = n == 1 ? "renew (passport" : "topic \(n)"
            return "- id: \(id)\n  patterns: [\"\(pattern)\"]\n  reply: \"ok\""
        }.joined(separator: "\n")
    }
    let first = ContentLoader.parseIntents(yaml: yaml(0..<256), file: "intents/a.yaml")
    let second = ContentLoader.parseIntents(yaml: yaml(256..<300), file: "intents/b.yaml")
    #expect(first.problems.isEmpty && second.problems.isEmpty)
    let (brain, problems) = Brain.compile(BrainSource(intents: first.intents + second.intents))
    #expect(brain == nil)
    #expect(problems.map(\.location) == [at(5, 30, "intents/a.yaml"), at(1, 7, "intents/b.yaml")], "\(problems)")
}

@Test func everyErrorIsReportedAtOnceInFileOrder() {
    let (brain, problems) = compileProblems(
        """
        - id: one
          patterns: ["renew (passport"]
          reply: "ok"
        - id: two
          patterns: ["lost my ~nothing"]
          reply: "ok"
        - id: three
          patterns: ["book *"]
          reply: "Booked for {when}."
        - id: four
          patterns: ["on {d:dat}"]
          reply: "ok"
        """)
    #expect(brain == nil)
    #expect(problems.map(\.location.line) == [2, 5, 9, 11])
    #expect(problems.allSatisfy { $0.severity == .error })
}

@Test func unknownLanguageIsAnError() {
    var content = source(intents: "- id: a\n  patterns: [hello]\n  reply: Hi\n")
    content.language = "klingon"
    let (brain, problems) = Brain.compile(content)
    #expect(brain == nil)
    #expect(problems.map(\.message) == ["unknown language 'klingon'"])
}

@Test func thresholdsOutOfOrderAreAnError() {
    var settings = PolicySettings()
    settings.clarifyThreshold = 0.9
    settings.answerThreshold = 0.5
    let content = source(intents: "- id: a\n  patterns: [hello]\n  reply: Hi\n", settings: settings)
    let (brain, problems) = Brain.compile(content)
    #expect(brain == nil)
    #expect(problems.first?.location.file == "config/engine.yaml")
}

@Test func intentWithoutPatternsExamplesOrReplyIsAnError() {
    let (brain, problems) = Brain.compile(
        BrainSource(intents: [IntentDefinition(id: Located("empty", at: at(1, 7)))]))
    #expect(brain == nil)
    #expect(
        Set(problems.map(\.message)) == [
            "intent 'empty' has no patterns and no examples, so nothing can reach it", "intent 'empty' has no reply",
        ])
}

@Test func cleanContentCompilesWithStatistics() throws {
    let brain = try brain(
        intents: """
            - id: fee
              patterns: ["how much is [a] passport"]
              examples: ["passport price"]
              reply: "35 euro."
            """)
    #expect(brain.intentIDs == ["fee"])
    #expect(brain.hasIntent("fee"))
    #expect(!brain.hasIntent("nope"))
    #expect(brain.statistics.intents == 1)
    #expect(brain.statistics.patterns == 1)
    #expect(brain.statistics.paths == 2)
}

// MARK: - The neutral benchmark format

@Test func neutralBenchmarkBrainLoadsAndAnswers() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clerk-neutral-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("brain.json")
    try Data(
        """
        [
          {"id": "fee", "patterns": [["how", "much", "is", "[a]", "passport"], ["passport", "fee", "*"]],
           "reply": "It costs {35} euro"},
          {"id": "help", "patterns": [["[please]", "help", "me"]], "reply": "Sure"}
        ]
        """.utf8
    ).write(to: file)
    let source = try NeutralBrain.load(file)
    #expect(source.intents.map(\.id.value) == ["fee", "help"])
    #expect(source.intents[0].patterns.map(\.value) == ["how much is [a] passport", "passport fee *"])
    #expect(source.intents[0].id.location.file == "brain.json")
    let (compiled, problems) = Brain.compile(source)
    #expect(problems.isEmpty)
    let brain = try #require(compiled)
    let fee = brain.reply(to: "how much is a passport", in: ConversationState())
    #expect(fee.intent == "fee")
    #expect(fee.messages == ["It costs {35} euro"])
    #expect(brain.reply(to: "passport fee for kids", in: ConversationState()).intent == "fee")
    #expect(brain.reply(to: "please help me", in: ConversationState()).intent == "help")
    #expect(brain.reply(to: "help me", in: ConversationState()).intent == "help")
}

@Test func neutralBrainThatIsNotJSONThrows() throws {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("clerk-neutral-\(UUID().uuidString).json")
    try Data("not json".utf8).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    #expect(throws: (any Error).self) { try NeutralBrain.load(file) }
}
