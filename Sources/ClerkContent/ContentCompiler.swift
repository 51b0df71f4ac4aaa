import ClerkEngine
import Foundation

extension ContentLoader {
    /// Loads the content and compiles it: every problem from both steps, each reported once (when the loader
    /// and the compiler both object to the same line, the loader's more specific message is kept). The brain is
    /// nil when there is any error, so nothing is ever served from broken content.
    public func compile() -> (brain: Brain?, problems: [ContentProblem]) {
        let (source, loadProblems) = loadSource()
        let (brain, compileProblems) = Brain.compile(source)
        let reportedLines = Set(loadProblems.map { "\($0.location.file):\($0.location.line)" })
        let extra = compileProblems.filter { !reportedLines.contains("\($0.location.file):\($0.location.line)") }
        let problems = (loadProblems + extra).sorted { $0.location < $1.location }
        let hasError = problems.contains { $0.severity == .error }
        return (hasError ? nil : brain, problems)
    }
}
