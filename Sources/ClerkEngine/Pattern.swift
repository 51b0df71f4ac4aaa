/// A parsed pattern, before its words are turned into terms.
///
/// The pattern language: plain words; `*` (one or more words, captured as `{1}`, `{2}`… in reply templates);
/// `[word]` optional; `(a|b)` alternatives; `[a|b]` optional alternatives (each alternative may be several
/// words); `~concept` a word or phrase from a concept list; `{name:type}` a typed capture (`number`, `date`,
/// `ticket`, `postcode`), available as `{name}` in replies.
///
/// ```swift
/// let pattern = try Pattern.parse("[how] [can|do] i (renew|extend) [my] passport *")
/// ```
public struct Pattern: Sendable, Hashable {
    /// One element of a pattern. Not `indirect`: a group's alternatives live in arrays already, and a boxed
    /// case would cost an allocation for every word of every pattern.
    public enum Element: Sendable, Hashable {
        /// Literal text (one or more words after normalisation).
        case word(String)
        /// `*`: one or more words.
        case wildcard
        /// `~name`.
        case concept(String)
        /// `{name:type}`.
        case slot(name: String, type: SlotType)
        /// `(a|b)` or, when optional, `[a|b]` / `[a]`.
        case group([[Element]], optional: Bool)
    }

    /// The elements in order.
    public var elements: [Element]

    /// A problem in a pattern's text, at a character offset from the pattern's first character.
    public struct SyntaxError: Error, Sendable, Hashable {
        public var offset: Int
        public var message: String
    }

    /// Parses a pattern; throws the first syntax error with its character offset.
    public static func parse(_ text: String) throws(SyntaxError) -> Pattern {
        var parser = PatternParser(Array(text.utf8))
        let elements: [Element]
        do {
            elements = try parser.parseSequence(until: nil)
        } catch {
            // The parser counts bytes; editors' columns count Unicode scalars (as the YAML reader does).
            let scalars = Array(text.utf8).prefix(error.offset).count { $0 & 0xC0 != 0x80 }
            throw SyntaxError(offset: scalars, message: error.message)
        }
        guard !elements.isEmpty else {
            throw SyntaxError(offset: 0, message: "the pattern is empty")
        }
        guard elements.contains(where: \.isRequired) else {
            throw SyntaxError(
                offset: 0,
                message: "every part of this pattern is optional, so it would match an empty message; "
                    + "make at least one word required")
        }
        return Pattern(elements: elements)
    }
}

extension Pattern.Element {
    /// Whether this element always consumes at least one word.
    var isRequired: Bool {
        switch self {
        case .word, .wildcard, .concept, .slot: true
        case .group(let alternatives, let optional):
            !optional && alternatives.allSatisfy { $0.contains(where: \.isRequired) }
        }
    }
}

/// A recursive-descent parser over the UTF-8 bytes of one pattern (all syntax is ASCII; offsets are bytes and
/// are turned into scalar counts by ``Pattern/parse(_:)``).
struct PatternParser {
    private let chars: [UInt8]
    private var position = 0
    /// The words of the run of plain words being read, joined by single spaces. One buffer serves every
    /// level: a run is always flushed before a group opens or a sequence ends.
    private var words: [UInt8] = []

    init(_ chars: [UInt8]) {
        self.chars = chars
        words.reserveCapacity(chars.count)
    }

    typealias SyntaxError = Pattern.SyntaxError

    private static func closing(_ open: UInt8) -> UInt8 {
        open == UInt8(ascii: "(") ? UInt8(ascii: ")") : UInt8(ascii: "]")
    }

    /// Parses elements up to `terminator` (`)` or `]`) or the end, stopping before `|`.
    mutating func parseSequence(until terminator: UInt8?) throws(SyntaxError) -> [Pattern.Element] {
        var elements: [Pattern.Element] = []
        func flushWords() {
            if !words.isEmpty {
                elements.append(.word(String(decoding: words, as: UTF8.self)))
                words.removeAll(keepingCapacity: true)
            }
        }
        while position < chars.count {
            let c = chars[position]
            switch c {
            case UInt8(ascii: " "), UInt8(ascii: "\t"):
                position += 1
            case UInt8(ascii: "|"):
                if terminator == nil {
                    throw SyntaxError(
                        offset: position,
                        message: "'|' separates alternatives and must stand inside (…) or […], as in (renew|extend)")
                }
                flushWords()
                return elements
            case UInt8(ascii: ")"), UInt8(ascii: "]"):
                guard c == terminator else {
                    throw SyntaxError(offset: position, message: unexpectedClosing(c, expected: terminator))
                }
                flushWords()
                return elements
            case UInt8(ascii: "("), UInt8(ascii: "["):
                flushWords()
                elements.append(try parseGroup(open: c))
            case UInt8(ascii: "*"):
                flushWords()
                elements.append(.wildcard)
                position += 1
            case UInt8(ascii: "~"):
                flushWords()
                let start = position
                position += 1
                let name = readName()
                guard !name.isEmpty else {
                    throw SyntaxError(offset: start, message: "'~' must be followed by a concept name, as in ~document")
                }
                elements.append(.concept(name))
            case UInt8(ascii: "{"):
                flushWords()
                elements.append(try parseSlot())
            case UInt8(ascii: "}"):
                throw SyntaxError(offset: position, message: "'}' without a matching '{'")
            default:
                if !words.isEmpty { words.append(UInt8(ascii: " ")) }
                while position < chars.count, !Self.isSyntax(chars[position]) {
                    words.append(chars[position])
                    position += 1
                }
            }
        }
        if let terminator {
            throw SyntaxError(
                offset: chars.count,
                message: "missing '\(Character(Unicode.Scalar(terminator)))': a group opened earlier is never closed")
        }
        flushWords()
        return elements
    }

