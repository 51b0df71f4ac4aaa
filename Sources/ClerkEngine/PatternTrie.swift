import ClerkText

/// All patterns of a brain compiled into one token trie (a Graphmaster): literal words are hashed edges, and
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

    struct Node: Sendable {
        var wildcard: Int32 = -1
        var conceptStart: Int32 = 0
        var conceptCount: Int32 = 0
        var slotStart: Int32 = 0
        var slotCount: Int32 = 0
        var terminalStart: Int32 = 0
        var terminalCount: Int32 = 0
        /// Literal-word edges leaving this node: `literalEdges[literalStart..<literalStart + literalCount]`,
        /// sorted by term.
        var literalStart: Int32 = 0
        var literalCount: Int32 = 0
        /// Fewest words any path from here needs to reach a terminal; the walk prunes when fewer are left.
        var minRemaining: Int32 = 0
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

    /// A literal-word edge.
    struct Edge: Sendable {
        var term: Int32
        var child: Int32
    }

    /// All literal edges, grouped by node. Nodes are numbered in depth-first order, so a path's nodes and
    /// their edges lie close together in memory.
    let literalEdges: [Edge]
    let nodes: [Node]
    let conceptEdges: [(concept: Int32, child: Int32)]
    let slotEdges: [(type: SlotType, child: Int32)]
    let terminals: [Terminal]
    let captureLayouts: [[String]]
    let concepts: ConceptTable

    var nodeCount: Int { nodes.count }

    init(
        literalEdges: [Edge], nodes: [Node], conceptEdges: [(concept: Int32, child: Int32)],
        slotEdges: [(type: SlotType, child: Int32)], terminals: [Terminal], captureLayouts: [[String]],
        concepts: ConceptTable
    ) {
        self.literalEdges = literalEdges
        self.nodes = nodes
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
    private var children: [UInt64: Int32] = [:]
    private var wildcard: [Int32] = [-1]
    private var conceptChildren: [(node: Int32, concept: Int32, child: Int32)] = []
    private var slotChildren: [(node: Int32, type: SlotType, child: Int32)] = []
    private var nodeTerminals: [(node: Int32, terminal: PatternTrie.Terminal)] = []
    private var layouts: [[String]] = []
    private var layoutIndex: [[String]: Int32] = [:]

    private mutating func newNode() -> Int32 {
        wildcard.append(-1)
        return Int32(wildcard.count - 1)
    }

    /// The shared index of a list of capture names.
    mutating func layout(_ names: [String]) -> Int32 {
        if let index = layoutIndex[names] { return index }
        let index = Int32(layouts.count)
        layouts.append(names)
        layoutIndex[names] = index
        return index
    }

    /// Adds one expanded path ending in `terminal`.
    mutating func insert(_ path: [PatternTrie.Step], terminal: PatternTrie.Terminal) {
        var node: Int32 = 0
        for step in path {
            switch step {
            case .term(let term):
                let key = PairTable.key(node, term)
                if let child = children[key] {
                    node = child
                } else {
                    let child = newNode()
                    children[key] = child
                    node = child
                }
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
        // Out-edges of every node in the builder's numbering.
        var literalByParent = [[PatternTrie.Edge]](repeating: [], count: count)
        for (key, child) in children where key >> 62 == 0 {
            literalByParent[Int(key >> 32)].append(PatternTrie.Edge(term: Int32(truncatingIfNeeded: key), child: child))
        }
        for index in 0..<count where literalByParent[index].count > 1 {
            literalByParent[index].sort { $0.term < $1.term }
        }
        var conceptByParent = [[(concept: Int32, child: Int32)]](repeating: [], count: count)
        for edge in conceptChildren { conceptByParent[Int(edge.node)].append((edge.concept, edge.child)) }
        var slotByParent = [[(type: SlotType, child: Int32)]](repeating: [], count: count)
        for edge in slotChildren { slotByParent[Int(edge.node)].append((edge.type, edge.child)) }

        // Fewest words to a terminal, bottom-up: a child always has a larger builder id than its parent.
        let unreachable = Int32.max / 2
        var minRemaining = [Int32](repeating: unreachable, count: count)
        for (node, _) in nodeTerminals { minRemaining[Int(node)] = 0 }
        for node in stride(from: count - 1, through: 0, by: -1) {
            var best = minRemaining[node]
            for edge in literalByParent[node] { best = min(best, 1 + minRemaining[Int(edge.child)]) }
            for edge in conceptByParent[node] { best = min(best, 1 + minRemaining[Int(edge.child)]) }
            for edge in slotByParent[node] { best = min(best, 1 + minRemaining[Int(edge.child)]) }
            if wildcard[node] >= 0 { best = min(best, 1 + minRemaining[Int(wildcard[node])]) }
            minRemaining[node] = best
        }

        // Depth-first numbering.
        var newID = [Int32](repeating: -1, count: count)
        var order: [Int32] = []
        order.reserveCapacity(count)
        var stack: [Int32] = [0]
        while let node = stack.popLast() {
            newID[Int(node)] = Int32(order.count)
            order.append(node)
            if wildcard[Int(node)] >= 0 { stack.append(wildcard[Int(node)]) }
            for edge in slotByParent[Int(node)].reversed() { stack.append(edge.child) }
            for edge in conceptByParent[Int(node)].reversed() { stack.append(edge.child) }
            for edge in literalByParent[Int(node)].reversed() { stack.append(edge.child) }
        }

        var terminalsByNode = [[PatternTrie.Terminal]](repeating: [], count: count)
        for (node, terminal) in nodeTerminals { terminalsByNode[Int(node)].append(terminal) }
        var nodes: [PatternTrie.Node] = []
        nodes.reserveCapacity(count)
        var literalEdges: [PatternTrie.Edge] = []
        var conceptEdges: [(concept: Int32, child: Int32)] = []
        var slotEdges: [(type: SlotType, child: Int32)] = []
        var terminals: [PatternTrie.Terminal] = []
        for old in order {
            let index = Int(old)
            var node = PatternTrie.Node()
            node.wildcard = wildcard[index] >= 0 ? newID[Int(wildcard[index])] : -1
            node.literalStart = Int32(literalEdges.count)
            node.literalCount = Int32(literalByParent[index].count)
            for edge in literalByParent[index] {
                literalEdges.append(PatternTrie.Edge(term: edge.term, child: newID[Int(edge.child)]))
            }
            node.conceptStart = Int32(conceptEdges.count)
            node.conceptCount = Int32(conceptByParent[index].count)
            for edge in conceptByParent[index] { conceptEdges.append((edge.concept, newID[Int(edge.child)])) }
            node.slotStart = Int32(slotEdges.count)
            node.slotCount = Int32(slotByParent[index].count)
            for edge in slotByParent[index] { slotEdges.append((edge.type, newID[Int(edge.child)])) }
            node.terminalStart = Int32(terminals.count)
            node.terminalCount = Int32(terminalsByNode[index].count)
            terminals.append(contentsOf: terminalsByNode[index])
            node.minRemaining = minRemaining[index]
            nodes.append(node)
        }
        return PatternTrie(
            literalEdges: literalEdges, nodes: nodes, conceptEdges: conceptEdges, slotEdges: slotEdges,
            terminals: terminals, captureLayouts: layouts, concepts: concepts)
    }

}
