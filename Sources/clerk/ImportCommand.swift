import ArgumentParser
import ClerkContent
import ClerkEngine
import Foundation

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn data from elsewhere into editable content.",
        subcommands: [JSONLImport.self, BrainImport.self]
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

struct BrainImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brain",
        abstract: "Write a benchmark brain (brain.json of shared/bench/gen_brain.py) as a content folder.",
        discussion: """
            Writes the brain's intents as intent files of --per-file intents each under OUT/intents/, so the \
            same brain can be served, reloaded and linted as content (`clerk bench reload` times its hot reload).

            Example:
              clerk import brain /tmp/brains/N10000/brain.json --out /tmp/brains/N10000/content
            """
    )

    @Argument(help: "The brain.json file to read.")
    var file: String

    @Option(help: "The content folder to write (its intents/ folder is created).")
    var out: String

    @Option(help: "Intents per intent file.")
    var perFile = 500

    @Flag(help: "Replace intent files that exist.")
    var force = false

    func validate() throws {
        guard perFile > 0 else { throw ValidationError("--per-file must be at least 1") }
    }

    func run() throws {
        let source: BrainSource
        do {
            source = try NeutralBrain.load(URL(fileURLWithPath: file))
        } catch {
            printError("error: cannot read \(file) as a benchmark brain: \(error)")
            throw ExitCode(1)
        }
        let folder = URL(fileURLWithPath: out).appendingPathComponent("intents")
        let files = NeutralBrain.intentFiles(source, name: "synthetic", perFile: perFile)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for item in files {
                let url = folder.appendingPathComponent(item.name)
                if FileManager.default.fileExists(atPath: url.path) && !force {
                    printError("error: \(url.path) already exists; add --force to replace it")
                    throw ExitCode(1)
                }
                try Data(item.text.utf8).write(to: url)
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("error: cannot write to \(folder.path): \(error.localizedDescription)")
            throw ExitCode(1)
        }
        print("wrote \(files.count) intent files with \(source.intents.count) intents to \(folder.path)")
    }
}
