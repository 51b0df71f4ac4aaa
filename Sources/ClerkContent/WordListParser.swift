import ClerkEngine
import Foundation
import Yams

/// Reads the two word files: `intents/concepts.yaml` (name → list of words) and `intents/substitutions.yaml`
/// (what the citizen may type → what it means).
struct WordListParser {
    private var reader: NodeReader

    private init(yaml: String, file: String) {
        reader = NodeReader(YAMLDocument(yaml: yaml, file: file))
    }

    /// The root mapping, or nil (with a problem unless the file is empty).
    private mutating func rootMapping(example: String) -> Node.Mapping? {
        guard let root = reader.root else { return nil }
        switch root {
        case .mapping(let mapping):
            return mapping
        case .scalar(let scalar) where NodeReader.isEmpty(scalar):
            return nil
        default:
            reader.report(
                root,
                "this file should be a group of 'key: value' lines (here it is \(NodeReader.describe(root))), "
                    + "like:\n\(example)")
            return nil
        }
    }

    // MARK: Concepts

    static let conceptExample = "  document:\n    - passport\n    - id card"

    static func parseConcepts(yaml: String, file: String) -> (concepts: [ConceptDefinition], problems: [ContentProblem])
    {
        var parser = WordListParser(yaml: yaml, file: file)
        let concepts = parser.readConcepts()
        return (concepts, parser.reader.sortedProblems)
    }

    private mutating func readConcepts() -> [ConceptDefinition] {
        guard let mapping = rootMapping(example: Self.conceptExample) else { return [] }
        let entries = reader.entries(of: mapping) { name, first in
            "concept '\(name)' is defined twice (first at line \(first.line), column \(first.column)): "
                + "merge the two lists into one"
        }
        var concepts: [ConceptDefinition] = []
        for entry in entries {
            guard case .scalar(let keyScalar) = entry.keyNode, !NodeReader.isEmpty(keyScalar) else {
                reader.report(entry.keyNode, "a concept needs a name before the ':', like:\n\(Self.conceptExample)")
                continue
            }
            let name = Located(entry.key, at: reader.document.textLocation(of: entry.keyNode))
            checkConceptName(name)
            let hint = "\(entry.key):\n    - passport\n    - id card"
            let members: [Located<String>]
            if case .scalar(let scalar) = entry.value, NodeReader.isEmpty(scalar) {
                reader.report(entry.keyNode, "concept '\(entry.key)' has no words: add at least one, like:\n  \(hint)")
                members = []
            } else if case .sequence(let sequence) = entry.value, sequence.isEmpty {
                reader.report(entry.value, "concept '\(entry.key)' has no words: add at least one, like:\n  \(hint)")
                members = []
            } else {
                members = reader.texts(entry.value, key: entry.key, hint: hint) ?? []
            }
            var seen: [String: SourceLocation] = [:]
            for member in members {
                let key = member.value.lowercased()
                if let first = seen[key] {
                    reader.report(
                        member.location,
                        "'\(member.value)' is listed twice in concept '\(entry.key)' "
                            + "(first at line \(first.line), column \(first.column))", severity: .warning)
                } else {
                    seen[key] = member.location
                }
            }
            concepts.append(ConceptDefinition(name: name, members: members))
        }
        return concepts
    }

    /// Concept names are written in patterns as `~name`, so they must be simple: lower-case letters, digits, `_`.
    private mutating func checkConceptName(_ name: Located<String>) {
        let allowed = name.value.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
        guard !allowed else { return }
        let better = String(
            name.value.lowercased().unicodeScalars.compactMap { scalar -> Character? in
                if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_" {
                    return Character(scalar)
                }
                return scalar == " " || scalar == "-" ? "_" : nil
            })
        let suggestion = better.isEmpty || better == name.value ? "" : " (for example '\(better)')"
        reader.report(
            name.location,
            "the concept name '\(name.value)' may only use lower-case letters a-z, digits and '_'\(suggestion)")
    }

    // MARK: Substitutions

    static let substitutionExample = "  \"don't\": do not\n  idcard: id card"

    static func parseSubstitutions(
        yaml: String, file: String
    ) -> (substitutions: [SubstitutionDefinition], problems: [ContentProblem]) {
        var parser = WordListParser(yaml: yaml, file: file)
        let substitutions = parser.readSubstitutions()
        return (substitutions, parser.reader.sortedProblems)
    }

    private mutating func readSubstitutions() -> [SubstitutionDefinition] {
        guard let mapping = rootMapping(example: Self.substitutionExample) else { return [] }
        let entries = reader.entries(of: mapping) { from, first in
            "'\(from)' is listed twice (first at line \(first.line), column \(first.column)): keep only one"
        }
        var substitutions: [SubstitutionDefinition] = []
        for entry in entries {
            guard case .scalar(let keyScalar) = entry.keyNode, !NodeReader.isEmpty(keyScalar) else {
                reader.report(entry.keyNode, "empty text before ':': write what the citizen may type")
                continue
            }
            let from = Located(entry.key, at: reader.document.textLocation(of: entry.keyNode))
            guard case .scalar(let scalar) = entry.value else {
                reader.report(
                    entry.value,
                    "'\(entry.key)' should be replaced by a single text (here it is "
                        + "\(NodeReader.describe(entry.value))), like:\n  idcard: id card")
                continue
            }
            guard !NodeReader.isEmpty(scalar) else {
                reader.report(
                    entry.keyNode,
                    "'\(entry.key)' has nothing to be replaced with: write what it means after the ':', "
                        + "like:\n  idcard: id card")
                continue
            }
            if scalar.string == entry.key {
                reader.report(
                    entry.value, "'\(entry.key)' is replaced by itself, which does nothing", severity: .warning)
            }
            substitutions.append(SubstitutionDefinition(from: from, to: scalar.string))
        }
        return substitutions
    }
}
