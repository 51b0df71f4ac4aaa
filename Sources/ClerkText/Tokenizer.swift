/// Splits an utterance into folded tokens, the first step of normalisation.
///
/// ASCII text takes a fast path (lower-casing and splitting on separators, no ICU call); any run of text with
/// non-ASCII characters goes through ICU word segmentation and folding (NFKC, case folding, accents removed).
/// Both paths give the same tokens for the same ASCII text. Punctuation and hyphens separate words; an
/// apostrophe between letters stays inside the word (`don't`), so substitutions can expand it. References
/// (`T-1042`), e-mail and web addresses, dates and numbers are kept whole and marked as protected, and number
/// words become digits ("twenty one" → `21`).
///
/// ```swift
/// let buffer = TokenBuffer()
/// Tokenizer(language: .english).tokenize("How much is a PÁSSPORT?", into: buffer)
/// buffer.texts  // ["how", "much", "is", "a", "passport"]
/// ```
public struct Tokenizer: Sendable {
    public let language: Language

    public init(language: Language) {
        self.language = language
    }

    /// Tokenises `text` into `buffer`, replacing what it held.
    public func tokenize(_ text: String, into buffer: TokenBuffer) {
        buffer.reset()
        var text = text
        language.numberWords.signature.withUnsafeBufferPointer { numberSignature in
            text.withUTF8 { bytes in
                scan(bytes, numberSignature: numberSignature, into: buffer)
            }
        }
        convertNumberWords(in: buffer)
    }

    /// Tokenises and returns the folded tokens (convenient outside the hot path).
    public func tokens(_ text: String) -> [String] {
        let buffer = TokenBuffer()
        tokenize(text, into: buffer)
        return buffer.texts
    }

    // MARK: - Scanning

    static let maxScannedBytes = 1 << 26

    /// `numberSignature`: the language's ``NumberWords/signature``, to note a word that may be a number word.
    private func scan(
        _ whole: UnsafeBufferPointer<UInt8>, numberSignature: UnsafeBufferPointer<UInt64>, into buffer: TokenBuffer
    ) {
        // Spans hold 32-bit offsets, and folding can make text a few times longer: text past 64 MiB is left
        // out (every channel limits a message to a few KiB).
        let b = UnsafeBufferPointer(rebasing: whole.prefix(Self.maxScannedBytes))
        let n = b.count
        let fold = asciiWordFold
        // Whether the message has an '@' (e-mail addresses are only looked for then); found out the first time
        // a protected token is possible, which most messages never need.
        var hasAtKnown: Bool?
        // Non-zero once an ASCII word may be a number word.
        var numberWordBits: UInt64 = 0
        defer { if numberWordBits != 0 { buffer.mayHaveNumberWords = true } }
        var i = 0
        while i < n {
            let c = b[i]
            if c >= 0x80 {
                // Non-ASCII punctuation and symbols (“ ” « » € –) separate words like ASCII ones do.
                let (isWord, length) = WordScalar.classify(b, at: i)
                if !isWord {
                    i += length
                    continue
                }
            } else if fold[Int(c)] == 0 {
                i += 1
                continue
            }
            // The word is lower-cased and hashed while its end is found, so a plain ASCII word is read once. The
            // folded bytes go to the buffer's free tail and count only if the word turns out ASCII and unprotected.
            // `out[j]` is where the folded byte of `b[j]` goes.
            let out = buffer.foldedBytes.reserveTail(n - i) - i
            var hash = ByteTable.hashSeed
            var j = i
            var ascii = true
            while true {
                // A run of ASCII letters and digits, the common case, in a tight loop: one table look-up tells
                // a word byte and gives it lower-cased.
                if ascii {
                    while j < n {
                        let d = fold[Int(b[j])]
                        guard d != 0 else { break }
                        out[j] = d
                        hash = ByteTable.hashStep(hash, d)
                        j &+= 1
                    }
                } else {
                    while j < n && isAlnum(b[j]) { j += 1 }
                }
                guard j < n else { break }
                let d = b[j]
                if d >= 0x80 {
                    let (isWord, length) = WordScalar.classify(b, at: j)
                    guard isWord else { break }
                    ascii = false
                    j += length
                } else if d == UInt8(ascii: "'"), j > i, j + 1 < n, isLetterOrHigh(b[j - 1]),
                    isLetterOrHigh(b[j + 1])
                {
                    // An apostrophe between letters belongs to the word: don't, o'brien.
                    if ascii {
                        out[j] = d
                        hash = ByteTable.hashStep(hash, d)
                    }
                    j += 1
                } else {
                    break
                }
            }
            // Protected tokens start with an ASCII letter or digit. One that starts with a letter has one of
            // - : . (a reference, a web address) or @ . _ % + - (an e-mail address) right after its first run of
            // letters and digits: a plain ASCII word followed by anything else cannot be one.
            if isAlnum(c) && (!ascii || isDigit(c) || (j < n && mayContinueProtected(b[j]))) {
                let hasAt = hasAtKnown ?? b.contains(UInt8(ascii: "@"))
                hasAtKnown = hasAt
                if let (end, kind) = ProtectedToken.recognise(b, at: i, hasAt: hasAt) {
                    appendProtected(b, i..<end, kind: kind, into: buffer)
                    i = end
                    continue
                }
            }
            if ascii {
                if j - i < 16 {
                    let bit = NumberWords.signatureBit(count: j - i, first: out[i], last: out[j - 1])
                    numberWordBits |= numberSignature[bit >> 6] & (1 << UInt64(bit & 63))
                }
                appendFolded(i..<j, hash: ByteTable.hashFinish(hash), into: buffer)
            } else {
                appendUnicode(b, i..<j, into: buffer)
            }
            i = j
        }
    }

