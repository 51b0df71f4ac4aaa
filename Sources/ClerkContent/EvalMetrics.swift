/// What the engine made of one labelled test message.
public struct EvalPrediction: Sendable, Hashable {
    /// The intent the message was written for; nil when it is out of scope.
    public var expected: String?
    /// The best intent, whatever its confidence; nil when no intent scored at all.
    public var predicted: String?
    /// The best intent's confidence, 0…1 (0 when there is none).
    public var confidence: Double

    public init(expected: String?, predicted: String?, confidence: Double) {
        self.expected = expected
        self.predicted = predicted
        self.confidence = confidence
    }

    /// The answer at `threshold`: the best intent when its confidence reaches the threshold, else nil (out of
    /// scope: "I don't know").
    public func answer(at threshold: Double) -> String? {
        confidence >= threshold ? predicted : nil
    }
}

/// The measures of Larson et al. (2019) for intent classification with out-of-scope messages, at one
/// confidence threshold. Percentages are 0…100.
///
/// ```swift
/// let threshold = EvalMetrics.bestThreshold(validation)
/// let metrics = EvalMetrics(test, threshold: threshold)
/// print(metrics.inScopeAccuracy, metrics.outOfScopeRecall)
/// ```
public struct EvalMetrics: Sendable, Hashable {
    /// One kind of mistake: messages written for `expected` answered as `predicted` (nil: out of scope).
    public struct Confusion: Sendable, Hashable {
        public var expected: String?
        public var predicted: String?
        public var count: Int

        public init(expected: String?, predicted: String?, count: Int) {
            self.expected = expected
            self.predicted = predicted
            self.count = count
        }
    }

    public var threshold: Double
    public var inScopeCount: Int
    public var outOfScopeCount: Int
    /// In-scope messages answered with their intent.
    public var inScopeAccuracy: Double
    /// Out-of-scope messages left unanswered.
    public var outOfScopeRecall: Double
    /// Unanswered messages that were out of scope.
    public var outOfScopePrecision: Double
    /// Area under the ROC curve of the confidence, in-scope messages as positives (50: no better than chance).
    public var auroc: Double
    /// Messages of every kind handled right: in-scope answered with their intent, out-of-scope unanswered.
    public var accuracyAll: Double
    /// The most frequent mistakes, most frequent first (ties: by expected, then predicted intent).
    public var confusions: [Confusion]

    public init(_ predictions: [EvalPrediction], threshold: Double, confusionLimit: Int = 20) {
        self.threshold = threshold
        var inScope = 0
        var inScopeRight = 0
        var outOfScope = 0
        var outOfScopeRight = 0
        var unanswered = 0
        var mistakes: [Pair: Int] = [:]
        for prediction in predictions {
            let answer = prediction.answer(at: threshold)
            if answer == nil { unanswered += 1 }
            if prediction.expected == nil {
                outOfScope += 1
                if answer == nil { outOfScopeRight += 1 }
            } else {
                inScope += 1
                if answer == prediction.expected { inScopeRight += 1 }
            }
            if answer != prediction.expected {
                mistakes[Pair(expected: prediction.expected, predicted: answer), default: 0] += 1
            }
        }
        inScopeCount = inScope
        outOfScopeCount = outOfScope
        inScopeAccuracy = Self.percent(inScopeRight, of: inScope)
        outOfScopeRecall = Self.percent(outOfScopeRight, of: outOfScope)
        outOfScopePrecision = Self.percent(outOfScopeRight, of: unanswered)
        accuracyAll = Self.percent(inScopeRight + outOfScopeRight, of: predictions.count)
        auroc = Self.auroc(
            positives: predictions.filter { $0.expected != nil }.map(\.confidence),
            negatives: predictions.filter { $0.expected == nil }.map(\.confidence))
        confusions = mistakes.map { Confusion(expected: $0.key.expected, predicted: $0.key.predicted, count: $0.value) }
            .sorted {
                ($1.count, $0.expected ?? "", $0.predicted ?? "") < ($0.count, $1.expected ?? "", $1.predicted ?? "")
            }
            .prefix(confusionLimit).map { $0 }
    }

    private struct Pair: Hashable {
        var expected: String?
        var predicted: String?
    }

    private static func percent(_ part: Int, of whole: Int) -> Double {
        whole == 0 ? 0 : 100 * Double(part) / Double(whole)
    }

    /// The confidence threshold that maximises accuracy over all classes (the rule of Larson et al.): a
    /// message is answered when its confidence is at or above it. The threshold lies halfway between the lowest
    /// confidence answered and the highest left unanswered; among equally good thresholds, the highest.
    public static func bestThreshold(_ predictions: [EvalPrediction]) -> Double {
        let sorted = predictions.sorted { $0.confidence > $1.confidence }
        // Threshold above every confidence: everything unanswered, so every out-of-scope message is right.
        var right = sorted.count { $0.expected == nil }
        var best = right
        var threshold = (sorted.first?.confidence ?? 0) + 1e-6
        var index = 0
        while index < sorted.count {
            // Lower the threshold past every message with this confidence at once.
            let confidence = sorted[index].confidence
            while index < sorted.count && sorted[index].confidence == confidence {
                let prediction = sorted[index]
                if prediction.expected == nil {
                    right -= 1
                } else if prediction.predicted == prediction.expected {
                    right += 1
                }
                index += 1
            }
            if right > best {
                best = right
                let next = index < sorted.count ? sorted[index].confidence : 0
                threshold = (confidence + next) / 2
            }
        }
        return threshold
    }

    /// The probability that a random positive scores above a random negative, ties counting half, in percent.
    public static func auroc(positives: [Double], negatives: [Double]) -> Double {
        guard !positives.isEmpty, !negatives.isEmpty else { return 0 }
        // Mann–Whitney U from the ranks of the pooled scores (tied scores share their mean rank).
        let pooled = (positives.map { ($0, true) } + negatives.map { ($0, false) }).sorted { $0.0 < $1.0 }
        var positiveRankSum = 0.0
        var start = 0
        while start < pooled.count {
            var end = start
            while end < pooled.count && pooled[end].0 == pooled[start].0 { end += 1 }
            let meanRank = Double(start + 1 + end) / 2
            positiveRankSum += meanRank * Double(pooled[start..<end].count { $0.1 })
            start = end
        }
        let p = Double(positives.count)
        let u = positiveRankSum - p * (p + 1) / 2
        return 100 * u / (p * Double(negatives.count))
    }
}
