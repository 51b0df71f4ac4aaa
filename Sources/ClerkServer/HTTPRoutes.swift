import ClerkEngine
import ClerkStore
import Foundation
import Hummingbird
import NIOCore
import ServiceLifecycle

extension HTTPServer {
    // MARK: Conversations

    static func addConversationRoutes(
        _ router: Router<BasicRequestContext>, _ conversations: Conversations, settings: HTTPSettings
    ) {
        let limit = settings.bodyLimit
        router.post("v1/conversations") { request, _ -> Response in
            var request = request
            _ = try await API.body(&request, limit: limit)
            let handle = conversations.start()
            let welcome = BotReply(
                messages: [conversations.brains.served.brain.settings.welcomeMessage], handoff: .none,
                outcome: "notice",
                turnID: "t0")
            struct Created: Encodable {
                var id: String
                var resumeToken: String
                var turn: TurnJSON
            }
            return try API.json(
                Created(id: handle.id, resumeToken: handle.resumeToken, turn: TurnJSON(welcome)), status: .created)
        }

        router.post("v1/conversations/resume") { request, _ -> Response in
            var request = request
            let body = try await API.body(&request, limit: limit)
            guard let token = try API.string(body, "resume_token"), !token.isEmpty else {
                throw APIError.badRequest("missing_field", "the body needs \"resume_token\"")
            }
            let id: String
            do {
                id = try await conversations.resume(token: token)
            } catch {
                throw APIError(
                    status: .notFound, code: "invalid_resume_token",
                    message: "this resume token is not valid, or the conversation is too old to resume")
            }
            let (handoff, ticket) = try await conversations.status(of: id)
            struct Resumed: Encodable {
                var id: String
                var handoff: String
                var ticket: TicketJSON?
                var history: [TranscriptJSON]
                /// The newest event the history includes: pass it as `after` to the events route.
                var lastEventSeq: Int
            }
            let history = try await conversations.history(of: id).map {
                TranscriptJSON(from: $0.from, name: $0.name, text: $0.text, at: $0.at)
            }
            let seq = try await conversations.lastEventSeq(of: id)
            return try API.json(
                Resumed(
                    id: id, handoff: handoff.rawValue, ticket: ticket.map { TicketJSON($0) }, history: history,
                    lastEventSeq: seq))
        }

        router.post("v1/conversations/:id/messages") { request, context -> Response in
            let id = try conversation(context, conversations)
            var request = request
            let buffer = try await API.collect(&request, limit: limit)
            let text: String
            if let plain = API.plainText(buffer) {
                text = plain
            } else {
                let body = try API.object(from: buffer)
                guard let string = try API.string(body, "text") else {
                    throw APIError.badRequest("missing_field", "")
                }
                text = string
            }
            let trimmed = API.trimmedMessage(text)
            guard !trimmed.isEmpty else { throw APIError.badRequest("empty_message", "\"text\" is empty") }
            guard trimmed.utf8.count <= API.messageLimit else {
                throw APIError.badRequest(
                    "message_too_long", "a message may have at most \(API.messageLimit) bytes")
            }
            let explain = request.uri.queryParameters["explain"].map { $0 == "true" || $0 == "1" } ?? false
            do {
                // An ordinary turn is answered on this task, without waiting for anything.
                if !explain, let reply = try conversations.sendNow(trimmed, to: id) {
                    return Response(
                        status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                        body: ResponseBody(byteBuffer: FastJSON.turn(reply)))
                }
                let (reply, explanation) = try await conversations.send(trimmed, to: id, explain: explain)
                if explanation == nil {
                    // The hot path: written directly, without Foundation's JSONEncoder (several times faster).
                    return Response(
                        status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                        body: ResponseBody(byteBuffer: FastJSON.turn(reply)))
                }
                return try API.json(TurnJSON(reply, explanation: explanation))
            } catch let error as ConversationError {
                throw APIError(status: .gone, code: "conversation_ended", message: error.description)
            }
        }

        router.post("v1/conversations/:id/feedback") { request, context -> Response in
            let id = try conversation(context, conversations)
            var request = request
            let body = try await API.body(&request, limit: limit)
            guard let value = body["helpful"] else {
                throw APIError.badRequest("missing_field", "the body needs \"helpful\": true or false")
            }
            guard let helpful = value as? Bool else {
                throw APIError.badRequest("invalid_field", "\"helpful\" must be true or false")
            }
            let comment = try API.string(body, "comment", required: false)
            let turn = try API.string(body, "turn_id", required: false)
            await conversations.feedback(on: id, turn: turn, helpful: helpful, comment: comment)
            return Response(status: .noContent)
        }

        router.get("v1/conversations/:id/events") { request, context -> Response in
            let id = try conversation(context, conversations)
            let wantsJSON =
                request.headers[.accept].map { $0.contains("application/json") } ?? false
                || request.uri.queryParameters["wait"] != nil
            // A browser reconnecting on its own sends the last id it saw as Last-Event-ID.
            let after =
                request.uri.queryParameters["after"].flatMap { Int($0) }
                ?? request.headers.first(where: { $0.name.canonicalName == "last-event-id" }).flatMap { Int($0.value) }
                ?? 0
            if wantsJSON {
                let wait = min(60, max(0, request.uri.queryParameters["wait"].flatMap { Int($0) } ?? 25))
                // A server shutting down answers the waiting poll at once (empty) instead of waiting for it.
                let events = try await cancelWhenGracefulShutdown {
                    try await conversations.events(of: id, after: after, wait: .seconds(wait))
                }
                struct Events: Encodable { var events: [EventJSON] }
                return try API.json(Events(events: events.map(EventJSON.init)))
            }
            let stream = try await conversations.sequencedEvents(of: id)
            let missed = try await conversations.events(of: id, after: after, wait: .zero)
            let body = ResponseBody { writer in
                var buffer = ByteBuffer(string: ": connected\nretry: 2000\n\n")
                for item in missed { buffer.writeString(serverSentEvent(item)) }
                try await writer.write(buffer)
                var lastSeq = missed.last?.seq ?? after
                // A comment every 15 s keeps proxies from closing a quiet stream.
                let (heartbeat, continuation) = AsyncStream<SequencedEvent?>.makeStream()
                let task = Task {
                    await withTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await item in stream { continuation.yield(item) }
                            continuation.finish()
                        }
                        group.addTask {
                            while !Task.isCancelled {
                                try? await Task.sleep(for: .seconds(15))
                                continuation.yield(nil)
                            }
                        }
                        await group.next()
                        group.cancelAll()
                    }
                }
                continuation.onTermination = { _ in task.cancel() }
                // A server shutting down ends the stream (the browser reconnects to the next one) instead of
                // waiting for the client to go away.
                try await withGracefulShutdownHandler {
                    for await item in heartbeat {
                        guard let item else {
                            try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                            continue
                        }
                        guard item.seq > lastSeq else { continue }
                        lastSeq = item.seq
                        try await writer.write(ByteBuffer(string: serverSentEvent(item)))
                        if case .ended = item.event { break }
                    }
                } onGracefulShutdown: {
                    continuation.finish()
                }
                try await writer.finish(nil)
            }
            return Response(
                status: .ok,
                headers: [
                    .contentType: "text/event-stream", .cacheControl: "no-cache", .init("X-Accel-Buffering")!: "no",
                ],
                body: body)
        }
    }

    static func serverSentEvent(_ item: SequencedEvent) -> String {
        let json = EventJSON(item)
        let data = (try? API.encoder.encode(json.data)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return "id: \(item.seq)\nevent: \(json.type)\ndata: \(data)\n\n"
    }

    static func conversation(_ context: BasicRequestContext, _ conversations: Conversations) throws -> String {
        guard let id = context.parameters.get("id"), conversations.exists(id) else {
            throw APIError(
                status: .notFound, code: "conversation_not_found",
                message: "no such conversation: start one, or resume yours with its token")
        }
        return id
    }

    // MARK: Agents and admins

    static func addAgentRoutes(
        _ router: Router<BasicRequestContext>, store: any TicketStore, settings: HTTPSettings,
        reload: (@Sendable () async -> ReloadReport)?
    ) {
        let limit = settings.bodyLimit

        /// The signed-in agent of a request with the right role; 401 without a valid token, 403 for another role.
        @Sendable func authorize(_ request: Request, _ role: AgentRole) async throws -> Agent {
            guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
                throw APIError(
                    status: .unauthorized, code: "unauthorized",
                    message: "send 'Authorization: Bearer TOKEN' with a token from 'clerk agents add'")
            }
            let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            let agent: Agent?
            do {
                agent = try await store.agent(forToken: token)
            } catch {
                throw APIError(
                    status: .serviceUnavailable, code: "store_unavailable",
                    message: "the ticket store cannot be reached")
            }
            guard let agent else {
                throw APIError(
                    status: .unauthorized, code: "unauthorized", message: "this token is not valid or was revoked")
            }
            guard agent.role == role else {
                throw APIError(
                    status: .forbidden, code: "forbidden",
                    message:
                        "this route is for \(role.rawValue)s; the token belongs to \(agent.role.rawValue) '\(agent.name)'"
                )
            }
            try? await store.touchAgent(agent.name, at: Date())
            return agent
        }

        @Sendable func reference(_ context: BasicRequestContext) throws -> TicketReference {
            let text = context.parameters.get("reference") ?? ""
            guard let reference = try? TicketReference(parsing: text) else {
                throw APIError.badRequest(
                    "malformed_reference", "'\(text)' is not a ticket reference; references look like T-1042")
            }
            return reference
        }

        @Sendable func run(_ body: () async throws -> Ticket) async throws -> Response {
            do {
                return try API.json(AgentTicketJSON(try await body(), full: false))
            } catch let error as TicketStoreError {
                throw storeError(error)
            }
        }

        router.get("v1/agent/tickets") { request, _ -> Response in
            _ = try await authorize(request, .agent)
            var statuses: [TicketStatus]?
            if let text = request.uri.queryParameters["status"] {
                statuses = try text.split(separator: ",").map {
                    guard let status = TicketStatus(name: $0) else {
                        throw APIError.badRequest(
                            "invalid_status",
                            "unknown status '\($0)'; use \(TicketStatus.allCases.map(\.rawValue).joined(separator: ", "))"
                        )
                    }
                    return status
                }
            }
            let limit = request.uri.queryParameters["limit"].flatMap { Int($0) } ?? 100
            do {
                let tickets = try await store.tickets(status: statuses, limit: max(1, min(limit, 1000)))
                struct List: Encodable { var tickets: [AgentTicketJSON] }
                return try API.json(List(tickets: tickets.map { AgentTicketJSON($0, full: false) }))
            } catch let error as TicketStoreError {
                throw storeError(error)
            }
        }

        router.get("v1/agent/tickets/:reference") { request, context -> Response in
            _ = try await authorize(request, .agent)
            let reference = try reference(context)
            do {
                guard let ticket = try await store.ticket(reference) else { throw storeError(.notFound(reference)) }
                return try API.json(AgentTicketJSON(ticket, full: true, audit: try await store.audit(reference)))
            } catch let error as TicketStoreError {
                throw storeError(error)
            }
        }

        router.post("v1/agent/tickets/:reference/claim") { request, context -> Response in
            let agent = try await authorize(request, .agent)
            let reference = try reference(context)
            var request = request
            let body = try await API.body(&request, limit: limit)
            let force = body["force"] as? Bool ?? false
            return try await run { try await store.claim(reference, agent: agent.name, force: force) }
        }
        router.post("v1/agent/tickets/:reference/unclaim") { request, context -> Response in
            let agent = try await authorize(request, .agent)
            let reference = try reference(context)
            return try await run { try await store.unclaim(reference, actor: agent.name) }
        }
        router.post("v1/agent/tickets/:reference/transfer") { request, context -> Response in
            let agent = try await authorize(request, .agent)
            let reference = try reference(context)
            var request = request
            let body = try await API.body(&request, limit: limit)
            guard let to = try API.string(body, "to"), !to.isEmpty else {
                throw APIError.badRequest("missing_field", "the body needs \"to\", the agent to hand the ticket to")
            }
            return try await run {
                // Only to someone who can work it: an active agent (the store takes any name).
                let agents = try await store.agents()
                guard agents.contains(where: { $0.name == to && $0.isActive && $0.role == .agent }) else {
                    throw TicketStoreError.unknownAgent(to)
                }
                return try await store.transfer(reference, to: to, actor: agent.name)
            }
        }
        router.post("v1/agent/tickets/:reference/reply") { request, context -> Response in
            let agent = try await authorize(request, .agent)
            let reference = try reference(context)
            var request = request
            let body = try await API.body(&request, limit: limit)
            guard let text = try API.string(body, "text"), !text.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw APIError.badRequest("missing_field", "the body needs \"text\", the reply to the citizen")
            }
            return try await run { try await store.agentReply(reference, agent: agent.name, text: text) }
        }
        router.post("v1/agent/tickets/:reference/note") { request, context -> Response in
            let agent = try await authorize(request, .agent)
            let reference = try reference(context)
            var request = request
            let body = try await API.body(&request, limit: limit)
            guard let text = try API.string(body, "text"), !text.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw APIError.badRequest("missing_field", "the body needs \"text\", the internal note")
            }
            return try await run { try await store.addNote(reference, actor: agent.name, text: text) }
        }
        router.post("v1/agent/tickets/:reference/resolve") { request, context -> Response in
            let agent = try await authorize(request, .agent)
            let reference = try reference(context)
            var request = request
            let body = try await API.body(&request, limit: limit)
            let note = try API.string(body, "note", required: false)
            return try await run { try await store.resolve(reference, actor: agent.name, note: note) }
        }

        router.post("v1/admin/reload") { request, _ -> Response in
            _ = try await authorize(request, .admin)
            guard let reload else {
                throw APIError(
                    status: .notImplemented, code: "reload_unavailable", message: "this server cannot reload content")
            }
            let report = await reload()
            return try API.json(report, status: report.reloaded ? .ok : .unprocessableContent)
        }
    }

    static func storeError(_ error: TicketStoreError) -> APIError {
        switch error {
        case .notFound: APIError(status: .notFound, code: "ticket_not_found", message: error.description)
        case .malformedReference: APIError.badRequest("malformed_reference", error.description)
        case .illegalTransition: APIError(status: .conflict, code: "illegal_transition", message: error.description)
        case .heldByAnother: APIError(status: .conflict, code: "held_by_another", message: error.description)
        case .unknownAgent: APIError.badRequest("unknown_agent", error.description)
        case .agentExists: APIError(status: .conflict, code: "agent_exists", message: error.description)
        case .invalidInput: APIError.badRequest("invalid_input", error.description)
        case .invalidLocation, .unavailable:
            APIError(status: .serviceUnavailable, code: "store_unavailable", message: error.description)
        }
    }
}

