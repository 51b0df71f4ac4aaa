import ClerkEngine
import ClerkStore
import Foundation
import Hummingbird
import Logging
import NIOCore

/// Settings of the HTTP channel.
public struct HTTPSettings: Sendable {
    /// Origins allowed to call the API from a browser (the city's own sites), e.g. `https://www.example.city`.
    public var corsOrigins: [String] = []
    /// Largest request body accepted, in bytes.
    public var bodyLimit = 64 * 1024
    /// Where widget.js, widget.css and the demo page are read from.
    public var widgetDirectory: URL?
    /// Where openapi.yaml is read from.
    public var openAPIFile: URL?

    public init() {}
}

/// What a content reload reports (`POST /v1/admin/reload`).
public struct ReloadReport: Sendable, Codable {
    public var reloaded: Bool
    public var problems: [String]
    public var intents: Int
    public var services: Int
    public var milliseconds: Double

    public init(reloaded: Bool, problems: [String], intents: Int, services: Int, milliseconds: Double) {
        self.reloaded = reloaded
        self.problems = problems
        self.intents = intents
        self.services = services
        self.milliseconds = milliseconds
    }
}

/// An error answered as `{"error": {"code": …, "message": …}}` with a stable code.
struct APIError: HTTPResponseError {
    var status: HTTPResponse.Status
    var code: String
    var message: String

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try API.encoder.encode(["error": ["code": code, "message": message]])
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(data: body)))
    }

    static func badRequest(_ code: String, _ message: String) -> APIError {
        APIError(status: .badRequest, code: code, message: message)
    }
}

enum API {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(data: try encoder.encode(value))))
    }

    /// Reads a JSON object body; a missing or empty body is `{}`. Malformed JSON is a 400 naming the problem.
    static func body(_ request: inout Request, limit: Int) async throws -> [String: Any] {
        try object(from: try await collect(&request, limit: limit))
    }

    /// The request's body; 413 when it is larger than `limit`.
    static func collect(_ request: inout Request, limit: Int) async throws -> ByteBuffer {
        do {
            return try await request.collectBody(upTo: limit)
        } catch {
            throw APIError(
                status: .contentTooLarge, code: "body_too_large",
                message: "the request body is larger than \(limit) bytes")
        }
    }

    /// The string of a body that is exactly `{"text": "…"}` (any spacing) whose string has no escape: what clients
    /// send nearly always, read without `JSONSerialization`. Nil for anything else, which ``object(from:)`` reads.
    static func plainText(_ buffer: ByteBuffer) -> String? {
        buffer.withUnsafeReadableBytes { bytes -> String? in
            var index = 0
            func skipSpace() {
                while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
            }
            func take(_ expected: String) -> Bool {
                skipSpace()
                for byte in expected.utf8 {
                    guard index < bytes.count, bytes[index] == byte else { return false }
                    index += 1
                }
                return true
            }
            guard take("{"), take("\"text\""), take(":"), take("\"") else { return nil }
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                // An escape or a raw control character: the general reader decides.
                if bytes[index] == UInt8(ascii: "\\") || bytes[index] < 0x20 { return nil }
                index += 1
            }
            guard index < bytes.count else { return nil }
            let end = index
            index += 1
            guard take("}") else { return nil }
            skipSpace()
            guard index == bytes.count else { return nil }
            return String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        }
    }

    /// Longest chat message accepted, in UTF-8 bytes after trimming.
    static let messageLimit = 4096

    /// A chat message without the spaces and line breaks around it (Foundation's trimming only when needed).
    static func trimmedMessage(_ text: String) -> String {
        hasBlankEnds(text) ? text.trimmingCharacters(in: .whitespacesAndNewlines) : text
    }

    /// Whether trimming `.whitespacesAndNewlines` might change the text: false when it is empty or both ends are
    /// ASCII other than spaces and line breaks (nearly always), so the common case skips Foundation's trimming.
    static func hasBlankEnds(_ text: String) -> Bool {
        guard let first = text.utf8.first, let last = text.utf8.last else { return false }
        func plain(_ byte: UInt8) -> Bool { byte < 0x80 && byte != 0x20 && !(0x09...0x0D).contains(byte) }
        return !(plain(first) && plain(last))
    }

    /// A JSON object body; empty is `{}`. Malformed JSON is a 400 naming the problem.
    static func object(from buffer: ByteBuffer) throws -> [String: Any] {
        if buffer.readableBytes == 0 { return [:] }
        let data = Data(buffer.readableBytesView)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "not valid JSON"
            throw APIError.badRequest("malformed_json", "the body is not valid JSON: \(detail)")
        }
        guard let dictionary = object as? [String: Any] else {
            throw APIError.badRequest("malformed_json", "the body must be a JSON object, like {\"text\": \"hello\"}")
        }
        return dictionary
    }

    static func string(_ body: [String: Any], _ key: String, required: Bool = true) throws -> String? {
        guard let value = body[key] else {
            if required { throw APIError.badRequest("missing_field", "the body needs \"\(key)\", a string") }
            return nil
        }
        guard let text = value as? String else {
            throw APIError.badRequest("invalid_field", "\"\(key)\" must be a string")
        }
        return text
    }
}

