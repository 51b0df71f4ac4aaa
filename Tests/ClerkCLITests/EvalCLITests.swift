import Foundation
import Testing

/// A small generated data set: three intents written from templates, and out-of-scope messages.
private func dataSet(seed: Int) -> (train: String, test: String) {
    let intents: [(String, [String])] = [
        ("passport.fee", ["how much is a passport", "what does a passport cost", "passport price"]),
        ("hours", ["when are you open", "opening hours", "what time do you close"]),
        ("parking", ["where can i park", "is there parking", "where do i leave my car"]),
    ]
    let prefixes = ["", "please ", "hi ", "can you tell me "]
    var train: [String] = []
    var test: [String] = []
    for (intent, texts) in intents {
        for (k, text) in texts.enumerated() {
            for (p, prefix) in prefixes.enumerated() {
                let line = "{\"text\": \"\(prefix)\(text)\", \"intent\": \"\(intent)\"}"
                if (k + p + seed) % 4 == 0 { test.append(line) } else { train.append(line) }
            }
        }
    }
    train.append("{\"text\": \"tell me a joke\", \"intent\": \"oos\"}")
    for text in ["sing me a song about the sea", "what is the capital of peru", "book a table for two"] {
        test.append("{\"text\": \"\(text)\", \"intent\": \"oos\"}")
    }
    return (train.joined(separator: "\n") + "\n", test.joined(separator: "\n") + "\n")
}

private func dataFolder() throws -> ContentFolder {
    let data = dataSet(seed: 0)
    return try ContentFolder(["train.jsonl": data.train, "test.jsonl": data.test])
}

// MARK: - eval

@Test func evalReportsAccuracyOutOfScopeRecallAndTheThresholdUsed() async throws {
    let folder = try dataFolder()
    defer { folder.remove() }
    let run = try await clerk(["eval", "--train", "train.jsonl", "--test", "test.jsonl"], in: folder.root)
    #expect(run.status == 0, "\(run)")
    for line in [
        "trained on train.jsonl: 3 intents", "1 out-of-scope lines left out", "threshold 0.6200 (answer_threshold)",
        "in-scope accuracy", "out-of-scope recall", "out-of-scope precision", "AUROC", "accuracy, all classes",
        "time per query",
    ] {
        #expect(run.stdout.contains(line), "\(run)")
    }
    // Standard error is not a terminal here: no progress bar.
    #expect(run.stderr.isEmpty, "\(run)")
}

@Test func evalJSONHasEveryFigureAsPercentages() async throws {
    let folder = try dataFolder()
    defer { folder.remove() }
    let run = try await clerk(
        ["eval", "--train", "train.jsonl", "--test", "test.jsonl", "--threshold-from", "test.jsonl", "--json"],
        in: folder.root)
    #expect(run.status == 0, "\(run)")
    let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
    let json = try #require(object, "\(run)")
    for key in ["in_scope_accuracy", "oos_recall", "oos_precision", "auroc", "accuracy_all"] {
        let value = try #require(json[key] as? Double, "\(key) in \(run)")
        #expect((0...100).contains(value), "\(key) = \(value)")
    }
    #expect(json["threshold"] is Double)
    #expect(json["ms_per_query"] is Double)
    // The threshold chosen on the test file itself separates these easy messages completely.
    #expect(json["accuracy_all"] as? Double == 100, "\(run)")
}

@Test func evalOfAMissingFileSaysWhichFile() async throws {
    let folder = try dataFolder()
    defer { folder.remove() }
    let run = try await clerk(["eval", "--train", "train.jsonl", "--test", "nothere.jsonl"], in: folder.root)
    #expect(run.status == 1, "\(run)")
    #expect(run.stderr.contains("nothere.jsonl: no such file"), "\(run)")
}

@Test func evalOfBrokenJSONSaysFileAndLine() async throws {
    let folder = try ContentFolder([
        "train.jsonl": "{\"text\": \"opening hours\", \"intent\": \"hours\"}\n{\"text\": \"oops\", \n",
        "test.jsonl": "{\"text\": \"opening hours\", \"intent\": \"hours\"}\n",
    ])
    defer { folder.remove() }
    let run = try await clerk(["eval", "--train", "train.jsonl", "--test", "test.jsonl"], in: folder.root)
    #expect(run.status == 1, "\(run)")
    #expect(run.stderr.contains("train.jsonl:2: not valid JSON"), "\(run)")
}

// MARK: - import jsonl

