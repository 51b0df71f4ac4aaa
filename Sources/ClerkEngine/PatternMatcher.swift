import ClerkText

/// The best pattern match for a message.
struct PatternMatch {
    var terminal: Int32
    /// Token ranges of the captures, in path order: the scratch's storage, valid until its next search.
    var captures: UnsafeBufferPointer<Range<Int>>
}

extension PatternTrie {
    /// Finds the most specific pattern path that covers the whole message and whose intent is eligible in the
    /// conversation's context. Ranking: a safeguarding intent beats all others; an intent that requires context
    /// beats one that does not; then
    /// ``Specificity`` (more literal words, then more concept/typed elements, then fewer wildcards, then higher
    /// priority); then the pattern written first.
    /// An intent with a fixed service (its gate's `service` ≥ 0) is eligible only when `active` is empty or holds it.
    ///
    /// With `alternatives`, a word may also be read as any of the terms listed for its position (see
    /// ``Alternatives``): a misspelt word is then read as the vocabulary word that makes a pattern match. Such a
    /// match counts only when every eligible match found is of one intent; otherwise the result is nil and
    /// `scratch.alternativesAmbiguous` is set.
    func match(
        _ utterance: Utterance, gates: [Brain.IntentGate], contextMask: UInt64, active: [Int32], scratch: Scratch,
        trace: Trace?, alternatives: Alternatives? = nil
    ) -> PatternMatch? {
        guard utterance.count > 0 else { return nil }
        scratch.visited.reset()
        scratch.reserveCaptures(utterance.count + 1)
        scratch.alternativesAmbiguous = false
        // The walk reads these arrays through raw buffers: no reference counting or copies per step.
        return arena.withUnsafeBufferPointer { arena in
            terminals.withUnsafeBufferPointer { terminals in
                utterance.terms.withUnsafeBufferPointer { terms in
                    gates.withUnsafeBufferPointer { gates in
                        active.withUnsafeBufferPointer { active -> PatternMatch? in
                            var search = Search(
                                trie: self, arena: arena, terminals: terminals, terms: terms, utterance: utterance,
                                gates: gates, contextMask: contextMask, active: active, scratch: scratch, trace: trace)
                            if let alternatives {
                                search.alternatives = alternatives
                                search.fuzzy = true
                            }
                            search.visit(0, 0)
                            if search.ambiguous {
                                scratch.alternativesAmbiguous = true
                                return nil
                            }
                            guard search.best >= 0 else { return nil }
                            if search.fuzzy {
                                scratch.chosenAlternatives.removeAll(keepingCapacity: true)
                                for k in 0..<search.bestCorrectionCount {
                                    scratch.chosenAlternatives.append(search.bestCorrections[k])
                                }
                            }
                            return PatternMatch(
                                terminal: search.best,
                                captures: UnsafeBufferPointer(
                                    start: search.bestCaptures, count: search.bestCaptureCount))
                        }
                    }
                }
            }
        }
    }
}

/// One depth-first walk over the trie. States reached after a variable-length element (wildcard, concept,
/// capture) are remembered, so each (node, position) is explored once however many ways lead to it.
private struct Search {
    unowned(unsafe) let trie: PatternTrie
    let arena: UnsafeBufferPointer<Int32>
    let terminals: UnsafeBufferPointer<PatternTrie.Terminal>
    let terms: UnsafeBufferPointer<Int32>
    unowned(unsafe) let utterance: Utterance
    let gates: UnsafeBufferPointer<Brain.IntentGate>
    let contextMask: UInt64
    let active: UnsafeBufferPointer<Int32>
    unowned(unsafe) let scratch: Scratch
    unowned(unsafe) let visited: VisitedSet
    let captureStack: UnsafeMutablePointer<Range<Int>>
    var captureDepth = 0
    let trace: Trace?
    var best: Int32 = -1
    var bestContextBound = false
    var bestUrgent = false
    var bestSpecificity = PatternTrie.Specificity(literalWords: 0, typedElements: 0, wildcards: 0, priority: 0)
    var bestPattern = Int32.max
    /// The best match's captures, copied from the stack into the scratch (no allocation per match).
    let bestCaptures: UnsafeMutablePointer<Range<Int>>
    var bestCaptureCount = 0
    /// Set for a walk that may read words as their alternatives.
    var fuzzy = false
    var alternatives = Alternatives()
    /// The (position, term) readings taken from `alternatives` along the current path, and the best match's.
    let correctionStack: UnsafeMutablePointer<(Int32, Int32)>
    var correctionDepth = 0
    let bestCorrections: UnsafeMutablePointer<(Int32, Int32)>
    var bestCorrectionCount = 0
    /// The intent of the first eligible match, and whether another intent matched too.
    var firstIntent: Int32 = -1
    var ambiguous = false