// MARK: - Response bodies

struct TicketJSON: Codable {
    var reference: String
    var status: String
    var replyBy: Date?
    /// Only in `ticket` events: where the conversation stands with respect to a person.
    var handoff: String?

    init(_ summary: TicketSummary, withHandoff: Bool = false) {
        reference = summary.reference
        status = summary.status
        replyBy = summary.replyBy
        guard withHandoff else { return }
        handoff =
            switch summary.status {
            case "queued": HandoffState.queued.rawValue
            case "assigned": HandoffState.withAgent.rawValue
            case "waiting_on_citizen": HandoffState.waitingOnCitizen.rawValue
            default: HandoffState.resolved.rawValue
            }
    }
}

struct MessageJSON: Codable {
    var text: String
}

struct LinkJSON: Codable {
    var title: String
    var url: String
}

struct TurnJSON: Encodable {
    var turnId: String
    var messages: [MessageJSON]
    var quickReplies: [String]
    var links: [LinkJSON]
    var ticket: TicketJSON?
    var handoff: String
    var outcome: String
    var intent: String?
    var service: String?
    var explanation: Explanation?

    init(_ reply: BotReply, explanation: Explanation? = nil) {
        turnId = reply.turnID
        messages = reply.messages.map(MessageJSON.init)
        quickReplies = reply.quickReplies
        links = reply.links.map { LinkJSON(title: $0.title, url: $0.url) }
        ticket = reply.ticket.map { TicketJSON($0) }
        handoff = reply.handoff.rawValue
        outcome = reply.outcome
        intent = reply.intent
        service = reply.service
        self.explanation = explanation
    }

    enum CodingKeys: String, CodingKey {
        case turnId, messages, quickReplies, links, ticket, handoff, outcome, intent, service, explanation
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(turnId, forKey: .turnId)
        try container.encode(messages, forKey: .messages)
        try container.encode(quickReplies, forKey: .quickReplies)
        try container.encode(links, forKey: .links)
        try container.encode(ticket, forKey: .ticket)
        try container.encode(handoff, forKey: .handoff)
        try container.encode(outcome, forKey: .outcome)
        try container.encode(intent, forKey: .intent)
        try container.encode(service, forKey: .service)
        try container.encodeIfPresent(explanation, forKey: .explanation)
    }
}

struct EventJSON: Encodable {
    var seq: Int
    var type: String
    var data: EventData

    init(_ item: SequencedEvent) {
        seq = item.seq
        switch item.event {
        case .bot(let reply):
            type = "notice"
            data = .turn(TurnJSON(reply))
        case .agentJoined(let agent):
            type = "agent_joined"
            data = .fields(["agent": agent])
        case .agentMessage(let agent, let text):
            type = "agent_message"
            data = .fields(["agent": agent, "text": text])
        case .ticketStatus(let ticket):
            type = "ticket"
            data = .ticket(TicketJSON(ticket, withHandoff: true))
        case .ended(let reason):
            type = "ended"
            data = .fields(["reason": reason])
        }
    }

    enum EventData: Encodable {
        case turn(TurnJSON)
        case fields([String: String])
        case ticket(TicketJSON)

        func encode(to encoder: any Encoder) throws {
            switch self {
            case .turn(let turn): try turn.encode(to: encoder)
            case .fields(let fields): try fields.encode(to: encoder)
            case .ticket(let ticket): try ticket.encode(to: encoder)
            }
        }
    }
}

