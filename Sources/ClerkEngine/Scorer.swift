import Foundation

/// The example-based scorer for messages no pattern covers.
///
/// Every example (and every pattern path's literal words) is a document: a set of terms. A term's weight is
/// learnt from the content when the brain is compiled: `ln(N + 1)` minus the entropy of the spread of its
/// documents over the N intents, so a word that points at one intent weighs most and a word found alike in every
/// intent weighs almost nothing. The score of a document is the weighted overlap (Dice/F1) of its terms and the
/// message's: `2 · shared / (message + document)`, in 0…1. It rises with every shared word and falls with every
/// word only one side has, so it is monotone in evidence. An intent's confidence is its nearest document's
/// score, raised towards 1 by its next nearest examples (``confidence(nearest:support:)``), then lowered when
/// the intent's examples as a whole explain the message less well than another candidate's, or never use some
/// of its telling words (``IntentProfiles``).
///
/// Candidate documents come from posting lists read in a bounded way: each term's list holds its documents
/// shortest first and the first ``maxLightPostingsRead`` are read; in a brain with examples, the message's
/// telling words may read further, ``maxPostingsRead`` postings in all. So a word in thousands of intents cannot
/// make the pass read thousands of entries; the best candidates are then scored exactly. `docs/matching.md` §3
/// has the rules, `docs/understanding.md` what each of them is worth.
final class Scorer: Sendable {
    /// Postings the telling words of one message may read in all (each still reads ``maxLightPostingsRead``).
    static let maxPostingsRead = 512
    /// Postings read for a word that is not telling (see `score`).
    static let maxLightPostingsRead = 64
    static let exactRescoreCount = 48
    /// Documents rescored in a brain without examples: pattern paths get no support, so fewer will do.
    static let patternRescoreCount = 12
    /// Examples besides the nearest that add to an intent's confidence.
    static let supportCount = 2
    /// Intents returned at most.
    static let maxCandidates = 12

    /// Term → weight (0 for terms no document has), learnt by ``IntentProfiles``.
    let weights: [Float]
    /// Each intent's naive Bayes profile over all its documents.
    let profiles: IntentProfiles
    /// Weight given to a word the brain does not know.
    let unknownWeight: Float
    /// Weight of a word found in one intent only, ln(N + 1).
    let heaviestWeight: Float
    /// Postings: term → documents, shortest first.
    let postingOffsets: [Int32]
    let postings: [Int32]
    /// Each posting's document mass, side by side with `postings`: the scorer keeps it with the document's partial
    /// score, and need not look it up in `documentInfo`, a random read per document in a large brain.
    let postingMasses: [Float]
    /// Forward index: document → its sorted unique terms (`documentInfo[d].termStart..<termEnd`).
    let documentTerms: [Int32]
    /// Each document's terms, mass, intent and kind, side by side: one cache line per document rather than one
    /// per array in a large brain.
    let documentInfo: [DocumentInfo]
    /// Text of each document, for explanations.
    let documentText: [String]
    /// Whether any document is an example. Without examples there is no support to find and no sample of how
    /// citizens write for the profiles, so the scorer does only what pattern documents need.
    let hasExamples: Bool

    var documentCount: Int { documentInfo.count }

    /// A document's terms (`documentTerms[termStart..<termEnd]`), mass, intent and kind.
    struct DocumentInfo {
        var termStart: Int32
        var termEnd: Int32
        var mass: Float
        var intent: Int32
        /// True for an example; false for a pattern path (which may lead to a question, never to an answer).
        var isExample: Bool
    }

    /// A scored intent.
    struct Candidate: Sendable {
        var intent: Int32
        /// The intent's confidence (see ``confidence(nearest:support:)``).
        var score: Float
        /// The nearest document.
        var document: Int32
        /// The nearest document's own score: the weighted overlap, which the shared words' shares add up to.
        var nearest: Float
        /// Further examples that raised the confidence, at most ``supportCount``.
        var supporting: Int32
        var supportSum: Float = 0
        /// ln P(message | intent) under the intent's profile (up to a constant).
        var profileFit: Float = 0
        /// Share of the message's weight carried by words the intent's documents use.
        var coverage: Float = 1
    }