    init(
        trie: PatternTrie, arena: UnsafeBufferPointer<Int32>,
        terminals: UnsafeBufferPointer<PatternTrie.Terminal>, terms: UnsafeBufferPointer<Int32>,
        utterance: Utterance, gates: UnsafeBufferPointer<Brain.IntentGate>, contextMask: UInt64,
        active: UnsafeBufferPointer<Int32>, scratch: Scratch, trace: Trace?
    ) {
        self.gates = gates
        self.active = active
        self.trie = trie
        self.arena = arena
        self.terminals = terminals
        self.terms = terms
        self.utterance = utterance
        self.contextMask = contextMask
        self.scratch = scratch
        self.visited = scratch.visited
        self.captureStack = scratch.captureStack
        self.bestCaptures = scratch.bestCaptures
        self.correctionStack = scratch.correctionStack
        self.bestCorrections = scratch.bestCorrections
        self.trace = trace
    }

    /// Whether the word at `position` may be read as `term` through an alternative reading.
    @inline(__always)
    private func hasAlternative(_ position: Int, _ term: Int32) -> Bool {
        guard fuzzy else { return false }
        return alternatives.contains(position, term)
    }

    mutating func visit(_ node: Int32, _ position: Int) {
        let at = Int(node)
        let count = terms.count
        if position == count {
            let start = arena[at + PatternTrie.Header.terminalStart]
            for terminal in start..<(start + arena[at + PatternTrie.Header.terminalCount]) {
                consider(terminal)
            }
            return
        }
        let counts = arena[at + PatternTrie.Header.counts]
        // Too few words left for any pattern through here.
        if Int(counts >> 24) > count - position { return }
        if counts & PatternTrie.Header.chainFlag != 0 {
            // A chain: the message must go on with exactly its words; the node after it follows the record.
            let length = Int(counts & PatternTrie.Header.countMask)
            guard length <= count - position else { return }
            let words = at + PatternTrie.Header.size
            let depth = correctionDepth
            for k in 0..<length where terms[position + k] != arena[words + k] {
                guard hasAlternative(position + k, arena[words + k]) else {
                    correctionDepth = depth
                    return
                }
                correctionStack[correctionDepth] = (Int32(position + k), arena[words + k])
                correctionDepth += 1
            }
            visit(Int32(words + length), position + length)
            correctionDepth = depth
            return
        }
        let literalCount = Int(counts & PatternTrie.Header.countMask)
        let term = terms[position]
        if term >= 0 && literalCount > 0 {
            let child = literalChild(at + PatternTrie.Header.size, literalCount, term)
            if child >= 0 { visit(child, position + 1) }
        }
        if fuzzy && literalCount > 0 {
            for k in alternatives.range(position) {
                let alternative = alternatives.terms[k]
                guard alternative != term else { continue }
                let child = literalChild(at + PatternTrie.Header.size, literalCount, alternative)
                guard child >= 0 else { continue }
                correctionStack[correctionDepth] = (Int32(position), alternative)
                correctionDepth += 1
                visit(child, position + 1)
                correctionDepth -= 1
            }
        }
        let extra = arena[at + PatternTrie.Header.extra]
        if extra >= 0 {
            visitExtra(trie.extras[Int(extra)], position)
        }
        let wildcard = arena[at + PatternTrie.Header.wildcard]
        if wildcard >= 0 {
            // The wildcard takes at least one word and leaves at least what its continuation needs.
            let next = Int(wildcard)
            let nextCounts = arena[next + PatternTrie.Header.counts]
            let lastEnd = count - Int(nextCounts >> 24)
            if position + 1 <= lastEnd {
                if nextCounts & (PatternTrie.Header.chainFlag | PatternTrie.Header.countMask) == 0
                    && arena[next + PatternTrie.Header.extra] < 0
                    && arena[next + PatternTrie.Header.wildcard] < 0
                {
                    // Nothing follows the wildcard: it takes every remaining word.
                    if lastEnd == count { visitCapturing(wildcard, position, count) }
                } else {
                    for end in (position + 1)...lastEnd {
                        visitCapturing(wildcard, position, end)
                    }
                }
            }
        }
    }