    /// Counts in an ASCII word that `scan` folded into the buffer's tail, with its ``ByteTable/hash(_:)``.
    @inline(__always)
    private func appendFolded(_ range: Range<Int>, hash: UInt64, into buffer: TokenBuffer) {
        // Offsets fit in 32 bits: `scan` reads at most `maxScannedBytes`, and folding grows text far less than
        // the 32× that would take.
        let start = buffer.foldedBytes.count
        buffer.foldedBytes.commit(range.count)
        buffer.spans.append(
            TokenSpan(
                start: Int32(truncatingIfNeeded: start), end: Int32(truncatingIfNeeded: start &+ range.count),
                originalStart: Int32(truncatingIfNeeded: range.lowerBound),
                originalEnd: Int32(truncatingIfNeeded: range.upperBound), kind: .word, hash: hash))
    }

    private func appendProtected(
        _ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, kind: TokenKind, into buffer: TokenBuffer
    ) {
        let start = Int32(buffer.foldedBytes.count)
        for k in range {
            let c = b[k]
            // "1,000" is one thousand: drop grouping commas in numbers, keep everything else.
            if kind == .number && c == UInt8(ascii: ",") { continue }
            buffer.foldedBytes.append(c >= 0x41 && c <= 0x5A ? c | 0x20 : c)
        }
        buffer.spans.append(
            TokenSpan(
                start: start, end: Int32(buffer.foldedBytes.count), originalStart: Int32(range.lowerBound),
                originalEnd: Int32(range.upperBound), kind: kind))
    }

    /// Segments a run that contains non-ASCII text with ICU, folds each word, and splits what folding produced
    /// on the same separators as the ASCII path (folding can turn a full-width hyphen into "-").
    private func appendUnicode(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into buffer: TokenBuffer) {
        buffer.usedUnicodePath = true
        if buffer.breaker == nil { buffer.breaker = WordBreaker(locale: language.locale) }
        let chunk = UnsafeBufferPointer(rebasing: b[range])
        var spans = buffer.spanScratch
        if let breaker = buffer.breaker {
            breaker.split(chunk, into: &spans)
        } else {
            spans = [0, Int32(chunk.count)]
        }
        for pair in stride(from: 0, to: spans.count, by: 2) {
            let wordStart = range.lowerBound + Int(spans[pair])
            let wordEnd = range.lowerBound + Int(spans[pair + 1])
            buffer.foldScratch.removeAll(keepingCapacity: true)
            fold(UnsafeBufferPointer(rebasing: b[wordStart..<wordEnd]), into: &buffer.foldScratch)
            buffer.foldScratch.withUnsafeBufferPointer { folded in
                splitFolded(folded, original: wordStart..<wordEnd, into: buffer)
            }
        }
        buffer.spanScratch = spans
    }

    private func splitFolded(_ f: UnsafeBufferPointer<UInt8>, original: Range<Int>, into buffer: TokenBuffer) {
        var i = 0
        let n = f.count
        while i < n {
            guard isAlnum(f[i]) || f[i] >= 0x80 else {
                i += 1
                continue
            }
            var j = i + 1
            while j < n {
                let d = f[j]
                if d < 0x80 && !isAlnum(d) {
                    guard d == UInt8(ascii: "'"), j + 1 < n, isLetterOrHigh(f[j - 1]), isLetterOrHigh(f[j + 1])
                    else { break }
                }
                j += 1
            }
            let piece = UnsafeBufferPointer(rebasing: f[i..<j])
            let kind: TokenKind = piece.allSatisfy(isDigit) ? .number : .word
            buffer.append(piece, original: original, kind: kind)
            i = j
        }
    }

    // MARK: - Number words