    init(documents: [(intent: Int32, terms: [Int32], isExample: Bool, text: String)], termCount: Int, intentCount: Int)
    {
        // Distinct documents first: the statistics count each piece of evidence once.
        var offsets: [Int32] = [0]
        var terms: [Int32] = []
        var unknownCounts: [Float] = []
        var uniqueDocuments: [(intent: Int32, terms: [Int32], isExample: Bool, text: String)] = []
        var previous: (intent: Int32, isExample: Bool, terms: [Int32])?
        var exampleIntent: Int32 = -1
        var exampleTerms = Set<[Int32]>()
        for document in documents {
            var unique = document.terms.filter { $0 >= 0 }
            unique.sort()
            unique.removeDuplicates()
            guard !unique.isEmpty else { continue }
            // Paths of one pattern that differ only in an optional word already known (or in nothing that
            // survives reading) give the same document: keep one.
            if let last = previous, last.intent == document.intent, last.isExample == document.isExample,
                last.terms == unique
            {
                continue
            }
            // Two examples of one intent with the same terms are one piece of evidence, not two.
            if document.isExample {
                if exampleIntent != document.intent {
                    exampleIntent = document.intent
                    exampleTerms.removeAll(keepingCapacity: true)
                }
                if !exampleTerms.insert(unique).inserted { continue }
            }
            previous = (document.intent, document.isExample, unique)
            uniqueDocuments.append((document.intent, unique, document.isExample, document.text))
            terms.append(contentsOf: unique)
            offsets.append(Int32(terms.count))
            // Unknown words in an example still count towards its length.
            unknownCounts.append(Float(document.terms.count(where: { $0 < 0 })))
        }
        let profiles = IntentProfiles(
            documents: uniqueDocuments.map { ($0.intent, $0.terms) }, termCount: termCount, intentCount: intentCount)
        self.profiles = profiles
        let weights = profiles.weights
        self.weights = weights
        let unknownWeight = 0.6 * logf((Float(max(intentCount, 1)) + 1) / 1.5) + 0.2
        heaviestWeight = logf(Float(max(intentCount, 1)) + 1)
        self.unknownWeight = unknownWeight
        let mass = uniqueDocuments.indices.map { index in
            uniqueDocuments[index].terms.reduce(0) { $0 + weights[Int($1)] } + unknownCounts[index] * unknownWeight
        }
        documentTerms = terms
        documentText = uniqueDocuments.map(\.text)
        hasExamples = uniqueDocuments.contains { $0.isExample }
        documentInfo = uniqueDocuments.indices.map { index in
            DocumentInfo(
                termStart: offsets[index], termEnd: offsets[index + 1], mass: mass[index],
                intent: uniqueDocuments[index].intent, isExample: uniqueDocuments[index].isExample)
        }

        // Posting lists, each in order of document mass (shortest first): visit the documents in that
        // order once and append each to its terms' lists.
        var massOrder = mass.enumerated().map { ($0.element, Int32($0.offset)) }
        massOrder.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        let byMass = massOrder.map { Int($0.1) }
        var listCounts = [Int32](repeating: 0, count: termCount + 1)
        for k in terms.indices { listCounts[Int(terms[k]) + 1] += 1 }
        var postingOffsets = [Int32](repeating: 0, count: termCount + 1)
        for term in 0..<termCount { postingOffsets[term + 1] = postingOffsets[term] + listCounts[term + 1] }
        var fill = postingOffsets
        var postings = [Int32](repeating: 0, count: terms.count)
        var postingMasses = [Float](repeating: 0, count: terms.count)
        for document in byMass {
            for k in Int(offsets[document])..<Int(offsets[document + 1]) {
                let term = Int(terms[k])
                postings[Int(fill[term])] = Int32(document)
                postingMasses[Int(fill[term])] = mass[document]
                fill[term] += 1
            }
        }
        self.postingOffsets = postingOffsets
        self.postings = postings
        self.postingMasses = postingMasses
    }

