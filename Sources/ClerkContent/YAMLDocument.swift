import ClerkEngine
import Foundation
import Yams

/// One YAML file composed into Yams nodes, plus what is needed to point at places in it.
///
/// Lines and columns are 1-based and columns count Unicode scalars, as libyaml does.
///
/// Yams stops at the first key written twice in a mapping. So that every other problem in the file is still
/// reported, the repeated key is renamed in a private copy of the text to a placeholder of the same length
/// (so no other position moves) and the file is composed again. Readers recognise placeholders through
/// ``repeatedKeys`` and report them as "written twice".
struct YAMLDocument {
    /// A key that was written a second (third, …) time in the same mapping.
    struct RepeatedKey {
        var original: String
        var first: SourceLocation
    }

    let file: String
    private(set) var root: Node?
    /// Problems found while reading the YAML itself (syntax errors, repeated keys that could not be recovered).
    private(set) var problems: [ContentProblem] = []
    /// Placeholder key text → the key it replaced.
    private(set) var repeatedKeys: [String: RepeatedKey] = [:]
    private var scalars: [Unicode.Scalar]
    private var lineStarts: [Int]

    /// The most repeated keys renamed before giving up on a file.
    private static let maximumRepeats = 200

    init(yaml: String, file: String) {
        self.file = file
        scalars = Array(yaml.unicodeScalars)
        lineStarts = Self.lineStarts(of: scalars)
        compose(yaml)
    }

    // MARK: Locations

    func location(line: Int, column: Int) -> SourceLocation {
        SourceLocation(file: file, line: max(line, 1), column: max(column, 1))
    }

    /// Where the node starts: its first character, or the opening quote of a quoted text.
    func location(of node: Node) -> SourceLocation {
        guard let mark = node.mark else { return location(line: 1, column: 1) }
        return location(line: mark.line, column: mark.column)
    }

    /// Where the text of a scalar starts: the first character for plain texts, the character after the opening
    /// quote for quoted texts, the first character of the first non-blank content line for `|` and `>` blocks.
    func textLocation(of node: Node) -> SourceLocation {
        let start = location(of: node)
        guard case .scalar(let scalar) = node else { return start }
        switch scalar.style {
        case .singleQuoted, .doubleQuoted:
            return start.advanced(by: 1)
        case .literal, .folded:
            return firstContentLocation(after: start.line) ?? start
        default:
            return start
        }
    }

    private func firstContentLocation(after line: Int) -> SourceLocation? {
        var current = line + 1
        while current <= lineStarts.count {
            let range = lineRange(current)
            if let first = range.first(where: { scalars[$0] != " " && scalars[$0] != "\t" }) {
                return location(line: current, column: first - range.lowerBound + 1)
            }
            current += 1
        }
        return nil
    }

    // MARK: Lines

    /// Line starts following libyaml: CR LF, CR, LF, NEL, LS and PS end a line; a leading BOM is not counted.
    private static func lineStarts(of scalars: [Unicode.Scalar]) -> [Int] {
        var starts = [scalars.first == "\u{FEFF}" ? 1 : 0]
        var index = 0
        while index < scalars.count {
            switch scalars[index].value {
            case 0x0D:
                if index + 1 < scalars.count, scalars[index + 1] == "\n" { index += 1 }
                starts.append(index + 1)
            case 0x0A, 0x85, 0x2028, 0x2029:
                starts.append(index + 1)
            default:
                break
            }
            index += 1
        }
        return starts
    }

    /// The scalar indices of a 1-based line, without its line break.
    private func lineRange(_ line: Int) -> Range<Int> {
        let start = lineStarts[line - 1]
        var end = line < lineStarts.count ? lineStarts[line] : scalars.count
        while end > start, [0x0A, 0x0D, 0x85, 0x2028, 0x2029].contains(scalars[end - 1].value) { end -= 1 }
        return start..<max(start, end)
    }

    private func location(ofScalarIndex index: Int) -> SourceLocation {
        var line = 1
        while line < lineStarts.count, lineStarts[line] <= index { line += 1 }
        return location(line: line, column: index - lineStarts[line - 1] + 1)
    }

