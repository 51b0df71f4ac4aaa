import ClerkEngine
import Hummingbird
import Logging
import NIOCore

/// The HTTP side of `clerk serve`. It answers `GET /healthz` once the brain is loaded; the conversation and
/// agent APIs are added on this router.
public enum HTTPServer {
    /// Builds the application listening on `host:port` (port 0 picks a free port; `onReady` receives the port).
    public static func makeApplication(
        store: BrainStore, host: String, port: Int, logger: Logger,
        onReady: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("healthz") { _, _ -> Response in
            let statistics = store.brain.statistics
            let body = "{\"status\":\"ok\",\"intents\":\(statistics.intents)}"
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "clerk"),
            onServerRunning: { channel in
                await onReady(channel.localAddress?.port ?? port)
            },
            logger: logger
        )
    }
}
