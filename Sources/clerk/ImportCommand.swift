import ArgumentParser
import ClerkContent
import ClerkEngine
import Foundation

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn data from elsewhere into editable content.",
        subcommands: [JSONLImport.self]
    )
}

struct JSONLImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jsonl",
        abstract: "Write the intents of JSON-lines data as an editable intent file.",
        discussion: """
            Each line is {"text": …, "intent": …}: every intent's texts become its examples (lines labelled \
            "oos" are left out). FAQ lines {"intent": …, "faq_questions": […], "answer": …} add their questions \
            as examples and their answer as the reply. An intent without an answer gets a reply marked TODO, \
            for an editor to write before the content is served.

            Examples:
              clerk import jsonl clinc150/train.jsonl --out intents/clinc.yaml
              clerk import jsonl faq.jsonl --out intents/faq.yaml --force
            """
    )

    @Argument(help: "The JSON-lines file to read.")
    var file: String

    @Option(help: "The intent file to write, such as intents/faq.yaml.")
    var out: String

    @Flag(help: "Replace the output file if it exists.")
    var force = false

    func validate() throws {
        guard out.hasSuffix(".yaml") || out.hasSuffix(".yml") else {
            throw ValidationError("--out must name a .yaml file, such as intents/\(suggestedName).yaml")
        }
    }

    private var suggestedName: String {
        URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
    }

    func run() throws {
        let lines: [LabelledLine]
        do {
            lines = try JSONLines.read(URL(fileURLWithPath: file), path: file)
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
        let training = TrainingSet(lines)
        guard !training.intents.isEmpty else {
            printError("error: \(file) has no labelled lines (besides out-of-scope ones); nothing to import")
            throw ExitCode(1)
        }
        let url = URL(fileURLWithPath: out)
        if FileManager.default.fileExists(atPath: url.path) && !force {
            printError("error: \(out) already exists; add --force to replace it")
            throw ExitCode(1)
        }
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(training.intentFile(origin: URL(fileURLWithPath: file).lastPathComponent).utf8).write(to: url)
        } catch {
            printError("error: cannot write \(out): \(error.localizedDescription)")
            throw ExitCode(1)
        }
        let todo = training.intents.count { $0.answer == nil }
        print(
            "wrote \(out): \(training.intents.count) intents, \(training.exampleCount) examples"
                + (training.skippedOutOfScope > 0 ? " (\(training.skippedOutOfScope) out-of-scope lines left out)" : "")
        )
        if todo > 0 { print("\(todo) replies are marked TODO: write them before serving this content") }
    }
}
