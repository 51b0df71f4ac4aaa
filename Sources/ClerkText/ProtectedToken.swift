/// Recognises tokens that must be kept whole and never corrected: references, e-mail and web addresses,
/// dates and numbers. Works on the original UTF-8 bytes, so it sees them before any splitting.
enum ProtectedToken {
    /// If a protected token starts at `i` (an ASCII letter or digit at a word boundary), its end and kind.
    /// `hasAt`: whether the message contains '@' at all (so e-mail addresses are only looked for then).
    @inline(__always)
    static func recognise(_ b: UnsafeBufferPointer<UInt8>, at i: Int, hasAt: Bool) -> (Int, TokenKind)? {
        if i > 0, isAlnum(b[i - 1]) || (b[i - 1] >= 0x80 && WordScalar.endsWord(b, before: i)) { return nil }
        let first = b[i] | 0x20
        if first == UInt8(ascii: "h") || first == UInt8(ascii: "w"), let end = url(b, i) { return (end, .url) }
        if hasAt, let end = email(b, i) { return (end, .email) }
        if isDigit(b[i]) {
            if let end = date(b, i) { return (end, .date) }
            if let end = number(b, i) { return (end, .number) }
            return nil
        }
        if let end = reference(b, i) { return (end, .reference) }
        return nil
    }

    /// The end of the word-ish run at `i`: a token boundary is the end of input or a byte that is not
    /// a letter, digit or non-ASCII.
    private static func atBoundary(_ b: UnsafeBufferPointer<UInt8>, _ j: Int) -> Bool {
        guard j < b.count else { return true }
        if b[j] < 0x80 { return !isAlnum(b[j]) }
        // A closing typographic quote (’) ends the token even though it can also be an apostrophe.
        if case (let scalar?, _) = WordScalar.decode(b, at: j), scalar == "\u{2019}" { return true }
        return !WordScalar.classify(b, at: j).0
    }

    private static func digits(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, max: Int = 20) -> Int {
        var j = i
        while j < b.count, j - i < max, isDigit(b[j]) { j += 1 }
        return j - i
    }

    private static func hasPrefix(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard i + count <= b.count else { return false }
        let p = prefix.utf8Start
        for k in 0..<count where b[i + k] | 0x20 != p[k] | 0x20 { return false }
        return true
    }

    /// `https://…`, `http://…`, `www.…` up to whitespace, without trailing punctuation.
    static func url(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
        guard hasPrefix(b, i, "http://") || hasPrefix(b, i, "https://") || hasPrefix(b, i, "www.") else {
            return nil
        }
        var j = i
        while j < b.count, b[j] > 0x20 { j += 1 }
        while j > i, isTrailingPunctuation(b[j - 1]) { j -= 1 }
        return j
    }

    private static func isTrailingPunctuation(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "."), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "!"),
            UInt8(ascii: "?"), UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: "'"),
            UInt8(ascii: "\""):
            true
        default: false
        }
    }

    /// `name@host.tld`.
    static func email(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
        func isLocal(_ c: UInt8) -> Bool {
            isAlnum(c) || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "%")
                || c == UInt8(ascii: "+") || c == UInt8(ascii: "-")
        }
        var j = i
        while j < b.count, isLocal(b[j]) { j += 1 }
        guard j < b.count, j > i, b[j] == UInt8(ascii: "@") else { return nil }
        j += 1
        let hostStart = j
        var lastDot = -1
        while j < b.count, isAlnum(b[j]) || b[j] == UInt8(ascii: "-") || b[j] == UInt8(ascii: ".") {
            if b[j] == UInt8(ascii: ".") { lastDot = j }
            j += 1
        }
        while j > hostStart, b[j - 1] == UInt8(ascii: ".") { j -= 1 }
        guard lastDot > hostStart, lastDot < j - 2 else { return nil }
        return j
    }

    /// `2026-11-28`, `28.11.2026`, `28/11/2026`, `28/11/26`.
    static func date(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
        let first = digits(b, i, max: 4)
        let separatorIndex = i + first
        guard separatorIndex < b.count else { return nil }
        let separator = b[separatorIndex]
        guard separator == UInt8(ascii: "-") || separator == UInt8(ascii: ".") || separator == UInt8(ascii: "/")
        else { return nil }
        let second = digits(b, separatorIndex + 1, max: 2)
        let secondSeparator = separatorIndex + 1 + second
        guard second >= 1, secondSeparator < b.count, b[secondSeparator] == separator else { return nil }
        let third = digits(b, secondSeparator + 1, max: 4)
        let end = secondSeparator + 1 + third
        let valid =
            (first == 4 && separator == UInt8(ascii: "-") && (1...2).contains(third))
            || ((1...2).contains(first) && (third == 2 || third == 4))
        guard valid, atBoundary(b, end) else { return nil }
        return end
    }

    /// `1042`, `1,000`, `3.5`; the run must end at a word boundary (`3rd` is a word).
    static func number(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
        var j = i + digits(b, i)
        while j + 1 < b.count, isDigit(b[j + 1]) {
            // A comma only groups thousands ("1,000"); "2,3" is two numbers.
            if b[j] == UInt8(ascii: ","), digits(b, j + 1, max: 4) == 3 {
                j += 4
            } else if b[j] == UInt8(ascii: ".") {
                j += 1
                j += digits(b, j)
            } else {
                break
            }
        }
        return atBoundary(b, j) ? j : nil
    }

    /// `T-1042`, `AB-77`: one to three letters, a hyphen, digits.
    static func reference(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
        var j = i
        while j < b.count, j - i < 4, isLetter(b[j]) { j += 1 }
        let letters = j - i
        guard (1...3).contains(letters), j < b.count, b[j] == UInt8(ascii: "-") else { return nil }
        let count = digits(b, j + 1)
        guard count >= 1 else { return nil }
        let end = j + 1 + count
        return atBoundary(b, end) ? end : nil
    }
}
