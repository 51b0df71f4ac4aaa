import Foundation
import Testing

// MARK: - Running the real binary

/// The package root: this file is `<root>/Tests/ClerkCLITests/CLITests.swift`.
private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The `clerk` binary built beside this test bundle (any build folder: `.build`, `--scratch-path` …),
/// or else the newest `<root>/.build*/debug/clerk`.
let clerkBinary: URL? = {
    let files = FileManager.default
    func clerk(in folder: URL) -> URL? {
        let candidate = folder.appendingPathComponent("clerk")
        var isDirectory: ObjCBool = false
        guard files.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
            files.isExecutableFile(atPath: candidate.path)
        else { return nil }
        return candidate
    }
    // Walk up from the running test bundle: `<build>/debug/ClerkPackageTests.xctest` (Linux) or
    // `<build>/debug/ClerkPackageTests.xctest/Contents/MacOS/ClerkPackageTests` (macOS).
    var starts = [ProcessInfo.processInfo.arguments.first, Bundle.main.executablePath].compactMap { $0 }
        .map { URL(fileURLWithPath: $0).resolvingSymlinksInPath() }
    starts += Bundle.allBundles.map { $0.bundleURL.resolvingSymlinksInPath() }
    for start in starts {
        var folder = start.deletingLastPathComponent()
        for _ in 0..<4 {
            if let found = clerk(in: folder) { return found }
            folder = folder.deletingLastPathComponent()
        }
    }
    // Fall back to the build folders of the package.
    let names = (try? files.contentsOfDirectory(atPath: packageRoot.path)) ?? []
    let found = names.filter { $0.hasPrefix(".build") }.compactMap {
        clerk(in: packageRoot.appendingPathComponent($0).appendingPathComponent("debug"))
    }
    func modified(_ url: URL) -> Date {
        ((try? files.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date) ?? .distantPast
    }
    return found.max { modified($0) < modified($1) }
}()

/// What a finished `clerk` run printed, and how it exited.
struct Run: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String

    var description: String { "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
}

/// Runs `clerk` with `arguments`, feeding `input` on standard input (nothing when nil). A run that takes longer
/// than `timeout` is killed and recorded as an issue, so a hang fails the test instead of blocking the suite.
func clerk(
    _ arguments: [String], input: String? = nil, in directory: URL? = nil, timeout: Duration = .seconds(60),
    sourceLocation: SourceLocation = #_sourceLocation
) async throws -> Run {
    let binary = try #require(
        clerkBinary, "no clerk binary found: build with 'swift build --build-tests' first",
        sourceLocation: sourceLocation)
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("clerk-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let inURL = scratch.appendingPathComponent("stdin")
    let outURL = scratch.appendingPathComponent("stdout")
    let errURL = scratch.appendingPathComponent("stderr")
    try Data((input ?? "").utf8).write(to: inURL)
    try Data().write(to: outURL)
    try Data().write(to: errURL)
    let stdin = try FileHandle(forReadingFrom: inURL)
    let stdout = try FileHandle(forWritingTo: outURL)
    let stderr = try FileHandle(forWritingTo: errURL)
    defer {
        try? stdin.close()
        try? stdout.close()
        try? stderr.close()
    }

    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.currentDirectoryURL = directory ?? scratch
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    let deadline = ContinuousClock.now + timeout
    while process.isRunning && ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(10))
    }
    if process.isRunning {
        process.terminate()
        Issue.record("clerk \(arguments) did not finish within \(timeout)", sourceLocation: sourceLocation)
    }
    process.waitUntilExit()
    return Run(
        status: process.terminationStatus,
        stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
        stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
}

/// A content folder in a fresh temporary directory; call ``remove()`` (in a `defer`) when done.
struct ContentFolder {
    let root: URL

    init(_ files: [String: String]) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("clerk-cli-\(UUID().uuidString)")
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
    }

    var path: String { root.path }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

/// Small, valid content: a pattern answer, a typed capture and a golden conversation.
private let cleanFiles = [
    "intents/city.yaml": """
    - id: hours
      title: Opening hours
      patterns: ["opening hours"]
      reply: "Nine to five."
    - id: appointment
      patterns: ["appointment on {d:date}"]
      reply: "See you on {d}."
    """,
    "transcripts/city.txt": """
    > opening hours
    < Nine
    @ intent hours

    > appointment on 2026-11-28
    @ capture d = 2026-11-28
    """,
]

/// An intent file with three errors, each at a known place.
private let brokenIntentFile = """
    - id: broken
      patterns:
        - "renew (passport"
        - "lost my ~nothing"
      reply: "Your {thing} is ready."
    """

private let brokenErrors = [
    "intents/x.yaml:3:23: error: missing ')'",
    "intents/x.yaml:4:8: error: unknown concept '~nothing'",
    "intents/x.yaml:5:11: error: the reply uses {thing}",
]

// MARK: - explain

