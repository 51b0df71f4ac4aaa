import ArgumentParser
import ClerkContent
import ClerkEngine
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Clerk on benchmark data.",
        subcommands: [
            EngineBench.self, ContentBench.self, TicketsBench.self, ChatBench.self, HTTPBench.self, ReloadBench.self,
        ]
    )
}

struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Run every query of a synthetic brain through the full pipeline and report speed and accuracy.",
        discussion: """
            The brain comes from shared/bench/gen_brain.py (brain.json + answers.jsonl). Each query is the first \
            turn of a fresh conversation. Build in release mode for meaningful figures.

            Example:
              swift build -c release
              .build/release/clerk bench engine --brain /tmp/brains/N10000/brain.json \\
                  --answers /tmp/brains/N10000/answers.jsonl --json
            """
    )

    @Option(help: "The brain.json file.")
    var brain: String

    @Option(help: "The answers.jsonl file (queries with expected intents).")
    var answers: String

    @Option(help: "Write one JSON line per query: qid, intent, outcome.")
    var predictions: String?

    @Option(help: "Timed passes over all queries (the best pass is reported).")
    var passes: Int = 3

    @Flag(help: "Print one JSON object.")
    var json = false

    @Flag(help: "Also time each stage of a turn (tokenise, vocabulary, patterns, examples) by kind of query.")
    var stages = false

    private struct Answer: Decodable {
        var qid: Int
        var query: String
        var expected: String?
        var kind: String
        var sub: String?
    }

    func run() throws {
        let startRSS = memoryKiB("VmRSS")
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let source = try NeutralBrain.load(URL(fileURLWithPath: brain))
        let afterLoadRSS = memoryKiB("VmRSS")
        let compileStart = DispatchTime.now().uptimeNanoseconds
        let (compiled, problems) = Brain.compile(source)
        let compileEnd = DispatchTime.now().uptimeNanoseconds
        guard let compiled else {
            for problem in problems.prefix(20) { printError(problem.description) }
            throw ExitCode(1)
        }
        // Return the compiler's freed scratch memory to the system, as `clerk serve` does after a (re)load.
        releaseFreedMemory()
        let afterCompileRSS = memoryKiB("VmRSS")
        let compilePeak = memoryKiB("VmHWM")

        let decoder = JSONDecoder()
        let queries = try String(contentsOfFile: answers, encoding: .utf8).split(separator: "\n").map {
            try decoder.decode(Answer.self, from: Data($0.utf8))
        }
        let fresh = ConversationState()
        // The messages alone: the timed loop should not copy the answer records (and their strings) per turn.
        let messages = queries.map(\.query)

        // Accuracy pass (also warms caches).
        var turns: [Turn] = []
        turns.reserveCapacity(queries.count)
        for message in messages { turns.append(compiled.reply(to: message, in: fresh)) }

        // Timed passes: per-turn latency, one core.
        var latencies = [UInt64](repeating: 0, count: queries.count)
        var bestTotal = UInt64.max
        var bestLatencies = latencies
        var bestPassLatencies = latencies
        for _ in 0..<max(passes, 1) {
            // One clock reading per turn: a turn's latency runs from the end of the one before to the end of its
            // own, the turn's value freed included.
            let passStart = DispatchTime.now().uptimeNanoseconds
            var last = passStart
            for index in messages.indices {
                do {
                    let turn = compiled.reply(to: messages[index], in: fresh)
                    withExtendedLifetime(turn) {}
                }
                let now = DispatchTime.now().uptimeNanoseconds
                latencies[index] = now - last
                last = now
            }
            let total = last - passStart
            if total < bestTotal {
                bestTotal = total
                bestLatencies = latencies
                bestPassLatencies = latencies
            }
        }
        bestLatencies.sort()
        func percentile(_ p: Double) -> Double {
            Double(bestLatencies[min(bestLatencies.count - 1, Int(Double(bestLatencies.count) * p))]) / 1000
        }

        var kindNanos: [String: UInt64] = [:]
        for (query, nanos) in zip(queries, bestPassLatencies) {
            kindNanos[query.kind == "neg_near" ? "neg_near_\(query.sub ?? "other")" : query.kind, default: 0] += nanos
        }
        var correct: [String: (Int, Int)] = [:]
        var lines: [String] = []
        for (query, turn) in zip(queries, turns) {
            let kind = query.kind == "neg_near" ? "neg_near_\(query.sub ?? "other")" : query.kind
            let answered: String? = if case .answer(let intent, _, _) = turn.outcome { intent } else { nil }
            let outcome =
                switch turn.outcome {
                case .answer: "answer"
                case .clarify: "clarify"
                case .ask: "ask"
                case .handoff: "handoff"
                case .miss: "miss"
                }
            let ok = answered == query.expected
            correct[kind, default: (0, 0)].0 += ok ? 1 : 0
            correct[kind, default: (0, 0)].1 += 1
            if predictions != nil {
                let intent = answered.map { "\"\($0)\"" } ?? "null"
                lines.append("{\"qid\": \(query.qid), \"intent\": \(intent), \"outcome\": \"\(outcome)\"}")
            }
        }
        if let predictions {
            try (lines.joined(separator: "\n") + "\n").write(toFile: predictions, atomically: true, encoding: .utf8)
        }
        let scoredKinds = correct.filter { $0.key != "neg_near_scrambled" }
        let scoredRight = scoredKinds.values.reduce(0) { $0 + $1.0 }
        let scoredTotal = scoredKinds.values.reduce(0) { $0 + $1.1 }
        let byKind = correct.mapValues { 100 * Double($0.0) / Double(max($0.1, 1)) }
        let meanMicrosByKind = kindNanos.reduce(into: [String: Double]()) { result, entry in
            result[entry.key] = Double(entry.value) / 1000 / Double(max(correct[entry.key]?.1 ?? 1, 1))
        }
        let turnsPerSecond = Double(queries.count) / (Double(bestTotal) / 1e9)
        var result: [String: Any] = [
            "intents": compiled.statistics.intents,
            "patterns": compiled.statistics.patterns,
            "paths": compiled.statistics.paths,
            "trie_nodes": compiled.statistics.trieNodes,
            "queries": queries.count,
            "turns_per_s": turnsPerSecond.rounded(),
            "p50_us": percentile(0.50),
            "p99_us": percentile(0.99),
            "max_us": Double(bestLatencies.last ?? 0) / 1000,
            "compile_s": Double(compileEnd - compileStart) / 1e9,
            "load_s": Double(compileStart - loadStart) / 1e9,
            "rss_mb_after_compile": Double(afterCompileRSS) / 1024,
            "rss_mb_before_load": Double(startRSS) / 1024,
            "rss_mb_after_load": Double(afterLoadRSS) / 1024,
            "rss_mb_compile_growth": Double(afterCompileRSS - afterLoadRSS) / 1024,
            "peak_rss_mb": Double(compilePeak) / 1024,
            "accuracy": 100 * Double(scoredRight) / Double(max(scoredTotal, 1)),
            "accuracy_by_kind": byKind,
            "mean_us_by_kind": meanMicrosByKind,
        ]
        if stages {
            var byKind: [String: [String: Double]] = [:]
            let kinds = Dictionary(grouping: queries) {
                $0.kind == "neg_near" ? "neg_near_\($0.sub ?? "other")" : $0.kind
            }
            for (kind, members) in kinds.sorted(by: { $0.key < $1.key }) {
                let costs = compiled.stageCosts(members.map(\.query)) { DispatchTime.now().uptimeNanoseconds }
                byKind[kind] = Dictionary(uniqueKeysWithValues: costs.map { ($0.stage, $0.nanosPerMessage / 1000) })
                if !json {
                    print(
                        "  stages \(kind): "
                            + costs.map { String(format: "%@ %.2f µs", $0.stage, $0.nanosPerMessage / 1000) }
                            .joined(separator: ", "))
                }
            }
            result["stage_us_by_kind"] = byKind
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(
                "intents \(compiled.statistics.intents), patterns \(compiled.statistics.patterns), paths "
                    + "\(compiled.statistics.paths), trie nodes \(compiled.statistics.trieNodes)")
            print(
                String(
                    format: "compile %.3f s, resident %.1f MB after compile (peak %.1f MB)",
                    Double(compileEnd - compileStart) / 1e9, Double(afterCompileRSS) / 1024, Double(compilePeak) / 1024)
            )
            print(
                String(
                    format: "%.0f turns/s, p50 %.2f µs, p99 %.2f µs, max %.1f µs", turnsPerSecond,
                    percentile(0.5), percentile(0.99), Double(bestLatencies.last ?? 0) / 1000))
            print(String(format: "accuracy %.2f %% (all kinds but scrambled)", result["accuracy"] as! Double))
            for (kind, value) in byKind.sorted(by: { $0.key < $1.key }) {
                print(
                    String(
                        format: "  %-26@ %6.2f %%  (%d queries, mean %.2f µs)", kind as NSString, value,
                        correct[kind]!.1, meanMicrosByKind[kind] ?? 0))
            }
        }
    }
}

/// A field of /proc/self/status in KiB (0 where /proc is not available).
func memoryKiB(_ field: String) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
    }
    return 0
}

/// CPU time (user and system) this process has used so far, in seconds: on a machine shared with other work, CPU
/// per operation is steadier than operations per second.
func processCPUSeconds() -> Double {
    var usage = rusage()
    guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
