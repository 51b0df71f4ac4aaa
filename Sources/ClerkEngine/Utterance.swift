import ClerkText

/// The words of one message after normalisation: for each token its term (stem class) in the brain, the
/// vocabulary word it was read as, its folded text and where it stood in the original message.
///
/// Part of a turn's scratch space: reused between turns, so analysing a message allocates nothing once warm.
final class Utterance {
    /// Term id per token, or -1 for a word the brain does not know.
    var terms: [Int32] = []
    /// Vocabulary (surface) id per token, or -1.
    var surfaces: [Int32] = []
    var kinds: [TokenKind] = []
    /// Byte ranges of each token's folded text in `bytes`.
    var textStarts: [Int32] = []
    var textEnds: [Int32] = []
    var bytes: [UInt8] = []
    /// UTF-8 byte ranges in the original message.
    var originalStarts: [Int32] = []
    var originalEnds: [Int32] = []

    var count: Int { terms.count }

    init() {
        for capacity in [32] {
            terms.reserveCapacity(capacity)
            surfaces.reserveCapacity(capacity)
            kinds.reserveCapacity(capacity)
            textStarts.reserveCapacity(capacity)
            textEnds.reserveCapacity(capacity)
            originalStarts.reserveCapacity(capacity)
            originalEnds.reserveCapacity(capacity)
        }
        bytes.reserveCapacity(256)
    }

    func removeAll() {
        terms.removeAll(keepingCapacity: true)
        surfaces.removeAll(keepingCapacity: true)
        kinds.removeAll(keepingCapacity: true)
        textStarts.removeAll(keepingCapacity: true)
        textEnds.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
        originalStarts.removeAll(keepingCapacity: true)
        originalEnds.removeAll(keepingCapacity: true)
    }

    func append(
        term: Int32, surface: Int32, kind: TokenKind, text: UnsafeBufferPointer<UInt8>, original: (Int32, Int32)
    ) {
        terms.append(term)
        surfaces.append(surface)
        kinds.append(kind)
        textStarts.append(Int32(bytes.count))
        bytes.append(contentsOf: text)
        textEnds.append(Int32(bytes.count))
        originalStarts.append(original.0)
        originalEnds.append(original.1)
    }

    @inline(__always)
    func withText<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        bytes.withUnsafeBufferPointer { all in
            body(UnsafeBufferPointer(rebasing: all[Int(textStarts[index])..<Int(textEnds[index])]))
        }
    }

    /// The folded text of token `index`.
    func text(_ index: Int) -> String {
        withText(index) { String(decoding: $0, as: UTF8.self) }
    }

    /// What the citizen wrote for tokens `range`, taken from the original message (accents, case kept).
    func original(_ range: Range<Int>, in message: String) -> String {
        guard !range.isEmpty else { return "" }
        let start = Int(originalStarts[range.lowerBound])
        let end = Int(originalEnds[range.upperBound - 1])
        let utf8 = message.utf8
        guard start <= end, end <= utf8.count else { return "" }
        let from = utf8.index(utf8.startIndex, offsetBy: start)
        let to = utf8.index(utf8.startIndex, offsetBy: end)
        return String(message[from..<to])
    }
}
