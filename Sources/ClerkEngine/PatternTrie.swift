import ClerkText

/// All patterns of a brain compiled into one token trie (a Graphmaster): literal words are sorted edge lists stored with their node, and
/// a node may also have one wildcard edge, concept edges and typed-capture edges. Matching walks the trie
/// along the message, so its cost grows with the message and the few branches it can take, not with the
/// number of intents.
final class PatternTrie: Sendable {
    /// One path element of an expanded pattern.
    enum Step: Hashable, Sendable {
        case term(Int32)
        case wildcard
        case concept(Int32)
        case slot(SlotType)
    }

    /// Layout of a node in ``arena``: a five-word header followed by its literal edges, so reaching a node
    /// and finding its next edge usually touch one cache line.
    ///
    /// | word | contents |
    /// |---|---|
    /// | 0 | wildcard child (an arena offset) or -1 |
    /// | 1 | first terminal in ``terminals`` |
    /// | 2 | index into ``extras`` (concept and capture edges) or -1 |
    /// | 3 | literal edge count (low 23 bits) or a chain's length with ``chainFlag``; fewest words to a terminal, capped at 127 (high 8 bits) |
    /// | 4 | terminal count |
    /// | 5… | literal edges as (term, child offset) pairs, sorted by term; for a chain, its terms |
    ///
    /// A **chain** is a run of nodes that each have one literal edge and nothing else (no terminal, wildcard,
    /// concept or capture): the tail of most patterns, which no other pattern shares. It is stored as one record
    /// that lists the run's terms, and the node the run leads to follows the record directly. So walking the
    /// unshared end of a pattern reads one or two cache lines instead of one record per word, and a large trie
    /// takes a third of the memory.
    enum Header {
        static let wildcard = 0
        static let terminalStart = 1
        static let extra = 2
        static let counts = 3
        static let terminalCount = 4
        static let size = 5
        /// Set in the count word of a chain record; the low bits then hold the chain's length.
        static let chainFlag: Int32 = 1 << 23
        static let countMask: Int32 = chainFlag - 1
    }

    /// The concept and capture edges of a node that has any.
    struct Extra: Sendable {
        var conceptStart: Int32
        var conceptCount: Int32
        var slotStart: Int32
        var slotCount: Int32
    }

    /// How specific a matched pattern path is; larger wins (see docs/matching.md).
    struct Specificity: Sendable, Hashable, Comparable {
        var literalWords: Int32
        var typedElements: Int32
        var wildcards: Int32
        var priority: Int32

        static func < (a: Specificity, b: Specificity) -> Bool {
            if a.literalWords != b.literalWords { return a.literalWords < b.literalWords }
            if a.typedElements != b.typedElements { return a.typedElements < b.typedElements }
            if a.wildcards != b.wildcards { return a.wildcards > b.wildcards }
            return a.priority < b.priority
        }
    }

    /// Where a path ends: the pattern it came from and what its captures are.
    struct Terminal: Sendable {
        var intent: Int32
        /// Index into the brain's pattern list (for explanations); lower = earlier in the content.
        var pattern: Int32
        var specificity: Specificity
        /// Index into ``PatternTrie/captureLayouts``: the capture names of the path's wildcard, concept and
        /// slot elements in order (shared: most paths have the same few layouts).
        var captureLayout: Int32
    }

    /// A literal-word edge (used while building).
    struct Edge: Sendable {
        var term: Int32
        var child: Int32
    }

    /// All nodes and their literal edges, in depth-first order (see ``Header``). A node is named by its offset.
    let arena: [Int32]
    let nodeCount: Int
    let extras: [Extra]
    let conceptEdges: [(concept: Int32, child: Int32)]
    let slotEdges: [(type: SlotType, child: Int32)]
    let terminals: [Terminal]
    let captureLayouts: [[String]]
    let concepts: ConceptTable

