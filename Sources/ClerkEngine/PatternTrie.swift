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
        /// Capture names for wildcard, concept and slot elements in path order.
        var captureNames: [String]
    }

    let edges: PairTable
    let nodes: [Node]
    let conceptEdges: [(concept: Int32, child: Int32)]
    let slotEdges: [(type: SlotType, child: Int32)]
    let terminals: [Terminal]
    let concepts: ConceptTable

    var nodeCount: Int { nodes.count }

    init(
        edges: PairTable, nodes: [Node], conceptEdges: [(concept: Int32, child: Int32)],
        slotEdges: [(type: SlotType, child: Int32)], terminals: [Terminal], concepts: ConceptTable
    ) {
        self.edges = edges
        self.nodes = nodes
        self.conceptEdges = conceptEdges
        self.slotEdges = slotEdges
        self.terminals = terminals
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

/// Builds a ``PatternTrie`` from expanded pattern paths.
struct PatternTrieBuilder {
    private var children: [UInt64: Int32] = [:]
    private var wildcard: [Int32] = [-1]
    private var conceptChildren: [[(Int32, Int32)]] = [[]]
    private var slotChildren: [[(SlotType, Int32)]] = [[]]
    private var nodeTerminals: [[PatternTrie.Terminal]] = [[]]

    private mutating func newNode() -> Int32 {
        wildcard.append(-1)
        conceptChildren.append([])
        slotChildren.append([])
        nodeTerminals.append([])
        return Int32(wildcard.count - 1)
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
                if let existing = conceptChildren[Int(node)].first(where: { $0.0 == concept }) {
                    node = existing.1
                } else {
                    let child = newNode()
                    conceptChildren[Int(node)].append((concept, child))
                    node = child
                }
            case .slot(let type):
                if let existing = slotChildren[Int(node)].first(where: { $0.0 == type }) {
                    node = existing.1
                } else {
                    let child = newNode()
                    slotChildren[Int(node)].append((type, child))
                    node = child
                }
            }
        }
        nodeTerminals[Int(node)].append(terminal)
    }

    func build(concepts: ConceptTable) -> PatternTrie {
        var nodes: [PatternTrie.Node] = []
        nodes.reserveCapacity(wildcard.count)
        var conceptEdges: [(concept: Int32, child: Int32)] = []
        var slotEdges: [(type: SlotType, child: Int32)] = []
        var terminals: [PatternTrie.Terminal] = []
        for index in wildcard.indices {
            var node = PatternTrie.Node()
            node.wildcard = wildcard[index]
            node.conceptStart = Int32(conceptEdges.count)
            node.conceptCount = Int32(conceptChildren[index].count)
            conceptEdges.append(contentsOf: conceptChildren[index].map { (concept: $0.0, child: $0.1) })
            node.slotStart = Int32(slotEdges.count)
            node.slotCount = Int32(slotChildren[index].count)
            slotEdges.append(contentsOf: slotChildren[index].map { (type: $0.0, child: $0.1) })
            node.terminalStart = Int32(terminals.count)
            node.terminalCount = Int32(nodeTerminals[index].count)
            terminals.append(contentsOf: nodeTerminals[index])
            nodes.append(node)
        }
        return PatternTrie(
            edges: PairTable(children.map { ($0.key, $0.value) }), nodes: nodes, conceptEdges: conceptEdges,
            slotEdges: slotEdges, terminals: terminals, concepts: concepts)
    }
}