    /// Scores the message's terms; returns the top intents (best first) in `scratch.candidates`.
    /// Documents that cannot reach `floor` (the clarify threshold) may be skipped.
    func score(_ utterance: Utterance, floor: Float, scratch: Scratch) {
        scratch.candidates.removeAll(keepingCapacity: true)
        scratch.queryMass = 0
        guard !documentInfo.isEmpty else { return }
        scratch.queryTerms.removeAll(keepingCapacity: true)
        var unknown: Float = 0
        weights.withUnsafeBufferPointer { weights in
            for term in utterance.terms {
                if term >= 0 && weights[Int(term)] > 0 {
                    scratch.queryTerms.append(term)
                } else if term < 0 {
                    unknown += 1
                }
            }
        }
        scratch.queryTerms.insertionSort(by: <)
        scratch.queryTerms.removeDuplicates()
        guard !scratch.queryTerms.isEmpty else { return }
        let knownMass = scratch.queryTerms.reduce(Float(0)) { $0 + weights[Int($1)] }
        let queryMass = knownMass + unknown * unknownWeight
        scratch.queryMass = queryMass

        // Candidate generation, pruned: read the heaviest terms' posting lists first and stop once the
        // terms left could not lift an unseen document to `floor` on their own (a document's score is at most
        // 2·shared/q, so it needs shared ≥ floor·q/2). Unknown words have no postings; they only add to q.
        let accumulator = scratch.shared
        accumulator.prepare(count: documentInfo.count)
        // Taken out of the scratch while in use, so the array stays uniquely referenced and keeps its storage.
        var order = scratch.queryTermsByWeight
        scratch.queryTermsByWeight = []
        order.removeAll(keepingCapacity: true)
        order.append(contentsOf: scratch.queryTerms)
        order.insertionSort { (weights[Int($0)], $1) > (weights[Int($1)], $0) }
        var remaining = knownMass
        let needed = floor * queryMass / 2
        // The message's telling words find its documents; a light word only adds to their scores, which the
        // exact rescoring counts anyway. So light words' lists are read only in part. A word is telling when
        // it weighs at least half as much as a word unique to one intent.
        let heavy = heaviestWeight * 0.5
        // Whether every list was read whole: then the partial scores are exact and need no rescoring.
        var exact = true
        // Reading more than the first postings of a list pays only when there are examples to find.
        var budget = hasExamples ? Self.maxPostingsRead : 0
        postings.withUnsafeBufferPointer { postings in
            postingMasses.withUnsafeBufferPointer { masses in
                postingOffsets.withUnsafeBufferPointer { offsets in
                    for term in order {
                        if remaining < needed {
                            exact = false
                            break
                        }
                        let weight = weights[Int(term)]
                        remaining -= weight
                        let start = Int(offsets[Int(term)])
                        let limit = weight >= heavy ? max(budget, Self.maxLightPostingsRead) : Self.maxLightPostingsRead
                        let end = Int(offsets[Int(term) + 1])
                        if end - start > limit { exact = false }
                        let stop = min(end, start + limit)
                        if weight >= heavy { budget -= stop - start }
                        for k in start..<stop { accumulator.add(Int(postings[k]), weight, mass: masses[k]) }
                    }
                }
            }
        }
        scratch.queryTermsByWeight = order

        // Keep the best few documents by their partial score, then score them exactly. The list is filled in
        // place (best first; a later document goes after earlier ones of equal score) and the accumulator is
        // cleared on the way, so the next message starts from zero without another pass.
        var top = scratch.topDocuments
        scratch.topDocuments = []
        let rescoreCount = hasExamples ? Self.exactRescoreCount : Self.patternRescoreCount
        if top.count < rescoreCount {
            top.append(contentsOf: repeatElement((0, 0), count: rescoreCount - top.count))
        } else if top.count > rescoreCount {
            top.removeLast(top.count - rescoreCount)
        }
        let kept = top.withUnsafeMutableBufferPointer { top in
            var kept = 0
            let entries = accumulator.entries
            for index in 0..<accumulator.touchedCount {
                let document = accumulator.touched[index]
                let entry = entries[Int(document)]
                let partial = 2 * entry.value / (queryMass + entry.mass)
                entries[Int(document)].value = 0
                if kept == rescoreCount && partial <= top[rescoreCount - 1].1 { continue }
                // When the list is full its last entry (scoring below `partial`) drops out.
                var slot = kept < rescoreCount ? kept : rescoreCount - 1
                while slot > 0 && top[slot - 1].1 < partial {
                    top[slot] = top[slot - 1]
                    slot -= 1
                }
                top[slot] = (document, partial)
                if kept < rescoreCount { kept += 1 }
            }
            return kept
        }
        accumulator.forgetTouched()
        top.removeLast(top.count - kept)
        let info = documentInfo
        if !exact {
            scratch.queryTerms.withUnsafeBufferPointer { query in
                for index in top.indices {
                    let document = info[Int(top[index].0)]
                    let shared = sharedWeight(document, queryTerms: query)
                    top[index].1 = 2 * shared / (queryMass + document.mass)
                }
            }
        }
        // Best first; on a tie an example before a pattern document, then the document written first.
        top.insertionSort {
            ($0.1, info[Int($0.0)].isExample ? 1 : 0, -$0.0) > ($1.1, info[Int($1.0)].isExample ? 1 : 0, -$1.0)
        }
        // Per intent: its nearest document, raised by the next nearest examples (see `confidence`).
        for (document, score) in top {
            let intent = info[Int(document)].intent
            if let existing = scratch.candidates.firstIndex(where: { $0.intent == intent }) {
                var candidate = scratch.candidates[existing]
                if candidate.supporting < Self.supportCount && info[Int(document)].isExample
                    && info[Int(candidate.document)].isExample
                {
                    candidate.supporting += 1
                    candidate.supportSum += score
                    candidate.score = Self.confidence(
                        nearest: candidate.nearest, support: candidate.supportSum / Float(Self.supportCount))
                    scratch.candidates[existing] = candidate
                }
            } else {
                scratch.candidates.append(
                    Candidate(intent: intent, score: score, document: document, nearest: score, supporting: 0))
            }
        }
        // Scale each confidence by how well the intent's profile explains the message next to the candidate
        // whose profile explains it best (that one keeps its score), and by the share of the message's weight
        // its documents cover: a lucky look-alike example of an intent whose other examples are about something
        // else loses to an intent that fits as a whole. Only the intents that can come out are weighed.
        scratch.candidates.insertionSort { ($0.score, -$0.intent) > ($1.score, -$1.intent) }
        if scratch.candidates.count > Self.maxCandidates {
            scratch.candidates.removeLast(scratch.candidates.count - Self.maxCandidates)
        }
        if hasExamples && !scratch.candidates.isEmpty {
            profiles.weigh(&scratch.candidates, terms: scratch.queryTerms, queryMass: queryMass)
        }
        scratch.topDocuments = top
        scratch.candidates.insertionSort { ($0.score, -$0.intent) > ($1.score, -$1.intent) }
    }