    // MARK: Composing

    private mutating func compose(_ original: String) {
        var text = original
        while true {
            do {
                // Every scalar stays a text (the readers parse numbers and dates themselves): the basic resolver
                // spares the regular expressions of the default one.
                root = try Yams.compose(yaml: text, .basic)
                return
            } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
                let key = duplicates.first ?? "?"
                let first = location(line: context.mark.line, column: context.mark.column)
                if repeatedKeys.count < Self.maximumRepeats, let range = repeatedKeyRange(after: context.mark) {
                    let placeholder = Unicode.Scalar(0xE000 + UInt32(repeatedKeys.count))!
                    for index in range { scalars[index] = placeholder }
                    let placeholderText = String(
                        String.UnicodeScalarView(Array(repeating: placeholder, count: range.count)))
                    repeatedKeys[placeholderText] = RepeatedKey(original: key, first: first)
                    text = String(String.UnicodeScalarView(scalars))
                    continue
                }
                problems.append(
                    ContentProblem(
                        first,
                        "'\(key)' is written more than once in the same place: keep only one "
                            + "(the rest of this file is checked once this is fixed)"))
                return
            } catch {
                problems.append(problem(for: error))
                return
            }
        }
    }

    /// Finds the next occurrence of the key that starts at `mark`, written the same way, on a later line at the
    /// same indentation and before the mapping ends. Returns the range of its text (inside quotes if quoted).
    private func repeatedKeyRange(after mark: Mark) -> Range<Int>? {
        guard mark.line >= 1, mark.line <= lineStarts.count else { return nil }
        let firstLine = lineRange(mark.line)
        let start = firstLine.lowerBound + mark.column - 1
        guard firstLine.contains(start), let token = keyToken(at: start, before: firstLine.upperBound) else {
            return nil
        }
        let written = unquoted(token)
        var line = mark.line + 1
        while line <= lineStarts.count {
            let range = lineRange(line)
            line += 1
            guard let first = range.first(where: { scalars[$0] != " " }), scalars[first] != "#" else { continue }
            let indent = first - range.lowerBound
            if indent < mark.column - 1 { return nil }
            if indent == mark.column - 1, let candidate = keyToken(at: first, before: range.upperBound),
                unquoted(candidate) == written, !candidate.text.isEmpty
            {
                return candidate.text
            }
        }
        return nil
    }

    /// The text of a key as YAML reads it, so `reply`, `'reply'` and `"reply"` compare equal.
    private func unquoted(_ token: (written: Range<Int>, text: Range<Int>)) -> [Unicode.Scalar] {
        let text = Array(scalars[token.text])
        guard token.written != token.text else { return text }
        if scalars[token.written.lowerBound] == "\"" {
            return text.contains("\\") ? Array(scalars[token.written]) : text
        }
        var result: [Unicode.Scalar] = []
        var index = 0
        while index < text.count {
            result.append(text[index])
            index += text[index] == "'" ? 2 : 1
        }
        return result
    }

    /// The key starting at `start` on a line ending at `end`: `written` includes quotes, `text` does not.
    private func keyToken(at start: Int, before end: Int) -> (written: Range<Int>, text: Range<Int>)? {
        let quote = scalars[start]
        var index = start
        if quote == "\"" || quote == "'" {
            index += 1
            while index < end {
                if quote == "\"", scalars[index] == "\\" {
                    index += 2
                    continue
                }
                if scalars[index] == quote {
                    if quote == "'", index + 1 < end, scalars[index + 1] == "'" {
                        index += 2
                        continue
                    }
                    break
                }
                index += 1
            }
            guard index < end else { return nil }
            var colon = index + 1
            while colon < end, scalars[colon] == " " || scalars[colon] == "\t" { colon += 1 }
            guard colon < end, scalars[colon] == ":" else { return nil }
            return (start..<(index + 1), (start + 1)..<index)
        }
        while index < end {
            if scalars[index] == ":", index + 1 == end || scalars[index + 1] == " " || scalars[index + 1] == "\t" {
                var last = index
                while last > start, scalars[last - 1] == " " || scalars[last - 1] == "\t" { last -= 1 }
                return (start..<last, start..<last)
            }
            index += 1
        }
        return nil
    }

    // MARK: YAML errors in plain words

    private func problem(for error: Error) -> ContentProblem {
        let prefix = "the YAML is not valid here: "
        switch error {
        case YamlError.scanner(let context, let problem, let mark, _),
            YamlError.parser(let context, let problem, let mark, _),
            YamlError.composer(let context, let problem, let mark, _):
            var at = location(line: mark.line, column: mark.column)
            let explanation = explain(problem, context: context, at: at)
            if problem.contains("end of stream"), let context, context.text.contains("quoted") {
                at = location(line: context.mark.line, column: context.mark.column)
            }
            return ContentProblem(at, prefix + explanation)
        case YamlError.reader(let problem, let offset, let value, let yaml):
            var at = location(line: 1, column: 1)
            if let offset, let index = yaml.index(yaml.startIndex, offsetBy: offset, limitedBy: yaml.endIndex) {
                at = location(ofScalarIndex: yaml.unicodeScalars.distance(from: yaml.startIndex, to: index))
            }
            let code = value >= 0 ? String(format: " (character code U+%04X)", value) : ""
            return ContentProblem(
                at, prefix + "this character cannot be used in a YAML file\(code); delete it or retype it (\(problem))")
        default:
            return ContentProblem(location(line: 1, column: 1), prefix + "\(error)")
        }
    }

    private func character(at location: SourceLocation) -> Unicode.Scalar? {
        guard location.line <= lineStarts.count else { return nil }
        let range = lineRange(location.line)
        let index = range.lowerBound + location.column - 1
        return range.contains(index) ? scalars[index] : nil
    }

    private func explain(_ problem: String, context: YamlError.Context?, at location: SourceLocation) -> String {
        let during = context?.text ?? ""
        let quote = "If this text contains ': ' or starts with a special character, put the whole text in quotes."
        switch problem {
        case let text where text.contains("tab"):
            return "tabs cannot be used to indent: use spaces instead"
        case "mapping values are not allowed in this context":
            return "a ':' is not expected here: check that this line is indented like the lines around it, "
                + "or, if the text contains ': ', put the whole text in quotes"
        case "found character that cannot start any token":
            if let character = character(at: location), character == "\t" {
                return "tabs cannot be used to indent: use spaces instead"
            }
            let shown = character(at: location).map { " '\($0)'" } ?? ""
            return "a text cannot start with the character\(shown): put the whole text in quotes"
        case "did not find expected key":
            return "this line does not line up with the lines above it: check the indentation "
                + "(items at the same level need the same number of spaces)"
        case "did not find expected '-' indicator":
            return "expected a list item starting with '- ' here: check the indentation"
        case "block sequence entries are not allowed in this context":
            return "a '- ' list item is not allowed here: check the indentation. \(quote)"
        case "found unexpected end of stream" where during.contains("quoted"):
            return "this quoted text is never closed: add the missing closing quote"
        case "found unknown escape character":
            return "a '\\' inside double quotes must be followed by a known code: "
                + "use single quotes instead, or write '\\\\' for a backslash"
        case "could not find expected ':'":
            return "a line is missing its ':' (or a quoted text is not closed)"
        case "did not find expected node content":
            return "a value is missing here. \(quote)"
        case "found undefined alias":
            return "a text starting with '*' is read as a reference to a name defined with '&', and there is "
                + "none: put the whole text in quotes"
        case "did not find expected ',' or ']'":
            return "a list in '[ ]' is not closed with ']' or is missing a ','. \(quote)"
        case "did not find expected ',' or '}'":
            return "a group in '{ }' is not closed with '}' or is missing a ','. \(quote)"
        case "but found another document":
            return "only one document is allowed per file: remove the extra '---' line"
        default:
            return during.isEmpty ? problem : "\(problem) (\(during))"
        }
    }
}