    /// Concept and capture edges, which few nodes have.
    private mutating func visitExtra(_ extra: PatternTrie.Extra, _ position: Int) {
        if extra.conceptCount > 0 {
            for edge in extra.conceptStart..<(extra.conceptStart + extra.conceptCount) {
                let (concept, child) = trie.conceptEdges[Int(edge)]
                trie.concepts.forEachMatch(concept, utterance.terms, from: position) { length in
                    visitCapturing(child, position, position + length)
                }
            }
        }
        if extra.slotCount > 0 {
            for edge in extra.slotStart..<(extra.slotStart + extra.slotCount) {
                let (type, child) = trie.slotEdges[Int(edge)]
                type.forEachMatch(in: utterance, at: position) { length in
                    visitCapturing(child, position, position + length)
                }
            }
        }
    }

    /// The child along `term` among `count` (term, child) pairs starting at `start`, or -1: a binary search
    /// narrows long lists, a linear scan finishes.
    @inline(__always)
    private func literalChild(_ start: Int, _ count: Int, _ term: Int32) -> Int32 {
        var low = 0
        var high = count
        while high - low > 8 {
            let middle = (low + high) >> 1
            if arena[start + 2 * middle] < term { low = middle + 1 } else { high = middle + 1 }
        }
        while low < high {
            let candidate = arena[start + 2 * low]
            if candidate == term { return arena[start + 2 * low + 1] }
            if candidate > term { return -1 }
            low += 1
        }
        return -1
    }

    /// Whether `node` can lead anywhere from `position`: a cheap look at the node that spares the memo and the
    /// call for the many spans a wildcard tries whose next word no edge takes.
    @inline(__always)
    private func mayContinue(_ node: Int32, _ position: Int) -> Bool {
        let at = Int(node)
        let count = terms.count
        if position == count { return true }
        let counts = arena[at + PatternTrie.Header.counts]
        if Int(counts >> 24) > count - position { return false }
        if counts & PatternTrie.Header.chainFlag != 0 {
            let first = arena[at + PatternTrie.Header.size]
            return first == terms[position] || hasAlternative(position, first)
        }
        if arena[at + PatternTrie.Header.extra] >= 0 || arena[at + PatternTrie.Header.wildcard] >= 0 { return true }
        let literalCount = Int(counts & PatternTrie.Header.countMask)
        guard literalCount > 0 else { return false }
        let term = terms[position]
        if term >= 0 && literalChild(at + PatternTrie.Header.size, literalCount, term) >= 0 { return true }
        guard fuzzy else { return false }
        for k in alternatives.range(position)
        where literalChild(at + PatternTrie.Header.size, literalCount, alternatives.terms[k]) >= 0 {
            return true
        }
        return false
    }

    private mutating func visitCapturing(_ child: Int32, _ start: Int, _ end: Int) {
        guard mayContinue(child, end), visited.insert(PairTable.key(child, Int32(end))) else { return }
        captureStack[captureDepth] = start..<end
        captureDepth += 1
        visit(child, end)
        captureDepth -= 1
    }

