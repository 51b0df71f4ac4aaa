/// An immutable hash map from short byte strings (folded words) to integers, looked up without creating a
/// `String`: the hot path hashes the bytes of a token where they lie.
///
/// ```swift
/// var builder = ByteTable.Builder()
/// let id = builder.insert("passport")   // 0
/// let table = builder.build()
/// table["passport"]                       // 0
/// ```
public final class ByteTable: Sendable {
    private let keyBytes: [UInt8]
    private let keyOffsets: [Int32]
    /// Open-addressing slots (see ``Slot``).
    private let slots: [Slot]
    private let mask: Int

    /// One slot of the table, 16 bytes. A key of up to 11 bytes is held in the slot itself, so looking it up
    /// reads one cache line of a large vocabulary rather than three (slot, offsets, bytes). A longer key holds
    /// its first 8 bytes and 24 bits of its hash, and is compared in full only when those agree.
    struct Slot: BitwiseCopyable {
        /// Bytes 0–7 of the key, little-endian, zero-padded.
        var head: UInt64
        /// A short key: bytes 8–10 and, in the top byte, the length. A long key: 0xFF in the top byte and hash
        /// bits below.
        var tail: UInt32
        /// The key's index, or -1 in an empty slot.
        var entry: Int32

        static let empty = Slot(head: 0, tail: 0, entry: -1)
    }

    /// Keys up to this long are held whole in their slot.
    static let inlineLength = 11

    /// The slot form (head, tail) of `key`, whose ``hash(_:)`` is `hash`.
    @inline(__always)
    static func packed(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64) -> (head: UInt64, tail: UInt32) {
        let n = key.count
        guard n > 0, let base = key.baseAddress else { return (0, 0) }
        let bytes = UnsafeRawPointer(base)
        if n <= 8 { return (load(bytes, n), UInt32(truncatingIfNeeded: n) &<< 24) }
        let head = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        if n <= inlineLength {
            return (head, UInt32(truncatingIfNeeded: n) &<< 24 | UInt32(truncatingIfNeeded: load(bytes + 8, n - 8)))
        }
        return (head, 0xFF00_0000 | UInt32(truncatingIfNeeded: hash >> 40) & 0x00FF_FFFF)
    }

