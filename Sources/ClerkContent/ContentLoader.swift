import ClerkEngine
import Foundation
import Synchronization

/// Turns a content folder into a ``BrainSource`` and the list of every problem found in it.
///
/// The folder holds `intents/` (required), and optionally `knowledge/` and `config/engine.yaml`:
/// - `intents/*.yaml` (and `.yml`): lists of intents;
/// - `intents/concepts.yaml`: named word lists, referenced from patterns as `~name`;
/// - `intents/substitutions.yaml`: rewrites such as `"don't": do not`;
/// - `knowledge/*.yaml`: one public service per file, and `knowledge/offices.yaml` (see docs/knowledge-format.md);
/// - `config/engine.yaml`: policy settings and the stemming language (defaults when absent).
///
/// Files are read in sorted name order; hidden files and files that are not `.yaml`/`.yml` are ignored.
/// Loading never stops at the first problem: every problem in every file is reported, sorted by location, with
/// paths relative to the content folder (`intents/passport.yaml:12:7`).
///
/// **Locations of ``Located`` values** (ids, patterns, examples, replies, concept names and words, substitution
/// keys) point at the first character of the text itself, lines and columns 1-based, columns counted in Unicode
/// scalars (as libyaml counts them; a tab counts as one column):
/// - plain text (`- how much is a passport`): the first character of the text;
/// - quoted text (`- "how much"`, `- 'how much'`): the character right after the opening quote, so
///   `location.advanced(by: n)` is the n-th scalar of the text as long as it contains no escapes (`\"`, `''`)
///   and does not continue on another line;
/// - block text (`|` or `>`): the first non-blank character of the first content line.
public struct ContentLoader: Sendable {
    public let root: URL
    let cache: ParseCache?

    /// - Parameters:
    ///   - root: the content folder, containing `intents/` and optionally `config/`.
    ///   - cache: parsed intent files kept from an earlier load (the server's hot reload keeps one), so a file
    ///     whose text has not changed is not parsed again.
    public init(root: URL, cache: ParseCache? = nil) {
        self.root = root
        self.cache = cache
    }

    /// Intent files as parsed at an earlier load, by path, reused while their text is the same.
    public final class ParseCache: Sendable {
        typealias Parsed = (intents: [IntentDefinition], problems: [ContentProblem])
        private let entries = Mutex<[String: (text: String, parsed: Parsed)]>([:])

        public init() {}

        func parse(_ text: String, path: String) -> Parsed {
            if let entry = entries.withLock({ $0[path] }), entry.text == text { return entry.parsed }
            let parsed = IntentFileParser.parse(yaml: text, file: path)
            entries.withLock { $0[path] = (text, parsed) }
            return parsed
        }

        /// Forgets files that are gone.
        func keep(only paths: Set<String>) {
            entries.withLock { entries in entries = entries.filter { paths.contains($0.key) } }
        }
    }

    /// Snowball language names accepted in `config/engine.yaml`.
    public static var supportedLanguages: [String] { EngineSettingsParser.languages }

    /// Reads `intents/*.yaml` (except `concepts.yaml` and `substitutions.yaml`), `intents/concepts.yaml`,
    /// `intents/substitutions.yaml` and `config/engine.yaml`.
    public func loadSource() -> (source: BrainSource, problems: [ContentProblem]) {
        var source = BrainSource()
        var problems: [ContentProblem] = []
        let folder = root.appendingPathComponent("intents", isDirectory: true)
        if isDirectory(folder) {
            var intentFiles = 0
            var intentTexts: [(text: String, path: String)] = []
            for name in listing(of: folder, problems: &problems) {
                let path = "intents/\(name)"
                let base = (name as NSString).deletingPathExtension
                guard let text = read(folder.appendingPathComponent(name), path: path, problems: &problems) else {
                    if base != "concepts" && base != "substitutions" { intentFiles += 1 }
                    continue
                }
                switch base {
                case "concepts":
                    let result = Self.parseConcepts(yaml: text, file: path)
                    source.concepts += result.concepts
                    problems += result.problems
                case "substitutions":
                    let result = Self.parseSubstitutions(yaml: text, file: path)
                    source.substitutions += result.substitutions
                    problems += result.problems
                default:
                    intentFiles += 1
                    intentTexts.append((text, path))
                }
            }
            // Intent files are independent of each other: parse them on every core (those changed since the
            // last load, with a cache), keep their order.
            let cache = self.cache
            cache?.keep(only: Set(intentTexts.map(\.path)))
            let parsed = intentTexts.concurrentMap {
                cache?.parse($0.text, path: $0.path) ?? IntentFileParser.parse(yaml: $0.text, file: $0.path)
            }
            for result in parsed {
                source.intents += result.intents
                problems += result.problems
            }
            if intentFiles == 0 {
                problems.append(
                    ContentProblem(
                        SourceLocation(file: "intents/", line: 1, column: 1),
                        "intents/ has no intent files: add one, such as intents/general.yaml"))
            }
        } else {
            problems.append(
                ContentProblem(
                    SourceLocation(file: "intents/", line: 1, column: 1),
                    "no intents/ folder in \(root.path): create one with at least one intent file"))
        }
        problems += Self.duplicateIntentProblems(source.intents)
        source.intents = Self.removingDuplicateIDs(source.intents)
        problems += Self.duplicateConceptProblems(source.concepts)
        let knowledge = loadServices()
        source.services = knowledge.services
        problems += knowledge.problems

        let config = root.appendingPathComponent("config", isDirectory: true)
        for name in ["engine.yaml", "engine.yml"] {
            let url = config.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            if let text = read(url, path: "config/\(name)", problems: &problems) {
                let result = Self.parseEngineSettings(yaml: text, file: "config/\(name)")
                source.settings = result.settings
                source.language = result.language
                problems += result.problems
            }
            break
        }
        return (source, Self.sorted(problems))
    }

