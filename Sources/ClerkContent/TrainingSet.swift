import ClerkEngine
import Foundation

/// Labelled lines grouped into intents, each intent's texts becoming its examples: the bridge from a public
/// data set (JSON lines, see ``JSONLines``) to content, for `clerk eval` and `clerk import jsonl`.
///
/// Lines labelled ``LabelledLine/outOfScopeIntent`` are counted and left out: out of scope is not an intent.
public struct TrainingSet: Sendable, Hashable {
    /// One intent of the data set, in the order its id first appears.
    public struct Intent: Sendable, Hashable {
        public var id: Located<String>
        /// Distinct example texts, in file order.
        public var examples: [Located<String>]
        /// The answer, when the data gave one.
        public var answer: String?
    }

    public var intents: [Intent]
    /// Lines labelled out of scope, which were left out.
    public var skippedOutOfScope: Int

    public init(_ lines: [LabelledLine]) {
        var intents: [Intent] = []
        var index: [String: Int] = [:]
        var seen: [String: Set<String>] = [:]
        var skipped = 0
        for line in lines {
            if line.isOutOfScope {
                skipped += 1
                continue
            }
            let position =
                index[line.intent]
                ?? {
                    index[line.intent] = intents.count
                    intents.append(Intent(id: Located(line.intent, at: line.location), examples: []))
                    return intents.count - 1
                }()
            for example in line.examples where seen[line.intent, default: []].insert(example).inserted {
                intents[position].examples.append(Located(example, at: line.location))
            }
            if let answer = line.answer, intents[position].answer == nil { intents[position].answer = answer }
        }
        self.intents = intents
        skippedOutOfScope = skipped
    }

    /// How many example texts the intents have in all.
    public var exampleCount: Int { intents.reduce(0) { $0 + $1.examples.count } }

    /// The reply written for an intent whose data gave none.
    public static func placeholderReply(for id: String) -> String {
        "TODO: write the reply for '\(id)'. Until you do, the assistant answers with this text."
    }

    /// Content with one intent per data-set intent, its texts as examples and no patterns (English, default
    /// settings). Replies are the data's answers, or a placeholder.
    public var source: BrainSource {
        BrainSource(
            intents: intents.map { intent in
                IntentDefinition(
                    id: intent.id, examples: intent.examples,
                    replies: [
                        Located(
                            intent.answer.map(Self.escapingBraces) ?? Self.placeholderReply(for: intent.id.value),
                            at: intent.id.location)
                    ])
            })
    }

    /// An editable intent file (the format of `intents/*.yaml`) holding the same intents.
    /// - Parameter origin: where the data came from, named in the header comment.
    public func intentFile(origin: String) -> String {
        var lines = [
            "# Imported from \(origin) by `clerk import jsonl`: \(intents.count) intents, \(exampleCount) examples.",
            "# Each intent answers from its examples only. Before serving this file, give each intent a short title",
            "# and write every reply marked TODO; add patterns where an exact answer matters.",
        ]
        for intent in intents {
            lines.append("")
            lines.append("- id: \(Self.quoted(intent.id.value))")
            if let first = intent.examples.first { lines.append("  title: \(Self.quoted(first.value))") }
            lines.append("  examples:")
            for example in intent.examples { lines.append("    - \(Self.quoted(example.value))") }
            let reply = intent.answer.map(Self.escapingBraces) ?? Self.placeholderReply(for: intent.id.value)
            lines.append("  reply: \(Self.quoted(reply))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Reply templates read `{name}` as a placeholder; an imported answer means its braces literally.
    static func escapingBraces(_ text: String) -> String {
        text.replacingOccurrences(of: "{", with: "{{").replacingOccurrences(of: "}", with: "}}")
    }

    /// A YAML double-quoted scalar: backslash, quote and control characters escaped.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value)
                    || scalar.value == 0xFEFF || scalar.value == 0x2028 || scalar.value == 0x2029
                {
                    result += String(format: "\\u%04X", scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