@Test func importedIntentFileAnswersFromItsExamplesAndAsksForReplies() async throws {
    let folder = try dataFolder()
    defer { folder.remove() }
    let run = try await clerk(["import", "jsonl", "train.jsonl", "--out", "intents/imported.yaml"], in: folder.root)
    #expect(run.status == 0, "\(run)")
    #expect(run.stdout.contains("wrote intents/imported.yaml: 3 intents"), "\(run)")
    #expect(run.stdout.contains("3 replies are marked TODO"), "\(run)")
    let lint = try await clerk(["lint"], in: folder.root)
    #expect(lint.status == 0, "\(lint)")
    let explain = try await clerk(["explain", "please when are you open"], in: folder.root)
    #expect(explain.stdout.contains("Decision: answer hours"), "\(explain)")
    #expect(explain.stdout.contains("TODO: write the reply for 'hours'"), "\(explain)")
}

@Test func importRefusesToOverwriteWithoutForce() async throws {
    let folder = try ContentFolder([
        "train.jsonl": "{\"text\": \"opening hours\", \"intent\": \"hours\"}\n",
        "intents/mine.yaml": "# my own work\n",
    ])
    defer { folder.remove() }
    let refused = try await clerk(["import", "jsonl", "train.jsonl", "--out", "intents/mine.yaml"], in: folder.root)
    #expect(refused.status == 1, "\(refused)")
    #expect(refused.stderr.contains("intents/mine.yaml already exists; add --force"), "\(refused)")
    let kept = try String(contentsOf: folder.root.appendingPathComponent("intents/mine.yaml"), encoding: .utf8)
    #expect(kept == "# my own work\n")
    let forced = try await clerk(
        ["import", "jsonl", "train.jsonl", "--out", "intents/mine.yaml", "--force"], in: folder.root)
    #expect(forced.status == 0, "\(forced)")
}

// MARK: - import brain, bench reload

@Test func aBenchmarkBrainImportedAsContentAnswersAsTheBrainDoesAndReloads() async throws {
    let brain = """
        [
        {"id": "I00001", "patterns": [["how", "much", "is", "[a]", "fishing", "licence"], ["fishing", "licence", "*"]], "reply": "I00001: fees {see site}"},
        {"id": "I00002", "patterns": [["renew", "[my]", "dog", "\\"tag\\""]], "reply": "I00002: renew"},
        {"id": "I00003", "patterns": [["report", "a", "pothole"]], "reply": "I00003: report"}
        ]
        """
    let folder = try ContentFolder(["brain.json": brain])
    defer { folder.remove() }
    let run = try await clerk(
        ["import", "brain", "brain.json", "--out", "content", "--per-file", "2"], in: folder.root)
    #expect(run.status == 0, "\(run)")
    #expect(run.stdout.contains("wrote 2 intent files with 3 intents"), "\(run)")
    let files = try FileManager.default.contentsOfDirectory(
        atPath: folder.root.appendingPathComponent("content/intents").path)
    #expect(files.sorted() == ["synthetic-001.yaml", "synthetic-002.yaml"])

    let lint = try await clerk(["lint", "--strict", "--content", "content"], in: folder.root)
    #expect(lint.status == 0, "\(lint)")
    let answer = try await clerk(["explain", "how much is a fishing licence", "--content", "content"], in: folder.root)
    #expect(answer.stdout.contains("Decision: answer I00001"), "\(answer)")
    #expect(answer.stdout.contains("I00001: fees {see site}"), "braces in a reply are text: \(answer)")
    let quoted = try await clerk(["explain", "renew my dog \"tag\"", "--content", "content"], in: folder.root)
    #expect(quoted.stdout.contains("Decision: answer I00002"), "\(quoted)")

    let again = try await clerk(["import", "brain", "brain.json", "--out", "content"], in: folder.root)
    #expect(again.status == 1 && again.stderr.contains("already exists; add --force"), "\(again)")

    // The reload benchmark edits a file, reloads through the server's reloader, and puts the file back.
    let before = try String(
        contentsOf: folder.root.appendingPathComponent("content/intents/synthetic-001.yaml"), encoding: .utf8)
    let bench = try await clerk(
        ["bench", "reload", "--content", "content", "--passes", "2", "--json"], in: folder.root)
    #expect(bench.status == 0, "\(bench)")
    let object = try JSONSerialization.jsonObject(with: Data(bench.stdout.utf8)) as? [String: Any]
    #expect(object?["intents"] as? Int == 3, "\(bench)")
    #expect((object?["reload_s"] as? Double ?? -1) >= 0, "\(bench)")
    #expect((object?["saved_to_swapped_s"] as? Double ?? -1) > 0, "\(bench)")
    let after = try String(
        contentsOf: folder.root.appendingPathComponent("content/intents/synthetic-001.yaml"), encoding: .utf8)
    #expect(after == before)
}
