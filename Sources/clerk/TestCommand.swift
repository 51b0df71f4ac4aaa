import ArgumentParser
import ClerkContent
import ClerkEngine
import Foundation

struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the golden conversations in transcripts/ against the content.",
        discussion: """
            Each transcripts/*.txt file is a conversation: '> message' lines, then what the reply must contain \
            ('< text'), match ('< ~regex') or equal ('< = text'), and '@' assertions on the intent, outcome, \
            handover and captures. Exit status 1 when any expectation fails.

            Example:
              clerk test --content examples/city
            """
    )

    @OptionGroup var contentOptions: ContentOptions

    func run() throws {
        let brain = try contentOptions.loadBrain()
        let (transcripts, problems) = Transcript.loadAll(root: contentOptions.root)
        for problem in problems { printError(problem.description) }
        var failed = problems.count { $0.severity == .error }
        var passed = 0
        for transcript in transcripts {
            let failures = transcript.run(on: brain)
            for failure in failures { printError(failure.description) }
            if failures.isEmpty {
                passed += 1
                print("ok    \(transcript.file)")
            } else {
                failed += 1
                print("FAIL  \(transcript.file)")
            }
        }
        print("transcripts: \(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}

struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check intents, concepts, substitutions, settings and transcripts for problems.",
        discussion: """
            Reports every problem at once as file:line:column: severity: message. Exit status 1 on errors; \
            warnings fail only with --strict.

            Example:
              clerk lint --json
            """
    )

    @OptionGroup var contentOptions: ContentOptions

    @Flag(help: "Print the problems as a JSON array.")
    var json = false

    @Flag(help: "Treat warnings as errors.")
    var strict = false

    func run() throws {
        let (_, contentProblems) = ContentLoader(root: contentOptions.root).compile()
        let (_, transcriptProblems) = Transcript.loadAll(root: contentOptions.root)
        let problems = (contentProblems + transcriptProblems).sorted { $0.location < $1.location }
        let errors = problems.count { $0.severity == .error }
        let warnings = problems.count - errors
        if json {
            let items = problems.map {
                [
                    "file": $0.location.file, "line": "\($0.location.line)", "column": "\($0.location.column)",
                    "severity": $0.severity.rawValue, "message": $0.message,
                ]
            }
            let data = try JSONSerialization.data(withJSONObject: items, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            for problem in problems { print(problem.description) }
            print("\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
        }
        if errors > 0 || (strict && warnings > 0) { throw ExitCode(1) }
    }
}
