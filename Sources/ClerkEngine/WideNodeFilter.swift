import ClerkText

/// For each wide node of a pattern trie (one with many literal edges), the terms it has an edge for, one bit per
/// term. A wildcard tries every end position, and at each the next word is looked up among the edges of the node
/// after the wildcard, which in a large brain has thousands (every pattern that starts with `*`). Most of those
/// words have no edge there: the bit says so without a binary search through the edge list.
struct WideNodeFilter: Sendable {
    /// Nodes with at least this many literal edges get a bit set; below it the edge list is short enough to search.
    static let minimumEdges = 48

    /// Arena offset of a wide node → offset of its bit set in `bits`.
    private let sets: PairTable
    private let bits: [UInt64]
    /// Words per bit set: enough for every term the trie's edges use.
    private let words: Int

    init(_ trie: PatternTrie) {
        let arena = trie.arena
        var wide: [(offset: Int, edges: Int)] = []
        var maxTerm: Int32 = -1
        var at = 0
        while at < arena.count {
            let counts = arena[at + PatternTrie.Header.counts]
            let length = Int(counts & PatternTrie.Header.countMask)
            if counts & PatternTrie.Header.chainFlag != 0 {
                at += PatternTrie.Header.size + length
                continue
            }
            if length >= Self.minimumEdges {
                wide.append((at, length))
                for k in 0..<length { maxTerm = max(maxTerm, arena[at + PatternTrie.Header.size + 2 * k]) }
            }
            at += PatternTrie.Header.size + 2 * length
        }
        let words = (Int(maxTerm) + 64) / 64
        var bits = [UInt64](repeating: 0, count: wide.count * words)
        var entries: [(UInt64, Int32)] = []
        for (index, node) in wide.enumerated() {
            let base = index * words
            for k in 0..<node.edges {
                let term = Int(arena[node.offset + PatternTrie.Header.size + 2 * k])
                bits[base + term >> 6] |= 1 << UInt64(term & 63)
            }
            entries.append((PairTable.key(Int32(node.offset), 0), Int32(base)))
        }
        sets = PairTable(entries)
        self.bits = bits
        self.words = words
    }

    /// Whether wide node `node` (at least ``minimumEdges`` edges) may have an edge for `term` (≥ 0): false means
    /// it has none.
    @inline(__always)
    func mayHaveEdge(_ node: Int, _ term: Int32) -> Bool {
        let base = sets[PairTable.key(Int32(truncatingIfNeeded: node), 0)]
        guard base >= 0, Int(term) < words * 64 else { return base < 0 }
        return bits.withUnsafeBufferPointer { $0[Int(base) + Int(term) >> 6] } & (1 << UInt64(term & 63)) != 0
    }
}