    // MARK: Parsing texts (no files needed)

    /// Parses one intent file. Ids repeated within this text are reported (and the repeats left out);
    /// ``loadSource()`` checks ids across all files.
    public static func parseIntents(
        yaml: String, file: String
    ) -> (intents: [IntentDefinition], problems: [ContentProblem]) {
        let result = IntentFileParser.parse(yaml: yaml, file: file)
        return (removingDuplicateIDs(result.intents), sorted(result.problems + duplicateIntentProblems(result.intents)))
    }

    /// Parses `intents/concepts.yaml`: a mapping from a lower-case name to a non-empty list of words or phrases.
    public static func parseConcepts(
        yaml: String, file: String
    ) -> (concepts: [ConceptDefinition], problems: [ContentProblem]) {
        WordListParser.parseConcepts(yaml: yaml, file: file)
    }

    /// Parses `intents/substitutions.yaml`: a mapping from what the citizen may type to what it means.
    public static func parseSubstitutions(
        yaml: String, file: String
    ) -> (substitutions: [SubstitutionDefinition], problems: [ContentProblem]) {
        WordListParser.parseSubstitutions(yaml: yaml, file: file)
    }

    /// Parses `config/engine.yaml`. Missing or wrong values keep their defaults (language `english`).
    public static func parseEngineSettings(
        yaml: String, file: String
    ) -> (settings: PolicySettings, language: String, problems: [ContentProblem]) {
        EngineSettingsParser.parse(yaml: yaml, file: file)
    }

    /// One problem for every intent whose id was already used by an earlier intent, pointing at the repeat and
    /// naming the first one's location.
    public static func duplicateIntentProblems(_ intents: [IntentDefinition]) -> [ContentProblem] {
        var first: [String: SourceLocation] = [:]
        var problems: [ContentProblem] = []
        for intent in intents {
            if let earlier = first[intent.id.value] {
                problems.append(
                    ContentProblem(
                        intent.id.location, "duplicate intent id '\(intent.id.value)' (first defined at \(earlier))"))
            } else {
                first[intent.id.value] = intent.id.location
            }
        }
        return problems
    }

    // MARK: Helpers

    private static func removingDuplicateIDs(_ intents: [IntentDefinition]) -> [IntentDefinition] {
        var seen: Set<String> = []
        return intents.filter { seen.insert($0.id.value).inserted }
    }

    private static func duplicateConceptProblems(_ concepts: [ConceptDefinition]) -> [ContentProblem] {
        var first: [String: SourceLocation] = [:]
        var problems: [ContentProblem] = []
        for concept in concepts {
            if let earlier = first[concept.name.value] {
                problems.append(
                    ContentProblem(
                        concept.name.location, "concept '\(concept.name.value)' is defined twice (first at \(earlier))")
                )
            } else {
                first[concept.name.value] = concept.name.location
            }
        }
        return problems
    }

    /// Problems by location; problems at the same place keep the order they were found in.
    static func sorted(_ problems: [ContentProblem]) -> [ContentProblem] {
        problems.enumerated().sorted { ($0.element.location, $0.offset) < ($1.element.location, $1.offset) }
            .map(\.element)
    }

    func isDirectory(_ url: URL) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &directory) && directory.boolValue
    }

    /// The YAML files directly in `folder`, sorted; sub-folders are reported because they are not read.
    func listing(of folder: URL, problems: inout [ContentProblem]) -> [String] {
        let names: [String]
        let base = folder.lastPathComponent
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        } catch {
            problems.append(
                ContentProblem(
                    SourceLocation(file: "\(base)/", line: 1, column: 1),
                    "the \(base)/ folder could not be read: \(error.localizedDescription)"))
            return []
        }
        var files: [String] = []
        for name in names where !name.hasPrefix(".") {
            if isDirectory(folder.appendingPathComponent(name)) {
                problems.append(
                    ContentProblem(
                        SourceLocation(file: "\(base)/\(name)/", line: 1, column: 1),
                        "files in the folder \(base)/\(name)/ are not read: put the files directly in \(base)/",
                        severity: .warning))
            } else if name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                files.append(name)
            }
        }
        return files
    }

    /// The file's text, or nil with a problem if it cannot be read or is not UTF-8.
    func read(_ url: URL, path: String, problems: inout [ContentProblem]) -> String? {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            problems.append(
                ContentProblem(
                    SourceLocation(file: path, line: 1, column: 1),
                    "this file could not be read: \(error.localizedDescription)"))
            return nil
        }
        if let text = String(data: data, encoding: .utf8) { return text }
        problems.append(ContentProblem(Self.firstInvalidUTF8(in: data, file: path), Self.notUTF8Message))
        return nil
    }

    static let notUTF8Message =
        "this file is not saved as UTF-8 text: save it again choosing the UTF-8 encoding "
        + "(the first wrong character is here)"

    /// Where the first byte that is not valid UTF-8 is, counting lines and columns as for YAML.
    static func firstInvalidUTF8(in data: Data, file: String) -> SourceLocation {
        var line = 1
        var column = 1
        var iterator = data.makeIterator()
        var decoder = UTF8()
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                if scalar == "\n" {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            case .emptyInput, .error:
                break loop
            }
        }
        return SourceLocation(file: file, line: line, column: column)
    }
}
