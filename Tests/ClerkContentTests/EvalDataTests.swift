import ClerkContent
import ClerkEngine
import Foundation
import Testing

// MARK: - JSON lines

@Test func labelledLinesAreReadWithTheirLineNumbers() throws {
    let text = """
        {"text": "how much is a passport", "intent": "passport.fee"}

        {"text": "is it going to rain", "intent": "oos"}
        """
    let lines = try JSONLines.parse(text, file: "train.jsonl")
    #expect(lines.map(\.intent) == ["passport.fee", "oos"])
    #expect(lines.map(\.location.line) == [1, 3])
    #expect(lines[1].isOutOfScope)
}

@Test(arguments: [
    ("{\"text\": \"a\", \"intent\": \"x\"}\n{\"text\": \"b\", \"intent\": \"x\"\n", "data.jsonl:2: not valid JSON"),
    ("{\"text\": \"a\", \"intent\": \"x\"}\n{\"text\": \"b\"}\n", "data.jsonl:2: missing \"intent\""),
    ("{\"text\": 3, \"intent\": \"x\"}\n", "data.jsonl:1: \"text\" has the wrong type"),
    ("[1, 2]\n", "data.jsonl:1: not a JSON object"),
])
func badLineIsReportedWithFileAndLine(_ text: String, _ message: String) {
    #expect {
        try JSONLines.parse(text, file: "data.jsonl")
    } throws: { error in
        "\(error)".hasPrefix(message)
    }
}

@Test func missingFileIsReportedByName() {
    #expect {
        try JSONLines.read(URL(fileURLWithPath: "/nonexistent/clerk/train.jsonl"), path: "train.jsonl")
    } throws: { error in
        "\(error)" == "train.jsonl: no such file"
    }
}

// MARK: - Training sets and imported intent files

private let faqData = """
    {"text": "how much is a passport", "intent": "passport.fee"}
    {"text": "what does a passport cost", "intent": "passport.fee"}
    {"text": "how much is a passport", "intent": "passport.fee"}
    {"text": "tell me a joke", "intent": "oos"}
    {"text": "when are you \\"open\\"\\\\closed", "intent": "hours"}
    {"intent": "hours", "faq_questions": ["What are the opening hours?"], "answer": "Nine to five {weekdays}."}
    """

@Test func outOfScopeLinesAreLeftOutAndRepeatedTextsKeptOnce() throws {
    let training = TrainingSet(try JSONLines.parse(faqData, file: "faq.jsonl"))
    #expect(training.intents.map(\.id.value) == ["passport.fee", "hours"])
    #expect(training.intents[0].examples.map(\.value) == ["how much is a passport", "what does a passport cost"])
    #expect(training.intents[1].examples.count == 2)
    #expect(training.skippedOutOfScope == 1)
    #expect(training.exampleCount == 4)
}

@Test func importedIntentFileLoadsBackWithTheSameIntentsAndExamples() throws {
    let training = TrainingSet(try JSONLines.parse(faqData, file: "faq.jsonl"))
    let yaml = training.intentFile(origin: "faq.jsonl")
    let (intents, problems) = ContentLoader.parseIntents(yaml: yaml, file: "intents/faq.yaml")
    #expect(problems.isEmpty, "\(problems)\n\(yaml)")
    #expect(intents.map(\.id.value) == training.intents.map(\.id.value))
    #expect(intents.map { $0.examples.map(\.value) } == training.intents.map { $0.examples.map(\.value) })
    #expect(intents[0].replies.map(\.value) == [TrainingSet.placeholderReply(for: "passport.fee")])
    #expect(intents[1].replies.map(\.value) == ["Nine to five {{weekdays}}."])
    #expect(yaml.contains("TODO"))
}

@Test func importedIntentFileCompilesAndAnswersFromItsExamples() throws {
    let training = TrainingSet(try JSONLines.parse(faqData, file: "faq.jsonl"))
    let (intents, _) = ContentLoader.parseIntents(yaml: training.intentFile(origin: "faq.jsonl"), file: "x.yaml")
    let (compiled, problems) = Brain.compile(BrainSource(intents: intents))
    #expect(problems.isEmpty, "\(problems)")
    let brain = try #require(compiled)
    let turn = brain.reply(to: "what are the opening hours", in: ConversationState())
    #expect(turn.messages == ["Nine to five {weekdays}."])
}

// MARK: - Metrics

private func prediction(_ expected: String?, _ predicted: String?, _ confidence: Double) -> EvalPrediction {
    EvalPrediction(expected: expected, predicted: predicted, confidence: confidence)
}

/// Four in-scope messages (three predicted right) and two out-of-scope ones.
private let predictions = [
    prediction("a", "a", 0.9),
    prediction("a", "a", 0.6),
    prediction("b", "a", 0.5),
    prediction("b", "b", 0.3),
    prediction(nil, "a", 0.4),
    prediction(nil, "b", 0.2),
]

@Test func metricsAtAThresholdCountAnswersAndRefusals() {
    let metrics = EvalMetrics(predictions, threshold: 0.45)
    // Answered: 0.9 a ✓, 0.6 a ✓, 0.5 a ✗; unanswered: b@0.3 ✗, oos@0.4 ✓, oos@0.2 ✓.
    #expect(metrics.inScopeAccuracy == 50)
    #expect(metrics.outOfScopeRecall == 100)
    #expect(abs(metrics.outOfScopePrecision - 200.0 / 3) < 1e-9)
    #expect(abs(metrics.accuracyAll - 400.0 / 6) < 1e-9)
    #expect(metrics.inScopeCount == 4 && metrics.outOfScopeCount == 2)
    #expect(
        Set(metrics.confusions) == [
            EvalMetrics.Confusion(expected: "b", predicted: "a", count: 1),
            EvalMetrics.Confusion(expected: "b", predicted: nil, count: 1),
        ])
}

@Test func bestThresholdMaximisesAccuracyOverAllClasses() {
    let threshold = EvalMetrics.bestThreshold(predictions)
    // Answering 0.9 and 0.6 only gives 4 of 6 right; answering down to 0.3 also gives 4 (b@0.3 right, oos@0.4
    // wrong): the highest of the best thresholds lies between 0.6 and 0.5.
    #expect(abs(threshold - 0.55) < 1e-9)
    let best = EvalMetrics(predictions, threshold: threshold).accuracyAll
    for other in stride(from: 0.0, through: 1.0, by: 0.05) {
        #expect(EvalMetrics(predictions, threshold: other).accuracyAll <= best)
    }
}

@Test func everythingOutOfScopeGivesAThresholdAboveEveryConfidence() {
    let threshold = EvalMetrics.bestThreshold([prediction(nil, "a", 1), prediction(nil, "b", 0.5)])
    #expect(threshold > 1)
    #expect(EvalMetrics([prediction(nil, "a", 1)], threshold: threshold).outOfScopeRecall == 100)
}

@Test func aurocIsHundredForPerfectSeparationAndFiftyForTies() {
    #expect(EvalMetrics.auroc(positives: [0.9, 0.8], negatives: [0.1, 0.2]) == 100)
    #expect(EvalMetrics.auroc(positives: [0.1], negatives: [0.9]) == 0)
    #expect(EvalMetrics.auroc(positives: [0.5, 0.5], negatives: [0.5]) == 50)
    #expect(EvalMetrics.auroc(positives: [0.9, 0.3], negatives: [0.5]) == 50)
}
