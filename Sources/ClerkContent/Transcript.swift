import ClerkEngine
import Foundation

/// A golden conversation from `transcripts/*.txt`, run as a test.
///
/// ```
/// # renew a passport
/// > How much does a passport cost?
/// < €35
/// @ intent passport.fee
/// ```
/// `> text` is the citizen's message. After it: `< text` the reply contains the text; `< ~regex` the reply
/// matches a regular expression; `< = text` the whole reply equals the text; `@ intent ID`, `@ outcome
/// answer|clarify|ask|miss`, `@ escalate`, `@ capture NAME = VALUE`, `@ service ID`, `@ slot NAME = VALUE`
/// assert on the turn. `#` starts a comment.
public struct Transcript: Sendable {
    /// One assertion with its line.
    public enum Expectation: Sendable, Hashable {
        case contains(String)
        case matches(String)
        case equals(String)
        case intent(String)
        case outcome(String)
        case escalate
        case capture(name: String, value: String)
        case service(String)
        case slot(name: String, value: String)
    }

    /// A failed expectation: where, what was expected, what happened.
    public struct Failure: Sendable {
        public var problem: ContentProblem
        /// The citizen's message of the failing turn.
        public var message: String
        /// Line of the message in the transcript.
        public var messageLine: Int
        /// The conversation state before the turn, to explain it again.
        public var state: ConversationState
    }

    public struct Step: Sendable {
        public var message: String
        public var line: Int
        public var expectations: [(Expectation, Int)]
    }

    public var file: String
    public var steps: [Step]

