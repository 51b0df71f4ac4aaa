/// Spelling correction bounded by a vocabulary: an unknown word is corrected only to a word the brain knows,
/// within an edit distance that grows with the word's length.
///
/// Uses symmetric deletes (SymSpell): at build time every vocabulary word's deletions within its allowed
/// distance are indexed; a lookup generates the input's deletions and verifies candidates with the optimal
/// string alignment distance (substitution, insertion, deletion, transposition of neighbours).
///
/// ```swift
/// let index = SpellingIndex(words: ["passport", "renew"], frequencies: [3, 2])
/// index.correct("pasport")   // "passport", distance 1
/// ```
public final class SpellingIndex: Sendable {
    /// A vocabulary word and its distance from the input.
    public struct Correction: Sendable, Hashable {
        public var wordIndex: Int32
        public var distance: Int
    }

    /// Vocabulary words back to back, with `wordOffsets` (count + 1 entries) marking where each starts.
    private let wordBytes: [UInt8]
    private let wordOffsets: [Int32]
    private let frequencies: [Int32]
    /// Letters present in each word (bit k for letter 'a' + k; bit 26 for anything else): one edit changes at
    /// most two bits, so candidates whose masks differ too much are rejected without computing a distance.
    private let letterMasks: [UInt32]
    /// Hash of a deletion → (offset, count) into `postings`, by open addressing.
    private let slotHashes: [UInt64]
    private let slotRanges: [(Int32, Int32)]
    private let postings: [Int32]
    private let mask: Int

    /// Longest word that is corrected; longer inputs are left alone (and cost nothing).
    static let maxWordLength = 24

    /// Edits allowed for a word of `length` bytes: none up to 3 letters, one up to 7, two from 8 on.
    @inline(__always)
    public static func allowedDistance(forLength length: Int) -> Int {
        length <= 3 ? 0 : length <= 7 ? 1 : 2
    }

    /// Builds the index over `words` (folded); `frequencies` break ties between equally close candidates.
    public init(words: [String], frequencies: [Int]) {
        let words = words.map { Array($0.utf8) }
        var offsets: [Int32] = [0]
        for word in words { offsets.append(offsets[offsets.count - 1] + Int32(word.count)) }
        wordBytes = words.flatMap { $0 }
        wordOffsets = offsets
        self.frequencies = frequencies.map { Int32(clamping: $0) }
        letterMasks = words.map { $0.withUnsafeBufferPointer(Self.letterMask) }
        var table: [UInt64: [Int32]] = [:]
        for (index, word) in words.enumerated() where word.count <= Self.maxWordLength {
            let distance = Self.allowedDistance(forLength: word.count)
            guard distance > 0 else { continue }
            Self.forEachDeletion(of: word, upTo: distance) { hash in
                table[hash, default: []].append(Int32(index))
            }
        }
        var size = 16
        while size < table.count * 2 { size <<= 1 }
        var hashes = [UInt64](repeating: 0, count: size)
        var ranges = [(Int32, Int32)](repeating: (0, 0), count: size)
        var postings: [Int32] = []
        for (hash, list) in table.sorted(by: { $0.key < $1.key }) {
            var slot = Int(truncatingIfNeeded: hash) & (size - 1)
            while ranges[slot].1 != 0 { slot = (slot + 1) & (size - 1) }
            let unique = Array(Set(list)).sorted()
            hashes[slot] = hash
            ranges[slot] = (Int32(postings.count), Int32(unique.count))
            postings.append(contentsOf: unique)
        }
        slotHashes = hashes
        slotRanges = ranges
        self.postings = postings
        mask = size - 1
    }

