import ClerkEngine
import Foundation
import Yams

/// Reads `config/engine.yaml`: policy settings and the stemming language. Every key is optional; anything missing
/// or wrong keeps its built-in default.
struct EngineSettingsParser {
    static let keys = [
        "answer_threshold", "clarify_threshold", "clarify_margin", "misses_before_escalation", "rephrase_message",
        "escalation_message", "clarify_message", "protected_words", "language", "ask_service_message",
        "choose_service_message", "missing_field_message", "slot_give_up_message", "slot_attempts",
        "consent_message", "handoff_message", "declined_message", "emergency_message", "yes_words", "no_words",
        "welcome_message", "review_age_days",
    ]

    static let defaultLanguage = "english"

    /// Snowball stemmer names.
    static let languages = [
        "arabic", "armenian", "basque", "catalan", "danish", "dutch", "english", "finnish", "french", "german",
        "greek", "hindi", "hungarian", "indonesian", "irish", "italian", "lithuanian", "nepali", "norwegian",
        "porter", "portuguese", "romanian", "russian", "serbian", "spanish", "swedish", "tamil", "turkish",
        "yiddish",
    ]

    private var reader: NodeReader
    private var settings = PolicySettings()
    private var language = Self.defaultLanguage

    private init(yaml: String, file: String) {
        reader = NodeReader(YAMLDocument(yaml: yaml, file: file))
    }

    static func parse(
        yaml: String, file: String
    ) -> (settings: PolicySettings, language: String, problems: [ContentProblem]) {
        var parser = EngineSettingsParser(yaml: yaml, file: file)
        parser.readFile()
        return (parser.settings, parser.language, parser.reader.sortedProblems)
    }

    private mutating func readFile() {
        guard let root = reader.root else { return }
        guard case .mapping(let mapping) = root else {
            if case .scalar(let scalar) = root, NodeReader.isEmpty(scalar) { return }
            reader.report(
                root,
                "this file should be a group of 'key: value' lines (here it is \(NodeReader.describe(root))), "
                    + "like:\n  answer_threshold: 0.62\n  language: english")
            return
        }
        var answerAt: SourceLocation?
        var clarifyAt: SourceLocation?
        for entry in reader.entries(of: mapping, allowed: Self.keys) {
            let value = entry.value
            let key = entry.key
            switch key {
            case "answer_threshold":
                if let number = reader.fraction(value, key: key, hint: "\(key): 0.62") {
                    settings.answerThreshold = number
                    answerAt = reader.document.location(of: value)
                }
            case "clarify_threshold":
                if let number = reader.fraction(value, key: key, hint: "\(key): 0.4") {
                    settings.clarifyThreshold = number
                    clarifyAt = reader.document.location(of: value)
                }
            case "clarify_margin":
                settings.clarifyMargin =
                    reader.fraction(value, key: key, hint: "\(key): 0.08") ?? settings.clarifyMargin
            case "misses_before_escalation":
                settings.missesBeforeEscalation =
                    reader.integer(value, key: key, range: 1...Int.max, hint: "\(key): 2")
                    ?? settings.missesBeforeEscalation
            case "rephrase_message":
                settings.rephraseMessage = message(value, key: key) ?? settings.rephraseMessage
            case "escalation_message":
                settings.escalationMessage = message(value, key: key) ?? settings.escalationMessage
            case "clarify_message":
                if let text = message(value, key: key) {
                    if text.contains("{options}") {
                        settings.clarifyMessage = text
                    } else {
                        reader.report(
                            value,
                            "'clarify_message' must contain {options}, where the choices are put in, like:\n"
                                + "  clarify_message: \"Did you mean {options}?\"")
                    }
                }
            case "ask_service_message":
                settings.askServiceMessage = message(value, key: key) ?? settings.askServiceMessage
            case "choose_service_message":
                settings.chooseServiceMessage = message(value, key: key) ?? settings.chooseServiceMessage
            case "missing_field_message":
                settings.missingFieldMessage = message(value, key: key) ?? settings.missingFieldMessage
            case "slot_give_up_message":
                settings.slotGiveUpMessage = message(value, key: key) ?? settings.slotGiveUpMessage
            case "slot_attempts":
                settings.slotAttempts =
                    reader.integer(value, key: key, range: 1...10, hint: "\(key): 3") ?? settings.slotAttempts
            case "review_age_days":
                settings.reviewAgeDays =
                    reader.integer(value, key: key, range: 1...3650, hint: "\(key): 365") ?? settings.reviewAgeDays
            case "welcome_message":
                settings.welcomeMessage = message(value, key: key) ?? settings.welcomeMessage
            case "consent_message":
                settings.consentMessage = message(value, key: key) ?? settings.consentMessage
            case "handoff_message":
                settings.handoffMessage = message(value, key: key) ?? settings.handoffMessage
            case "declined_message":
                settings.declinedMessage = message(value, key: key) ?? settings.declinedMessage
            case "emergency_message":
                settings.emergencyMessage = message(value, key: key) ?? settings.emergencyMessage
            case "yes_words", "no_words":
                let words = (reader.texts(value, key: key, hint: "\(key): [yes, sure]") ?? []).map(\.value)
                if !words.isEmpty {
                    if key == "yes_words" { settings.yesWords = words } else { settings.noWords = words }
                }
            case "protected_words":
                let hint = "protected_words:\n    - Brussels\n    - Dupont"
                settings.protectedWords = (reader.texts(value, key: key, hint: hint) ?? []).map(\.value)
            default:  // "language"
                readLanguage(value)
            }
        }
        if settings.clarifyThreshold > settings.answerThreshold, let at = clarifyAt ?? answerAt {
            reader.report(
                at,
                "'clarify_threshold' (\(settings.clarifyThreshold)) must not be above 'answer_threshold' "
                    + "(\(settings.answerThreshold)): the engine asks \"Did you mean …?\" only when it is "
                    + "not sure enough to answer")
        }
    }

    private mutating func message(_ node: Node, key: String) -> String? {
        reader.text(node, key: key, hint: "\(key): \"…\"")?.value
    }

    private mutating func readLanguage(_ node: Node) {
        guard let text = reader.text(node, key: "language", hint: "language: english") else { return }
        let name = text.value.trimmingCharacters(in: .whitespaces).lowercased()
        if Self.languages.contains(name) {
            language = name
            return
        }
        let suggestion = NodeReader.suggestion(for: name, among: Self.languages).map { " (did you mean '\($0)'?)" }
        reader.report(
            text.location,
            "unknown language '\(text.value)'\(suggestion ?? ""). The languages you can use are: "
                + Self.languages.joined(separator: ", "))
    }
}
