/// A reply variant split into literal text and `{name}` placeholders.
struct ReplyTemplate: Sendable, Hashable {
    enum Part: Sendable, Hashable {
        case text(String)
        case placeholder(String)
    }

    let parts: [Part]
    /// The whole text when there is no placeholder: rendering then costs nothing.
    let plain: String?
    /// The placeholders' names, in order (kept, not worked out on each answer).
    let placeholders: [String]

    /// Parses `text`; `{{` and `}}` stand for literal braces. Throws the offset and message of a problem.
    init(_ text: String) throws(Pattern.SyntaxError) {
        if !text.utf8.contains(UInt8(ascii: "{")) && !text.utf8.contains(UInt8(ascii: "}")) {
            parts = text.isEmpty ? [] : [.text(text)]
            plain = text
            placeholders = []
            return
        }
        var parts: [Part] = []
        var literal = ""
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "{" && i + 1 < chars.count && chars[i + 1] == "{" {
                literal.append("{")
                i += 2
            } else if c == "}" && i + 1 < chars.count && chars[i + 1] == "}" {
                literal.append("}")
                i += 2
            } else if c == "{" {
                guard let close = chars[(i + 1)...].firstIndex(of: "}") else {
                    throw Pattern.SyntaxError(offset: i, message: "'{' is never closed; write {{ for a literal brace")
                }
                let name = String(chars[(i + 1)..<close]).trimmingCharacters(in: " ")
                guard !name.isEmpty else {
                    throw Pattern.SyntaxError(offset: i, message: "empty placeholder '{}'")
                }
                if !literal.isEmpty {
                    parts.append(.text(literal))
                    literal = ""
                }
                parts.append(.placeholder(name))
                i = close + 1
            } else if c == "}" {
                throw Pattern.SyntaxError(offset: i, message: "'}' without '{'; write }} for a literal brace")
            } else {
                literal.append(c)
                i += 1
            }
        }
        if !literal.isEmpty { parts.append(.text(literal)) }
        self.parts = parts
        placeholders = parts.compactMap { if case .placeholder(let name) = $0 { name } else { nil } }
        if parts.isEmpty {
            plain = ""
        } else if parts.count == 1, case .text(let only) = parts[0] {
            plain = only
        } else {
            plain = nil
        }
    }

    /// The text with placeholders filled by `value`; nil when a placeholder has no value.
    func render(_ value: (String) -> String?) -> String? {
        if let plain { return plain }
        var result = ""
        for part in parts {
            switch part {
            case .text(let text): result += text
            case .placeholder(let name):
                guard let filled = value(name) else { return nil }
                result += filled
            }
        }
        return result
    }

    /// The literal text only, placeholders left out.
    var literalText: String {
        parts.map { if case .text(let t) = $0 { t } else { "" } }.joined()
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