    /// The closest vocabulary word to `input` within the allowed distance: smallest distance first, then the
    /// more frequent word, then the earlier one. Nil when nothing is close enough.
    public func correct(_ input: UnsafeBufferPointer<UInt8>) -> Correction? {
        // Words of three letters or fewer are never corrected: "car" is not a typo of "card".
        guard input.count >= 4, input.count <= Self.maxWordLength, !postings.isEmpty else { return nil }
        // Index entries of words allowed two edits (8+ letters) are their deletions down to 6 letters, so an
        // input under 8 letters meets them with at most one deletion of its own.
        let maxDistance = input.count >= 8 ? 2 : 1
        var best: Correction?
        var bestFrequency: Int32 = -1
        let inputMask = Self.letterMask(input)
        // Candidates already verified (a word is often reached through several deletions).
        var checked: (Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32) = (-1, -1, -1, -1, -1, -1, -1, -1)
        var checkedCount = 0
        forEachIndexedWord(sharingADeletionWith: input, upTo: maxDistance) { candidate in
            let seen = withUnsafeBytes(of: &checked) { raw in
                raw.bindMemory(to: Int32.self).prefix(min(checkedCount, 8)).contains(candidate)
            }
            if seen { return }
            withUnsafeMutableBytes(of: &checked) { raw in
                raw.bindMemory(to: Int32.self)[checkedCount % 8] = candidate
            }
            checkedCount += 1
            if (letterMasks[Int(candidate)] ^ inputMask).nonzeroBitCount > 4 { return }
            let start = Int(wordOffsets[Int(candidate)])
            let end = Int(wordOffsets[Int(candidate) + 1])
            // The vocabulary word's length sets the edits allowed, but never more than one beyond
            // what the typed word's own length would allow.
            let limit = min(
                Self.allowedDistance(forLength: end - start),
                Self.allowedDistance(forLength: input.count) + 1)
            guard abs(end - start - input.count) <= limit else { return }
            let distance = wordBytes.withUnsafeBufferPointer {
                EditDistance.osa(UnsafeBufferPointer(rebasing: $0[start..<end]), input, limit: limit)
            }
            guard distance <= limit, distance > 0 else { return }
            let frequency = frequencies[Int(candidate)]
            if let current = best {
                if distance > current.distance { return }
                if distance == current.distance
                    && (frequency < bestFrequency
                        || (frequency == bestFrequency && candidate >= current.wordIndex))
                {
                    return
                }
            }
            best = Correction(wordIndex: candidate, distance: distance)
            bestFrequency = frequency
        }
        return best
    }

    /// Every vocabulary word one edit from `input`, closest first, then the more frequent, then the earlier;
    /// at most `limit`, written to `into` (replacing what it held). Unlike ``correct(_:)`` this also reads a
    /// three-letter input, as a word with one letter missing ("los" → "lost", "vis" → "visa"): alone such a
    /// reading is a guess, so it is only used where the words around it confirm it (a pattern then matches the
    /// whole message).
    public func candidates(_ input: UnsafeBufferPointer<UInt8>, limit: Int, into result: inout [Int32]) {
        result.removeAll(keepingCapacity: true)
        guard input.count >= 3, input.count <= Self.maxWordLength, !postings.isEmpty, limit > 0 else { return }
        let inputMask = Self.letterMask(input)
        var found: [(word: Int32, frequency: Int32)] = []
        // A three-letter input meets the four-letter words it is one deletion of: its own hash only.
        forEachIndexedWord(sharingADeletionWith: input, upTo: input.count >= 4 ? 1 : 0) { candidate in
            if found.contains(where: { $0.word == candidate }) { return }
            if (letterMasks[Int(candidate)] ^ inputMask).nonzeroBitCount > 2 { return }
            let start = Int(wordOffsets[Int(candidate)])
            let end = Int(wordOffsets[Int(candidate) + 1])
            let distance = wordBytes.withUnsafeBufferPointer {
                EditDistance.osa(UnsafeBufferPointer(rebasing: $0[start..<end]), input, limit: 1)
            }
            if distance == 1 { found.append((candidate, frequencies[Int(candidate)])) }
        }
        found.sort { $0.frequency > $1.frequency || ($0.frequency == $1.frequency && $0.word < $1.word) }
        for entry in found.prefix(limit) { result.append(entry.word) }
    }

