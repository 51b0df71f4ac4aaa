import ClerkContent
import ClerkEngine
import Foundation
import Testing

/// A content folder in a fresh temporary directory, removed when the test ends.
private final class ContentFolder {
    let root: URL

    init(_ files: [String: String]) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("clerk-content-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for (path, text) in files { try write(Data(text.utf8), to: path) }
    }

    func write(_ data: Data, to path: String) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }

    func load() -> (source: BrainSource, problems: [ContentProblem]) {
        ContentLoader(root: root).loadSource()
    }

    deinit { try? FileManager.default.removeItem(at: root) }
}

private func at(_ file: String, _ line: Int, _ column: Int) -> ClerkEngine.SourceLocation {
    ClerkEngine.SourceLocation(file: file, line: line, column: column)
}

@Test func wholeContentFolderIsLoadedInSortedFileOrder() throws {
    let folder = try ContentFolder([
        "intents/b.yaml": "- id: b.one\n  examples: [b]\n  reply: B\n",
        "intents/a.yml": "- id: a.one\n  patterns: [a]\n  reply: A\n",
        "intents/concepts.yaml": "document: [passport]\n",
        "intents/substitutions.yaml": "idcard: id card\n",
        "intents/.hidden.yaml": "this: [is not read\n",
        "intents/README.md": "not read either\n",
        "config/engine.yaml": "language: dutch\nanswer_threshold: 0.7\n",
    ])
    let (source, problems) = folder.load()
    #expect(problems.isEmpty)
    #expect(source.intents.map(\.id.value) == ["a.one", "b.one"])
    #expect(source.intents.first?.id.location == at("intents/a.yml", 1, 7))
    #expect(source.concepts.map(\.name.value) == ["document"])
    #expect(source.concepts.first?.name.location == at("intents/concepts.yaml", 1, 1))
    #expect(source.substitutions.map(\.to) == ["id card"])
    #expect(source.language == "dutch")
    #expect(source.settings.answerThreshold == 0.7)
}

@Test func duplicateIdAcrossTwoFilesReportsBothLocations() throws {
    let folder = try ContentFolder([
        "intents/a.yaml": "# passports\n\n- id: passport.renew\n  examples: [renew]\n  reply: A\n",
        "intents/b.yaml":
            "- id: other\n  examples: [x]\n  reply: X\n- id: passport.renew\n  examples: [y]\n  reply: B\n",
    ])
    let (source, problems) = folder.load()
    #expect(
        problems == [
            ContentProblem(
                at("intents/b.yaml", 4, 7), "duplicate intent id 'passport.renew' (first defined at intents/a.yaml:3:7)"
            )
        ])
    #expect(source.intents.map(\.id.value) == ["passport.renew", "other"])
}

@Test func missingIntentsFolderIsOneProblem() throws {
    let folder = try ContentFolder([:])
    let (source, problems) = folder.load()
    #expect(source == BrainSource())
    #expect(
        problems == [
            ContentProblem(
                at("intents/", 1, 1),
                "no intents/ folder in \(folder.root.path): create one with at least one intent file")
        ])
}

@Test func intentsFolderWithoutIntentFilesIsReported() throws {
    let folder = try ContentFolder(["intents/concepts.yaml": "fee: [price]\n"])
    let problems = folder.load().problems
    #expect(problems.map(\.location) == [at("intents/", 1, 1)])
    #expect(problems.first?.message.hasPrefix("intents/ has no intent files") == true)
}

@Test func problemsFromEveryFileAreReportedSortedByLocation() throws {
    let folder = try ContentFolder([
        "intents/b.yaml": "- id: b\n  reply: B\n  patterns: [b]\n  colour: red\n",
        "intents/a.yaml": "- id: a\n  reply: Fees: 5\n",
        "intents/concepts.yaml": "Fee: [price]\n",
        "intents/substitutions.yaml": "idcard:\n",
        "config/engine.yaml": "language: klingon\n",
    ])
    let problems = folder.load().problems
    #expect(
        problems.map(\.location) == [
            at("config/engine.yaml", 1, 11), at("intents/a.yaml", 2, 14), at("intents/b.yaml", 4, 3),
            at("intents/concepts.yaml", 1, 1), at("intents/substitutions.yaml", 1, 1),
        ])
}