    /// Parses a transcript; every malformed line is a problem with its location.
    public static func parse(_ text: String, file: String) -> (Transcript, [ContentProblem]) {
        var steps: [Step] = []
        var problems: [ContentProblem] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let line = rawLine.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r")))
            if line.isEmpty || line.hasPrefix("#") { continue }
            let location = SourceLocation(file: file, line: lineNumber, column: 1)
            guard let marker = line.first, line.count >= 2 else {
                problems.append(ContentProblem(location, "a line must start with '>', '<', '@' or '#'"))
                continue
            }
            let rest = String(line.dropFirst()).trimmingCharacters(in: .whitespaces)
            if marker == ">" {
                steps.append(Step(message: rest, line: lineNumber, expectations: []))
                continue
            }
            guard !steps.isEmpty else {
                problems.append(ContentProblem(location, "an expectation comes before any '>' message"))
                continue
            }
            switch marker {
            case "<":
                if rest.hasPrefix("~") {
                    let pattern = String(rest.dropFirst()).trimmingCharacters(in: .whitespaces)
                    if (try? NSRegularExpression(pattern: pattern)) == nil {
                        problems.append(ContentProblem(location.advanced(by: 3), "not a valid regular expression"))
                        continue
                    }
                    steps[steps.count - 1].expectations.append((.matches(pattern), lineNumber))
                } else if rest.hasPrefix("=") {
                    steps[steps.count - 1].expectations.append(
                        (.equals(String(rest.dropFirst()).trimmingCharacters(in: .whitespaces)), lineNumber))
                } else {
                    steps[steps.count - 1].expectations.append((.contains(rest), lineNumber))
                }
            case "@":
                let words = rest.split(separator: " ", maxSplits: 1).map(String.init)
                switch (words.first, words.count) {
                case ("intent", 2): steps[steps.count - 1].expectations.append((.intent(words[1]), lineNumber))
                case ("outcome", 2) where ["answer", "clarify", "ask", "miss", "handoff"].contains(words[1]):
                    steps[steps.count - 1].expectations.append((.outcome(words[1]), lineNumber))
                case ("escalate", 1): steps[steps.count - 1].expectations.append((.escalate, lineNumber))
                case ("service", 2): steps[steps.count - 1].expectations.append((.service(words[1]), lineNumber))
                case ("capture", 2) where words[1].contains("="), ("slot", 2) where words[1].contains("="):
                    let parts = words[1].split(separator: "=", maxSplits: 1).map {
                        $0.trimmingCharacters(in: .whitespaces)
                    }
                    let value = parts.count > 1 ? parts[1] : ""
                    steps[steps.count - 1].expectations.append(
                        (
                            words[0] == "slot"
                                ? .slot(name: parts[0], value: value)
                                : .capture(name: parts[0], value: value), lineNumber
                        ))
                default:
                    problems.append(
                        ContentProblem(
                            location.advanced(by: 2),
                            "unknown assertion '\(rest)'; use @ intent ID, @ outcome answer|clarify|ask|miss|handoff, "
                                + "@ escalate, @ service ID, @ capture NAME = VALUE or @ slot NAME = VALUE"))
                }
            default:
                problems.append(ContentProblem(location, "a line must start with '>', '<', '@' or '#'"))
            }
        }
        if steps.isEmpty {
            problems.append(
                ContentProblem(SourceLocation(file: file, line: 1, column: 1), "the transcript has no '>' messages"))
        }
        return (Transcript(file: file, steps: steps), problems)
    }

    /// Runs the conversation on `brain`; returns one failure per unmet expectation (empty when it passes).
    public func run(on brain: Brain) -> [ContentProblem] {
        run(on: brain, each: { _ in }).map(\.problem)
    }

    /// Runs the conversation, handing every turn to `each` (for coverage), and returns the failures with what
    /// is needed to explain them.
    public func run(on brain: Brain, each: (Turn) -> Void) -> [Failure] {
        var failures: [Failure] = []
        var state = ConversationState()
        for step in steps {
            let before = state
            let turn = brain.reply(to: step.message, in: state)
            each(turn)
            state = turn.state
            let reply = turn.messages.joined(separator: "\n")
            for (expectation, line) in step.expectations {
                let location = SourceLocation(file: file, line: line, column: 1)
                if let failure = Self.check(expectation, turn: turn, reply: reply, brain: brain) {
                    failures.append(
                        Failure(
                            problem: ContentProblem(location, "after \"\(step.message)\": \(failure)"),
                            message: step.message, messageLine: step.line, state: before))
                }
            }
        }
        return failures
    }

    /// Intents and services named in this transcript's assertions.
    public var assertedIntents: Set<String> {
        Set(steps.flatMap { $0.expectations.compactMap { if case .intent(let id) = $0.0 { id } else { nil } } })
    }

    private static func check(_ expectation: Expectation, turn: Turn, reply: String, brain: Brain) -> String? {
        switch expectation {
        case .contains(let text):
            return reply.contains(text) ? nil : "expected the reply to contain \"\(text)\", got \"\(reply)\""
        case .matches(let pattern):
            let regex = try? NSRegularExpression(pattern: pattern)
            let found = regex?.firstMatch(in: reply, range: NSRange(reply.startIndex..., in: reply)) != nil
            return found ? nil : "expected the reply to match /\(pattern)/, got \"\(reply)\""
        case .equals(let text):
            return reply == text ? nil : "expected the reply \"\(text)\", got \"\(reply)\""
        case .intent(let id):
            if !brain.hasIntent(id) { return "no intent '\(id)' exists" }
            return turn.intent == id ? nil : "expected intent \(id), got \(describe(turn.outcome))"
        case .outcome(let name):
            return describe(turn.outcome).hasPrefix(name)
                ? nil : "expected outcome \(name), got \(describe(turn.outcome))"
        case .escalate:
            return turn.actions.contains { if case .escalate = $0 { true } else { false } }
                ? nil : "expected a handover to a person, got none"
        case .capture(let name, let value):
            guard let captured = turn.captures[name] else { return "nothing was captured as '\(name)'" }
            return captured == value ? nil : "expected capture \(name) = \"\(value)\", got \"\(captured)\""
        case .service(let id):
            if !brain.hasService(id) { return "no service '\(id)' exists" }
            return turn.service == id
                ? nil : "expected the answer to be about service \(id), got \(turn.service ?? "no service")"
        case .slot(let name, let value):
            guard let given = turn.slots[name] else { return "no value was given for slot '\(name)'" }
            return given == value ? nil : "expected slot \(name) = \"\(value)\", got \"\(given)\""
        }
    }

    private static func describe(_ outcome: Turn.Outcome) -> String {
        switch outcome {
        case .answer(let intent, _, _): "answer \(intent)"
        case .clarify(let options): "clarify \(options.joined(separator: " or "))"
        case .miss: "miss"
        case .ask(let intent, let slot): "ask \(intent) for \(slot)"
        case .handoff(let accepted): accepted ? "handoff" : "handoff declined"
        }
    }

    /// Reads the given transcript files, and the `*.txt` files of given folders; paths shown relative to `root`.
    public static func load(paths: [URL], relativeTo root: URL) -> ([Transcript], [ContentProblem]) {
        var transcripts: [Transcript] = []
        var problems: [ContentProblem] = []
        let rootPath = root.standardizedFileURL.path + "/"
        for url in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
                problems.append(
                    ContentProblem(SourceLocation(file: url.path, line: 1, column: 1), "no such file or folder"))
                continue
            }
            let files =
                isFolder.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [])
                    .filter { $0.hasSuffix(".txt") && !$0.hasPrefix(".") }.sorted().map {
                        url.appendingPathComponent($0)
                    }
                : [url]
            for file in files {
                var name = file.standardizedFileURL.path
                if name.hasPrefix(rootPath) { name.removeFirst(rootPath.count) }
                guard let text = try? String(contentsOf: file, encoding: .utf8) else {
                    problems.append(
                        ContentProblem(SourceLocation(file: name, line: 1, column: 1), "cannot be read as UTF-8 text"))
                    continue
                }
                let (transcript, found) = parse(text, file: name)
                transcripts.append(transcript)
                problems += found
            }
        }
        return (transcripts, problems)
    }

    /// Reads every `*.txt` file in `transcripts/` under `root`, sorted by name.
    public static func loadAll(root: URL) -> ([Transcript], [ContentProblem]) {
        let folder = root.appendingPathComponent("transcripts", isDirectory: true)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".txt") && !$0.hasPrefix(".") }.sorted()
        var transcripts: [Transcript] = []
        var problems: [ContentProblem] = []
        for name in names {
            let file = "transcripts/\(name)"
            guard let text = try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) else {
                problems.append(
                    ContentProblem(SourceLocation(file: file, line: 1, column: 1), "cannot be read as UTF-8 text"))
                continue
            }
            let (transcript, found) = parse(text, file: file)
            transcripts.append(transcript)
            problems += found
        }
        return (transcripts, problems)
    }
}