    private mutating func consider(_ index: Int32) {
        let terminal = terminals[Int(index)]
        let gate = gates[Int(terminal.intent)]
        let requires = gate.requires
        let fixed = gate.service
        let eligible = requires & ~contextMask == 0 && (fixed < 0 || active.isEmpty || active.contains(fixed))
        trace?.patternMatch(terminal: index, eligible: eligible)
        guard eligible else { return }
        if fuzzy {
            if firstIntent < 0 {
                firstIntent = terminal.intent
            } else if terminal.intent != firstIntent {
                ambiguous = true
            }
        }
        let contextBound = requires != 0
        let urgent = gate.urgent
        if best >= 0 {
            if urgent != bestUrgent {
                // A safeguarding topic wins over everything else that matches.
                if !urgent { return }
            } else if contextBound != bestContextBound {
                if !contextBound { return }
            } else if terminal.specificity != bestSpecificity {
                if terminal.specificity < bestSpecificity { return }
            } else if terminal.pattern >= bestPattern {
                return
            }
        }
        best = index
        bestUrgent = urgent
        bestContextBound = contextBound
        bestSpecificity = terminal.specificity
        bestPattern = terminal.pattern
        bestCaptures.initialize(from: captureStack, count: captureDepth)
        bestCaptureCount = captureDepth
        if fuzzy {
            bestCorrections.initialize(from: correctionStack, count: correctionDepth)
            bestCorrectionCount = correctionDepth
        }
    }
}

/// Other readings of a message's words, by position: the vocabulary terms a misspelt word may stand for
/// (``Lexicon/alternatives(for:scratch:)``). Views of the scratch's storage, valid for one search.
struct Alternatives {
    /// `starts[p]..<starts[p + 1]` indexes the terms of position `p`.
    var starts = UnsafeBufferPointer<Int32>(start: nil, count: 0)
    var terms = UnsafeBufferPointer<Int32>(start: nil, count: 0)

    @inline(__always)
    func range(_ position: Int) -> Range<Int> {
        guard position + 1 < starts.count else { return 0..<0 }
        return Int(starts[position])..<Int(starts[position + 1])
    }

    @inline(__always)
    func contains(_ position: Int, _ term: Int32) -> Bool {
        for k in range(position) where terms[k] == term { return true }
        return false
    }
}

/// A set of (node, position) states for one search, cleared in constant time by bumping a generation.
/// Raw storage, owned by one scratch: an insert touches no reference counts.
final class VisitedSet {
    private var keys: UnsafeMutablePointer<UInt64>
    private var stamps: UnsafeMutablePointer<UInt32>
    private var capacity: Int
    private var generation: UInt32 = 1
    private var used = 0

    init(capacity: Int = 256) {
        self.capacity = capacity
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: 0, count: capacity)
        stamps = .allocate(capacity: capacity)
        stamps.initialize(repeating: 0, count: capacity)
    }

    deinit {
        keys.deallocate()
        stamps.deallocate()
    }

    func reset() {
        generation &+= 1
        used = 0
        if generation == 0 {
            stamps.update(repeating: 0, count: capacity)
            generation = 1
        }
    }

    /// Inserts `key`; false when it was already there.
    @inline(__always)
    func insert(_ key: UInt64) -> Bool {
        if used * 2 >= capacity { grow() }
        let mask = capacity - 1
        var slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
        while stamps[slot] == generation {
            if keys[slot] == key { return false }
            slot = (slot + 1) & mask
        }
        stamps[slot] = generation
        keys[slot] = key
        used += 1
        return true
    }

    private func grow() {
        let old = (0..<capacity).filter { stamps[$0] == generation }.map { keys[$0] }
        keys.deallocate()
        stamps.deallocate()
        capacity *= 2
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: 0, count: capacity)
        stamps = .allocate(capacity: capacity)
        stamps.initialize(repeating: 0, count: capacity)
        used = 0
        for key in old { _ = insert(key) }
    }
}