@Test func explainShowsTheDecisionForAPassportQuestion() async throws {
    let run = try await clerk(["explain", "--content", packageRoot.path, "How much does a passport cost?"])
    #expect(run.status == 0, "\(run)")
    #expect(run.stdout.contains("Message: How much does a passport cost?"))
    #expect(run.stdout.contains("Decision: answer service.fee (confidence 1.00)"))
    #expect(run.stdout.contains("Reply: Fees for Passport: adult: €35"))
}

@Test func explainJSONHasTheOutcomeAndIntent() async throws {
    let run = try await clerk(["explain", "--json", "--content", packageRoot.path, "How much does a passport cost?"])
    #expect(run.status == 0, "\(run)")
    let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
    let json = try #require(object, "\(run)")
    #expect(json["outcome"] as? String == "answer")
    #expect(json["intent"] as? String == "service.fee")
    #expect((json["readings"] as? [Any])?.isEmpty == false)
}

@Test func explainReadsContentFromTheCurrentDirectoryByDefault() async throws {
    let folder = try ContentFolder(cleanFiles)
    defer { folder.remove() }
    let run = try await clerk(["explain", "opening hours"], in: folder.root)
    #expect(run.status == 0, "\(run)")
    #expect(run.stdout.contains("Decision: answer hours"))
}

// MARK: - chat --local

@Test func pipedChatPrintsOneReplyBlockPerLineAndEndsAtEndOfInput() async throws {
    let folder = try ContentFolder(cleanFiles)
    defer { folder.remove() }
    let run = try await clerk(
        ["chat", "--local", "--content", folder.path, "--store", temporaryStore()],
        input: "opening hours\n\nappointment on 28 November 2026\nblorf\n")
    #expect(run.status == 0, "\(run)")
    #expect(run.stderr.isEmpty, "\(run)")
    let blocks = run.stdout.components(separatedBy: "\n\n").filter { !$0.isEmpty }
    #expect(
        blocks == [
            "Clerk: Hello! I am an automated assistant. Ask me a question, or say \"talk to a person\".",
            "Clerk: Nine to five.", "Clerk: See you on 28 November 2026.",
            "Clerk: Sorry, I did not understand that. Could you say it in other words?",
        ], "\(run)")
}

@Test func pipedChatOnTheStarterContentAnswersAndHandsOver() async throws {
    let run = try await clerk(
        ["chat", "--local", "--content", packageRoot.path, "--store", temporaryStore()],
        input: "How much does a passport cost?\nhello\n1\ntalk to a human\nyes\n")
    #expect(run.status == 0, "\(run)")
    let blocks = Array(run.stdout.components(separatedBy: "\n\n").filter { !$0.isEmpty }.dropFirst())
    #expect(blocks.count == 5, "\(run)")
    #expect(blocks.allSatisfy { $0.hasPrefix("Clerk: ") }, "\(run)")
    #expect(blocks.first?.contains("€35") == true)
    // "1" picks the greeting's first suggestion, "How much is a passport?".
    #expect(blocks.count > 2 && blocks[2].contains("€35"), "\(run)")
    #expect(blocks.last?.contains("Your reference is T-1001.") == true, "\(run)")
    #expect(blocks.last?.contains("[ticket T-1001: queued") == true, "\(run)")
}

@Test func pipedChatStopsAtQuit() async throws {
    let folder = try ContentFolder(cleanFiles)
    defer { folder.remove() }
    let run = try await clerk(
        ["chat", "--local", "--content", folder.path, "--store", temporaryStore()],
        input: "opening hours\n/quit\nopening hours\n")
    #expect(run.status == 0, "\(run)")
    // The welcome and one answer.
    #expect(run.stdout.components(separatedBy: "Clerk:").count == 3, "\(run)")
}

@Test func chatWithNoServerListeningSaysItCannotConnect() async throws {
    let run = try await clerk(["chat", "--connect", "127.0.0.1:1"], input: "opening hours\n")
    #expect(run.status == 1, "\(run)")
    #expect(run.stderr.contains("cannot connect to 127.0.0.1:1"), "\(run)")
    #expect(run.stdout.isEmpty, "\(run)")
}

@Test func chatWithAMalformedAddressIsAUsageError() async throws {
    let run = try await clerk(["chat", "--connect", "localhost"])
    #expect(run.status == 2, "\(run)")
    #expect(run.stderr.contains("--connect needs HOST:PORT"), "\(run)")
}

/// A new SQLite store file in the temporary folder.
func temporaryStore() -> String {
    "sqlite:"
        + FileManager.default.temporaryDirectory.appendingPathComponent("clerk-cli-\(UUID().uuidString).sqlite").path
}

// MARK: - Broken content