struct AgentTicketJSON: Encodable {
    var reference: String
    var status: String
    var priority: String
    var agent: String?
    var service: String?
    var category: String?
    var createdAt: Date
    var updatedAt: Date
    var replyBy: Date?
    var contact: String?
    var slots: [String: String]?
    var transcript: [TranscriptJSON]?
    var audit: [AuditJSON]?

    init(_ ticket: Ticket, full: Bool, audit: [AuditEntry] = []) {
        reference = ticket.reference.description
        status = ticket.status.rawValue
        priority = ticket.priority.rawValue
        agent = ticket.agent
        service = ticket.service
        category = ticket.category
        createdAt = ticket.createdAt
        updatedAt = ticket.updatedAt
        replyBy = ticket.replyBy
        if full {
            contact = ticket.contact
            slots = ticket.slots
            transcript = ticket.transcript.map {
                TranscriptJSON(from: $0.author.rawValue, name: $0.name, text: $0.text, at: $0.at)
            }
            self.audit = audit.map {
                AuditJSON(
                    actor: $0.actor, at: $0.at, action: $0.action, from: $0.from?.rawValue, to: $0.to?.rawValue,
                    note: $0.note)
            }
        }
    }
}

struct TranscriptJSON: Encodable {
    var from: String
    var name: String?
    var text: String
    var at: Date
}

struct AuditJSON: Encodable {
    var actor: String
    var at: Date
    var action: String
    var from: String?
    var to: String?
    var note: String?
}

// MARK: - The application

/// The HTTP side of `clerk serve`: conversations for citizens (and the widget), the agent API, admin reload,
/// the OpenAPI document, the widget's files and `GET /healthz`. See docs/openapi.yaml.
public enum HTTPServer {
    public static func makeApplication(
        brains: BrainStore, conversations: Conversations?, store: (any TicketStore)?, settings: HTTPSettings = .init(),
        host: String, port: Int, logger: Logger, reload: (@Sendable () async -> ReloadReport)? = nil,
        onReady: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: CORS(origins: Set(settings.corsOrigins)))
        router.get("healthz") { _, _ -> Response in
            let statistics = brains.served.brain.statistics
            let body = "{\"status\":\"ok\",\"intents\":\(statistics.intents)}"
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
        addStaticRoutes(router, settings: settings)
        if let conversations {
            addConversationRoutes(router, conversations, settings: settings)
        }
        if let store {
            addAgentRoutes(router, store: store, settings: settings, reload: reload)
        }
        let serverName = "clerk"
        let origins = Set(settings.corsOrigins)
        let bodyLimit = settings.bodyLimit
        // Plain chat messages are answered on the connection's event loop (see ChatFastPath); the router answers
        // everything else.
        return Application(
            router: router,
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: conversations.map {
                        [
                            ChatFastPath(
                                conversations: $0, origins: origins, bodyLimit: bodyLimit, serverName: serverName)
                        ]
                    } ?? [])),
            configuration: .init(address: .hostname(host, port: port), serverName: serverName),
            onServerRunning: { channel in
                await onReady(channel.localAddress?.port ?? port)
            },
            logger: logger
        )
    }

    // MARK: Files

    static func addStaticRoutes(_ router: Router<BasicRequestContext>, settings: HTTPSettings) {
        @Sendable func file(_ url: URL?, _ type: String) throws -> Response {
            guard let url, let data = FileManager.default.contents(atPath: url.path) else {
                throw APIError(
                    status: .notFound, code: "not_found", message: "this file is not installed on the server")
            }
            return Response(
                status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"],
                body: ResponseBody(byteBuffer: ByteBuffer(data: data)))
        }
        let widget = settings.widgetDirectory
        router.get("widget.js") { _, _ in
            try file(widget?.appendingPathComponent("widget.js"), "text/javascript; charset=utf-8")
        }
        router.get("widget.css") { _, _ in
            try file(widget?.appendingPathComponent("widget.css"), "text/css; charset=utf-8")
        }
        router.get("/") { _, _ in try file(widget?.appendingPathComponent("demo.html"), "text/html; charset=utf-8") }
        let openAPI = settings.openAPIFile
        router.get("openapi.yaml") { _, _ in try file(openAPI, "application/yaml; charset=utf-8") }
    }
}