    /// Replaces each run of number words with one number token ("two hundred and five" → `205`).
    private func convertNumberWords(in buffer: TokenBuffer) {
        // Most messages have no word that may be a number word: the scan has said so.
        guard buffer.mayHaveNumberWords else { return }
        let words = language.numberWords
        guard !words.isEmpty, !buffer.spans.isEmpty else { return }
        // Most messages have no number word at all: one cheap pass decides.
        let anyCandidate = buffer.withStorage { folded, spans in
            spans.contains { span in
                span.kind == .word
                    && words.mayBeNumberWord(UnsafeBufferPointer(rebasing: folded[Int(span.start)..<Int(span.end)]))
            }
        }
        guard anyCandidate else { return }
        var index = 0
        while index < buffer.spans.count {
            guard buffer.spans[index].kind == .word, buffer.withToken(index, words.mayBeNumberWord),
                let first = buffer.withToken(index, words.entry)
            else {
                index += 1
                continue
            }
            var entries = [first]
            var last = index
            var probe = index + 1
            while probe < buffer.spans.count, buffer.spans[probe].kind == .word {
                if let entry = buffer.withToken(probe, words.entry) {
                    entries.append(entry)
                    last = probe
                    probe += 1
                } else if buffer.withToken(probe, words.isJoiner), probe + 1 < buffer.spans.count,
                    buffer.spans[probe + 1].kind == .word, buffer.withToken(probe + 1, words.entry) != nil,
                    entries.last?.isMultiplier == true
                {
                    probe += 1
                } else {
                    break
                }
            }
            let spoken = (index...last).map(buffer.text).joined(separator: " ")
            let digits = Array(String(NumberWords.combine(entries)).utf8)
            replace(index...last, with: digits, in: buffer)
            buffer.numberConversions.append((index, spoken))
            index += 1
        }
    }

    /// Replaces tokens `range` with one number token. The folded bytes of the old tokens stay in the buffer
    /// unused; that is cheaper than compacting and only happens when number words occur.
    private func replace(_ range: ClosedRange<Int>, with digits: [UInt8], in buffer: TokenBuffer) {
        let first = buffer.spans[range.lowerBound]
        let last = buffer.spans[range.upperBound]
        let start = Int32(buffer.foldedBytes.count)
        digits.withUnsafeBufferPointer { buffer.foldedBytes.append(contentsOf: $0) }
        let merged = TokenSpan(
            start: start, end: Int32(buffer.foldedBytes.count), originalStart: first.originalStart,
            originalEnd: last.originalEnd, kind: .number)
        buffer.spans.replace(range, with: merged)
    }
}

/// For each byte: the byte lower-cased when it is an ASCII letter or digit, else 0. Written once, then only read.
nonisolated(unsafe) private let asciiWordFold: UnsafePointer<UInt8> = {
    let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
    for c in 0..<256 {
        let byte = UInt8(c)
        table[c] = isAlnum(byte) ? (byte &- 0x41 < 26 ? byte | 0x20 : byte) : 0
    }
    return UnsafePointer(table)
}()

@inline(__always) func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }
@inline(__always) func isLetter(_ c: UInt8) -> Bool { (c | 0x20) &- 0x61 < 26 }
@inline(__always) func isAlnum(_ c: UInt8) -> Bool { isDigit(c) || isLetter(c) }
@inline(__always) func isLetterOrHigh(_ c: UInt8) -> Bool { isLetter(c) || c >= 0x80 }
/// Whether a protected token can go on past this byte (see `ProtectedToken`).
@inline(__always) func mayContinueProtected(_ c: UInt8) -> Bool {
    switch c {
    case UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: "@"), UInt8(ascii: "_"),
        UInt8(ascii: "%"), UInt8(ascii: "+"):
        true
    default: false
    }
}

/// Tells word characters (letters, marks, digits, and the typographic apostrophe) from separators among
/// non-ASCII text, one Unicode scalar at a time.
enum WordScalar {
    /// Whether the scalar starting at `i` belongs to a word, and its length in bytes.
    @inline(__always)
    static func classify(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> (Bool, Int) {
        let (scalar, length) = decode(b, at: i)
        guard let scalar else { return (false, length) }
        return (isWord(scalar), length)
    }

    /// Whether a non-ASCII scalar belongs to a word. Out of line on purpose: the general category is a resilient
    /// standard-library type, and inlined its set-up (metadata and case values) ran in every caller's prologue,
    /// once per message even for plain ASCII text.
    @inline(never)
    static func isWord(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "\u{2019}" || scalar == "\u{02BC}" { return true }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .nonspacingMark,
            .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return false
        }
    }

    /// Whether the scalar that ends just before `i` belongs to a word.
    static func endsWord(_ b: UnsafeBufferPointer<UInt8>, before i: Int) -> Bool {
        var start = i - 1
        while start > 0 && b[start] & 0xC0 == 0x80 { start -= 1 }
        guard start >= 0 else { return false }
        if b[start] < 0x80 { return isAlnum(b[start]) }
        return classify(b, at: start).0
    }

    /// Decodes one UTF-8 scalar; nil (and one byte) for an invalid sequence.
    static func decode(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> (Unicode.Scalar?, Int) {
        let lead = b[i]
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        guard length > 1, i + length <= b.count else { return (nil, 1) }
        var value = UInt32(lead) & (0xFF >> (length + 1))
        for k in 1..<length {
            let byte = b[i + k]
            guard byte & 0xC0 == 0x80 else { return (nil, 1) }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        return (Unicode.Scalar(value), length)
    }
}