@Test(arguments: [["chat", "--local"], ["explain", "opening hours"], ["test"]])
func brokenIntentFileStopsTheCommandAndListsEveryError(_ command: [String]) async throws {
    let folder = try ContentFolder(cleanFiles.merging(["intents/x.yaml": brokenIntentFile]) { $1 })
    defer { folder.remove() }
    let run = try await clerk(command + ["--content", folder.path], input: "opening hours\n")
    #expect(run.status == 1, "\(run)")
    let lines = run.stderr.split(separator: "\n").map(String.init)
    for error in brokenErrors {
        #expect(lines.contains { $0.hasPrefix(error) }, "missing \(error) in \(run)")
    }
    #expect(lines.last == "3 errors in \(folder.path); nothing was loaded.", "\(run)")
    #expect(!run.stdout.contains("Clerk:"), "\(run)")
}

// MARK: - lint

@Test func lintOfCleanContentExitsZero() async throws {
    let folder = try ContentFolder(cleanFiles)
    defer { folder.remove() }
    let run = try await clerk(["lint", "--strict", "--content", folder.path])
    #expect(run.status == 0, "\(run)")
    #expect(run.stdout.contains("0 errors, 0 warnings"))
}

@Test func lintOfTheStarterContentIsClean() async throws {
    let run = try await clerk(["lint", "--strict", "--content", packageRoot.path])
    #expect(run.status == 0, "\(run)")
}

@Test func lintWithAnErrorExitsOneAndListsIt() async throws {
    let folder = try ContentFolder(cleanFiles.merging(["intents/x.yaml": brokenIntentFile]) { $1 })
    defer { folder.remove() }
    let run = try await clerk(["lint", "--content", folder.path])
    #expect(run.status == 1, "\(run)")
    let lines = run.stdout.split(separator: "\n").map(String.init)
    for error in brokenErrors {
        #expect(lines.contains { $0.hasPrefix(error) }, "missing \(error) in \(run)")
    }
    #expect(lines.last == "3 errors, 0 warnings")
}

@Test func lintWarningFailsOnlyWhenStrict() async throws {
    let folder = try ContentFolder(
        cleanFiles.merging(["intents/concepts.yaml": "document: [passport, passport]\n"]) { $1 })
    defer { folder.remove() }
    let lenient = try await clerk(["lint", "--content", folder.path])
    #expect(lenient.status == 0, "\(lenient)")
    #expect(lenient.stdout.contains("intents/concepts.yaml:1:22: warning: 'passport' is listed twice"), "\(lenient)")
    #expect(lenient.stdout.contains("0 errors, 1 warning"), "\(lenient)")
    let strict = try await clerk(["lint", "--strict", "--content", folder.path])
    #expect(strict.status == 1, "\(strict)")
}

@Test func lintJSONIsAnArrayOfProblems() async throws {
    let folder = try ContentFolder(cleanFiles.merging(["intents/x.yaml": brokenIntentFile]) { $1 })
    defer { folder.remove() }
    let run = try await clerk(["lint", "--json", "--content", folder.path])
    #expect(run.status == 1, "\(run)")
    let items = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: String]])
    #expect(items.count == 3)
    #expect(items.first?["file"] == "intents/x.yaml")
    #expect(items.first?["line"] == "3")
    #expect(items.first?["column"] == "23")
    #expect(items.allSatisfy { $0["severity"] == "error" })
}

// MARK: - test

@Test func goldenConversationsOfTheStarterContentPass() async throws {
    let run = try await clerk(["test", "--content", packageRoot.path])
    #expect(run.status == 0, "\(run)")
    #expect(run.stdout.contains("ok    transcripts/starter.txt"))
    #expect(run.stdout.contains("0 failed"))
}

@Test func goldenConversationWithAWrongExpectationFailsWithItsLine() async throws {
    let folder = try ContentFolder(
        cleanFiles.merging([
            "transcripts/wrong.txt": """
            # the hours are wrong on purpose
            > opening hours
            < Ten to six
            @ intent hours
            """
        ]) { $1 })
    defer { folder.remove() }
    let run = try await clerk(["test", "--content", folder.path])
    #expect(run.status == 1, "\(run)")
    #expect(
        run.stdout.contains(
            "transcripts/wrong.txt:3:1: error: after \"opening hours\": expected the reply to contain \"Ten to six\""),
        "\(run)")
    #expect(run.stdout.contains("ok    transcripts/city.txt"))
    #expect(run.stdout.contains("FAIL  transcripts/wrong.txt"))
    #expect(run.stdout.contains("transcripts: 1 passed, 1 failed"))
}

// MARK: - help

@Test func helpListsEverySubcommand() async throws {
    let run = try await clerk(["--help"])
    #expect(run.status == 0, "\(run)")
    for command in ["serve", "chat", "explain", "test", "lint", "bench"] {
        #expect(run.stdout.contains("  \(command) "), "missing \(command) in \(run)")
    }
}

@Test func unknownSubcommandIsAUsageError() async throws {
    let run = try await clerk(["frobnicate"])
    #expect(run.status == 2, "\(run)")
}
