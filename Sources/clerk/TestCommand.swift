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
            service, slots, handover and captures. A failure prints what was expected, what came, and how the \
            message was understood. Exit status 1 when any expectation fails.

            Examples:
              clerk test                               every transcript in transcripts/
              clerk test transcripts/passport.txt      one file
              clerk test --coverage                    also list intents and services no transcript reaches
            """
    )

    @OptionGroup var contentOptions: ContentOptions

    @Argument(help: "Transcript files or folders (default: the content's transcripts/ folder).")
    var paths: [String] = []

    @Flag(help: "List the intents and services that no transcript exercises.")
    var coverage = false

    func run() throws {
        let brain = try contentOptions.loadBrain()
        let (transcripts, problems) =
            paths.isEmpty
            ? Transcript.loadAll(root: contentOptions.root)
            : Transcript.load(paths: paths.map { URL(fileURLWithPath: $0) }, relativeTo: contentOptions.root)
        for problem in problems { printError(problem.description) }
        var failed = problems.count { $0.severity == .error }
        var passed = 0
        var intentsSeen = Set<String>()
        var servicesSeen = Set<String>()
        // A progress bar on a terminal for large suites; the ok/FAIL lines go to standard output as before.
        let bar = transcripts.count >= 200 ? ProgressBar(total: transcripts.count) : nil
        defer { bar?.finish() }
        for transcript in transcripts {
            bar?.advance()
            let failures = transcript.run(on: brain) { turn in
                if let intent = turn.intent { intentsSeen.insert(intent) }
                if let matched = turn.matchedIntent { intentsSeen.insert(matched) }
                if case .ask(let intent, _) = turn.outcome { intentsSeen.insert(intent) }
                if let service = turn.service { servicesSeen.insert(service) }
            }
            if failures.isEmpty {
                passed += 1
                print("ok    \(transcript.file)")
                continue
            }
            failed += 1
            print("FAIL  \(transcript.file)")
            var explained = Set<Int>()
            for failure in failures {
                print("  \(failure.problem)")
                guard explained.insert(failure.messageLine).inserted else { continue }
                let (turn, explanation) = brain.explain(failure.message, in: failure.state)
                print("    the reply was: \(turn.messages.joined(separator: " / "))")
                print("    understood as: \(explanation.normalized.joined(separator: " "))")
                var decided = "    decided: \(explanation.outcome)"
                if let intent = explanation.intent { decided += " \(intent)" }
                if let service = explanation.service { decided += ", service \(service)" }
                print(decided + (explanation.reason.isEmpty ? "" : " — \(explanation.reason)"))
                for candidate in explanation.scored.prefix(3) {
                    print(
                        String(
                            format: "    candidate %@ %.2f (nearest: %@)", candidate.intent, candidate.score,
                            candidate.nearest))
                }
            }
        }
        print("transcripts: \(passed) passed, \(failed) failed")
        if coverage {
            let intents = brain.intentIDs
            let services = brain.serviceIDs
            let missingIntents = intents.filter { !intentsSeen.contains($0) }
            let missingServices = services.filter { !servicesSeen.contains($0) }
            func percent(_ missing: Int, _ total: Int) -> String {
                total == 0 ? "100 %" : String(format: "%.0f %%", 100 * Double(total - missing) / Double(total))
            }
            print(
                "coverage: intents \(intents.count - missingIntents.count)/\(intents.count) "
                    + "(\(percent(missingIntents.count, intents.count))), services "
                    + "\(services.count - missingServices.count)/\(services.count) "
                    + "(\(percent(missingServices.count, services.count)))")
            for intent in missingIntents { print("  intent not exercised: \(intent)") }
            for service in missingServices { print("  service not exercised: \(service)") }
        }
        if failed > 0 { throw ExitCode(1) }
    }
}

struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check intents, knowledge, concepts, substitutions, settings and transcripts for problems.",
        discussion: """
            Reports every problem at once as file:line:column: severity: message. Besides what loading checks, it \
            warns about patterns that another intent's pattern shadows or clashes with (with a sample message), \
            examples another intent's pattern answers, examples the scorer would give to another intent if they \
            were not listed (with both scores), unused concepts, knowledge files past their review age, and \
            transcripts that name unknown intents or services. An intent with errors is left out and the other \
            checks still run. Exit status 1 on errors; warnings fail only with --strict.

            Example:
              clerk lint --json
            """
    )

    @OptionGroup var contentOptions: ContentOptions

    @Flag(help: "Print the problems as a JSON array.")
    var json = false

    @Flag(help: "Treat warnings as errors.")
    var strict = false

    @Option(
        help:
            "Warn about knowledge files not reviewed for this many days (default: review_age_days in config/engine.yaml, else 365)."
    )
    var reviewAge: Int?

    func run() throws {
        let (source, brain, contentProblems) = ContentLoader(root: contentOptions.root).compileForLint()
        let (transcripts, transcriptProblems) = Transcript.loadAll(root: contentOptions.root)
        var checks: [ContentProblem] = []
        if let brain {
            // A progress bar on a terminal, for content with thousands of intents.
            let bar = source.intents.count >= 500 ? ProgressBar(total: source.intents.count) : nil
            checks = ContentLinter.check(
                source: source, brain: brain, transcripts: transcripts, today: Date(),
                reviewAgeDays: reviewAge ?? source.settings.reviewAgeDays, progress: { bar?.advance() })
            bar?.finish()
        }
        let problems = (contentProblems + transcriptProblems + checks).sorted { $0.location < $1.location }
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