    /// An intent's confidence: the score of its nearest document, raised towards 1 by the mean score of its
    /// next ``supportCount`` nearest examples (missing ones count 0): `s₁ + (1 − s₁) · mean(s₂, s₃)`.
    /// A message equal to an example still scores 1; an intent whose other examples say the same thing in other
    /// words is more likely than one with a single lucky look-alike. Pattern documents neither get nor give
    /// support: the paths of one pattern repeat each other.
    @inline(__always)
    static func confidence(nearest: Float, support: Float) -> Float {
        nearest + (1 - nearest) * support
    }

    /// Sum of the weights of the terms a document shares with the (sorted, unique) query terms.
    @inline(__always)
    private func sharedWeight(_ document: DocumentInfo, queryTerms: UnsafeBufferPointer<Int32>) -> Float {
        documentTerms.withUnsafeBufferPointer { documentTerms in
            weights.withUnsafeBufferPointer { weights in
                var shared: Float = 0
                var i = Int(document.termStart)
                let end = Int(document.termEnd)
                var j = 0
                while i < end && j < queryTerms.count {
                    let a = documentTerms[i]
                    let b = queryTerms[j]
                    if a == b {
                        shared += weights[Int(a)]
                        i += 1
                        j += 1
                    } else if a < b {
                        i += 1
                    } else {
                        j += 1
                    }
                }
                return shared
            }
        }
    }

