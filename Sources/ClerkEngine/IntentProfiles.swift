import Foundation

/// What the scorer learns from the content when the brain is compiled: for every term, the intents whose
/// documents use it and in how many of their documents. From these counts come the term weights (how much a
/// word points at one intent) and each intent's profile, a naive Bayes model of the words its documents use.
///
/// The profile looks at all of an intent's examples at once, where the nearest-example score looks at one:
/// "what's my credit score" is nearest to an example of `improve_credit_score` that shares `credit score`,
/// but `credit_score`'s examples as a whole explain every word of it better. The coverage asks the same of each
/// word: a message whose telling words no example of an intent ever uses is unlikely to be meant for it, however
/// close one example comes.
final class IntentProfiles: Sendable {
    /// Add-α smoothing of the counts: a term an intent never used still has a small probability.
    static let smoothing: Float = 0.3
    /// How strongly the profile's verdict scales the nearest-example score: `(P(c) / P(best))^sharpness`.
    static let sharpness: Float = 0.1
    /// How strongly words the intent never uses lower its confidence: `coverage^coverageExponent`.
    static let coverageExponent: Float = 0.5

    /// Term → its intents (ascending) and counts, as offsets into `intents` and `logCounts`.
    let offsets: [Int32]
    let intents: [Int32]
    /// ln(count + α) for each (term, intent) pair.
    let logCounts: [Float]
    /// Per intent: ln(Σ counts + α · vocabulary size).
    let logNorm: [Float]
    let logSmoothing: Float
    /// Per term: ln(N + 1) minus the entropy of the spread of its documents over the N intents (≥ 0).
    let weights: [Float]

    /// - Parameter documents: each document's intent and its distinct terms (no negative ids).
    init(documents: [(intent: Int32, terms: [Int32])], termCount: Int, intentCount: Int) {
        // Documents intent by intent (the compiler lists them so; sort only content that does not), so each
        // term's documents come in runs of one intent: count the runs.
        var order = Array(documents.indices)
        if zip(documents, documents.dropFirst()).contains(where: { $0.intent > $1.intent }) {
            order.sort { (documents[$0].intent, $0) < (documents[$1].intent, $1) }
        }
        var run = [Int32](repeating: 0, count: termCount)
        var runIntent = [Int32](repeating: -1, count: termCount)
        var pairs: [(term: Int32, intent: Int32, count: Int32)] = []
        for index in order {
            let document = documents[index]
            for term in document.terms {
                let t = Int(term)
                if runIntent[t] != document.intent {
                    if runIntent[t] >= 0 { pairs.append((term, runIntent[t], run[t])) }
                    runIntent[t] = document.intent
                    run[t] = 0
                }
                run[t] += 1
            }
        }
        for t in 0..<termCount where runIntent[t] >= 0 { pairs.append((Int32(t), runIntent[t], run[t])) }

        // Group the pairs by term; within a term they stay in intent order.
        var offsets = [Int32](repeating: 0, count: termCount + 1)
        for pair in pairs { offsets[Int(pair.term) + 1] += 1 }
        for t in 0..<termCount { offsets[t + 1] += offsets[t] }
        var fill = offsets
        var intents = [Int32](repeating: 0, count: pairs.count)
        var counts = [Int32](repeating: 0, count: pairs.count)
        for pair in pairs {
            let slot = Int(fill[Int(pair.term)])
            intents[slot] = pair.intent
            counts[slot] = pair.count
            fill[Int(pair.term)] += 1
        }

        let n = Float(max(intentCount, 1))
        var weights = [Float](repeating: 0, count: termCount)
        var intentTotal = [Float](repeating: 0, count: max(intentCount, 1))
        var vocabulary: Float = 0
        for t in 0..<termCount where offsets[t] < offsets[t + 1] {
            vocabulary += 1
            var total: Float = 0
            var sumNLogN: Float = 0
            for k in Int(offsets[t])..<Int(offsets[t + 1]) {
                let count = Float(counts[k])
                total += count
                sumNLogN += count * logf(count)
                intentTotal[Int(intents[k])] += count
            }
            // Entropy of the spread over intents: ln(total) − Σ n·ln n / total.
            weights[t] = max(0, logf(n + 1) - logf(total) + sumNLogN / total)
        }
        let alpha = Self.smoothing
        self.offsets = offsets
        self.intents = intents
        logCounts = counts.map { logf(Float($0) + alpha) }
        logNorm = intentTotal.map { logf($0 + alpha * vocabulary) }
        logSmoothing = logf(alpha)
        self.weights = weights
    }

    /// Multiplies each candidate's score by `(P(message | intent) / P(message | best))^sharpness`, where best is
    /// the candidate whose profile explains the message best, and by `coverage^coverageExponent`: the share of
    /// the message's weight (`queryMass`, unknown words included) carried by words the intent's documents use.
    /// Records each `profileFit`.
    func weigh(_ candidates: inout [Scorer.Candidate], terms: [Int32], queryMass: Float) {
        var best = -Float.infinity
        offsets.withUnsafeBufferPointer { offsets in
            intents.withUnsafeBufferPointer { intents in
                logCounts.withUnsafeBufferPointer { logCounts in
                    weights.withUnsafeBufferPointer { weights in
                        for index in candidates.indices {
                            let intent = candidates[index].intent
                            var sum: Float = 0
                            var covered: Float = 0
                            for term in terms {
                                // Binary search for the intent in the term's list.
                                var low = Int(offsets[Int(term)])
                                let end = Int(offsets[Int(term) + 1])
                                var high = end
                                while low < high {
                                    let middle = (low + high) >> 1
                                    if intents[middle] < intent { low = middle + 1 } else { high = middle }
                                }
                                if low < end && intents[low] == intent {
                                    sum += logCounts[low]
                                    covered += weights[Int(term)]
                                } else {
                                    sum += logSmoothing
                                }
                            }
                            let fit = sum - Float(terms.count) * logNorm[Int(intent)]
                            candidates[index].profileFit = fit
                            candidates[index].coverage = queryMass > 0 ? min(1, covered / queryMass) : 0
                            best = max(best, fit)
                        }
                    }
                }
            }
        }
        for index in candidates.indices {
            let candidate = candidates[index]
            candidates[index].score *=
                expf(Self.sharpness * (candidate.profileFit - best)) * powf(candidate.coverage, Self.coverageExponent)
        }
    }
}
