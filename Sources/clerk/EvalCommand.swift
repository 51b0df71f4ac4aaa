import ArgumentParser
import ClerkContent
import ClerkEngine
import Foundation

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure how well Clerk understands a labelled data set, and how often it rightly says it does not.",
        discussion: """
            Builds a brain from JSON-lines training data ({"text": …, "intent": …} per line; each intent's texts \
            become its examples, lines labelled "oos" are left out) and reports on the test file: in-scope \
            accuracy, out-of-scope recall and precision, AUROC of the confidence (in-scope against out-of-scope), \
            accuracy over all classes, the most frequent confusions and the time per query.

            A message is answered when the best intent's confidence reaches the threshold. With --threshold-from, \
            the threshold is the one that maximises accuracy over all classes on that file (Larson et al. 2019); \
            otherwise it is the brain's answer_threshold. Measuring on the file that chose the threshold is \
            optimistic: choose it on one half of the validation data and measure on the other.

            Examples:
              clerk eval --train clinc150/train.jsonl --test clinc150/val.jsonl
              clerk eval --train train.jsonl --test test.jsonl --threshold-from val.jsonl --json
            """
    )

    @Option(help: "JSON-lines training data: one {\"text\", \"intent\"} object per line.")
    var train: String

    @Option(help: "JSON-lines test data to measure on (intent \"oos\": out of scope).")
    var test: String

    @Option(help: "JSON-lines data to choose the confidence threshold on.")
    var thresholdFrom: String?

    @Flag(help: "Print one JSON object instead of a report.")
    var json = false

    func run() throws {
        let training = TrainingSet(try read(train))
        let testLines = try read(test)
        let thresholdLines = try thresholdFrom.map(read)
        let (compiled, problems) = Brain.compile(training.source)
        guard let brain = compiled else {
            for problem in problems.prefix(20) { printError(problem.description) }
            printError("the training data in \(train) does not make a brain")
            throw ExitCode(1)
        }
        releaseFreedMemory()

        let progress = ProgressBar(total: testLines.count + (thresholdLines?.count ?? 0))
        let threshold: Double
        if let thresholdLines {
            threshold = EvalMetrics.bestThreshold(predict(thresholdLines, on: brain, progress: progress).predictions)
        } else {
            threshold = brain.settings.answerThreshold
        }
        let (predictions, seconds) = predict(testLines, on: brain, progress: progress)
        progress.finish()
        let metrics = EvalMetrics(predictions, threshold: threshold)
        let msPerQuery = 1000 * seconds / Double(max(predictions.count, 1))

        if json {
            let object: [String: Any] = [
                "in_scope_accuracy": metrics.inScopeAccuracy,
                "oos_recall": metrics.outOfScopeRecall,
                "oos_precision": metrics.outOfScopePrecision,
                "auroc": metrics.auroc,
                "accuracy_all": metrics.accuracyAll,
                "threshold": threshold,
                "threshold_source": thresholdFrom ?? "answer_threshold",
                "ms_per_query": msPerQuery,
                "in_scope_count": metrics.inScopeCount,
                "oos_count": metrics.outOfScopeCount,
                "intents": brain.statistics.intents,
                "examples": training.exampleCount,
                "confusions": metrics.confusions.map {
                    [
                        "expected": $0.expected ?? LabelledLine.outOfScopeIntent,
                        "predicted": $0.predicted ?? LabelledLine.outOfScopeIntent, "count": $0.count,
                    ] as [String: Any]
                },
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print(
            "trained on \(train): \(brain.statistics.intents) intents, \(training.exampleCount) examples "
                + "(\(training.skippedOutOfScope) out-of-scope lines left out)")
        print(
            "tested on \(test): \(metrics.inScopeCount) in-scope and \(metrics.outOfScopeCount) out-of-scope messages")
        print(
            String(
                format: "threshold %.4f (%@)", threshold, thresholdFrom.map { "best on \($0)" } ?? "answer_threshold"))
        print(String(format: "in-scope accuracy      %6.2f %%", metrics.inScopeAccuracy))
        print(String(format: "out-of-scope recall    %6.2f %%", metrics.outOfScopeRecall))
        print(String(format: "out-of-scope precision %6.2f %%", metrics.outOfScopePrecision))
        print(String(format: "AUROC                  %6.2f %%", metrics.auroc))
        print(String(format: "accuracy, all classes  %6.2f %%", metrics.accuracyAll))
        print(String(format: "time per query         %6.3f ms", msPerQuery))
        if !metrics.confusions.isEmpty {
            print("most frequent confusions (expected → answered):")
            for confusion in metrics.confusions {
                let expected = confusion.expected ?? LabelledLine.outOfScopeIntent
                let predicted = confusion.predicted ?? "(no answer)"
                print(String(format: "%5d  %@ → %@", confusion.count, expected, predicted))
            }
        }
    }

    private func read(_ path: String) throws -> [LabelledLine] {
        do {
            return try JSONLines.read(URL(fileURLWithPath: path), path: path)
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }

    /// The best intent and its confidence for every line, and the seconds the engine took for them all.
    private func predict(
        _ lines: [LabelledLine], on brain: Brain, progress: ProgressBar
    ) -> (predictions: [EvalPrediction], seconds: Double) {
        var predictions: [EvalPrediction] = []
        predictions.reserveCapacity(lines.count)
        var nanos: UInt64 = 0
        for line in lines {
            let start = DispatchTime.now().uptimeNanoseconds
            let best = brain.candidates(for: line.text ?? "", limit: 1).first
            nanos += DispatchTime.now().uptimeNanoseconds - start
            predictions.append(
                EvalPrediction(
                    expected: line.isOutOfScope ? nil : line.intent, predicted: best?.intent,
                    confidence: best?.score ?? 0))
            progress.advance()
        }
        return (predictions, Double(nanos) / 1e9)
    }
}

/// A one-line progress bar on standard error, drawn only when standard error is a terminal.
final class ProgressBar {
    private let total: Int
    private var done = 0
    private var drawn = -1
    private let enabled = isatty(STDERR_FILENO) != 0

    init(total: Int) {
        self.total = max(total, 1)
    }

    func advance() {
        done += 1
        guard enabled else { return }
        let percent = 100 * done / total
        guard percent != drawn else { return }
        drawn = percent
        let width = 30
        let filled = width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(percent) % (\(done)/\(total))".utf8))
    }

    func finish() {
        guard enabled, drawn >= 0 else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
