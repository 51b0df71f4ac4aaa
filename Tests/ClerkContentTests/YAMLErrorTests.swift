import ClerkContent
import ClerkEngine
import Testing

private let file = "intents/fees.yaml"

private func problems(_ yaml: String) -> [ContentProblem] {
    ContentLoader.parseIntents(yaml: yaml, file: file).problems
}

private func at(_ line: Int, _ column: Int) -> ClerkEngine.SourceLocation {
    ClerkEngine.SourceLocation(file: file, line: line, column: column)
}

@Test func textWithColonIsAYAMLErrorWithLineAndColumnAndAHintAboutQuotes() {
    let found = problems("- id: fees\n  examples: [fees]\n  reply: Fees: 50 euro\n")
    #expect(found.count == 1)
    #expect(found.first?.location == at(3, 14))
    #expect(found.first?.message.hasPrefix("the YAML is not valid here: ") == true)
    #expect(found.first?.message.contains("put the whole text in quotes") == true)
    #expect(found.first?.description.hasPrefix("intents/fees.yaml:3:14: error: the YAML is not valid here") == true)
}

@Test func tabIndentationSaysToUseSpaces() {
    let found = problems("- id: a\n\treply: x\n")
    #expect(
        found == [
            ContentProblem(at(2, 1), "the YAML is not valid here: tabs cannot be used to indent: use spaces instead")
        ])
}

@Test func unclosedQuotePointsAtTheOpeningQuote() {
    let found = problems("- id: a\n  reply: \"Hello\n  examples: [x]\n")
    #expect(
        found == [
            ContentProblem(
                at(2, 10), "the YAML is not valid here: this quoted text is never closed: add the missing closing quote"
            )
        ])
}

@Test func textStartingWithASpecialCharacterSaysToQuoteIt() {
    let found = problems("- id: a\n  reply: x\n  patterns:\n    - @home\n")
    #expect(found.first?.location == at(4, 7))
    #expect(found.first?.message.contains("'@': put the whole text in quotes") == true)
}

@Test func controlCharacterIsReportedWhereItIs() {
    let found = problems("- id: a\n  reply: x\u{1}y\n")
    #expect(found.count == 1)
    #expect(found.first?.location == at(2, 11))
    #expect(found.first?.message.contains("U+0001") == true)
}

@Test func secondDocumentInAFileIsExplained() {
    let found = problems("- id: a\n  reply: x\n---\n- id: b\n")
    #expect(found.first?.location == at(3, 1))
    #expect(found.first?.message.contains("remove the extra '---' line") == true)
}

@Test func keyRepeatedSeveralTimesIsReportedAtEachRepeatWithTheFirstPlace() {
    let found = problems("- id: a\n  examples: [x]\n  reply: 1\n  reply: \"2\"\n  'reply': 3\n  reply: 4\n")
    let message = "'reply' is written twice here (first at line 3, column 3): keep only one"
    #expect(
        found == [
            ContentProblem(at(4, 3), message), ContentProblem(at(5, 3), message), ContentProblem(at(6, 3), message),
        ])
}

@Test func keyRepeatedInsideBracesIsStillReported() {
    let found = problems("- {id: a, reply: x, reply: y}\n")
    #expect(found.count == 1)
    #expect(found.first?.location == at(1, 11))
    #expect(found.first?.message.hasPrefix("'reply' is written more than once in the same place") == true)
}

@Test func columnsCountCharactersNotBytes() {
    let intents = ContentLoader.parseIntents(yaml: "- id: é\n  reply: \"ça va\"\n  examples: [ok]\n", file: file)
        .intents
    #expect(intents.first?.replies.first?.location == at(2, 11))
}

/// A small deterministic generator so a failing fuzz case can be reproduced.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private let validSample = """
    - id: passport.renew
      title: "Renew a passport"
      patterns:
        - "[how] [can|do] i (renew|extend) [my] passport *"
        - 'renew passport'
      examples: [I want a new passport]
      reply: |
        You can renew it online.
      context: [passport]
      priority: 2
    document: [passport, id card]
    answer_threshold: 0.7
    language: english
    """

@Test func randomInputNeverCrashesAndEveryProblemHasAPlace() {
    var random = SplitMix(state: 42)
    let pieces = [
        "- ", "id: ", "reply: ", "patterns:", "\n", "  ", "    ", "\t", ":", "\"", "'", "[", "]", "{", "}", ",", "#",
        "&a ", "*a", "!!str ", "|", ">", "---", "...", "?", "é", "\u{0}", "\u{1}", "\r\n", "\u{2028}", "\u{FEFF}",
        "x", "reply", "id", "a: b", "~", "null", "0.5", "-1", "\\", "%YAML 1.1\n", "<<: *a\n", "- id: a\n  reply: x\n",
        "  reply: y\n", "'reply': z\n", "\"id\": w\n",
    ]
    for round in 0..<600 {
        var yaml = ""
        switch round % 3 {
        case 0:
            for _ in 0..<Int.random(in: 1...40, using: &random) { yaml += pieces.randomElement(using: &random)! }
        case 1:
            let bytes = (0..<Int.random(in: 0...80, using: &random)).map { _ in
                UInt8.random(in: 0...255, using: &random)
            }
            yaml = String(decoding: bytes, as: UTF8.self)
        default:
            var scalars = Array(validSample.unicodeScalars)
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                let index = Int.random(in: 0..<scalars.count, using: &random)
                let piece = pieces.randomElement(using: &random)!.unicodeScalars
                switch Int.random(in: 0..<3, using: &random) {
                case 0: scalars.remove(at: index)
                case 1: scalars.insert(contentsOf: piece, at: index)
                default: scalars.replaceSubrange(index..<min(scalars.count, index + 3), with: piece)
                }
                if scalars.isEmpty { scalars = ["x"] }
            }
            yaml = String(String.UnicodeScalarView(scalars))
        }
        let all =
            ContentLoader.parseIntents(yaml: yaml, file: file).problems
            + ContentLoader.parseConcepts(yaml: yaml, file: file).problems
            + ContentLoader.parseSubstitutions(yaml: yaml, file: file).problems
            + ContentLoader.parseEngineSettings(yaml: yaml, file: file).problems
        for problem in all {
            #expect(problem.location.file == file)
            #expect(problem.location.line >= 1 && problem.location.column >= 1)
            #expect(!problem.message.isEmpty)
        }
    }
}
