import ClerkEngine
import Foundation
import Yams

/// Reads one intent file: a YAML list of intents, each a group of `key: value` lines.
///
/// Intents that have an id are returned even when other problems were found in them (values that are wrong are
/// left out), so later checks can still report their own problems. Intents without an id are left out.
/// Ids are not checked for uniqueness here: see ``ContentLoader/duplicateIntentProblems(_:)``.
struct IntentFileParser {
    static let keys = [
        "id", "title", "patterns", "examples", "reply", "quick_replies", "context", "requires", "priority",
        "service", "action", "slots", "follow_up", "safeguarding",
    ]

    /// How each key is written, shown when a value has the wrong form.
    static let hints: [String: String] = [
        "id": "id: passport.renew",
        "title": "title: \"Renew a passport\"",
        "patterns": "patterns:\n    - \"how much is a passport\"",
        "examples": "examples:\n    - \"I want to renew my passport\"",
        "reply": "reply: \"You can renew your passport online.\"",
        "quick_replies": "quick_replies:\n    - \"Opening hours\"",
        "context": "context: passport",
        "requires": "requires: passport",
        "priority": "priority: 5",
        "service": "service: passport",
        "action": "action: escalate",
        "slots": "slots:\n    - name: where\n      type: text\n      prompt: \"Where is it?\"",
        "follow_up": "follow_up: true",
        "safeguarding": "safeguarding: true",
    ]

    private var reader: NodeReader

    private init(yaml: String, file: String) {
        reader = NodeReader(YAMLDocument(yaml: yaml, file: file))
    }

    static func parse(yaml: String, file: String) -> (intents: [IntentDefinition], problems: [ContentProblem]) {
        var parser = IntentFileParser(yaml: yaml, file: file)
        let intents = parser.readFile()
        return (intents, parser.reader.sortedProblems)
    }

    private mutating func readFile() -> [IntentDefinition] {
        guard let root = reader.root else {
            if reader.problems.isEmpty {
                reader.report(
                    reader.document.location(line: 1, column: 1),
                    "this file has no intents yet: add one starting with '- id: …'", severity: .warning)
            }
            return []
        }
        switch root {
        case .sequence(let items):
            return items.compactMap { readIntent($0) }
        case .mapping(let mapping) where mapping.keys.contains(where: { $0.string == "id" }):
            reader.report(
                root,
                "this file should be a list of intents: start each intent with '- ', like:\n  - id: passport.renew")
        case .scalar(let scalar) where NodeReader.isEmpty(scalar):
            reader.report(
                root, "this file has no intents yet: add one starting with '- id: …'", severity: .warning)
        default:
            reader.report(
                root,
                "this file should be a list of intents (here it is \(NodeReader.describe(root))), like:\n"
                    + "  - id: passport.renew\n    patterns:\n      - \"renew my passport\"\n"
                    + "    reply: \"You can renew your passport online.\"")
        }
        return []
    }

    private func hint(_ key: String) -> String { Self.hints[key] ?? key }

    private mutating func readIntent(_ node: Node) -> IntentDefinition? {
        guard case .mapping(let mapping) = node else {
            reader.report(
                node,
                "each intent should be a group of 'key: value' lines (here it is \(NodeReader.describe(node))), "
                    + "like:\n  - id: passport.renew\n    reply: \"You can renew your passport online.\"")
            return nil
        }
        var id: Located<String>?
        var intent = IntentDefinition(id: Located("", at: reader.document.location(of: node)))
        var reported: Set<String> = []
        for entry in reader.entries(of: mapping, allowed: Self.keys) {
            let key = entry.key
            let value = entry.value
            let problemsBefore = reader.problems.count
            defer { if reader.problems.count > problemsBefore { reported.insert(key) } }
            switch key {
            case "id":
                id = reader.text(value, key: key, hint: hint(key))
            case "title":
                intent.title = reader.text(value, key: key, hint: hint(key))?.value
            case "patterns":
                intent.patterns = reader.texts(value, key: key, hint: hint(key)) ?? []
            case "examples":
                intent.examples = reader.texts(value, key: key, hint: hint(key)) ?? []
            case "reply":
                intent.replies = reader.texts(value, key: key, hint: hint(key), singleAllowed: true) ?? []
            case "quick_replies":
                intent.quickReplies = (reader.texts(value, key: key, hint: hint(key)) ?? []).map(\.value)
            case "context":
                intent.setsContext =
                    (reader.texts(value, key: key, hint: hint(key), singleAllowed: true) ?? []).map(\.value)
            case "requires":
                intent.requires =
                    (reader.texts(value, key: key, hint: hint(key), singleAllowed: true) ?? []).map(\.value)
            case "priority":
                intent.priority = reader.integer(value, key: key, range: Int.min...Int.max, hint: hint(key)) ?? 0
            case "service":
                intent.service = reader.text(value, key: key, hint: hint(key))?.value
            case "slots":
                intent.slots = readSlots(value)
            case "follow_up":
                intent.followUp = boolean(value, key: key) ?? false
            case "safeguarding":
                intent.safeguarding = boolean(value, key: key) ?? false
            default:  // "action"
                intent.action = readAction(value)
            }
        }
        let name = id.map { "intent '\($0.value)'" } ?? "this intent"
        if id == nil, !mapping.keys.contains(where: { $0.string == "id" }) {
            reader.report(node, "this intent has no 'id': add a line like 'id: passport.renew'")
        }
        if intent.patterns.isEmpty, intent.examples.isEmpty, reported.isDisjoint(with: ["patterns", "examples"]) {
            reader.report(node, "\(name) has no patterns and no examples, so nothing can ever reach it")
        }
        if intent.replies.isEmpty, intent.action == nil, reported.isDisjoint(with: ["reply", "action"]) {
            reader.report(
                node,
                "\(name) has no reply: add the answer to give, like:\n  \(hint("reply"))\n"
                    + "(or 'action: escalate' to hand over to a person)")
        }
        guard let id else { return nil }
        intent.id = id
        return intent
    }

