import ClerkContent
import ClerkEngine
import Foundation
import Testing

/// The repository root: this file is `<root>/Tests/ClerkEngineTests/StarterContentTests.swift`.
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

private let starter = Result { () throws -> Brain in
    let (source, loadProblems) = ContentLoader(root: repositoryRoot).loadSource()
    let (brain, compileProblems) = Brain.compile(source)
    #expect(loadProblems + compileProblems == [])
    return try #require(brain)
}

@Test func starterContentPassesItsGoldenConversations() throws {
    let brain = try starter.get()
    let (transcripts, problems) = Transcript.loadAll(root: repositoryRoot)
    #expect(problems.isEmpty)
    #expect(!transcripts.isEmpty)
    for transcript in transcripts {
        #expect(transcript.run(on: brain) == [], "\(transcript.file)")
    }
}

@Test(arguments: [
    ("How much does a passport cost?", "service.fee"),
    ("how much is a new PÁSSPORT", "service.fee"),
    ("my ID-card got stolen", "document.lost"),
    ("I can't find my passport anywhere", "document.lost"),
    ("thanks a lot", "thanks"),
    ("I want to talk to a real person", "human"),
    ("when is the service centre open on monday", "opening_hours"),
])
func starterContentAnswersCommonQuestions(_ message: String, _ intent: String) throws {
    let brain = try starter.get()
    #expect(brain.reply(to: message, in: ConversationState()).intent == intent)
}

@Test func wrongExpectationInATranscriptFailsAtItsLine() throws {
    let brain = try starter.get()
    let (transcript, problems) = Transcript.parse(
        "> How much does a passport cost?\n< €99\n@ intent passport.renew\n", file: "transcripts/wrong.txt")
    #expect(problems.isEmpty)
    let failures = transcript.run(on: brain)
    #expect(failures.map(\.location.line) == [2, 3])
    #expect(failures.allSatisfy { $0.location.file == "transcripts/wrong.txt" })
}