    init(
        arena: [Int32], nodeCount: Int, extras: [Extra], conceptEdges: [(concept: Int32, child: Int32)],
        slotEdges: [(type: SlotType, child: Int32)], terminals: [Terminal], captureLayouts: [[String]],
        concepts: ConceptTable
    ) {
        self.arena = arena
        self.nodeCount = nodeCount
        self.extras = extras
        self.conceptEdges = conceptEdges
        self.slotEdges = slotEdges
        self.terminals = terminals
        self.captureLayouts = captureLayouts
        self.concepts = concepts
    }
}

/// Concept members as a trie over terms; `~name` edges ask it where a member phrase can end.
final class ConceptTable: Sendable {
    let edges: PairTable
    let roots: [Int32]
    let isEnd: [Bool]

    init(members: [[[Int32]]]) {
        var entries: [(UInt64, Int32)] = []
        var lookup: [UInt64: Int32] = [:]
        var isEnd: [Bool] = []
        var roots: [Int32] = []
        for phrases in members {
            let root = Int32(isEnd.count)
            roots.append(root)
            isEnd.append(false)
            for phrase in phrases where !phrase.isEmpty && !phrase.contains(-1) {
                var node = root
                for term in phrase {
                    let key = PairTable.key(node, term)
                    if let child = lookup[key] {
                        node = child
                    } else {
                        let child = Int32(isEnd.count)
                        isEnd.append(false)
                        lookup[key] = child
                        entries.append((key, child))
                        node = child
                    }
                }
                isEnd[Int(node)] = true
            }
        }
        edges = PairTable(entries)
        self.roots = roots
        self.isEnd = isEnd
    }

    /// Calls `body` with each length of a member phrase of `concept` found at `start`.
    @inline(__always)
    func forEachMatch(_ concept: Int32, _ terms: [Int32], from start: Int, _ body: (Int) -> Void) {
        var node = roots[Int(concept)]
        var index = start
        while index < terms.count, terms[index] >= 0 {
            node = edges[PairTable.key(node, terms[index])]
            if node < 0 { return }
            index += 1
            if isEnd[Int(node)] { body(index - start) }
        }
    }
}

/// Builds a ``PatternTrie`` from expanded pattern paths. Edges other than literal words and the terminals
/// are collected as (node, …) pairs and grouped by node at the end, so a large trie costs a few flat arrays.
struct PatternTrieBuilder {
    private var children: EdgeTable
    private var wildcard: [Int32] = [-1]
    private var conceptChildren: [(node: Int32, concept: Int32, child: Int32)] = []
    private var slotChildren: [(node: Int32, type: SlotType, child: Int32)] = []
    private var nodeTerminals: [(node: Int32, terminal: PatternTrie.Terminal)] = []
    private var layouts: [[String]] = []
    private var layoutIndex: [[String]: Int32] = [:]
    /// The layout returned last, and the one before it.
    private var recentLayouts: (Int32, Int32) = (-1, -1)

    /// - Parameter expectedEdges: about how many edges the trie will have, so its table rarely has to grow.
    init(expectedEdges: Int = 0) {
        children = EdgeTable(capacity: expectedEdges)
    }

    private mutating func newNode() -> Int32 {
        wildcard.append(-1)
        return Int32(wildcard.count - 1)
    }

    /// The shared index of a list of capture names.
    mutating func layout(_ names: ArraySlice<String>) -> Int32 {
        // Consecutive paths nearly always share one of a few layouts (none, `{1}`, …): compare with the two
        // returned last before hashing (layouts are distinct, so an equal one is the one).
        let (last, previous) = recentLayouts
        if last >= 0, layouts[Int(last)].elementsEqual(names) { return last }
        if previous >= 0, layouts[Int(previous)].elementsEqual(names) {
            recentLayouts = (previous, last)
            return previous
        }
        let key = Array(names)
        let index: Int32
        if let known = layoutIndex[key] {
            index = known
        } else {
            index = Int32(layouts.count)
            layouts.append(key)
            layoutIndex[key] = index
        }
        recentLayouts = (index, last)
        return index
    }

