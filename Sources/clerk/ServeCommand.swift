import ArgumentParser
import ClerkContent
import ClerkEngine
import ClerkServer
import ClerkStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the assistant over HTTP and the line chat protocol.",
        discussion: """
            Loads and checks the content first; a brain with errors is never served (exit status 1). Tickets, \
            agents and saved conversations live in the store (--store; the SQLite file ./data/clerk.sqlite by \
            default). If the store cannot be opened the assistant still answers, and tells citizens that a \
            person cannot be reached right now. Content is reloaded when a file under intents/, knowledge/ or \
            config/ changes, on SIGHUP, and on POST /v1/admin/reload; content with errors is not loaded (the \
            previous content keeps serving and the errors are logged). SIGTERM or Ctrl-C stops accepting \
            connections and finishes requests in flight before exiting.

            Ports: HTTP on 8080 (GET /healthz), the line chat protocol (docs/protocol.md) on 4242; 0 picks a \
            free port and prints it. Both bind 127.0.0.1 unless --host says otherwise.

            Examples:
              clerk serve
              clerk serve --chat-port 4242 --http-port 0 --store postgres://clerk@localhost/clerk
            """
    )

    @OptionGroup var contentOptions: ContentOptions
    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Address to bind. Default 127.0.0.1 (this machine only).")
    var host = "127.0.0.1"

    @Option(name: .customLong("http-port"), help: "HTTP port; 0 picks a free one and prints it.")
    var httpPort = 8080

    @Option(name: .customLong("chat-port"), help: "Line chat protocol port; 0 picks a free one and prints it.")
    var chatPort = 4242

    @Option(name: .customLong("max-connections"), help: "Most line-protocol connections served at once.")
    var maxConnections = 10_000

    @Option(name: .customLong("idle-timeout"), help: "Seconds a line-protocol connection may stay quiet.")
    var idleTimeout = 600

    func run() async throws {
        var logger = Logger(label: "clerk")
        logger.logLevel = .info
        let brain = try contentOptions.loadBrain()
        let statistics = brain.statistics
        logger.info(
            "brain loaded",
            metadata: [
                "intents": "\(statistics.intents)", "patterns": "\(statistics.patterns)",
                "services": "\(brain.serviceIDs.count)",
            ])
        let brains = BrainStore(brain)
        let officeHours = try loadOfficeHours()
        let (config, configProblems) = ServerConfig.load(root: contentOptions.root)
        for problem in configProblems { printError(problem.description) }
        if configProblems.contains(where: { $0.severity == .error }) { throw ExitCode(1) }
        var handoff = HandoffSettings()
        if let contact = config.fallbackContact { handoff.fallbackContact = contact }
        if let minutes = config.agentActiveMinutes { handoff.agentActiveWindow = Double(minutes) * 60 }
        if let minutes = config.idleMinutes { handoff.idleTimeout = Double(minutes) * 60 }
        if let days = config.resumeDays { handoff.resumeDays = days }
        let store = await openStoreOrFallback(logger: logger)
        let conversations = Conversations(
            brains: brains, store: store, officeHours: officeHours, settings: handoff, logger: logger)
        let host = self.host
        var httpSettings = HTTPSettings()
        httpSettings.corsOrigins = config.corsOrigins
        httpSettings.widgetDirectory = Self.installed("Resources/widget", content: contentOptions.root)
        httpSettings.openAPIFile = Self.installed("docs/openapi.yaml", content: contentOptions.root)
        let reloader = ContentReloader(root: contentOptions.root, brains: brains, logger: logger)
        let http = HTTPServer.makeApplication(
            brains: brains, conversations: conversations, store: store, settings: httpSettings, host: host,
            port: httpPort, logger: logger, reload: { await reloader.reload() }
        ) { port in
            print("clerk: serving HTTP on http://\(host):\(port) (GET /healthz)")
            fflush(nil)
        }
        var lineSettings = LineServerSettings()
        lineSettings.maxConnections = maxConnections
        lineSettings.idleTimeout = .seconds(Int64(idleTimeout))
        let line = LineServer(conversations: conversations, settings: lineSettings, logger: logger)
        let chatPort = self.chatPort
        let services: [any Service] = [
            http,
            TaskService {
                try await line.run(host: host, port: chatPort) { port in
                    print("clerk: serving chat on \(host):\(port) (line protocol \(LineServer.version))")
                    fflush(nil)
                }
            },
            TaskService {
                await conversations.run()
                // Let event streams end, so open connections do not hold the shutdown.
                await conversations.closeStreams()
            },
            TaskService { await reloader.watch() },
            TaskService {
                // SIGHUP reloads the content.
                signal(SIGHUP, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: SIGHUP)
                let (hangups, continuation) = AsyncStream<Void>.makeStream()
                source.setEventHandler { continuation.yield() }
                source.resume()
                defer { source.cancel() }
                for await _ in hangups {
                    _ = await reloader.reload()
                }
            },
        ]
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await conversations.flush()
        await store.shutdown()
        print("clerk: stopped")
    }

    /// A file shipped with Clerk: beside the content, or in the source tree the binary was built in.
    static func installed(_ path: String, content: URL) -> URL? {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [
            content.appendingPathComponent(path),
            executable.deletingLastPathComponent().appendingPathComponent("../../../\(path)").standardizedFileURL,
            executable.deletingLastPathComponent().appendingPathComponent("../share/clerk/\(path)").standardizedFileURL,
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) } ?? candidates[0]
    }

    private func loadOfficeHours() throws -> OfficeHours? {
        let url = contentOptions.root.appendingPathComponent("config/office-hours.yaml")
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try OfficeHours.load(from: url)
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }

    private func openStoreOrFallback(logger: Logger) async -> any TicketStore {
        do {
            return try await openStore(try StoreLocation(parsing: storeOptions.store))
        } catch {
            logger.error("the ticket store cannot be opened; answering without handovers: \(error)")
            return UnavailableStore(reason: "\(error)")
        }
    }
}

/// Runs a closure as a service that stops on graceful shutdown.
struct TaskService: Service {
    let body: @Sendable () async throws -> Void

    init(_ body: @escaping @Sendable () async throws -> Void) {
        self.body = body
    }

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            do {
                try await body()
            } catch is CancellationError {
            }
        }
    }
}
