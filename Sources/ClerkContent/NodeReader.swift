import ClerkEngine
import Foundation
import Yams

/// Reads typed values out of YAML nodes, collecting a plain-language problem for everything that is wrong.
struct NodeReader {
    let document: YAMLDocument
    private(set) var problems: [ContentProblem]

    init(_ document: YAMLDocument) {
        self.document = document
        problems = document.problems
    }

    var root: Node? { document.root }

    mutating func report(
        _ location: SourceLocation, _ message: String, severity: ContentProblem.Severity = .error
    ) {
        problems.append(ContentProblem(location, message, severity: severity))
    }

    mutating func report(_ node: Node, _ message: String, severity: ContentProblem.Severity = .error) {
        report(document.location(of: node), message, severity: severity)
    }

    /// Problems in file order; problems at the same place keep the order they were found in.
    var sortedProblems: [ContentProblem] { ContentLoader.sorted(problems) }

    // MARK: Mappings

    struct Entry {
        var key: String
        var keyNode: Node
        var value: Node
    }

    /// The entries of a mapping whose keys are texts. Keys written twice and (when `allowed` is given) unknown
    /// keys are reported and left out.
    mutating func entries(
        of mapping: Node.Mapping, allowed: [String]? = nil,
        repeated: (String, SourceLocation) -> String = { key, first in
            "'\(key)' is written twice here (first at line \(first.line), column \(first.column)): keep only one"
        }
    ) -> [Entry] {
        var result: [Entry] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                report(keyNode, "this key should be a simple word followed by ':'")
                continue
            }
            if let repeatedKey = document.repeatedKeys[scalar.string] {
                report(keyNode, repeated(repeatedKey.original, repeatedKey.first))
                continue
            }
            if let allowed, !allowed.contains(scalar.string) {
                report(keyNode, Self.unknownKeyMessage(scalar.string, allowed: allowed))
                continue
            }
            result.append(Entry(key: scalar.string, keyNode: keyNode, value: value))
        }
        return result
    }

    static func unknownKeyMessage(_ key: String, allowed: [String]) -> String {
        if let suggestion = suggestion(for: key, among: allowed) {
            return "unknown key '\(key)' (did you mean '\(suggestion)'?)"
        }
        return "unknown key '\(key)': the keys you can use here are \(allowed.joined(separator: ", "))"
    }

    // MARK: Values

    /// How a node looks to a content editor, for "should be … (here it is …)" messages.
    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): return isEmpty(scalar) ? "empty" : "a single text"
        case .sequence: return "a list"
        case .mapping: return "a group of 'key: value' lines"
        case .alias: return "a reference"
        }
    }

    static func isEmpty(_ scalar: Node.Scalar) -> Bool {
        var blank = true
        var tilde = 0
        for unit in scalar.string.unicodeScalars where !unit.properties.isWhitespace {
            blank = false
            tilde += unit == "~" ? 1 : 2
            if tilde > 1 { return false }
        }
        return blank || (scalar.style == .plain && tilde == 1)
    }

    /// A non-empty text; anything else is reported with `hint` (how to write it) and gives nil.
    mutating func text(_ node: Node, key: String, hint: String) -> Located<String>? {
        guard case .scalar(let scalar) = node else {
            report(node, "'\(key)' should be a text (here it is \(Self.describe(node))), like:\n  \(hint)")
            return nil
        }
        guard !Self.isEmpty(scalar) else {
            report(node, "'\(key)' is empty: write a text after '\(key):', like:\n  \(hint)")
            return nil
        }
        return Located(scalar.string, at: document.textLocation(of: node))
    }

    /// A list of non-empty texts. With `singleAllowed`, one text alone counts as a list of one.
    mutating func texts(_ node: Node, key: String, hint: String, singleAllowed: Bool = false) -> [Located<String>]? {
        let items: [Node]
        switch node {
        case .sequence(let sequence):
            items = Array(sequence)
        case .scalar(let scalar) where Self.isEmpty(scalar):
            report(node, "'\(key)' is empty: write something after '\(key):', like:\n  \(hint)")
            return nil
        case .scalar where singleAllowed:
            items = [node]
        default:
            let kind = singleAllowed ? "a text or a list of texts" : "a list of texts"
            report(node, "'\(key)' should be \(kind) (here it is \(Self.describe(node))), like:\n  \(hint)")
            return nil
        }
        var result: [Located<String>] = []
        for item in items {
            switch item {
            case .scalar(let scalar) where Self.isEmpty(scalar):
                report(item, "empty text in '\(key)': remove this item or write something")
            case .scalar(let scalar):
                result.append(Located(scalar.string, at: document.textLocation(of: item)))
            case .mapping(let mapping) where mapping.count == 1:
                report(
                    item,
                    "this item in '\(key)' was read as a 'key: value' pair because it contains ': ': "
                        + "put the whole text in quotes")
            default:
                report(item, "each item in '\(key)' should be a text (here it is \(Self.describe(item)))")
            }
        }
        return result
    }

    /// A whole number within `range`.
    mutating func integer(_ node: Node, key: String, range: ClosedRange<Int>, hint: String) -> Int? {
        let text = node.scalar?.string.trimmingCharacters(in: .whitespaces) ?? ""
        guard let value = Int(text.hasPrefix("+") ? String(text.dropFirst()) : text), range.contains(value) else {
            let bounds =
                range.upperBound == .max
                ? (range.lowerBound == .min ? "" : " of at least \(range.lowerBound)")
                : " from \(range.lowerBound) to \(range.upperBound)"
            report(node, "'\(key)' should be a whole number\(bounds), like:\n  \(hint)")
            return nil
        }
        return value
    }

    /// A number from 0 to 1.
    mutating func fraction(_ node: Node, key: String, hint: String) -> Double? {
        let text = node.scalar?.string.trimmingCharacters(in: .whitespaces) ?? ""
        guard let value = Double(text), value.isFinite, (0...1).contains(value) else {
            report(node, "'\(key)' should be a number from 0 to 1, like:\n  \(hint)")
            return nil
        }
        return value
    }

    // MARK: Suggestions

    /// The allowed word closest to `word`: at most one edit away for words of up to 3 letters, two otherwise
    /// (also comparing singular forms, so 'replies' finds 'reply'), or one starting with the other.
    static func suggestion(for word: String, among allowed: [String]) -> String? {
        let typed = normalized(word)
        guard !typed.isEmpty else { return nil }
        let limit = typed.count <= 3 ? 1 : 2
        var best: (word: String, distance: Int)?
        for candidate in allowed {
            let target = normalized(candidate)
            var distance = min(editDistance(typed, target), editDistance(singular(typed), singular(target)))
            if distance > limit, typed.count >= 3, target.hasPrefix(typed) || typed.hasPrefix(target) {
                distance = limit
            }
            if distance <= limit, distance < (best?.distance ?? .max) { best = (candidate, distance) }
        }
        return best?.word
    }

    private static func normalized(_ word: String) -> String {
        String(word.lowercased().map { $0 == "-" || $0 == " " ? "_" : $0 })
    }

    private static func singular(_ word: String) -> String {
        if word.hasSuffix("ies") { return String(word.dropLast(3)) + "y" }
        if word.hasSuffix("s") { return String(word.dropLast()) }
        return word
    }

    /// Edits (insert, delete, replace, swap two neighbours) needed to turn `a` into `b`.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
