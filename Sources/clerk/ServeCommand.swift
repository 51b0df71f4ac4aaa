import ArgumentParser
import ClerkEngine
import ClerkServer
import Foundation
import Hummingbird
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the assistant over HTTP.",
        discussion: """
            Loads and checks the content first; a brain with errors is never served (exit status 1). Answers \
            GET /healthz once ready. SIGTERM or Ctrl-C stops accepting connections and finishes requests in \
            flight before exiting.

            Examples:
              clerk serve
              clerk serve --http-port 0 --content examples/city
            """
    )

    @OptionGroup var contentOptions: ContentOptions

    @Option(help: "Address to bind. Default 127.0.0.1 (this machine only).")
    var host = "127.0.0.1"

    @Option(name: .customLong("http-port"), help: "HTTP port; 0 picks a free one and logs it.")
    var httpPort = 8080

    func run() async throws {
        var logger = Logger(label: "clerk")
        logger.logLevel = .info
        let brain = try contentOptions.loadBrain()
        let statistics = brain.statistics
        logger.info(
            "brain loaded", metadata: ["intents": "\(statistics.intents)", "patterns": "\(statistics.patterns)"])
        let store = BrainStore(brain)
        let host = self.host
        let app = HTTPServer.makeApplication(store: store, host: host, port: httpPort, logger: logger) { port in
            print("clerk: serving HTTP on http://\(host):\(port) (GET /healthz)")
            fflush(nil)
        }
        try await app.runService()
        print("clerk: stopped")
    }
}
