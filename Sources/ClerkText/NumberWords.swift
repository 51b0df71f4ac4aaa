/// Words that spell numbers ("twenty one" → 21), so that "two" and "2" match the same pattern.
public struct NumberWords: Sendable, Hashable {
    /// Value of each word; `multiplier` words (hundred, thousand) scale what came before.
    struct Entry: Sendable, Hashable {
        var bytes: [UInt8]
        var value: Int
        var isMultiplier: Bool
    }

    /// Entries bucketed by word length for a cheap byte comparison on the hot path.
    let byLength: [[Entry]]
    /// A word that may join number words ("one hundred and five").
    let joiner: [UInt8]
    /// Bit ((length × 32 + first letter) × 32 + last letter) set for every number word: a cheap test that rules
    /// out most words, "the" and "for" among them.
    let signature: [UInt64]
    /// True when the language has no number words.
    public let isEmpty: Bool

    init(_ words: [(String, Int, Bool)], joiner: String) {
        var buckets = [[Entry]](repeating: [], count: 16)
        for (word, value, multiplier) in words {
            let bytes = Array(word.utf8)
            buckets[bytes.count].append(Entry(bytes: bytes, value: value, isMultiplier: multiplier))
        }
        byLength = buckets
        self.joiner = Array(joiner.utf8)
        var signature = [UInt64](repeating: 0, count: 16 * 32 * 32 / 64)
        for bucket in buckets {
            for entry in bucket {
                let bit = Self.signatureBit(count: entry.bytes.count, first: entry.bytes[0], last: entry.bytes.last!)
                signature[bit >> 6] |= 1 << UInt64(bit & 63)
            }
        }
        self.signature = signature
        isEmpty = words.isEmpty
    }

    /// False for most words that are not number words, at the cost of one table read.
    @inline(__always)
    func mayBeNumberWord(_ word: UnsafeBufferPointer<UInt8>) -> Bool {
        guard word.count > 0 && word.count < 16 else { return false }
        let bit = Self.signatureBit(count: word.count, first: word[0], last: word[word.count - 1])
        return signature[bit >> 6] & (1 << UInt64(bit & 63)) != 0
    }

    @inline(__always)
    static func signatureBit(count: Int, first: UInt8, last: UInt8) -> Int {
        (count << 10) | Int(first & 31) << 5 | Int(last & 31)
    }

    /// No number words (languages whose table has not been written yet).
    public static let none = NumberWords([], joiner: "")

    /// English cardinal numbers up to the millions.
    public static let english = NumberWords(
        [
            ("zero", 0, false), ("one", 1, false), ("two", 2, false), ("three", 3, false), ("four", 4, false),
            ("five", 5, false), ("six", 6, false), ("seven", 7, false), ("eight", 8, false), ("nine", 9, false),
            ("ten", 10, false), ("eleven", 11, false), ("twelve", 12, false), ("thirteen", 13, false),
            ("fourteen", 14, false), ("fifteen", 15, false), ("sixteen", 16, false), ("seventeen", 17, false),
            ("eighteen", 18, false), ("nineteen", 19, false), ("twenty", 20, false), ("thirty", 30, false),
            ("forty", 40, false), ("fifty", 50, false), ("sixty", 60, false), ("seventy", 70, false),
            ("eighty", 80, false), ("ninety", 90, false), ("hundred", 100, true), ("thousand", 1000, true),
            ("million", 1_000_000, true),
        ], joiner: "and")

    /// The entry for a folded word, if it is a number word.
    func entry(_ word: UnsafeBufferPointer<UInt8>) -> Entry? {
        guard word.count < byLength.count else { return nil }
        for entry in byLength[word.count] where entry.bytes.elementsEqual(word) {
            return entry
        }
        return nil
    }

    func isJoiner(_ word: UnsafeBufferPointer<UInt8>) -> Bool {
        !joiner.isEmpty && joiner.elementsEqual(word)
    }

    /// Combines a run of number-word values the usual way: "two hundred and five" → 205.
    static func combine(_ entries: [Entry]) -> Int {
        var total = 0
        var current = 0
        for entry in entries {
            if entry.isMultiplier {
                current = max(current, 1) * entry.value
                if entry.value >= 1000 {
                    total += current
                    current = 0
                }
            } else {
                current += entry.value
            }
        }
        return total + current
    }
}