    /// Adds one expanded path ending in `terminal`.
    mutating func insert(_ path: ArraySlice<PatternTrie.Step>, terminal: PatternTrie.Terminal) {
        var node: Int32 = 0
        for step in path {
            switch step {
            case .term(let term):
                let (child, inserted) = children.findOrInsert(PairTable.key(node, term), next: Int32(wildcard.count))
                if inserted { _ = newNode() }
                node = child
            case .wildcard:
                if wildcard[Int(node)] < 0 { wildcard[Int(node)] = newNode() }
                node = wildcard[Int(node)]
            case .concept(let concept):
                let key = PairTable.key(node, concept) ^ (1 << 63)
                if let child = children[key] {
                    node = child
                } else {
                    let child = newNode()
                    children[key] = child
                    conceptChildren.append((node, concept, child))
                    node = child
                }
            case .slot(let type):
                let key = PairTable.key(node, Int32(SlotType.allCases.firstIndex(of: type)!)) ^ (1 << 62)
                if let child = children[key] {
                    node = child
                } else {
                    let child = newNode()
                    children[key] = child
                    slotChildren.append((node, type, child))
                    node = child
                }
            }
        }
        nodeTerminals.append((node, terminal))
    }

    func build(concepts: ConceptTable) -> PatternTrie {
        let count = wildcard.count
        // Out-edges grouped by parent (builder numbering) in flat arrays: offsets[node]..<offsets[node + 1].
        // Group by parent with a counting sort, then order each (usually tiny) group by term.
        var parentCounts = [Int](repeating: 0, count: count + 1)
        children.forEach { key, _ in if key >> 62 == 0 { parentCounts[Int(key >> 32) + 1] += 1 } }
        for index in 0..<count { parentCounts[index + 1] += parentCounts[index] }
        var literal = [(parent: Int32, edge: PatternTrie.Edge)](
            repeating: (0, PatternTrie.Edge(term: 0, child: 0)), count: parentCounts[count])
        var fill = parentCounts
        children.forEach { key, child in
            guard key >> 62 == 0 else { return }
            let parent = Int(key >> 32)
            literal[fill[parent]] = (
                Int32(parent), PatternTrie.Edge(term: Int32(truncatingIfNeeded: key), child: child)
            )
            fill[parent] += 1
        }
        for node in 0..<count where parentCounts[node + 1] - parentCounts[node] > 1 {
            literal[parentCounts[node]..<parentCounts[node + 1]].sort { $0.edge.term < $1.edge.term }
        }
        // Grouped by parent, so the group starts are the running counts.
        let literalOffsets = parentCounts
        let concept = conceptChildren.sorted { ($0.node, $0.concept) < ($1.node, $1.concept) }
        let conceptOffsets = Self.offsets(concept.map(\.node), count: count)
        let slot = slotChildren.enumerated().sorted { ($0.element.node, $0.offset) < ($1.element.node, $1.offset) }
            .map(\.element)
        let slotOffsets = Self.offsets(slot.map(\.node), count: count)
        // Terminals by node, in insertion order within a node (a counting sort).
        let terminalOffsets = Self.offsets(nodeTerminals.map(\.node), count: count)
        var terminalOrder = [Int](repeating: 0, count: nodeTerminals.count)
        var terminalFill = terminalOffsets
        for (index, entry) in nodeTerminals.enumerated() {
            terminalOrder[terminalFill[Int(entry.node)]] = index
            terminalFill[Int(entry.node)] += 1
        }

        // Fewest words to a terminal, bottom-up: a child always has a larger builder id than its parent.
        let unreachable = Int32.max / 2
        var minRemaining = [Int32](repeating: unreachable, count: count)
        for (node, _) in nodeTerminals { minRemaining[Int(node)] = 0 }
        for node in stride(from: count - 1, through: 0, by: -1) {
            var best = minRemaining[node]
            for k in literalOffsets[node]..<literalOffsets[node + 1] {
                best = min(best, 1 + minRemaining[Int(literal[k].edge.child)])
            }
            for k in conceptOffsets[node]..<conceptOffsets[node + 1] {
                best = min(best, 1 + minRemaining[Int(concept[k].child)])
            }
            for k in slotOffsets[node]..<slotOffsets[node + 1] {
                best = min(best, 1 + minRemaining[Int(slot[k].child)])
            }
            if wildcard[node] >= 0 { best = min(best, 1 + minRemaining[Int(wildcard[node])]) }
            minRemaining[node] = best
        }

        // Depth-first numbering.
        var order: [Int32] = []
        order.reserveCapacity(count)
        var stack: [Int32] = [0]
        while let node = stack.popLast() {
            let n = Int(node)
            order.append(node)
            if wildcard[n] >= 0 { stack.append(wildcard[n]) }
            for k in (slotOffsets[n]..<slotOffsets[n + 1]).reversed() { stack.append(slot[k].child) }
            for k in (conceptOffsets[n]..<conceptOffsets[n + 1]).reversed() { stack.append(concept[k].child) }
            for k in (literalOffsets[n]..<literalOffsets[n + 1]).reversed() { stack.append(literal[k].edge.child) }
        }

        // Chains (see ``PatternTrie/Header``): a node with one literal edge and nothing else. `chainLength` is
        // the number of such nodes in a row from a node; a node inside a run is not stored on its own. Depth-first
        // order lists a run's nodes one after another, followed by the node the run leads to.
        func isChainLink(_ n: Int) -> Bool {
            n != 0 && literalOffsets[n + 1] - literalOffsets[n] == 1 && wildcard[n] < 0
                && conceptOffsets[n + 1] == conceptOffsets[n] && slotOffsets[n + 1] == slotOffsets[n]
                && terminalOffsets[n + 1] == terminalOffsets[n]
        }
        var chainLength = [Int32](repeating: 0, count: count)
        var insideChain = [Bool](repeating: false, count: count)
        for node in stride(from: count - 1, through: 0, by: -1) where isChainLink(node) {
            let child = Int(literal[literalOffsets[node]].edge.child)
            if isChainLink(child) {
                chainLength[node] = 1 + chainLength[child]
                insideChain[child] = true
            } else {
                chainLength[node] = 1
            }
        }

        // Arena offsets in depth-first order, then the records themselves.
        var offset = [Int32](repeating: -1, count: count)
        var size = 0
        for old in order where !insideChain[Int(old)] {
            offset[Int(old)] = Int32(size)
            size +=
                PatternTrie.Header.size
                + (chainLength[Int(old)] > 0
                    ? Int(chainLength[Int(old)]) : 2 * (literalOffsets[Int(old) + 1] - literalOffsets[Int(old)]))
        }
        var arena = [Int32](repeating: 0, count: size)
        var conceptEdges: [(concept: Int32, child: Int32)] = []
        var slotEdges: [(type: SlotType, child: Int32)] = []
        var terminals: [PatternTrie.Terminal] = []
        terminals.reserveCapacity(nodeTerminals.count)
        var extras: [PatternTrie.Extra] = []
        for old in order where !insideChain[Int(old)] {
            let n = Int(old)
            let at = Int(offset[n])
            let literalCount = literalOffsets[n + 1] - literalOffsets[n]
            let fewest = Int32(min(minRemaining[n], 127)) << 24
            if chainLength[n] > 0 {
                arena[at + PatternTrie.Header.wildcard] = -1
                arena[at + PatternTrie.Header.terminalStart] = Int32(terminals.count)
                arena[at + PatternTrie.Header.extra] = -1
                arena[at + PatternTrie.Header.counts] = PatternTrie.Header.chainFlag | chainLength[n] | fewest
                arena[at + PatternTrie.Header.terminalCount] = 0
                var link = n
                for k in 0..<Int(chainLength[n]) {
                    let edge = literal[literalOffsets[link]].edge
                    arena[at + PatternTrie.Header.size + k] = edge.term
                    link = Int(edge.child)
                }
                continue
            }
            arena[at + PatternTrie.Header.wildcard] = wildcard[n] >= 0 ? offset[Int(wildcard[n])] : -1
            arena[at + PatternTrie.Header.terminalStart] = Int32(terminals.count)
            arena[at + PatternTrie.Header.counts] = Int32(literalCount) | fewest
            arena[at + PatternTrie.Header.terminalCount] = Int32(terminalOffsets[n + 1] - terminalOffsets[n])
            for (k, edge) in (literalOffsets[n]..<literalOffsets[n + 1]).enumerated() {
                arena[at + PatternTrie.Header.size + 2 * k] = literal[edge].edge.term
                arena[at + PatternTrie.Header.size + 2 * k + 1] = offset[Int(literal[edge].edge.child)]
            }
            let extra = PatternTrie.Extra(
                conceptStart: Int32(conceptEdges.count), conceptCount: Int32(conceptOffsets[n + 1] - conceptOffsets[n]),
                slotStart: Int32(slotEdges.count), slotCount: Int32(slotOffsets[n + 1] - slotOffsets[n]))
            if extra.conceptCount > 0 || extra.slotCount > 0 {
                arena[at + PatternTrie.Header.extra] = Int32(extras.count)
                extras.append(extra)
            } else {
                arena[at + PatternTrie.Header.extra] = -1
            }
            for k in conceptOffsets[n]..<conceptOffsets[n + 1] {
                conceptEdges.append((concept[k].concept, offset[Int(concept[k].child)]))
            }
            for k in slotOffsets[n]..<slotOffsets[n + 1] {
                slotEdges.append((slot[k].type, offset[Int(slot[k].child)]))
            }
            for k in terminalOffsets[n]..<terminalOffsets[n + 1] {
                terminals.append(nodeTerminals[terminalOrder[k]].terminal)
            }
        }
        return PatternTrie(
            arena: arena, nodeCount: count, extras: extras, conceptEdges: conceptEdges, slotEdges: slotEdges,
            terminals: terminals, captureLayouts: layouts, concepts: concepts)
    }