    private static func isSyntax(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "|"), UInt8(ascii: "("), UInt8(ascii: ")"),
            UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: "{"),
            UInt8(ascii: "}"):
            true
        default: false
        }
    }

    private func unexpectedClosing(_ byte: UInt8, expected: UInt8?) -> String {
        let c = Character(Unicode.Scalar(byte))
        if let expected { return "found '\(c)' where '\(Character(Unicode.Scalar(expected)))' was expected" }
        return "'\(c)' without a matching '\(c == ")" ? "(" : "[")'"
    }

    private mutating func parseGroup(open byte: UInt8) throws(SyntaxError) -> Pattern.Element {
        let start = position
        let closeByte = Self.closing(byte)
        let open = Character(Unicode.Scalar(byte))
        let close = Character(Unicode.Scalar(closeByte))
        position += 1
        var alternatives: [[Pattern.Element]] = []
        while true {
            let alternativeStart = position
            let alternative = try parseSequence(until: closeByte)
            if alternative.isEmpty {
                throw SyntaxError(
                    offset: alternativeStart,
                    message: position < chars.count && chars[position] == UInt8(ascii: "|")
                        ? "empty alternative before '|'" : "empty group '\(open)\(close)'")
            }
            if alternative.contains(where: { if case .wildcard = $0 { true } else { false } }) && open == "[" {
                throw SyntaxError(
                    offset: start, message: "'*' cannot be optional: it already stands for one or more words")
            }
            alternatives.append(alternative)
            guard position < chars.count else {
                throw SyntaxError(offset: start, message: "'\(open)' is never closed with '\(close)'")
            }
            let c = chars[position]
            position += 1
            if c == closeByte { break }
        }
        return .group(alternatives, optional: open == "[")
    }

    private mutating func parseSlot() throws(SyntaxError) -> Pattern.Element {
        let start = position
        position += 1
        let name = readName()
        guard !name.isEmpty else {
            throw SyntaxError(offset: start, message: "a capture needs a name and a type, as in {when:date}")
        }
        // `{service}` and `{variant}` are short for `{service:service}` and `{variant:variant}`.
        if position < chars.count, chars[position] == UInt8(ascii: "}"), name == "service" || name == "variant" {
            position += 1
            return .slot(name: name, type: name == "service" ? .service : .variant)
        }
        guard position < chars.count, chars[position] == UInt8(ascii: ":") else {
            throw SyntaxError(
                offset: position, message: "a capture needs a type after ':', as in {\(name):number}")
        }
        position += 1
        let typeStart = position
        let typeName = readName()
        guard let type = SlotType(rawValue: typeName) else {
            let known = SlotType.allCases.map(\.rawValue).joined(separator: ", ")
            throw SyntaxError(
                offset: typeStart,
                message: typeName.isEmpty
                    ? "missing capture type; use one of: \(known)"
                    : "unknown capture type '\(typeName)'; use one of: \(known)")
        }
        guard position < chars.count, chars[position] == UInt8(ascii: "}") else {
            throw SyntaxError(offset: position, message: "missing '}' to close the capture {\(name):\(typeName)")
        }
        position += 1
        return .slot(name: name, type: type)
    }

    private mutating func readName() -> String {
        let start = position
        while position < chars.count {
            let c = chars[position]
            let isName =
                c >= 0x80 || (c | 0x20 >= UInt8(ascii: "a") && c | 0x20 <= UInt8(ascii: "z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_")
                || c == UInt8(ascii: ".") || c == UInt8(ascii: "-")
            guard isName else { break }
            position += 1
        }
        return String(decoding: chars[start..<position], as: UTF8.self)
    }
}
