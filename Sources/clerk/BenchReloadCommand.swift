import ArgumentParser
import ClerkContent
import ClerkEngine
import ClerkServer
import Foundation
import Logging

struct ReloadBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Time hot reload of a content folder: an edit saved, the new brain built and swapped in.",
        discussion: """
            Loads the content folder (--content) as `clerk serve` does, then --passes times: saves a changed \
            intent file (a reply edited, as an editor would) and reloads through the server's own reloader, which \
            reads the files (parsing again only those whose text changed), compiles the brain and swaps it in. \
            Reports the reload time (best and median), what reading and parsing every file costs when nothing is \
            cached (as at start-up) and what compiling costs, the time from saving the file until the file watcher \
            of `clerk serve` has swapped the new brain in, and resident memory. The edited file is \
            restored at the end. Build in release mode for meaningful figures.

            Example (the 10,000-intent synthetic brain as content files):
              clerk import brain /tmp/brains/N10000/brain.json --out /tmp/brains/N10000/content
              .build/release/clerk bench reload --content /tmp/brains/N10000/content --json
            """
    )

    @OptionGroup var contentOptions: ContentOptions

    @Option(help: "Timed reloads (best and median are reported).")
    var passes = 5

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard passes > 0 else { throw ValidationError("--passes must be at least 1") }
    }

    func run() async throws {
        let root = contentOptions.root
        let (initial, problems) = ContentLoader(root: root).compile()
        guard let initial else {
            for problem in problems where problem.severity == .error { printError(problem.description) }
            throw ExitCode(1)
        }
        // The first intent file with a double-quoted reply gets edited.
        let folder = root.appendingPathComponent("intents")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var found: (file: URL, original: Data, text: String, reply: Range<String.Index>)?
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            let file = folder.appendingPathComponent(name)
            if let data = try? Data(contentsOf: file), let text = String(data: data, encoding: .utf8),
                let reply = text.range(of: "reply: \"")
            {
                found = (file, data, text, reply)
                break
            }
        }
        guard let (file, original, text, replyRange) = found else {
            printError("error: no intent file in \(folder.path) has a double-quoted reply to edit")
            throw ExitCode(1)
        }
        defer { try? original.write(to: file) }

        let brains = BrainStore(initial)
        var logger = Logger(label: "clerk.bench.reload")
        logger.logLevel = .critical
        let reloader = ContentReloader(root: root, brains: brains, logger: logger)
        // An edit an editor might make: the first reply gets a new first word, different on every pass.
        func edit(_ pass: Int) throws {
            var edited = text
            edited.insert(contentsOf: "Edit \(pass): ", at: replyRange.upperBound)
            try Data(edited.utf8).write(to: file)
        }
        func seconds(since start: ContinuousClock.Instant) -> Double {
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }

        // Reload on request (SIGHUP, POST /v1/admin/reload): the work itself. The first reload fills the
        // reloader's cache of parsed files, as the first reload of a server does.
        _ = await reloader.reload()
        var reloads: [Double] = []
        for pass in 0..<passes {
            try edit(pass)
            let start = ContinuousClock.now
            let report = await reloader.reload()
            reloads.append(seconds(since: start))
            guard report.reloaded else {
                printError("error: the reload failed: \(report.problems.joined(separator: "; "))")
                throw ExitCode(1)
            }
        }
        releaseFreedMemory()
        let resident = Double(memoryKiB("VmRSS")) / 1024

        // Reading and parsing every file with nothing cached, and compiling.
        var reads: [Double] = []
        var compiles: [Double] = []
        for _ in 0..<passes {
            let start = ContinuousClock.now
            let (source, _) = ContentLoader(root: root).loadSource()
            reads.append(seconds(since: start))
            let compileStart = ContinuousClock.now
            _ = Brain.compile(source)
            compiles.append(seconds(since: compileStart))
        }

        // Saved to swapped, as under `clerk serve`: the watcher notices the change and reloads.
        let watcher = Task { await reloader.watch() }
        var endToEnd: [Double] = []
        for pass in 0..<passes {
            let before = brains.generation
            try? await Task.sleep(for: .milliseconds(200))
            let start = ContinuousClock.now
            try edit(passes + pass)
            var swapped = false
            while seconds(since: start) < 10 {
                if brains.generation != before {
                    swapped = true
                    break
                }
                try? await Task.sleep(for: .milliseconds(2))
            }
            guard swapped else {
                watcher.cancel()
                printError("error: the watcher did not reload within 10 s")
                throw ExitCode(1)
            }
            endToEnd.append(seconds(since: start))
        }
        watcher.cancel()

        func best(_ values: [Double]) -> Double { values.min() ?? 0 }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let intents = initial.statistics.intents
        if json {
            print(
                String(
                    format:
                        "{\"intents\": %d, \"reload_s\": %.3f, \"reload_median_s\": %.3f, \"read_all_s\": %.3f, "
                        + "\"compile_s\": %.3f, \"saved_to_swapped_s\": %.3f, \"resident_mb\": %.1f, \"passes\": %d}",
                    intents, best(reloads), median(reloads), best(reads), best(compiles), median(endToEnd), resident,
                    passes))
        } else {
            print("content: \(intents) intents in \(contentOptions.content); \(passes) reloads")
            print(
                String(
                    format:
                        "reload after an edit: best %.3f s, median %.3f s (reading every file uncached %.3f s, compiling %.3f s)",
                    best(reloads), median(reloads), best(reads), best(compiles)))
            print(
                String(
                    format: "saved to swapped under the file watcher: median %.3f s; resident %.1f MB",
                    median(endToEnd), resident))
        }
    }
}
