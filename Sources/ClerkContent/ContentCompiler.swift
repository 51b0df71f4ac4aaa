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

    /// For `clerk lint`: every problem, plus a brain compiled from the content without the intents that have
    /// errors (so the other checks still run on the rest). The brain is nil only when errors remain outside
    /// intents (settings, knowledge, concepts).
    public func compileForLint() -> (source: BrainSource, brain: Brain?, problems: [ContentProblem]) {
        let (source, loadProblems) = loadSource()
        let (brain, compileProblems) = Brain.compile(source)
        let reportedLines = Set(loadProblems.map { "\($0.location.file):\($0.location.line)" })
        let extra = compileProblems.filter { !reportedLines.contains("\($0.location.file):\($0.location.line)") }
        let problems = (loadProblems + extra).sorted { $0.location < $1.location }
        let errors = problems.filter { $0.severity == .error }
        guard brain == nil || !errors.isEmpty else { return (source, brain, problems) }
        // Each error belongs to the intent written above it in the same file.
        var broken = Set<String>()
        for error in errors {
            let owner = source.intents.filter {
                $0.id.location.file == error.location.file && $0.id.location.line <= error.location.line
            }.max { $0.id.location.line < $1.id.location.line }
            if let owner { broken.insert(owner.id.value) }
        }
        var rest = source
        rest.intents.removeAll { broken.contains($0.id.value) }
        let (partial, _) = Brain.compile(rest)
        return (rest, partial, problems)
    }
}
