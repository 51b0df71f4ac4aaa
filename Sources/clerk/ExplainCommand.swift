import ArgumentParser
import ClerkEngine
import Foundation

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show how a message is read and why it gets its answer.",
        discussion: """
            Examples:
              clerk explain "How much does a passport cost?"
              clerk explain --json "my id card got stolen"
            """
    )

    @OptionGroup var contentOptions: ContentOptions

    @Flag(help: "Print the explanation as one JSON object.")
    var json = false

    @Argument(help: "The message to explain.")
    var message: String

    func run() throws {
        let brain = try contentOptions.loadBrain()
        let (_, explanation) = brain.explain(message)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(explanation), as: UTF8.self))
        } else {
            print(ExplanationText.render(explanation))
        }
    }
}

/// Renders an explanation for people.
enum ExplanationText {
    static func render(_ e: Explanation) -> String {
        var lines: [String] = []
        lines.append("Message: \(e.input)")
        lines.append("")
        lines.append("Reading:")
        for reading in e.readings {
            let detail = reading.detail.map { " → \($0)" } ?? ""
            let original = reading.original == reading.folded ? "" : " (typed \"\(reading.original)\")"
            lines.append("  \(reading.folded)\(original): \(reading.status)\(detail)")
        }
        for note in e.notes { lines.append("  • \(note)") }
        lines.append("  Terms: \(e.normalized.joined(separator: " "))")
        for entity in e.entities { lines.append("  • \(entity)") }
        if !e.patternMatches.isEmpty {
            lines.append("")
            lines.append("Patterns that match the whole message:")
            for match in e.patternMatches {
                let eligible = match.eligible ? "" : "  [not eligible: needs context, or is about another service]"
                lines.append(
                    "  \(match.intent): \"\(match.pattern)\" at \(match.location) — \(match.literalWords) literal "
                        + "words, \(match.typedElements) concepts/captures, \(match.wildcards) wildcards, priority "
                        + "\(match.priority)\(eligible)")
            }
        }
        if !e.scored.isEmpty {
            lines.append("")
            lines.append("Closest intents by examples:")
            for candidate in e.scored {
                let words = candidate.contributions.map { String(format: "%@ +%.2f", $0.word, $0.weight) }
                lines.append(
                    String(format: "  %@ %.2f", candidate.intent, candidate.score)
                        + "  nearest \(candidate.source): \"\(candidate.nearest)\""
                        + (words.isEmpty ? "" : "  [\(words.joined(separator: ", "))]"))
            }
        }
        lines.append("")
        var decision = "Decision: \(e.outcome)"
        if let intent = e.intent { decision += " \(intent)" }
        if let confidence = e.confidence { decision += String(format: " (confidence %.2f)", confidence) }
        lines.append(decision)
        lines.append("  because \(e.reason)")
        if let service = e.service { lines.append("  service: \(service)") }
        if let variant = e.variant { lines.append("  variant: \(variant)") }
        if !e.slots.isEmpty {
            lines.append(
                "  values: "
                    + e.slots.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(separator: ", "))
        }
        for runnerUp in e.runnersUp { lines.append("  \(runnerUp)") }
        if !e.messages.isEmpty {
            lines.append("")
            lines.append("Reply: \(e.messages.joined(separator: " / "))")
        }
        return lines.joined(separator: "\n")
    }
}
