import ClerkEngine
import Foundation

/// Reads the neutral benchmark brain format written by `shared/bench/gen_brain.py`: a JSON list of intents
/// `{"id", "patterns": [[token, …], …], "reply"}` where a token is a word, `*` (one or more words) or
/// `[word]` (an optional word). The patterns map one to one onto Clerk's pattern language.
public enum NeutralBrain {
    private struct Entry: Decodable {
        var id: String
        var patterns: [[String]]
        var reply: String
    }

    /// Converts the file at `url` into a ``BrainSource`` (English, default settings).
    public static func load(_ url: URL) throws -> BrainSource {
        let data = try Data(contentsOf: url)
        let entries = try JSONDecoder().decode([Entry].self, from: data)
        let file = url.lastPathComponent
        var intents: [IntentDefinition] = []
        intents.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            let location = SourceLocation(file: file, line: index + 2, column: 1)
            intents.append(
                IntentDefinition(
                    id: Located(entry.id, at: location),
                    patterns: entry.patterns.map { Located($0.joined(separator: " "), at: location) },
                    replies: [
                        Located(
                            entry.reply.replacingOccurrences(of: "{", with: "{{")
                                .replacingOccurrences(of: "}", with: "}}"), at: location)
                    ]))
        }
        return BrainSource(intents: intents)
    }

    /// The same intents as editable intent files (the format of `intents/*.yaml`), `perFile` intents to a file,
    /// named `NAME-001.yaml`, `NAME-002.yaml`, … in order: what an editor of a brain this large would keep.
    public static func intentFiles(_ source: BrainSource, name: String, perFile: Int) -> [(name: String, text: String)]
    {
        let size = max(1, perFile)
        let count = (source.intents.count + size - 1) / size
        let digits = max(3, String(count).count)
        return stride(from: 0, to: source.intents.count, by: size).enumerated().map { number, start in
            let intents = source.intents[start..<min(start + size, source.intents.count)]
            var lines = [
                "# Converted by `clerk import brain` from a benchmark brain: intents \(start + 1)–\(start + intents.count)."
            ]
            for intent in intents {
                lines.append("")
                lines.append("- id: \(TrainingSet.quoted(intent.id.value))")
                lines.append("  patterns:")
                for pattern in intent.patterns { lines.append("    - \(TrainingSet.quoted(pattern.value))") }
                if let reply = intent.replies.first { lines.append("  reply: \(TrainingSet.quoted(reply.value))") }
            }
            let padded = String(repeating: "0", count: digits - String(number + 1).count) + String(number + 1)
            return ("\(name)-\(padded).yaml", lines.joined(separator: "\n") + "\n")
        }
    }
}