    /// `count` (0…8) bytes from `p` as a little-endian integer, zero-padded, in a few loads and no loop:
    /// two overlapping 4-byte loads for 4…8 bytes, the first, middle and last byte for 1…3.
    @inline(__always)
    static func load(_ p: UnsafeRawPointer, _ count: Int) -> UInt64 {
        if count >= 4 {
            let low = UInt64(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
            let high = UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)))
            return low | high &<< (8 &* UInt64(truncatingIfNeeded: count - 4))
        }
        if count == 0 { return 0 }
        let first = UInt64(p.load(as: UInt8.self))
        let middle = UInt64(p.load(fromByteOffset: count >> 1, as: UInt8.self))
        let last = UInt64(p.load(fromByteOffset: count - 1, as: UInt8.self))
        return first | middle &<< (8 &* UInt64(truncatingIfNeeded: count >> 1))
            | last &<< (8 &* UInt64(truncatingIfNeeded: count - 1))
    }

    /// Number of keys.
    public var count: Int { keyOffsets.count - 1 }

    /// Index of `key`, or nil.
    @inline(__always)
    public func index(of key: UnsafeBufferPointer<UInt8>) -> Int32? {
        index(of: key, hash: ByteTable.hash(key))
    }

    /// Index of `key`, whose ``hash(_:)`` the caller already knows, or nil.
    @inline(__always)
    public func index(of key: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int32? {
        let (head, tail) = Self.packed(key, hash: hash)
        var slot = Int(truncatingIfNeeded: hash) & mask
        return slots.withUnsafeBufferPointer { slots -> Int32? in
            while true {
                let candidate = slots[slot]
                if candidate.entry < 0 { return nil }
                if candidate.head == head && candidate.tail == tail
                    && (tail >> 24 != 0xFF || hasKey(candidate.entry, key))
                {
                    return candidate.entry
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// Whether the key at `index` is `key` (for keys too long to sit in a slot).
    private func hasKey(_ index: Int32, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        withKey(index) { stored in stored.elementsEqual(key) }
    }

    /// Index of `key`, or nil (convenient outside the hot path).
    public subscript(key: String) -> Int32? {
        var copy = key
        return copy.withUTF8 { index(of: $0) }
    }

    /// The key stored at `index`.
    public func key(_ index: Int32) -> String {
        String(decoding: keyBytes[Int(keyOffsets[Int(index)])..<Int(keyOffsets[Int(index) + 1])], as: UTF8.self)
    }

    /// FNV-1a, 64 bits: short keys, no setup, good enough spread for open addressing. The tokenizer works it
    /// out byte by byte while it folds a word (``hashSeed``, ``hashStep(_:_:)``, ``hashFinish(_:)``).
    @inline(__always)
    public static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h = hashSeed
        for byte in key { h = hashStep(h, byte) }
        return hashFinish(h)
    }

    public static let hashSeed: UInt64 = 0xcbf2_9ce4_8422_2325

    @inline(__always)
    public static func hashStep(_ h: UInt64, _ byte: UInt8) -> UInt64 {
        (h ^ UInt64(byte)) &* 0x100_0000_01b3
    }

    @inline(__always)
    public static func hashFinish(_ h: UInt64) -> UInt64 { h ^ (h >> 29) }

    /// Collects keys in insertion order; each new key gets the next index.
    public struct Builder: Sendable {
        private var indexes: [String: Int32] = [:]
        private var keys: [String] = []

        public init() {}

        /// Number of keys so far.
        public var count: Int { keys.count }

        /// Inserts `key` if new; returns its index either way.
        @discardableResult
        public mutating func insert(_ key: String) -> Int32 {
            if let existing = indexes[key] { return existing }
            let index = Int32(keys.count)
            indexes[key] = index
            keys.append(key)
            return index
        }

        /// Index of `key` if inserted.
        public subscript(key: String) -> Int32? { indexes[key] }

        /// The key at `index`.
        public func key(_ index: Int32) -> String { keys[Int(index)] }

        public func build() -> ByteTable { ByteTable(keys: keys) }
    }

    init(keys: [String]) {
        var bytes: [UInt8] = []
        var offsets: [Int32] = [0]
        for key in keys {
            bytes.append(contentsOf: key.utf8)
            offsets.append(Int32(bytes.count))
        }
        var size = 16
        while size < keys.count * 2 { size <<= 1 }
        var slots = [Slot](repeating: .empty, count: size)
        let mask = size - 1
        bytes.withUnsafeBufferPointer { all in
            for index in keys.indices {
                let key = UnsafeBufferPointer(rebasing: all[Int(offsets[index])..<Int(offsets[index + 1])])
                let hash = ByteTable.hash(key)
                var slot = Int(truncatingIfNeeded: hash) & mask
                while slots[slot].entry >= 0 { slot = (slot + 1) & mask }
                let (head, tail) = ByteTable.packed(key, hash: hash)
                slots[slot] = Slot(head: head, tail: tail, entry: Int32(index))
            }
        }
        keyBytes = bytes
        keyOffsets = offsets
        self.slots = slots
        self.mask = mask
    }
}

extension ByteTable {
    /// Calls `body` with the bytes of the key at `index`.
    @inline(__always)
    public func withKey<R>(_ index: Int32, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        keyBytes.withUnsafeBufferPointer { all in
            body(UnsafeBufferPointer(rebasing: all[Int(keyOffsets[Int(index)])..<Int(keyOffsets[Int(index) + 1])]))
        }
    }
}

/// An immutable open-addressing map from 64-bit keys to 32-bit values: trie edges keyed by (node, term).
/// Keys and values sit side by side, so a lookup touches one cache line.
public final class PairTable: Sendable {
    private struct Slot {
        var key: UInt64
        var value: Int32
    }

    private let slots: [Slot]
    private let mask: Int
    /// Number of entries.
    public let count: Int

    /// Builds the table; later duplicates of a key are ignored.
    public init(_ entries: [(UInt64, Int32)]) {
        var size = 16
        while size < entries.count * 3 / 2 { size <<= 1 }
        var slots = [Slot](repeating: Slot(key: .max, value: -1), count: size)
        var count = 0
        for (key, value) in entries {
            var slot = Self.slot(key, size - 1)
            while slots[slot].key != .max && slots[slot].key != key { slot = (slot + 1) & (size - 1) }
            if slots[slot].key == .max {
                slots[slot] = Slot(key: key, value: value)
                count += 1
            }
        }
        self.slots = slots
        self.mask = size - 1
        self.count = count
    }

    /// The home slot of `key` in a table of `mask + 1` slots (shared with the trie builder's edge table).
    @inline(__always)
    public static func slot(_ key: UInt64, _ mask: Int) -> Int {
        var h = key &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 32
        return Int(truncatingIfNeeded: h) & mask
    }

    /// The combined key of a (high, low) pair.
    @inline(__always)
    public static func key(_ high: Int32, _ low: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: high)) << 32 | UInt64(UInt32(bitPattern: low))
    }

    /// The value for `key`, or -1.
    @inline(__always)
    public subscript(key: UInt64) -> Int32 {
        slots.withUnsafeBufferPointer { slots in
            var slot = Self.slot(key, mask)
            while true {
                let entry = slots[slot]
                if entry.key == key { return entry.value }
                if entry.key == .max { return -1 }
                slot = (slot + 1) & mask
            }
        }
    }
}