    /// Terms of a document.
    func terms(of document: Int32) -> ArraySlice<Int32> {
        documentTerms[Int(documentInfo[Int(document)].termStart)..<Int(documentInfo[Int(document)].termEnd)]
    }
}

/// Sparse accumulator over documents: dense (partial score, mass) entries plus the list of touched documents,
/// reset in O(touched). A document's mass arrives with its posting and sits next to its score, so reading the
/// scores back touches one cache line per document. Raw storage, owned by one scratch: adding touches no
/// reference counts.
final class SparseAccumulator {
    struct Entry {
        var value: Float
        var mass: Float
    }

    private(set) var entries = UnsafeMutablePointer<Entry>.allocate(capacity: 1)
    private(set) var touched = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    private(set) var touchedCount = 0
    private var capacity = 0

    deinit {
        entries.deallocate()
        touched.deallocate()
    }

    func prepare(count: Int) {
        if capacity < count {
            entries.deallocate()
            touched.deallocate()
            entries = .allocate(capacity: count)
            entries.initialize(repeating: Entry(value: 0, mass: 0), count: count)
            touched = .allocate(capacity: count)
            capacity = count
            touchedCount = 0
            return
        }
        for index in 0..<touchedCount { entries[Int(touched[index])].value = 0 }
        touchedCount = 0
    }

    /// Forgets the touched entries once their values are back to zero (the scorer zeroes them as it reads them).
    func forgetTouched() { touchedCount = 0 }

    @inline(__always)
    func add(_ index: Int, _ value: Float, mass: Float) {
        if entries[index].value == 0 {
            touched[touchedCount] = Int32(index)
            touchedCount += 1
            entries[index].mass = mass
        }
        entries[index].value += value
    }
}

extension Array {
    /// Sorts in place by insertion: the scorer's lists are short (a few dozen entries at most), where this beats
    /// the general sort. `areInIncreasingOrder` is a strict total order, so the result is the one any sort gives.
    @inline(__always)
    mutating func insertionSort(by areInIncreasingOrder: (Element, Element) -> Bool) {
        withUnsafeMutableBufferPointer { buffer in
            guard buffer.count > 1 else { return }
            for index in 1..<buffer.count {
                let item = buffer[index]
                var slot = index
                while slot > 0 && areInIncreasingOrder(item, buffer[slot - 1]) {
                    buffer[slot] = buffer[slot - 1]
                    slot -= 1
                }
                buffer[slot] = item
            }
        }
    }
}

extension Array where Element: Equatable {
    /// Removes adjacent duplicates (on a sorted array: all duplicates).
    mutating func removeDuplicates() {
        guard count > 1 else { return }
        var write = 1
        for read in 1..<count where self[read] != self[write - 1] {
            self[write] = self[read]
            write += 1
        }
        removeLast(count - write)
    }
}
