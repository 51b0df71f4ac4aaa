/// What a token is, as recognised before any matching.
public enum TokenKind: UInt8, Sendable, Hashable, Codable, BitwiseCopyable {
    /// An ordinary word.
    case word
    /// Digits, possibly with a decimal point; number words are turned into these.
    case number
    /// A case or ticket reference such as `T-1042`.
    case reference
    /// An e-mail address.
    case email
    /// A web address.
    case url
    /// A written date such as `2026-11-28` or `28.11.2026`.
    case date

    /// Protected tokens are never spelling-corrected or stemmed.
    public var isProtected: Bool { self != .word }
}

/// One token of an utterance: its folded form in a ``TokenBuffer`` and where it stood in the original text.
public struct TokenSpan: Sendable, Hashable, BitwiseCopyable {
    /// Byte range of the folded form in ``TokenBuffer/folded``.
    public var start: Int32
    public var end: Int32
    /// UTF-8 byte range in the original text, for captures that keep what the citizen wrote.
    public var originalStart: Int32
    public var originalEnd: Int32
    public var kind: TokenKind
    /// ``ByteTable/hash(_:)`` of the folded form when the tokenizer worked it out while folding, else 0.
    public var hash: UInt64

    public init(
        start: Int32, end: Int32, originalStart: Int32, originalEnd: Int32, kind: TokenKind, hash: UInt64 = 0
    ) {
        self.start = start
        self.end = end
        self.originalStart = originalStart
        self.originalEnd = originalEnd
        self.kind = kind
        self.hash = hash
    }
}

/// Reusable storage for one utterance's tokens: the folded bytes of all tokens back to back, and their spans.
///
/// A buffer is used by one thread at a time and keeps its capacity between turns, so tokenising allocates
/// nothing once it is warm.
public final class TokenBuffer {
    /// Folded UTF-8 bytes of every token, concatenated.
    var foldedBytes = RawArray<UInt8>(capacity: 256)
    /// The tokens, in order.
    var spans = RawArray<TokenSpan>(capacity: 32)
    /// True when any part of the input needed ICU (non-ASCII text).
    public internal(set) var usedUnicodePath = false
    /// Number-word runs that were turned into digits, as (first token, text) pairs for the explanation.
    public internal(set) var numberConversions: [(tokenIndex: Int, words: String)] = []

    var breaker: WordBreaker?
    var foldScratch: [UInt8] = []
    var spanScratch: [Int32] = []

    public init() {}

    deinit {
        foldedBytes.release()
        spans.release()
    }

    /// Folded UTF-8 bytes of every token, concatenated (a copy; the hot path uses ``withStorage(_:)``).
    public var folded: [UInt8] { Array(foldedBytes.buffer) }

    /// The tokens, in order (a copy; the hot path uses ``withStorage(_:)``).
    public var tokens: [TokenSpan] { Array(spans.buffer) }

    /// Number of tokens.
    public var count: Int { spans.count }

    /// Token `index`.
    public func span(_ index: Int) -> TokenSpan { spans[index] }

    /// Whether a word token may be a number word (see ``NumberWords/mayBeNumberWord(_:)``), worked out while
    /// scanning so that most messages skip the number-word pass.
    var mayHaveNumberWords = false

    func reset() {
        foldedBytes.removeAll()
        spans.removeAll()
        mayHaveNumberWords = false
        if !numberConversions.isEmpty { numberConversions.removeAll(keepingCapacity: true) }
        usedUnicodePath = false
    }

    /// Calls `body` with the folded bytes of token `index`.
    @inline(__always)
    public func withToken<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let span = spans[index]
        return try body(UnsafeBufferPointer(rebasing: foldedBytes.buffer[Int(span.start)..<Int(span.end)]))
    }

    /// Calls `body` with the folded bytes of all tokens and the token spans, for a loop over every token.
    @inline(__always)
    public func withStorage<R>(
        _ body: (_ folded: UnsafeBufferPointer<UInt8>, _ tokens: UnsafeBufferPointer<TokenSpan>) throws -> R
    ) rethrows -> R {
        try body(foldedBytes.buffer, spans.buffer)
    }

    /// Exchanges the folded bytes of every token with `storage`, so that a reader keeps the text (at the spans'
    /// offsets) without copying it. The buffer then holds `storage`'s old bytes until the next ``reset()``.
    public func exchangeFoldedBytes(with storage: inout RawArray<UInt8>) {
        swap(&foldedBytes, &storage)
    }

    /// The folded text of token `index`.
    public func text(_ index: Int) -> String {
        withToken(index) { String(decoding: $0, as: UTF8.self) }
    }

    /// All folded tokens as strings (for tests and explanations, not the hot path).
    public var texts: [String] { (0..<count).map(text) }

    func append(_ bytes: UnsafeBufferPointer<UInt8>, original: Range<Int>, kind: TokenKind) {
        if kind == .word { mayHaveNumberWords = true }
        let start = Int32(foldedBytes.count)
        foldedBytes.append(contentsOf: bytes)
        spans.append(
            TokenSpan(
                start: start, end: Int32(foldedBytes.count), originalStart: Int32(original.lowerBound),
                originalEnd: Int32(original.upperBound), kind: kind))
    }
}