    /// Calls `body` with every indexed vocabulary word that has a deletion (up to `distance` bytes) in common
    /// with `input`'s own deletions, once per shared deletion: the candidates a caller then verifies.
    @inline(__always)
    private func forEachIndexedWord(
        sharingADeletionWith input: UnsafeBufferPointer<UInt8>, upTo distance: Int, _ body: (Int32) -> Void
    ) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: input.count) { scratch in
            Self.forEachDeletion(of: input, upTo: distance, scratch: scratch) { hash in
                var slot = Int(truncatingIfNeeded: hash) & mask
                while slotRanges[slot].1 != 0 {
                    if slotHashes[slot] == hash {
                        let (offset, count) = slotRanges[slot]
                        for k in Int(offset)..<Int(offset + count) { body(postings[k]) }
                        return
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
    }

    /// The closest vocabulary word to `input` (convenient outside the hot path).
    public func correct(_ input: String) -> (word: String, distance: Int)? {
        var copy = input
        guard let correction = copy.withUTF8({ correct($0) }) else { return nil }
        let start = Int(wordOffsets[Int(correction.wordIndex)])
        let end = Int(wordOffsets[Int(correction.wordIndex) + 1])
        return (String(decoding: wordBytes[start..<end], as: UTF8.self), correction.distance)
    }

    /// Letters present in a word: bit k for 'a' + k, bit 26 for any other byte.
    static func letterMask(_ word: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var mask: UInt32 = 0
        for byte in word {
            let letter = byte &- UInt8(ascii: "a")
            mask |= letter < 26 ? 1 << UInt32(letter) : 1 << 26
        }
        return mask
    }

    /// Calls `body` with the hash of `word` itself and of every string made by deleting 1…`distance` bytes.
    static func forEachDeletion(of word: [UInt8], upTo distance: Int, _ body: (UInt64) -> Void) {
        word.withUnsafeBufferPointer { input in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(word.count, 1)) { scratch in
                forEachDeletion(of: input, upTo: distance, scratch: scratch, body)
            }
        }
    }

    static func forEachDeletion(
        of input: UnsafeBufferPointer<UInt8>, upTo distance: Int, scratch: UnsafeMutableBufferPointer<UInt8>,
        _ body: (UInt64) -> Void
    ) {
        // Polynomial hashes with prefix and suffix sums: the hash of the word with one or two bytes deleted is
        // computed in constant time, without building the shortened word.
        let n = input.count
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 3 * (n + 1)) { table in
            let prefix = table.baseAddress!
            let suffix = prefix + (n + 1)
            let power = suffix + (n + 1)
            power[0] = 1
            prefix[0] = 0
            for k in 0..<n {
                prefix[k + 1] = prefix[k] &* base &+ UInt64(input[k]) &+ 1
                power[k + 1] = power[k] &* base
            }
            suffix[n] = 0
            for k in stride(from: n - 1, through: 0, by: -1) {
                suffix[k] = (UInt64(input[k]) &+ 1) &* power[n - 1 - k] &+ suffix[k + 1]
            }
            body(mix(prefix[n], length: n))
            guard distance >= 1, n >= 2 else { return }
            for i in 0..<n {
                // Deleting either of two equal neighbours gives the same word: hash it once.
                if i > 0 && input[i] == input[i - 1] { continue }
                body(mix(prefix[i] &* power[n - 1 - i] &+ suffix[i + 1], length: n - 1))
                guard distance >= 2, n >= 3 else { continue }
                for d in (i + 1)..<n {
                    let middle = prefix[d] &- prefix[i + 1] &* power[d - i - 1]
                    let hash = prefix[i] &* power[n - 2 - i] &+ middle &* power[n - 1 - d] &+ suffix[d + 1]
                    body(mix(hash, length: n - 2))
                }
            }
        }
    }

    private static let base: UInt64 = 0x100_0000_01B3

    @inline(__always)
    private static func mix(_ hash: UInt64, length: Int) -> UInt64 {
        var h = hash ^ (UInt64(length) << 56)
        h ^= h >> 31
        h = h &* 0x9E37_79B9_7F4A_7C15
        return h ^ (h >> 29)
    }
}

/// Edit distances over UTF-8 bytes of folded words.
public enum EditDistance {
    /// Optimal string alignment distance (Damerau–Levenshtein without repeated edits of one substring),
    /// stopping early once it exceeds `limit` (the result is then `limit + 1`).
    public static func osa(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>, limit: Int) -> Int {
        let n = a.count
        let m = b.count
        if abs(n - m) > limit { return limit + 1 }
        if n == 0 { return m }
        if m == 0 { return n }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * (m + 1)) { rows in
            var twoAgo = 0
            var previous = m + 1
            var current = 2 * (m + 1)
            for j in 0...m { rows[previous + j] = j }
            for i in 1...n {
                rows[current] = i
                var rowMin = i
                for j in 1...m {
                    let cost = a[i - 1] == b[j - 1] ? 0 : 1
                    var value = min(rows[previous + j] + 1, rows[current + j - 1] + 1, rows[previous + j - 1] + cost)
                    if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                        value = min(value, rows[twoAgo + j - 2] + 1)
                    }
                    rows[current + j] = value
                    rowMin = min(rowMin, value)
                }
                if rowMin > limit { return limit + 1 }
                (twoAgo, previous, current) = (previous, current, twoAgo)
            }
            return min(rows[previous + m], limit + 1)
        }
    }

    /// Optimal string alignment distance of two strings' UTF-8 bytes.
    public static func osa(_ a: String, _ b: String, limit: Int = .max / 2) -> Int {
        Array(a.utf8).withUnsafeBufferPointer { x in Array(b.utf8).withUnsafeBufferPointer { osa(x, $0, limit: limit) }
        }
    }
}