@Test func fileNotSavedAsUTF8IsReportedWhereTheBadCharacterIs() throws {
    let folder = try ContentFolder(["intents/a.yaml": "- id: a\n  examples: [x]\n  reply: A\n"])
    try folder.write(Data("- id: b\n  reply: caf".utf8) + Data([0xE9]) + Data("\n".utf8), to: "intents/latin1.yaml")
    let problems = folder.load().problems
    #expect(problems.map(\.location) == [at("intents/latin1.yaml", 2, 13)])
    #expect(problems.first?.message.hasPrefix("this file is not saved as UTF-8 text") == true)
}

@Test func folderInsideIntentsIsAWarningBecauseItIsNotRead() throws {
    let folder = try ContentFolder([
        "intents/a.yaml": "- id: a\n  examples: [x]\n  reply: A\n",
        "intents/more/b.yaml": "- id: b\n  examples: [x]\n  reply: B\n",
    ])
    let (source, problems) = folder.load()
    #expect(source.intents.map(\.id.value) == ["a"])
    #expect(problems.map(\.severity) == [.warning])
    #expect(problems.first?.location.file == "intents/more/")
}

@Test func missingEngineFileKeepsDefaultSettings() throws {
    let folder = try ContentFolder([
        "intents/a.yaml": "- id: a\n  examples: [x]\n  reply: A\n", "config/other.yaml": "x: 1",
    ])
    let (source, problems) = folder.load()
    #expect(problems.isEmpty)
    #expect(source.settings == PolicySettings())
    #expect(source.language == "english")
}

@Test func aLoaderWithACacheSeesEditedAddedAndRemovedIntentFiles() throws {
    let folder = try ContentFolder([
        "intents/a.yaml": "- id: a.one\n  patterns: [a]\n  reply: A\n",
        "intents/b.yaml": "- id: b.one\n  patterns: [b]\n  reply: B\n",
    ])
    let cache = ContentLoader.ParseCache()
    let first = ContentLoader(root: folder.root, cache: cache).loadSource()
    #expect(first.source.intents.map(\.id.value) == ["a.one", "b.one"])

    // An edit to one file, a new file with an error, and a file removed: the next load sees all three.
    try folder.write(Data("- id: b.two\n  patterns: [b]\n  reply: B2\n".utf8), to: "intents/b.yaml")
    try folder.write(Data("- id: c.one\n  patterns: [\"~nothing\"]\n  reply: C\n".utf8), to: "intents/c.yaml")
    try FileManager.default.removeItem(at: folder.root.appendingPathComponent("intents/a.yaml"))
    let second = ContentLoader(root: folder.root, cache: cache).loadSource()
    #expect(second.source.intents.map(\.id.value) == ["b.two", "c.one"])
    #expect(second.source.intents.first?.replies.map(\.value) == ["B2"])
    #expect(second.source == ContentLoader(root: folder.root).loadSource().source)

    // The problems of an unchanged file are reported again from the cache.
    let (_, problems) = ContentLoader(root: folder.root, cache: cache).compile()
    #expect(problems.map(\.location) == [at("intents/c.yaml", 2, 15)], "\(problems)")
}

@Test func manyIntentFilesLoadInSortedOrderWhateverCoreParsedThem() throws {
    var files: [String: String] = [:]
    for number in 0..<40 {
        let name = String(format: "f%02d", number)
        files["intents/\(name).yaml"] =
            "- id: \(name).x\n  patterns: [\(name) x]\n  reply: X\n- id: \(name).y\n  patterns: [\(name) y]\n  reply: Y\n"
    }
    let (source, problems) = try ContentFolder(files).load()
    #expect(problems.isEmpty)
    #expect(
        source.intents.map(\.id.value) == (0..<40).flatMap { n in ["x", "y"].map { String(format: "f%02d.", n) + $0 } })
}
