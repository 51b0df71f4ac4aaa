import ArgumentParser
import ClerkContent
import ClerkEngine
import Foundation

/// `--content DIR`, shared by every command that reads content.
struct ContentOptions: ParsableArguments {
    @Option(name: .long, help: "Folder holding intents/ (and config/). Default: the current directory.")
    var content: String = "."

    var root: URL { URL(fileURLWithPath: content, isDirectory: true).standardizedFileURL }

    /// Loads and compiles the content, printing every problem to standard error as `file:line:column: …`.
    /// Throws `ExitCode(1)` when there is an error: nothing is ever served from a broken brain.
    func loadBrain() throws -> Brain {
        let (brain, problems) = ContentLoader(root: root).compile()
        for problem in problems { printError(problem.description) }
        let errors = problems.count { $0.severity == .error }
        guard errors == 0, let brain else {
            printError("\(errors) error\(errors == 1 ? "" : "s") in \(content); nothing was loaded.")
            throw ExitCode(1)
        }
        return brain
    }
}

/// Writes a line to standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
