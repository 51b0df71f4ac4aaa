import ArgumentParser
import ClerkServer
import ClerkStore
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

struct HTTPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http",
        abstract: "Measure the chat endpoint with wrk beside a bare Hummingbird JSON echo route, in one run.",
        discussion: """
            Starts, in this process on 127.0.0.1, the HTTP API over the content (tickets in a temporary SQLite \
            file) and a bare Hummingbird application whose one route echoes a JSON body. Creates \
            --conversations conversations, then runs wrk (Debian's package: apt-get install wrk) for --seconds \
            against POST /v1/conversations/{id}/messages spread over them, and the same against the echo route, \
            each with --connections connections. Prints requests/s, p99 latency and the ratio.

            Examples:
              clerk bench http
              clerk bench http --connections 64 --conversations 1000 --seconds 10 --json
            """
    )

    @OptionGroup var contentOptions: ContentOptions

    @Option(help: "Conversations the requests are spread over.")
    var conversations = 1000

    @Option(help: "Open HTTP connections (wrk -c).")
    var connections = 64

    @Option(help: "Seconds each wrk run lasts.")
    var seconds = 10

    @Option(help: "wrk threads (wrk -t).")
    var threads = 1

    @Flag(
        help: """
            Pin the servers to CPU 0 and wrk to CPU 1 (with taskset), so that they do not compete for the same \
            core; without it both share every core.
            """)
    var pin = false

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() async throws {
        guard let wrk = Self.which("wrk") else {
            printError("error: wrk is not installed; install it with: apt-get install -y wrk")
            throw ExitCode(1)
        }
        if pin {
            guard Self.which("taskset") != nil else {
                printError("error: --pin needs taskset (util-linux)")
                throw ExitCode(1)
            }
            // Every thread of this process, present and future, on CPU 0.
            let pinning = Process()
            pinning.executableURL = URL(fileURLWithPath: Self.which("taskset")!)
            pinning.arguments = ["-a", "-p", "-c", "0", "\(getpid())"]
            pinning.standardOutput = FileHandle.nullDevice
            try pinning.run()
            pinning.waitUntilExit()
        }
        let brain = try contentOptions.loadBrain()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clerk-bench-http-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await openStore(.sqlite(path: folder.appendingPathComponent("clerk.sqlite").path))
        let brains = BrainStore(brain)
        let service = Conversations(brains: brains, store: store, officeHours: nil)
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let apiPort = Mutex(0)
        let echoPort = Mutex(0)
        let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
        let api = HTTPServer.makeApplication(
            brains: brains, conversations: service, store: store, host: "127.0.0.1", port: 0, logger: logger
        ) { port in
            apiPort.withLock { $0 = port }
            readyContinuation.yield()
        }
        let router = Router()
        struct Echo: Codable, ResponseEncodable { var text: String }
        router.post("echo") { request, context -> Echo in
            try await request.decode(as: Echo.self, context: context)
        }
        let echo = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                echoPort.withLock { $0 = channel.localAddress?.port ?? 0 }
                readyContinuation.yield()
            }, logger: logger)
        let servers = Task {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await api.run() }
                group.addTask { try await echo.run() }
                group.addTask { await service.run() }
            }
        }
        var readyCount = 0
        for await _ in ready {
            readyCount += 1
            if readyCount == 2 { break }
        }
        let ids = (0..<conversations).map { _ in service.start().id }
        let messages = [
            "how much is a passport", "and for my child?", "how long does it take", "what about an id card",
            "where do i apply for a parking permit", "who can get child benefit", "thanks", "hello",
        ]
        let chatScript = folder.appendingPathComponent("chat.lua")
        try """
        local ids = {\(ids.map { "\"\($0)\"" }.joined(separator: ","))}
        local messages = {\(messages.map { "\"\($0)\"" }.joined(separator: ","))}
        local i = 0
        request = function()
          i = i + 1
          local body = '{"text":"' .. messages[(i % #messages) + 1] .. '"}'
          return wrk.format("POST", "/v1/conversations/" .. ids[(i % #ids) + 1] .. "/messages",
            {["Content-Type"] = "application/json"}, body)
        end
        """.write(to: chatScript, atomically: true, encoding: .utf8)
        let echoScript = folder.appendingPathComponent("echo.lua")
        try """
        local messages = {\(messages.map { "\"\($0)\"" }.joined(separator: ","))}
        local i = 0
        request = function()
          i = i + 1
          local body = '{"text":"' .. messages[(i % #messages) + 1] .. '"}'
          return wrk.format("POST", "/echo", {["Content-Type"] = "application/json"}, body)
        end
        """.write(to: echoScript, atomically: true, encoding: .utf8)

        // The echo first, then the chat endpoint: the conversations' state, saved about once a second in the
        // background, is part of the chat endpoint's cost and must not land in the echo's run.
        await service.flush()
        let bare = try runWrk(wrk, script: echoScript, url: "http://127.0.0.1:\(echoPort.withLock { $0 })")
        let chat = try runWrk(wrk, script: chatScript, url: "http://127.0.0.1:\(apiPort.withLock { $0 })")
        servers.cancel()
        // The conversations' background work writes its last batch when cancelled: the store closes after it.
        _ = await servers.result
        await store.shutdown()
        let ratio = bare.requestsPerSecond > 0 ? chat.requestsPerSecond / bare.requestsPerSecond : 0
        if json {
            print(
                String(
                    format:
                        "{\"connections\": %d, \"conversations\": %d, \"seconds\": %d, \"chat_requests_per_second\": %.0f, "
                        + "\"chat_p50_ms\": %.2f, \"chat_p99_ms\": %.2f, \"chat_cpu_us_per_request\": %.1f, \"chat_errors\": %d, "
                        + "\"echo_requests_per_second\": %.0f, \"echo_p50_ms\": %.2f, \"echo_p99_ms\": %.2f, "
                        + "\"echo_cpu_us_per_request\": %.1f, \"ratio\": %.3f}",
                    connections, conversations, seconds, chat.requestsPerSecond, chat.p50Milliseconds,
                    chat.p99Milliseconds, chat.cpuMicroseconds, chat.errors, bare.requestsPerSecond,
                    bare.p50Milliseconds, bare.p99Milliseconds, bare.cpuMicroseconds, ratio))
        } else {
            print(
                String(
                    format:
                        "chat endpoint: %.0f requests/s, p50 %.2f ms, p99 %.2f ms, %.1f µs CPU per request, %d errors",
                    chat.requestsPerSecond, chat.p50Milliseconds, chat.p99Milliseconds, chat.cpuMicroseconds,
                    chat.errors))
            print(
                String(
                    format: "bare echo:     %.0f requests/s, p50 %.2f ms, p99 %.2f ms, %.1f µs CPU per request",
                    bare.requestsPerSecond, bare.p50Milliseconds, bare.p99Milliseconds, bare.cpuMicroseconds))
            print(String(format: "ratio:         %.0f %% of the echo route's throughput", ratio * 100))
        }
    }

    struct WrkResult {
        var requestsPerSecond: Double
        var p50Milliseconds = 0.0
        var p99Milliseconds = 0.0
        var errors = 0
        /// CPU time of this process (the servers, not wrk) per request, in microseconds.
        var cpuMicroseconds = 0.0
    }

    private func runWrk(_ wrk: String, script: URL, url: String) throws -> WrkResult {
        let process = Process()
        var arguments = [
            "-t", "\(threads)", "-c", "\(connections)", "-d", "\(seconds)s", "--latency", "-s", script.path, url,
        ]
        if pin, let taskset = Self.which("taskset") {
            process.executableURL = URL(fileURLWithPath: taskset)
            arguments = ["-c", "1", wrk] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: wrk)
        }
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        let startCPU = processCPUSeconds()
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let cpu = processCPUSeconds() - startCPU
        var result = WrkResult(requestsPerSecond: 0)
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ")
            if line.hasPrefix("Requests/sec:"), let value = words.last.flatMap({ Double($0) }) {
                result.requestsPerSecond = value
                result.cpuMicroseconds = value > 0 ? cpu / (value * Double(seconds)) * 1e6 : 0
            } else if words.first == "50%", let value = words.last {
                result.p50Milliseconds = Self.milliseconds(String(value))
            } else if words.first == "99%", let value = words.last {
                result.p99Milliseconds = Self.milliseconds(String(value))
            } else if line.contains("Non-2xx or 3xx responses:"), let value = words.last.flatMap({ Int($0) }) {
                result.errors += value
            } else if line.contains("Socket errors:") {
                result.errors += line.split(separator: ",").compactMap { Int($0.split(separator: " ").last ?? "") }
                    .reduce(0, +)
            }
        }
        return result
    }

    /// wrk's "1.23ms", "456.78us", "1.02s".
    static func milliseconds(_ text: String) -> Double {
        if text.hasSuffix("us") { return (Double(text.dropLast(2)) ?? 0) / 1000 }
        if text.hasSuffix("ms") { return Double(text.dropLast(2)) ?? 0 }
        if text.hasSuffix("s") { return (Double(text.dropLast(1)) ?? 0) * 1000 }
        return Double(text) ?? 0
    }

    static func which(_ name: String) -> String? {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}