    private mutating func boolean(_ node: Node, key: String) -> Bool? {
        guard let text = reader.text(node, key: key, hint: hint(key)) else { return nil }
        switch text.value.lowercased() {
        case "true", "yes": return true
        case "false", "no": return false
        default:
            reader.report(text.location, "'\(key)' should be true or false")
            return nil
        }
    }

    static let slotKeys = ["name", "type", "prompt", "hint"]

    /// `slots:` — a list of values to ask for, each with a name, a type and a prompt.
    private mutating func readSlots(_ node: Node) -> [SlotDefinition] {
        guard case .sequence(let items) = node else {
            reader.report(
                node,
                "'slots' should be a list (here it is \(NodeReader.describe(node))), like:\n  \(hint("slots"))")
            return []
        }
        var slots: [SlotDefinition] = []
        let types = SlotType.allCases.filter { $0 != .variant }.map(\.rawValue)
        for item in items {
            guard case .mapping(let mapping) = item else {
                reader.report(item, "each slot should be a group of 'key: value' lines, like:\n  \(hint("slots"))")
                continue
            }
            var name: Located<String>?
            var type: SlotType?
            var prompt: String?
            var slotHint: String?
            for entry in reader.entries(of: mapping, allowed: Self.slotKeys) {
                switch entry.key {
                case "name": name = reader.text(entry.value, key: "name", hint: "name: where")
                case "type":
                    if let text = reader.text(entry.value, key: "type", hint: "type: text") {
                        if let known = SlotType(rawValue: text.value), known != .variant {
                            type = known
                        } else {
                            let suggestion = NodeReader.suggestion(for: text.value, among: types)
                            reader.report(
                                text.location,
                                "unknown slot type '\(text.value)'"
                                    + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
                                    + ": use one of \(types.joined(separator: ", "))")
                        }
                    }
                case "prompt":
                    prompt = reader.text(entry.value, key: "prompt", hint: "prompt: \"Where is it?\"")?.value
                default:
                    slotHint =
                        reader.text(entry.value, key: "hint", hint: "hint: \"Please give a street name.\"")?.value
                }
            }
            for (key, present) in [("name", name != nil), ("type", type != nil), ("prompt", prompt != nil)]
            where !present && !mapping.keys.contains(where: { $0.string == key }) {
                reader.report(item, "this slot has no '\(key)': a slot needs a name, a type and a prompt")
            }
            if let name, let type, let prompt {
                slots.append(SlotDefinition(name: name, type: type, prompt: prompt, hint: slotHint))
            }
        }
        return slots
    }

    private mutating func readAction(_ node: Node) -> IntentAction? {
        let allowed = IntentAction.allCases.map(\.rawValue)
        guard let text = reader.text(node, key: "action", hint: hint("action")) else { return nil }
        if let action = IntentAction(rawValue: text.value) { return action }
        let suggestion = NodeReader.suggestion(for: text.value, among: allowed).map { " (did you mean '\($0)'?)" }
        reader.report(
            text.location,
            "unknown action '\(text.value)'\(suggestion ?? ""): 'action' can be \(allowed.joined(separator: ", "))")
        return nil
    }
}
