import ClerkEngine
import Foundation
import Yams

/// `config/server.yaml`: settings of the running service that are not about understanding messages. Every key
/// is optional.
///
/// ```yaml
/// cors_origins: [https://www.example.city]   # sites that may embed the widget from another origin
/// fallback_contact: "Please call +1 555 0100."
/// agent_active_minutes: 10                    # an agent counts as signed in this long after their last action
/// idle_minutes: 30                            # a quiet conversation ends after this long
/// resume_days: 7                              # a conversation can be resumed with its token this long
/// ```
public struct ServerConfig: Sendable, Hashable {
    public var corsOrigins: [String] = []
    public var fallbackContact: String?
    public var agentActiveMinutes: Int?
    public var idleMinutes: Int?
    public var resumeDays: Int?

    public init() {}

    static let keys = ["cors_origins", "fallback_contact", "agent_active_minutes", "idle_minutes", "resume_days"]

    /// Reads `config/server.yaml` under `root`; a missing file gives the defaults. Problems come with file:line.
    public static func load(root: URL) -> (ServerConfig, [ContentProblem]) {
        let url = root.appendingPathComponent("config/server.yaml")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return (ServerConfig(), []) }
        return parse(yaml: text, file: "config/server.yaml")
    }

    public static func parse(yaml: String, file: String) -> (ServerConfig, [ContentProblem]) {
        var reader = NodeReader(YAMLDocument(yaml: yaml, file: file))
        var config = ServerConfig()
        guard let root = reader.root else { return (config, reader.sortedProblems) }
        guard case .mapping(let mapping) = root else {
            reader.report(root, "config/server.yaml should be a group of 'key: value' lines")
            return (config, reader.sortedProblems)
        }
        for entry in reader.entries(of: mapping, allowed: keys) {
            switch entry.key {
            case "cors_origins":
                let origins =
                    reader.texts(
                        entry.value, key: entry.key, hint: "cors_origins: [https://www.example.city]",
                        singleAllowed: true) ?? []
                for origin in origins {
                    if origin.value != "*", URL(string: origin.value)?.host == nil || origin.value.hasSuffix("/") {
                        reader.report(
                            origin.location,
                            "'\(origin.value)' is not an origin: write scheme and host, like https://www.example.city")
                    } else {
                        config.corsOrigins.append(origin.value)
                    }
                }
            case "fallback_contact":
                config.fallbackContact =
                    reader.text(entry.value, key: entry.key, hint: "fallback_contact: \"…\"")?.value
            case "agent_active_minutes":
                config.agentActiveMinutes = reader.integer(
                    entry.value, key: entry.key, range: 1...1440, hint: "agent_active_minutes: 10")
            case "idle_minutes":
                config.idleMinutes = reader.integer(
                    entry.value, key: entry.key, range: 1...10080, hint: "idle_minutes: 30")
            default:
                config.resumeDays = reader.integer(entry.value, key: entry.key, range: 1...365, hint: "resume_days: 7")
            }
        }
        return (config, reader.sortedProblems)
    }
}