/// Answers browsers from the allowed origins (the city's own sites): CORS headers and preflight requests. Errors
/// are turned into responses here, so that they carry the headers too (a browser hides a response without them
/// from the page), and a request no route matches gets a JSON `not_found` like every other error.
struct CORS: RouterMiddleware {
    typealias Context = BasicRequestContext
    let origins: Set<String>

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        func respond() async throws -> Response {
            do {
                return try await next(request, context)
            } catch let error as HTTPError where error.status == .notFound && error.body == nil {
                // The router's answer when no route matches.
                return try APIError(
                    status: .notFound, code: "not_found", message: "there is no \(request.method) \(request.uri.path)"
                ).response(from: request, context: context)
            } catch let error as any HTTPResponseError {
                return try error.response(from: request, context: context)
            }
        }
        guard let origin = request.headers[.origin], origins.contains(origin) || origins.contains("*") else {
            return try await respond()
        }
        if request.method == .options {
            return Response(
                status: .noContent,
                headers: [
                    .accessControlAllowOrigin: origin, .accessControlAllowMethods: "GET, POST, OPTIONS",
                    .accessControlAllowHeaders: "Content-Type, Authorization, Accept, Last-Event-ID",
                    .accessControlMaxAge: "600", .vary: "Origin",
                ])
        }
        var response = try await respond()
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.vary] = "Origin"
        return response
    }
}