    /// Start offsets (count + 1 entries) of each node's group in a list sorted by node.
    private static func offsets(_ nodes: [Int32], count: Int) -> [Int] {
        var offsets = [Int](repeating: 0, count: count + 1)
        for node in nodes { offsets[Int(node) + 1] += 1 }
        for index in 0..<count { offsets[index + 1] += offsets[index] }
        return offsets
    }

}

/// A growing open-addressing map from (node, step) keys to child nodes, for building large tries without the
/// overhead of `Dictionary`.
struct EdgeTable {
    private var keys: [UInt64]
    private var values: [Int32]
    private(set) var count = 0

    /// A table that holds `capacity` entries before it grows.
    init(capacity: Int = 0) {
        var size = 1 << 16
        while size < 2 * capacity { size *= 2 }
        keys = [UInt64](repeating: .max, count: size)
        values = [Int32](repeating: -1, count: size)
    }

    /// The value for `key`; when absent, stores `next` and reports that it inserted.
    @inline(__always)
    mutating func findOrInsert(_ key: UInt64, next: Int32) -> (Int32, inserted: Bool) {
        if (count + 1) * 2 > keys.count { grow() }
        let mask = keys.count - 1
        var slot = PairTable.slot(key, mask)
        while keys[slot] != .max {
            if keys[slot] == key { return (values[slot], false) }
            slot = (slot + 1) & mask
        }
        keys[slot] = key
        values[slot] = next
        count += 1
        return (next, true)
    }

    subscript(key: UInt64) -> Int32? {
        get {
            let mask = keys.count - 1
            var slot = PairTable.slot(key, mask)
            while keys[slot] != .max {
                if keys[slot] == key { return values[slot] }
                slot = (slot + 1) & mask
            }
            return nil
        }
        set {
            guard let value = newValue else { return }
            if (count + 1) * 2 > keys.count { grow() }
            let mask = keys.count - 1
            var slot = PairTable.slot(key, mask)
            while keys[slot] != .max && keys[slot] != key { slot = (slot + 1) & mask }
            if keys[slot] == .max { count += 1 }
            keys[slot] = key
            values[slot] = value
        }
    }

    func forEach(_ body: (UInt64, Int32) -> Void) {
        for slot in keys.indices where keys[slot] != .max { body(keys[slot], values[slot]) }
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldValues = values
        keys = [UInt64](repeating: .max, count: oldKeys.count * 2)
        values = [Int32](repeating: -1, count: oldKeys.count * 2)
        count = 0
        for slot in oldKeys.indices where oldKeys[slot] != .max { self[oldKeys[slot]] = oldValues[slot] }
    }
}
