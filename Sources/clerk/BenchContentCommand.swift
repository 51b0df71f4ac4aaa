import ArgumentParser
import ClerkContent
import ClerkEngine
import Foundation

struct ContentBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "content",
        abstract: "Time the engine on real content: compile it, then replay every transcript's conversation.",
        discussion: """
            Loads and compiles the content folder (--content), then replays the messages of every \
            transcripts/*.txt as conversations (state carried from turn to turn, as a citizen would), --passes \
            times, on one core. Reports compile time, resident memory, turns/s and per-turn latency. Build in \
            release mode for meaningful figures.

            Example:
              .build/release/clerk bench content --json
            """
    )

    @OptionGroup var contentOptions: ContentOptions

    @Option(help: "Timed passes over all transcripts (the best pass is reported).")
    var passes = 20

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let (brain, problems) = ContentLoader(root: contentOptions.root).compile()
        let compileSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard let brain else {
            for problem in problems where problem.severity == .error { printError(problem.description) }
            throw ExitCode(1)
        }
        releaseFreedMemory()
        let resident = Double(memoryKiB("VmRSS")) / 1024
        let (transcripts, _) = Transcript.loadAll(root: contentOptions.root)
        let conversations = transcripts.map { $0.steps.map(\.message) }
        let turnCount = conversations.reduce(0) { $0 + $1.count }
        guard turnCount > 0 else {
            printError("no transcript messages to replay in \(contentOptions.content)/transcripts")
            throw ExitCode(1)
        }
        var latencies = [UInt64](repeating: 0, count: turnCount)
        var best = [UInt64]()
        var bestTotal = UInt64.max
        for _ in 0..<max(1, passes) {
            var index = 0
            let passStart = DispatchTime.now().uptimeNanoseconds
            for conversation in conversations {
                var state = ConversationState()
                for message in conversation {
                    let turnStart = DispatchTime.now().uptimeNanoseconds
                    let turn = brain.reply(to: message, in: state)
                    latencies[index] = DispatchTime.now().uptimeNanoseconds - turnStart
                    state = turn.state
                    index += 1
                }
            }
            let total = DispatchTime.now().uptimeNanoseconds - passStart
            if total < bestTotal {
                bestTotal = total
                best = latencies
            }
        }
        best.sort()
        func percentile(_ p: Double) -> Double { Double(best[min(best.count - 1, Int(Double(best.count) * p))]) / 1000 }
        let turnsPerSecond = Double(turnCount) / (Double(bestTotal) / 1e9)
        let statistics = brain.statistics
        if json {
            print(
                String(
                    format:
                        "{\"intents\": %d, \"services\": %d, \"transcripts\": %d, \"turns\": %d, \"compile_s\": %.3f, "
                        + "\"resident_mb\": %.1f, \"turns_per_s\": %.0f, \"p50_us\": %.2f, \"p99_us\": %.2f}",
                    statistics.intents, brain.serviceIDs.count, transcripts.count, turnCount, compileSeconds, resident,
                    turnsPerSecond, percentile(0.5), percentile(0.99)))
        } else {
            print(
                "content: \(statistics.intents) intents, \(brain.serviceIDs.count) services, \(transcripts.count) "
                    + "transcripts with \(turnCount) messages")
            print(String(format: "compile: %.3f s, resident %.1f MB", compileSeconds, resident))
            print(
                String(
                    format: "turns: %.0f/s, p50 %.2f µs, p99 %.2f µs", turnsPerSecond, percentile(0.5), percentile(0.99)
                ))
        }
    }
}
