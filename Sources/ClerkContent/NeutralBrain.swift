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
}
