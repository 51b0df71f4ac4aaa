import Foundation
import Hummingbird
import NIOCore
import NIOHTTPTypes

/// Answers the commonest request, an ordinary chat message (`POST /v1/conversations/{id}/messages` with
/// `{"text": "…"}`), on the connection's event loop as soon as the request has arrived, the way the line server
/// answers a line. Hummingbird's route would run the same turn in a task of its own, which costs two thread hand-overs
/// per request (event loop to task and back); on two cores that was half of the endpoint's CPU.
///
/// It sits in each HTTP connection's pipeline before Hummingbird's handler, and only ever answers a request that
/// the route would answer with 200 and exactly these bytes: the turn comes from the same
/// ``Conversations/sendNow(_:to:)`` and is written by the same ``FastJSON/turn(_:)``, with the same headers
/// (content type, length, date, server name, and the CORS headers of an allowed origin). Everything else — other
/// routes, `?explain=true`, a body that is not plain `{"text": "…"}`, an unknown or ended conversation, a turn that
/// needs the ticket store, `Connection: close`, `Expect`, bodies over the limit — is passed on untouched, and Hummingbird's
/// route answers it, errors included. A request is never answered here while an earlier one on the same connection
/// is still with Hummingbird, so pipelined responses keep their order.
final class ChatFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        /// Between requests.
        case idle
        /// A message request held back until its end, to be answered here if it can be.
        case holding(head: HTTPRequest, id: String, body: ByteBuffer?)
        /// The rest of a request that Hummingbird answers.
        case passing
    }

    private let conversations: Conversations
    private let origins: Set<String>
    private let bodyLimit: Int
    private let serverName: String
    private var state = State.idle
    /// Requests passed on whose response has not ended yet.
    private var unanswered = 0
    private var date = HTTPDate()

    init(conversations: Conversations, origins: Set<String>, bodyLimit: Int, serverName: String) {
        self.conversations = conversations
        self.origins = origins
        self.bodyLimit = bodyLimit
        self.serverName = serverName
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch (state, part) {
        case (.idle, .head(let head)):
            if unanswered == 0, let id = Self.messageRoute(head) {
                state = .holding(head: head, id: id, body: nil)
            } else {
                pass(context, head)
            }
        case (.holding(let head, let id, var body), .body(var chunk)):
            if body == nil {
                body = chunk
            } else {
                body!.writeBuffer(&chunk)
            }
            if body!.readableBytes > bodyLimit {
                // Hummingbird's route answers 413.
                state = .passing
                pass(context, head)
                context.fireChannelRead(wrapInboundOut(.body(body!)))
            } else {
                state = .holding(head: head, id: id, body: body)
            }
        case (.holding(let head, let id, let body), .end(let trailers)):
            state = .idle
            if trailers == nil, let response = answer(head, id: id, body: body ?? ByteBuffer()) {
                context.write(wrapOutboundOut(.head(response.head)), promise: nil)
                context.write(wrapOutboundOut(.body(response.body)), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            } else {
                pass(context, head)
                if let body { context.fireChannelRead(wrapInboundOut(.body(body))) }
                context.fireChannelRead(wrapInboundOut(.end(trailers)))
            }
        case (.passing, .end):
            state = .idle
            context.fireChannelRead(data)
        default:
            // The rest of a request being passed on (or parts out of order, which Hummingbird reports).
            context.fireChannelRead(data)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), unanswered > 0 { unanswered -= 1 }
        context.write(data, promise: promise)
    }

    private func pass(_ context: ChannelHandlerContext, _ head: HTTPRequest) {
        unanswered += 1
        state = .passing
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    /// The conversation id of `POST /v1/conversations/{id}/messages` without a query, `Expect` or a `Connection`
    /// header other than `keep-alive`.
    static func messageRoute(_ head: HTTPRequest) -> String? {
        guard head.method == .post, head.headerFields[.expect] == nil, let path = head.path else { return nil }
        // Browsers send `Connection: keep-alive`; any other value (`close`, upgrades) is the router's to handle.
        if let connection = head.headerFields[.connection], connection.lowercased() != "keep-alive" { return nil }
        let prefix = "/v1/conversations/"
        let suffix = "/messages"
        let bytes = path.utf8
        guard bytes.count > prefix.utf8.count + suffix.utf8.count, path.hasPrefix(prefix), path.hasSuffix(suffix)
        else { return nil }
        let id = bytes.dropFirst(prefix.utf8.count).dropLast(suffix.utf8.count)
        // Ids are base64url ("c_…"); anything else (a query, an escape, another slash) goes to the router.
        guard
            id.allSatisfy({ byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            })
        else { return nil }
        return String(decoding: id, as: UTF8.self)
    }

    /// The 200 response the route would give, or nil when the route must decide.
    private func answer(_ head: HTTPRequest, id: String, body: ByteBuffer) -> (head: HTTPResponse, body: ByteBuffer)? {
        guard let text = API.plainText(body) else { return nil }
        let trimmed = API.trimmedMessage(text)
        guard !trimmed.isEmpty, trimmed.utf8.count <= API.messageLimit else { return nil }
        guard let reply = (try? conversations.sendNow(trimmed, to: id)) ?? nil else { return nil }
        let json = FastJSON.turn(reply)
        var fields: HTTPFields = [
            .contentType: "application/json; charset=utf-8", .contentLength: String(json.readableBytes),
            .date: date.now(), .server: serverName,
        ]
        if let origin = head.headerFields[.origin], origins.contains(origin) || origins.contains("*") {
            fields[.accessControlAllowOrigin] = origin
            fields[.vary] = "Origin"
        }
        return (HTTPResponse(status: .ok, headerFields: fields), json)
    }
}

/// The `Date` header's text (RFC 9110 IMF-fixdate), made once a second.
struct HTTPDate {
    private var second = 0
    private var text = ""

    mutating func now() -> String {
        var clock = timespec()
        clock_gettime(CLOCK_REALTIME, &clock)
        let current = clock.tv_sec
        if current != second || text.isEmpty {
            second = current
            text = Self.format(current)
        }
        return text
    }

    static func format(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(1900 + parts.tm_year) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
