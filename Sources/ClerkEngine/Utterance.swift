import ClerkText

/// The words of one message after normalisation: for each token its term (stem class) in the brain, the
/// vocabulary word it was read as, its folded text and where it stood in the original message.
///
/// Part of a turn's scratch space: reused between turns, so analysing a message allocates nothing once warm.
final class Utterance {
    /// What is known of one token besides its term.
    struct Item: BitwiseCopyable {
        /// Vocabulary (surface) id, or -1.
        var surface: Int32
        var kind: TokenKind
        /// Whether the vocabulary does not hold the word as written (unknown, or corrected on its own): it may
        /// be misspelt, and have alternatives (``Lexicon/alternatives(for:scratch:)``).
        var guessed: Bool
        /// Byte range of the folded text in `bytes`.
        var textStart: Int32
        var textEnd: Int32
        /// UTF-8 byte range in the original message.
        var originalStart: Int32
        var originalEnd: Int32
    }

    /// Term id per token, or -1 for a word the brain does not know.
    var terms: [Int32] = []
    var items = RawArray<Item>(capacity: 32)
    /// The folded text of every token, back to back.
    var bytes = RawArray<UInt8>(capacity: 256)
    /// Services and variants the message names (see ``Brain/recognizeEntities(_:)``).
    var mentions: [Mention] = []

    var count: Int { terms.count }

    init() {
        terms.reserveCapacity(32)
    }

    deinit {
        items.release()
        bytes.release()
    }

    func removeAll() {
        terms.removeAll(keepingCapacity: true)
        items.removeAll()
        bytes.removeAll()
        if !mentions.isEmpty { mentions.removeAll(keepingCapacity: true) }
    }

    /// Appends token `index` of `other`; with `term`, tokens `index...last` of `other` become one token.
    func copy(_ index: Int, from other: Utterance, term: Int32? = nil, through last: Int? = nil) {
        var item = other.items[index]
        let end = other.items[last ?? index]
        let start = Int32(bytes.count)
        bytes.append(
            contentsOf: UnsafeBufferPointer(rebasing: other.bytes.buffer[Int(item.textStart)..<Int(end.textEnd)]))
        item.textStart = start
        item.textEnd = Int32(bytes.count)
        item.originalEnd = end.originalEnd
        if term != nil { item.surface = -1 }
        items.append(item)
        terms.append(term ?? other.terms[index])
    }

    @inline(__always)
    func append(
        term: Int32, surface: Int32, kind: TokenKind, text: UnsafeBufferPointer<UInt8>, original: (Int32, Int32),
        guessed: Bool = false
    ) {
        let start = Int32(bytes.count)
        bytes.append(contentsOf: text)
        terms.append(term)
        items.append(
            Item(
                surface: surface, kind: kind, guessed: guessed, textStart: start, textEnd: Int32(bytes.count),
                originalStart: original.0,
                originalEnd: original.1))
    }

    /// Appends a token whose folded text is already at `text` in ``bytes`` (see ``Lexicon/analyze``).
    @inline(__always)
    func append(
        term: Int32, surface: Int32, kind: TokenKind, textRange text: (Int32, Int32), original: (Int32, Int32),
        guessed: Bool
    ) {
        terms.append(term)
        items.append(
            Item(
                surface: surface, kind: kind, guessed: guessed, textStart: text.0, textEnd: text.1,
                originalStart: original.0, originalEnd: original.1))
    }

    @inline(__always)
    func kind(_ index: Int) -> TokenKind { items[index].kind }

    @inline(__always)
    func withText<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let item = items[index]
        return body(UnsafeBufferPointer(rebasing: bytes.buffer[Int(item.textStart)..<Int(item.textEnd)]))
    }

    /// The folded text of token `index`.
    func text(_ index: Int) -> String {
        withText(index) { String(decoding: $0, as: UTF8.self) }
    }

    /// The UTF-8 byte range in the original message covered by tokens `range`.
    func originalRange(_ range: Range<Int>) -> Range<Int> {
        guard !range.isEmpty else { return 0..<0 }
        return Int(items[range.lowerBound].originalStart)..<Int(items[range.upperBound - 1].originalEnd)
    }

}
