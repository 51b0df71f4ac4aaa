import ArgumentParser
import ClerkContent
import ClerkEngine
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

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
        releaseFreedMemory()
        return brain
    }
}

/// Writes a line to standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Hands memory that was freed (the compiler's scratch tables) back to the operating system, so the resident
/// size after loading a brain is what the brain really uses.
func releaseFreedMemory() {
    #if canImport(Glibc)
        // glibc's malloc_trim is declared in <malloc.h>, which the Glibc module does not export.
        typealias MallocTrim = @convention(c) (Int) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") {
            _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        }
    #endif
}
