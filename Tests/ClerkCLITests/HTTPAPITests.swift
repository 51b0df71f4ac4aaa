import Foundation
import Synchronization
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// The HTTP API of a real `clerk serve` (started once for the suite on free ports, with a fresh SQLite store and
/// agents made with `clerk agents add`), called with URLSession the way `curl` or the widget would. The tests run
/// one after another, in the order they are written; the last two check that every operation in docs/openapi.yaml
/// was called and that every response the tests got is described there.
@Suite(.serialized, .liveServer)
struct HTTPAPITests {
    // MARK: The service's own routes

    @Test func healthzAnswersOKWithTheNumberOfIntents() async throws {
        let reply = try await http("GET", "/healthz")
        #expect(reply.status == 200, "\(reply)")
        #expect(reply.header("Content-Type")?.hasPrefix("application/json") == true)
        let body = try reply.object()
        #expect(body["status"] as? String == "ok")
        #expect((body["intents"] as? Int ?? 0) > 0, "\(reply)")
    }

    @Test func openAPIDocumentIsServedAsYAMLAndIsTheOneInDocs() async throws {
        let reply = try await http("GET", "/openapi.yaml")
        #expect(reply.status == 200, "\(reply)")
        #expect(reply.header("Content-Type")?.hasPrefix("application/yaml") == true, "\(reply)")
        let file = try Data(contentsOf: packageRoot.appendingPathComponent("docs/openapi.yaml"))
        #expect(reply.body == file)
    }

    @Test func widgetScriptAndStylesAreServedWithTheirContentTypes() async throws {
        let script = try await http("GET", "/widget.js")
        #expect(script.status == 200, "\(script)")
        #expect(script.header("Content-Type")?.hasPrefix("text/javascript") == true, "\(script)")
        #expect(script.header("Cache-Control") == "no-cache")
        #expect(script.body == (try Data(contentsOf: packageRoot.appendingPathComponent("Resources/widget/widget.js"))))
        let styles = try await http("GET", "/widget.css")
        #expect(styles.status == 200, "\(styles)")
        #expect(styles.header("Content-Type")?.hasPrefix("text/css") == true, "\(styles)")
    }

    @Test func demoPageIsServedAtTheRootOrIsAJSONNotFoundWhileItIsNotInstalled() async throws {
        let reply = try await http("GET", "/")
        let installed = FileManager.default.fileExists(
            atPath: packageRoot.appendingPathComponent("Resources/widget/demo.html").path)
        if installed {
            #expect(reply.status == 200, "\(reply)")
            #expect(reply.header("Content-Type")?.hasPrefix("text/html") == true, "\(reply)")
            #expect(reply.text.contains("widget.js"), "the demo page should embed the widget")
        } else {
            #expect(reply.status == 404, "\(reply)")
            #expect(try reply.errorCode() == "not_found", "\(reply)")
        }
    }

    @Test func anUnknownRouteIsAJSONNotFound() async throws {
        let reply = try await http("GET", "/v1/nothing-here", documented: false)
        #expect(reply.status == 404, "\(reply)")
        #expect(try reply.errorCode() == "not_found", "\(reply)")
    }

    // MARK: A whole conversation

    @Test func aWholeConversationHandsOverToAPersonWhoseReplyArrivesOnTheStreamAndTheLongPoll() async throws {
        let server = try LiveServer.require()
        let conversation = try await startConversation()
        let welcome = try #require(conversation["turn"] as? [String: Any])
        #expect((welcome["messages"] as? [[String: Any]])?.first?["text"] as? String != nil, "\(conversation)")
        #expect(welcome["handoff"] as? String == "none")
        let id = try #require(conversation["id"] as? String)

        // A question the assistant answers.
        let answer = try await say("How much does a passport cost?", in: id)
        #expect(answer["outcome"] as? String == "answer", "\(answer)")
        #expect(texts(answer).contains { $0.contains("€35") }, "\(answer)")
        #expect(answer["intent"] as? String == "service.fee")

        // Asking for a person: first a consent question, then, with "yes", a ticket.
        let consent = try await say("talk to a person", in: id)
        #expect(consent["handoff"] as? String == "none", "\(consent)")
        #expect(consent["ticket"] is NSNull, "\(consent)")
        let handover = try await say("yes", in: id)
        #expect(handover["outcome"] as? String == "handoff", "\(handover)")
        #expect(handover["handoff"] as? String == "queued", "\(handover)")
        let ticket = try #require(handover["ticket"] as? [String: Any], "\(handover)")
        let reference = try #require(ticket["reference"] as? String)
        #expect(ticket["status"] as? String == "queued")
        #expect(texts(handover).contains { $0.contains("Your reference is \(reference).") }, "\(handover)")

        // The citizen listens (Server-Sent Events) and, in another tab, long-polls.
        let stream = try await EventStream.open(server, "/v1/conversations/\(id)/events")
        defer { stream.close() }
        #expect(stream.status == 200)
        #expect(stream.contentType?.hasPrefix("text/event-stream") == true)

        // An agent finds the ticket in the queue and claims it: the citizen sees them join.
        let queue = try await http("GET", "/v1/agent/tickets?status=queued", token: server.token("alice"))
        #expect(queue.status == 200, "\(queue)")
        let queued = try #require(try queue.object()["tickets"] as? [[String: Any]])
        #expect(queued.contains { $0["reference"] as? String == reference }, "\(queue)")
        let claim = try await http("POST", "/v1/agent/tickets/\(reference)/claim", token: server.token("alice"))
        #expect(claim.status == 200, "\(claim)")
        #expect(try claim.object()["agent"] as? String == "alice", "\(claim)")
        let joined = try await stream.next { $0.event == "agent_joined" }
        #expect(try joined.object()["agent"] as? String == "alice", "\(stream)")
        let held = try await stream.next { $0.event == "ticket" }
        #expect(try held.object()["handoff"] as? String == "with_agent", "\(stream)")
        #expect(try held.object()["reference"] as? String == reference)
        let seen = try #require(held.id)

        // The agent replies: it arrives on the stream and on the long poll that waits for the next event.
        async let poll = http(
            "GET", "/v1/conversations/\(id)/events?after=\(seen)&wait=10",
            headers: ["Accept": "application/json"])
        try await Task.sleep(for: .milliseconds(300))
        let reply = try await http(
            "POST", "/v1/agent/tickets/\(reference)/reply", json: ["text": "Hello, I am Alice. How can I help?"],
            token: server.token("alice"))
        #expect(reply.status == 200, "\(reply)")
        #expect(try reply.object()["status"] as? String == "waiting_on_citizen", "\(reply)")
        let message = try await stream.next { $0.event == "agent_message" }
        #expect(try message.object()["text"] as? String == "Hello, I am Alice. How can I help?")
        #expect(try message.object()["agent"] as? String == "alice")
        let polled = try await poll
        #expect(polled.status == 200, "\(polled)")
        #expect(polled.header("Content-Type")?.hasPrefix("application/json") == true)
        let events = try #require(try polled.object()["events"] as? [[String: Any]], "\(polled)")
        #expect(events.count == 1, "\(polled)")
        #expect(events.first?["type"] as? String == "agent_message", "\(polled)")
        #expect(events.first?["seq"] as? Int == message.id, "\(polled)")
        #expect((events.first?["data"] as? [String: Any])?["text"] as? String == "Hello, I am Alice. How can I help?")

        // After a reload, the widget resumes with the token: the agent's reply is in the history.
        let token = try #require(conversation["resume_token"] as? String)
        let resumed = try await http("POST", "/v1/conversations/resume", json: ["resume_token": token])
        #expect(resumed.status == 200, "\(resumed)")
        #expect(try resumed.object()["handoff"] as? String == "waiting_on_citizen", "\(resumed)")
        #expect((try resumed.object()["ticket"] as? [String: Any])?["reference"] as? String == reference)
        let history = try #require(try resumed.object()["history"] as? [[String: Any]], "\(resumed)")
        #expect(history.first?["text"] as? String == "How much does a passport cost?", "\(resumed)")
        let last = try #require(history.last)
        #expect(last["from"] as? String == "agent", "\(resumed)")
        #expect(last["name"] as? String == "alice")
        #expect(last["text"] as? String == "Hello, I am Alice. How can I help?")

        // The citizen answers: the message goes to the person, the assistant stays silent.
        let toAgent = try await say("I need a new passport for my son.", in: id)
        #expect(toAgent["outcome"] as? String == "agent", "\(toAgent)")
        #expect(texts(toAgent).isEmpty, "\(toAgent)")
        #expect(toAgent["handoff"] as? String == "waiting_on_citizen" || toAgent["handoff"] as? String == "with_agent")
        let shown = try await http("GET", "/v1/agent/tickets/\(reference)", token: server.token("alice"))
        #expect(shown.status == 200, "\(shown)")
        let transcript = try #require(try shown.object()["transcript"] as? [[String: Any]], "\(shown)")
        #expect(transcript.contains { $0["text"] as? String == "I need a new passport for my son." }, "\(shown)")
        #expect(try shown.object()["status"] as? String == "assigned", "\(shown)")

        // The person resolves the ticket: the assistant says it is back.
        let resolve = try await http(
            "POST", "/v1/agent/tickets/\(reference)/resolve", json: ["note": "Explained the child passport."],
            token: server.token("alice"))
        #expect(resolve.status == 200, "\(resolve)")
        #expect(try resolve.object()["status"] as? String == "resolved")
        let notice = try await stream.next { $0.event == "notice" }
        let noticeText = try (notice.object()["messages"] as? [[String: Any]])?.first?["text"] as? String
        #expect(noticeText?.contains("resolved") == true, "\(stream)")
        let resolved = try await stream.next { $0.event == "ticket" && $0.text.contains("\"resolved\"") }
        #expect(try resolved.object()["handoff"] as? String == "resolved")
    }

    @Test func resumingWithTheTokenGivesTheSameConversationWithItsHistory() async throws {
        let conversation = try await startConversation()
        let id = try #require(conversation["id"] as? String)
        let token = try #require(conversation["resume_token"] as? String)
        _ = try await say("How much does a passport cost?", in: id)

        let resumed = try await http("POST", "/v1/conversations/resume", json: ["resume_token": token])
        #expect(resumed.status == 200, "\(resumed)")
        let body = try resumed.object()
        #expect(body["id"] as? String == id)
        #expect(body["handoff"] as? String == "none")
        let history = try #require(body["history"] as? [[String: Any]], "\(resumed)")
        #expect(history.map { $0["from"] as? String } == ["citizen", "bot"], "\(resumed)")
        #expect(history.first?["text"] as? String == "How much does a passport cost?")
        #expect((history.last?["text"] as? String)?.contains("€35") == true)
        #expect(history.allSatisfy { $0["at"] is String })

        // The conversation goes on where it was.
        let next = try await say("hello", in: id)
        #expect(next["turn_id"] as? String == "t2", "\(next)")
    }

    @Test func resumingWithAnUnknownTokenIs404InvalidResumeToken() async throws {
        let reply = try await http("POST", "/v1/conversations/resume", json: ["resume_token": "not-a-token"])
        #expect(reply.status == 404, "\(reply)")
        #expect(try reply.errorCode() == "invalid_resume_token")
        let missing = try await http("POST", "/v1/conversations/resume", json: [:])
        #expect(missing.status == 400, "\(missing)")
        #expect(try missing.errorCode() == "missing_field")
    }

    @Test func feedbackOnAnAnswerIs204NoContent() async throws {
        let id = try #require(try await startConversation()["id"] as? String)
        let answer = try await say("How much does a passport cost?", in: id)
        let turn = try #require(answer["turn_id"] as? String)
        let reply = try await http(
            "POST", "/v1/conversations/\(id)/feedback",
            json: ["helpful": false, "comment": "I wanted the fee for a child.", "turn_id": turn])
        #expect(reply.status == 204, "\(reply)")
        #expect(reply.body.isEmpty)
        let missing = try await http("POST", "/v1/conversations/\(id)/feedback", json: ["comment": "meh"])
        #expect(missing.status == 400, "\(missing)")
        #expect(try missing.errorCode() == "missing_field", "\(missing)")
        let wrongType = try await http("POST", "/v1/conversations/\(id)/feedback", json: ["helpful": "yes"])
        #expect(wrongType.status == 400, "\(wrongType)")
        #expect(try wrongType.errorCode() == "invalid_field", "\(wrongType)")
    }

    @Test func explainTrueAddsTheExplanationAndWithoutItThereIsNone() async throws {
        let id = try #require(try await startConversation()["id"] as? String)
        let explained = try await http(
            "POST", "/v1/conversations/\(id)/messages?explain=true", json: ["text": "How much does a passport cost?"])
        #expect(explained.status == 200, "\(explained)")
        let explanation = try #require(try explained.object()["explanation"] as? [String: Any], "\(explained)")
        #expect(explanation["input"] as? String == "How much does a passport cost?")
        #expect(explanation["outcome"] as? String == "answer")
        #expect(explanation["intent"] as? String == "service.fee")
        #expect((explanation["readings"] as? [Any])?.isEmpty == false)
        #expect(explanation["reason"] is String)
        let plain = try await say("How much does a passport cost?", in: id)
        #expect(plain["explanation"] == nil, "\(plain)")
    }

    // MARK: Errors of the conversation API

    @Test func malformedJSONIs400NamingTheProblem() async throws {
        let id = try #require(try await startConversation()["id"] as? String)
        let reply = try await http("POST", "/v1/conversations/\(id)/messages", body: Data(#"{"text": "hi""#.utf8))
        #expect(reply.status == 400, "\(reply)")
        #expect(try reply.errorCode() == "malformed_json", "\(reply)")
        #expect(try reply.errorMessage().hasPrefix("the body is not valid JSON: "), "\(reply)")
        #expect(try reply.errorMessage().count > "the body is not valid JSON: ".count, "\(reply)")
        let array = try await http("POST", "/v1/conversations/\(id)/messages", body: Data(#"["hi"]"#.utf8))
        #expect(array.status == 400, "\(array)")
        #expect(try array.errorCode() == "malformed_json")
        #expect(try array.errorMessage().contains("must be a JSON object"), "\(array)")
        let start = try await http("POST", "/v1/conversations", body: Data("{".utf8))
        #expect(start.status == 400, "\(start)")
        #expect(try start.errorCode() == "malformed_json")
    }

    @Test func aMessageWithoutTextIs400MissingFieldAndBadTextIsNamed() async throws {
        let id = try #require(try await startConversation()["id"] as? String)
        let missing = try await http("POST", "/v1/conversations/\(id)/messages", json: ["message": "hi"])
        #expect(missing.status == 400, "\(missing)")
        #expect(try missing.errorCode() == "missing_field")
        #expect(try missing.errorMessage().contains("\"text\""), "\(missing)")
        let number = try await http("POST", "/v1/conversations/\(id)/messages", json: ["text": 42])
        #expect(number.status == 400, "\(number)")
        #expect(try number.errorCode() == "invalid_field")
        let blank = try await http("POST", "/v1/conversations/\(id)/messages", json: ["text": "   "])
        #expect(blank.status == 400, "\(blank)")
        #expect(try blank.errorCode() == "empty_message")
        let long = try await http(
            "POST", "/v1/conversations/\(id)/messages", json: ["text": String(repeating: "passport ", count: 500)])
        #expect(long.status == 400, "\(long)")
        #expect(try long.errorCode() == "message_too_long")
    }

    @Test func anUnknownConversationIs404ConversationNotFound() async throws {
        for (method, path, body) in [
            ("POST", "/v1/conversations/c_nope/messages", ["text": "hello"] as [String: Any]),
            ("POST", "/v1/conversations/c_nope/feedback", ["helpful": true]),
            ("GET", "/v1/conversations/c_nope/events?wait=0", nil),
            ("GET", "/v1/conversations/c_nope/events", nil),
        ] as [(String, String, [String: Any]?)] {
            let reply = try await http(method, path, json: body)
            #expect(reply.status == 404, "\(method) \(path): \(reply)")
            #expect(try reply.errorCode() == "conversation_not_found", "\(method) \(path): \(reply)")
        }
    }

    @Test func aBodyOverTheLimitIs413BodyTooLarge() async throws {
        let id = try #require(try await startConversation()["id"] as? String)
        let text = String(repeating: "a", count: 70 * 1024)
        let reply = try await http("POST", "/v1/conversations/\(id)/messages", json: ["text": text])
        #expect(reply.status == 413, "\(reply)")
        #expect(try reply.errorCode() == "body_too_large", "\(reply)")
        // The server goes on answering.
        #expect(try await http("GET", "/healthz").status == 200)
    }

    @Test func theEventStreamReplaysOnlyWhatCameAfterLastEventID() async throws {
        let server = try LiveServer.require()
        let (id, reference) = try await conversationWithTicket()
        _ = try await http("POST", "/v1/agent/tickets/\(reference)/claim", token: server.token("bob"))
        let first = try await waitForEvents(in: id, after: 0, count: 2)
        #expect(first.map { $0["type"] as? String } == ["agent_joined", "ticket"], "\(first)")
        let lastSeen = try #require(first.first?["seq"] as? Int)

        // A reconnecting EventSource sends Last-Event-ID: the stream replays only the events after it.
        let stream = try await EventStream.open(
            server, "/v1/conversations/\(id)/events", headers: ["Last-Event-ID": "\(lastSeen)"])
        defer { stream.close() }
        let replayed = try await stream.next { _ in true }
        #expect(replayed.event == "ticket", "\(stream)")
        #expect(replayed.id == lastSeen + 1, "\(stream)")
        // `after` in the URL says the same.
        let after = try await EventStream.open(server, "/v1/conversations/\(id)/events?after=\(lastSeen)")
        defer { after.close() }
        #expect(try await after.next { _ in true }.id == lastSeen + 1, "\(after)")
    }

    // MARK: The agent API

    @Test func agentsClaimUnclaimTransferNoteAndResolveATicket() async throws {
        let server = try LiveServer.require()
        let (_, reference) = try await conversationWithTicket()
        let alice = server.token("alice")
        let bob = server.token("bob")
        let path = "/v1/agent/tickets/\(reference)"

        let listed = try await http("GET", "/v1/agent/tickets?status=queued,assigned&limit=1000", token: alice)
        #expect(listed.status == 200, "\(listed)")
        let tickets = try #require(try listed.object()["tickets"] as? [[String: Any]])
        let summary = try #require(tickets.first { $0["reference"] as? String == reference }, "\(listed)")
        #expect(summary["status"] as? String == "queued")
        #expect(summary["priority"] as? String == "normal")
        #expect(summary["created_at"] is String)
        #expect(summary["transcript"] == nil, "a list has no transcripts")
        let limited = try await http("GET", "/v1/agent/tickets?limit=1", token: alice)
        #expect((try limited.object()["tickets"] as? [Any])?.count == 1, "\(limited)")

        #expect(try await http("POST", "\(path)/claim", token: alice).status == 200)
        let taken = try await http("POST", "\(path)/claim", json: [:], token: bob)
        #expect(taken.status == 409, "\(taken)")
        #expect(try taken.errorCode() == "held_by_another")
        let forced = try await http("POST", "\(path)/claim", json: ["force": true], token: bob)
        #expect(forced.status == 200, "\(forced)")
        #expect(try forced.object()["agent"] as? String == "bob")

        let unclaimed = try await http("POST", "\(path)/unclaim", token: bob)
        #expect(unclaimed.status == 200, "\(unclaimed)")
        #expect(try unclaimed.object()["status"] as? String == "queued")
        #expect(try unclaimed.object()["agent"] == nil, "\(unclaimed)")

        #expect(try await http("POST", "\(path)/claim", token: alice).status == 200)
        let transferred = try await http("POST", "\(path)/transfer", json: ["to": "bob"], token: alice)
        #expect(transferred.status == 200, "\(transferred)")
        #expect(try transferred.object()["agent"] as? String == "bob")
        let noAgent = try await http("POST", "\(path)/transfer", json: ["to": "nobody"], token: bob)
        #expect(noAgent.status == 400, "\(noAgent)")
        #expect(try noAgent.errorCode() == "unknown_agent", "\(noAgent)")
        let admin = try await http("POST", "\(path)/transfer", json: ["to": "root"], token: bob)
        #expect(admin.status == 400, "an admin cannot work tickets: \(admin)")
        let noTarget = try await http("POST", "\(path)/transfer", json: [:], token: alice)
        #expect(noTarget.status == 400, "\(noTarget)")
        #expect(try noTarget.errorCode() == "missing_field")

        let noted = try await http("POST", "\(path)/note", json: ["text": "Called the citizen back."], token: bob)
        #expect(noted.status == 200, "\(noted)")
        let emptyNote = try await http("POST", "\(path)/note", json: ["text": " "], token: bob)
        #expect(emptyNote.status == 400, "\(emptyNote)")
        #expect(try emptyNote.errorCode() == "missing_field")

        let resolved = try await http("POST", "\(path)/resolve", json: ["note": "Done by phone."], token: bob)
        #expect(resolved.status == 200, "\(resolved)")
        #expect(try resolved.object()["status"] as? String == "resolved")

        let shown = try await http("GET", path, token: alice)
        #expect(shown.status == 200, "\(shown)")
        let ticket = try shown.object()
        #expect(ticket["status"] as? String == "resolved")
        let audit = try #require(ticket["audit"] as? [[String: Any]], "\(shown)")
        #expect(
            audit.map { $0["action"] as? String } == [
                "created", "claimed", "force_claimed", "unclaimed", "claimed", "transferred", "note", "resolved",
            ], "\(shown)")
        let transcript = try #require(ticket["transcript"] as? [[String: Any]])
        #expect(transcript.contains { $0["from"] as? String == "note" && $0["name"] as? String == "bob" })
        #expect(ticket["slots"] is [String: Any])
    }

    @Test func aReplyToAQueuedTicketIs409IllegalTransition() async throws {
        let server = try LiveServer.require()
        let (_, reference) = try await conversationWithTicket()
        let reply = try await http(
            "POST", "/v1/agent/tickets/\(reference)/reply", json: ["text": "Hello"], token: server.token("alice"))
        #expect(reply.status == 409, "\(reply)")
        #expect(try reply.errorCode() == "illegal_transition", "\(reply)")
        #expect(try reply.errorMessage().contains("claim it before replying"), "\(reply)")
        let unclaim = try await http("POST", "/v1/agent/tickets/\(reference)/unclaim", token: server.token("alice"))
        #expect(unclaim.status == 409, "\(unclaim)")
        #expect(try unclaim.errorCode() == "illegal_transition")
    }

    @Test func aMalformedOrUnknownReferenceAndAnUnknownStatusAreNamed() async throws {
        let alice = try LiveServer.require().token("alice")
        let malformed = try await http("GET", "/v1/agent/tickets/1001", token: alice)
        #expect(malformed.status == 400, "\(malformed)")
        #expect(try malformed.errorCode() == "malformed_reference")
        let unknown = try await http("GET", "/v1/agent/tickets/T-999999", token: alice)
        #expect(unknown.status == 404, "\(unknown)")
        #expect(try unknown.errorCode() == "ticket_not_found")
        let claimUnknown = try await http("POST", "/v1/agent/tickets/T-999999/claim", token: alice)
        #expect(claimUnknown.status == 404, "\(claimUnknown)")
        #expect(try claimUnknown.errorCode() == "ticket_not_found")
        let status = try await http("GET", "/v1/agent/tickets?status=open", token: alice)
        #expect(status.status == 400, "\(status)")
        #expect(try status.errorCode() == "invalid_status")
        #expect(try status.errorMessage().contains("waiting_on_citizen"), "\(status)")
    }

    // MARK: Tokens and roles

    @Test func theAgentAPIWithoutATokenIs401() async throws {
        let reply = try await http("GET", "/v1/agent/tickets")
        #expect(reply.status == 401, "\(reply)")
        #expect(try reply.errorCode() == "unauthorized")
        let basic = try await http("GET", "/v1/agent/tickets", headers: ["Authorization": "Basic YWxpY2U6cHc="])
        #expect(basic.status == 401, "\(basic)")
    }

    @Test func theAgentAPIWithAWrongTokenIs401() async throws {
        let reply = try await http("GET", "/v1/agent/tickets", token: "clerk_wrong_token")
        #expect(reply.status == 401, "\(reply)")
        #expect(try reply.errorCode() == "unauthorized")
        #expect(try reply.errorMessage().contains("not valid or was revoked"), "\(reply)")
    }

    @Test func aRevokedTokenIs401AtOnce() async throws {
        let server = try LiveServer.require()
        let carol = server.token("carol")
        #expect(try await http("GET", "/v1/agent/tickets", token: carol).status == 200)
        let revoke = try await clerk(["agents", "revoke", "carol", "--store", server.store])
        #expect(revoke.status == 0, "\(revoke)")
        let reply = try await http("GET", "/v1/agent/tickets", token: carol)
        #expect(reply.status == 401, "\(reply)")
        #expect(try reply.errorCode() == "unauthorized")
    }

    @Test func anAgentTokenOnAdminReloadIs403Forbidden() async throws {
        let reply = try await http("POST", "/v1/admin/reload", token: try LiveServer.require().token("alice"))
        #expect(reply.status == 403, "\(reply)")
        #expect(try reply.errorCode() == "forbidden")
        #expect(try reply.errorMessage().contains("admin"), "\(reply)")
        let none = try await http("POST", "/v1/admin/reload")
        #expect(none.status == 401, "\(none)")
    }

    @Test func anAdminTokenOnAnAgentRouteIs403Forbidden() async throws {
        let reply = try await http("GET", "/v1/agent/tickets", token: try LiveServer.require().token("root"))
        #expect(reply.status == 403, "\(reply)")
        #expect(try reply.errorCode() == "forbidden")
    }

    @Test func anAdminTokenReloadsTheContentAndGetsTheReport() async throws {
        let reply = try await http("POST", "/v1/admin/reload", token: try LiveServer.require().token("root"))
        #expect(reply.status == 200, "\(reply)")
        let object = try reply.object()
        #expect(object["reloaded"] as? Bool == true, "\(reply)")
        #expect((object["intents"] as? Int ?? 0) > 10, "\(reply)")
    }

    // MARK: CORS

    @Test func anAllowedOriginGetsCORSHeadersAndItsPreflightIsAnswered() async throws {
        let origin = ["Origin": "https://www.example.city"]
        let preflight = try await http(
            "OPTIONS", "/v1/conversations",
            headers: origin.merging(["Access-Control-Request-Method": "POST"]) { $1 })
        #expect(preflight.status == 204, "\(preflight)")
        #expect(preflight.header("Access-Control-Allow-Origin") == "https://www.example.city")
        #expect(preflight.header("Access-Control-Allow-Methods")?.contains("POST") == true, "\(preflight)")
        #expect(preflight.header("Access-Control-Allow-Headers")?.contains("Content-Type") == true, "\(preflight)")

        let started = try await http("POST", "/v1/conversations", json: [:], headers: origin)
        #expect(started.status == 201, "\(started)")
        #expect(started.header("Access-Control-Allow-Origin") == "https://www.example.city")
        #expect(started.header("Vary")?.contains("Origin") == true)

        // Errors carry the header too, so the widget can read them.
        let missing = try await http("POST", "/v1/conversations/c_nope/messages", json: ["text": "hi"], headers: origin)
        #expect(missing.status == 404, "\(missing)")
        #expect(missing.header("Access-Control-Allow-Origin") == "https://www.example.city", "\(missing)")
    }

    @Test func anotherOriginGetsNoCORSHeaders() async throws {
        let origin = ["Origin": "https://evil.example.com"]
        let preflight = try await http(
            "OPTIONS", "/v1/conversations",
            headers: origin.merging(["Access-Control-Request-Method": "POST"]) { $1 })
        #expect(preflight.header("Access-Control-Allow-Origin") == nil, "\(preflight)")
        #expect(preflight.header("Access-Control-Allow-Methods") == nil, "\(preflight)")
        let started = try await http("POST", "/v1/conversations", json: [:], headers: origin)
        #expect(started.status == 201, "\(started)")
        #expect(started.header("Access-Control-Allow-Origin") == nil, "\(started)")
    }

    // MARK: Plain messages answered on the connection's event loop

    @Test func aPlainMessageGetsTheSameTurnFromTheEventLoopAsFromTheRouter() async throws {
        // `?explain=false` sends the message through Hummingbird's router; without a query it is answered as soon
        // as it has arrived. A citizen must not be able to tell the two apart.
        let first = try #require(try await startConversation()["id"] as? String)
        let second = try #require(try await startConversation()["id"] as? String)
        let fast = try await http(
            "POST", "/v1/conversations/\(first)/messages", json: ["text": "how much is a passport"])
        let routed = try await http(
            "POST", "/v1/conversations/\(second)/messages?explain=false", json: ["text": "how much is a passport"])
        #expect(fast.status == 200 && routed.status == 200, "\(fast) \(routed)")
        #expect(texts(try fast.object()).joined().contains("€"), "\(fast)")
        #expect(fast.body == routed.body, "\(fast) \(routed)")
        for name in ["Content-Type", "Server"] {
            #expect(fast.header(name) == routed.header(name), "\(name): \(fast) \(routed)")
        }
        #expect(fast.header("Date")?.hasSuffix(" GMT") == true, "\(fast)")

        // As a browser sends it.
        let origin = ["Origin": "https://www.example.city", "Connection": "keep-alive"]
        let allowed = try await http(
            "POST", "/v1/conversations/\(first)/messages", json: ["text": "thanks"], headers: origin)
        #expect(allowed.status == 200, "\(allowed)")
        #expect(allowed.header("Access-Control-Allow-Origin") == "https://www.example.city", "\(allowed)")
        #expect(allowed.header("Vary")?.contains("Origin") == true, "\(allowed)")
    }

    @Test func pipelinedRequestsAreAnsweredInTheOrderTheyWereSent() async throws {
        let id = try #require(try await startConversation()["id"] as? String)
        let port = try #require(try LiveServer.require().base.port)
        let body = #"{"text": "how much is a passport"}"#
        let message =
            "POST /v1/conversations/\(id)/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        // The health check goes through the router; the message behind it, sent in the same packet, must wait
        // for it. Then the message first, the health check second.
        let replies = try await onThread {
            var socket = try LineSocket(port: port)
            defer { socket.disconnect() }
            try socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + message)
            let firstPair = [try rawResponse(&socket), try rawResponse(&socket)]
            try socket.write(message + "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            return firstPair + [try rawResponse(&socket), try rawResponse(&socket)]
        }
        #expect(replies.map(\.status) == [200, 200, 200, 200], "\(replies)")
        #expect(replies[0].body.contains("\"status\":\"ok\""), "\(replies[0])")
        #expect(replies[1].body.contains("\"messages\""), "\(replies[1])")
        #expect(replies[2].body.contains("\"messages\""), "\(replies[2])")
        #expect(replies[3].body.contains("\"status\":\"ok\""), "\(replies[3])")
    }

    @Test func aMessageWhoseBodyArrivesInPiecesIsAnsweredOnce() async throws {
        let id = try #require(try await startConversation()["id"] as? String)
        let port = try #require(try LiveServer.require().base.port)
        let body = #"{"text": "how much is a passport"}"#
        let reply = try await onThread {
            var socket = try LineSocket(port: port)
            defer { socket.disconnect() }
            try socket.write(
                "POST /v1/conversations/\(id)/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
            usleep(50_000)
            try socket.write(String(body.prefix(10)))
            usleep(50_000)
            try socket.write(String(body.dropFirst(10)))
            return try rawResponse(&socket)
        }
        #expect(reply.status == 200, "\(reply)")
        #expect(reply.body.contains("€"), "\(reply)")
    }

    // MARK: Stopping

    @Test func sigtermStopsTheServerAtOnceEndingOpenStreamsAndLongPolls() async throws {
        let server = try await LiveServer.start()
        var stopped: (seconds: Double, status: Int32?, printed: String)?
        defer { if stopped == nil { Task { await server.stop() } } }
        let started = try await http("POST", "/v1/conversations", server: server)
        let id = try #require(try started.object()["id"] as? String)
        let stream = try await EventStream.open(server, "/v1/conversations/\(id)/events")
        defer { stream.close() }
        async let poll = http(
            "GET", "/v1/conversations/\(id)/events?wait=30", headers: ["Accept": "application/json"],
            server: server)
        try await Task.sleep(for: .milliseconds(300))

        stopped = await server.stop()
        #expect(stopped?.status == 0, "clerk serve was killed after 10 s: \(stopped?.printed ?? "")")
        #expect((stopped?.seconds ?? 99) < 3, "clerk serve took \(stopped?.seconds ?? 0) s to stop")
        let polled = try await poll
        #expect(polled.status == 200, "\(polled)")
        #expect((try polled.object()["events"] as? [Any])?.isEmpty == true, "\(polled)")
        let deadline = ContinuousClock.now + .seconds(2)
        while !stream.isFinished && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(stream.isFinished, "the event stream is still open: \(stream)")
    }

    // MARK: The OpenAPI document

    // These two are last in the file, so they run after the others and see every request they made.

    @Test func everyOperationInTheOpenAPIDocumentWasCalledByATest() throws {
        let made = HTTPRecorder.requests
        guard !made.isEmpty else {
            // Run on its own (a --filter), there is nothing to compare.
            try Test.cancel("run it with the whole HTTPAPITests suite: no HTTP test ran before it")
        }
        let operations = try OpenAPIDocument.load().operations
        #expect(operations.count >= 19)
        for operation in operations {
            #expect(
                made.contains { operation.matches(method: $0.method, path: $0.path) },
                "no test calls \(operation.method) \(operation.path)")
        }
        // And the other way round: every route called on purpose is documented.
        for request in made where request.documented && request.method != "OPTIONS" {
            #expect(
                operations.contains { $0.matches(method: request.method, path: request.path) },
                "\(request.method) \(request.path) is called by a test but not in docs/openapi.yaml")
        }
    }

    @Test(.enabled(if: python3 != nil, "python3 is not installed, so scripts/openapi/validate.py cannot run"))
    func everyResponseATestGotIsDescribedByTheOpenAPIDocument() async throws {
        let made = HTTPRecorder.requests.filter(\.documented)
        guard !made.isEmpty else {
            try Test.cancel("run it with the whole HTTPAPITests suite: no HTTP test ran before it")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clerk-responses-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("responses.json")
        try JSONEncoder().encode(made).write(to: file)
        // Each status and media type must be listed for its operation, and each JSON body must fit the schema.
        let run = try await validateOpenAPI(["--responses", file.path])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("responses fit it"), "\(run.output)")
    }
}

// MARK: - Conversation helpers

/// Starts a conversation; returns its JSON (`id`, `resume_token`, `turn`).
private func startConversation() async throws -> [String: Any] {
    let reply = try await http("POST", "/v1/conversations")
    try #require(reply.status == 201, "\(reply)")
    return try reply.object()
}

/// Sends a message and returns the turn; a reply other than 200 fails the test.
private func say(
    _ text: String, in id: String, sourceLocation: SourceLocation = #_sourceLocation
) async throws
    -> [String: Any]
{
    let reply = try await http("POST", "/v1/conversations/\(id)/messages", json: ["text": text])
    try #require(reply.status == 200, "\(text): \(reply)", sourceLocation: sourceLocation)
    return try reply.object()
}

/// The texts of a turn's messages.
private func texts(_ turn: [String: Any]) -> [String] {
    (turn["messages"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
}

/// A conversation handed over to a person: its id and its ticket's reference.
private func conversationWithTicket() async throws -> (id: String, reference: String) {
    let id = try #require(try await startConversation()["id"] as? String)
    _ = try await say("talk to a person", in: id)
    let handover = try await say("yes", in: id)
    let reference = try #require((handover["ticket"] as? [String: Any])?["reference"] as? String, "\(handover)")
    return (id, reference)
}

/// Long-polls until at least `count` events after `after` have come (events of agents arrive through the store's
/// change feed, within a poll interval).
private func waitForEvents(in id: String, after: Int, count: Int) async throws -> [[String: Any]] {
    var events: [[String: Any]] = []
    let deadline = ContinuousClock.now + .seconds(10)
    while events.count < count && ContinuousClock.now < deadline {
        let last = events.last?["seq"] as? Int ?? after
        let reply = try await http(
            "GET", "/v1/conversations/\(id)/events?after=\(last)&wait=5", headers: ["Accept": "application/json"])
        try #require(reply.status == 200, "\(reply)")
        events += try reply.object()["events"] as? [[String: Any]] ?? []
    }
    return events
}

// MARK: - An HTTP client that records what it calls

/// A request a test made and what it got, for the checks against docs/openapi.yaml.
struct RecordedRequest: Sendable, Hashable, Encodable {
    var method: String
    var path: String
    /// False for requests to routes that do not exist on purpose.
    var documented: Bool
    var status: Int
    var contentType: String?
    /// The body when it is text (not for event streams).
    var body: String?

    enum CodingKeys: String, CodingKey {
        case method, path, status, body
        case contentType = "content_type"
    }
}

/// Every request the HTTP tests make.
enum HTTPRecorder {
    private static let made = Mutex<[RecordedRequest]>([])

    static func record(_ request: RecordedRequest) {
        made.withLock { $0.append(request) }
    }

    static var requests: [RecordedRequest] { made.withLock { $0 } }
}

/// What the server answered.
struct HTTPReply: Sendable, CustomStringConvertible {
    var status: Int
    /// Header values by lowercased name.
    var headers: [String: String]
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// The body as a JSON object.
    func object(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let object = try? JSONSerialization.jsonObject(with: body)
        return try #require(object as? [String: Any], "not a JSON object: \(self)", sourceLocation: sourceLocation)
    }

    /// `error.code` of a JSON error.
    func errorCode(sourceLocation: SourceLocation = #_sourceLocation) throws -> String? {
        (try object(sourceLocation: sourceLocation)["error"] as? [String: Any])?["code"] as? String
    }

    /// `error.message` of a JSON error ("" when there is none).
    func errorMessage(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        (try object(sourceLocation: sourceLocation)["error"] as? [String: Any])?["message"] as? String ?? ""
    }

    var description: String {
        let shown = text.count > 600 ? String(text.prefix(600)) + "…" : text
        return "HTTP \(status) \(headers["content-type"] ?? "") \(shown)"
    }
}

private let session: URLSession = {
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = 30
    configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
    configuration.urlCache = nil
    configuration.httpShouldSetCookies = false
    return URLSession(configuration: configuration)
}()

/// Calls the live server the way `curl` would: `json` is sent as the body with `Content-Type: application/json`
/// (or `body` as it is), `token` as `Authorization: Bearer`.
func http(
    _ method: String, _ path: String, json: [String: Any]? = nil, body: Data? = nil, token: String? = nil,
    headers: [String: String] = [:], documented: Bool = true, server: LiveServer? = nil
) async throws -> HTTPReply {
    let server = try server ?? LiveServer.require()
    let url = try #require(URL(string: path, relativeTo: server.base)?.absoluteURL)
    var request = URLRequest(url: url)
    request.httpMethod = method
    if let json {
        request.httpBody = try JSONSerialization.data(withJSONObject: json)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    } else if let body {
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    let (data, response) = try await session.data(for: request)
    let http = try #require(response as? HTTPURLResponse)
    var fields: [String: String] = [:]
    for (name, value) in http.allHeaderFields {
        if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
    }
    HTTPRecorder.record(
        RecordedRequest(
            method: method, path: url.path, documented: documented, status: http.statusCode,
            contentType: fields["content-type"], body: data.isEmpty ? nil : String(decoding: data, as: UTF8.self)))
    return HTTPReply(status: http.statusCode, headers: fields, body: data)
}

// MARK: - Server-Sent Events

/// One event of a Server-Sent Events stream.
struct ServerSentEvent: Sendable, CustomStringConvertible {
    var id: Int?
    var event: String
    var text: String

    func object(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let object = try? JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(object as? [String: Any], "not a JSON object: \(text)", sourceLocation: sourceLocation)
    }

    var description: String { "#\(id.map(String.init) ?? "-") \(event) \(text)" }
}

/// A Server-Sent Events stream read with URLSession as it arrives, like a browser's `EventSource`.
final class EventStream: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private struct State {
        var pending = ""
        var raw = ""
        var events: [ServerSentEvent] = []
        /// How many events `next` has handed out.
        var consumed = 0
        var finished = false
    }

    private let state = Mutex(State())
    private var task: URLSessionDataTask?
    private var session: URLSession?

    /// Opens the stream and waits for the server's first bytes (`: connected`).
    static func open(
        _ server: LiveServer, _ path: String, headers: [String: String] = [:]
    ) async throws
        -> EventStream
    {
        let url = try #require(URL(string: path, relativeTo: server.base)?.absoluteURL)
        var request = URLRequest(url: url)
        request.setValue("text/event-stream", forHTTPHeaderField: "Accept")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let stream = EventStream()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 60
        let session = URLSession(configuration: configuration, delegate: stream, delegateQueue: nil)
        stream.session = session
        stream.task = session.dataTask(with: request)
        stream.task?.resume()
        let deadline = ContinuousClock.now + .seconds(10)
        while !stream.state.withLock({ $0.raw.contains(": connected") || $0.finished }) {
            try #require(ContinuousClock.now < deadline, "the event stream did not open: \(stream)")
            try await Task.sleep(for: .milliseconds(20))
        }
        HTTPRecorder.record(
            RecordedRequest(
                method: "GET", path: url.path, documented: true, status: stream.status ?? 0,
                contentType: stream.contentType, body: nil))
        return stream
    }

    var status: Int? { (task?.response as? HTTPURLResponse)?.statusCode }

    /// Whether the server ended the stream.
    var isFinished: Bool { state.withLock { $0.finished } }

    var contentType: String? { (task?.response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Type") }

    /// The next event (after those already handed out) that satisfies `predicate`, waiting up to `timeout`.
    func next(
        timeout: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation,
        where predicate: (ServerSentEvent) -> Bool
    ) async throws -> ServerSentEvent {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found: ServerSentEvent? = state.withLock { state in
                for index in state.consumed..<state.events.count where predicate(state.events[index]) {
                    state.consumed = index + 1
                    return state.events[index]
                }
                return nil
            }
            if let found { return found }
            try #require(
                ContinuousClock.now < deadline, "no such event within \(timeout): \(self)",
                sourceLocation: sourceLocation)
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func close() {
        task?.cancel()
        session?.invalidateAndCancel()
    }

    override var description: String {
        state.withLock { "events \($0.events)\(($0.finished ? " (ended)" : ""))\nraw: \($0.raw)" }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        state.withLock { state in
            let text = String(decoding: data, as: UTF8.self)
            state.raw += text
            state.pending += text
            while let end = state.pending.range(of: "\n\n") {
                let block = state.pending[..<end.lowerBound]
                state.pending.removeSubrange(..<end.upperBound)
                var event = ServerSentEvent(id: nil, event: "message", text: "")
                var data: [Substring] = []
                for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix("id: ") {
                        event.id = Int(line.dropFirst(4))
                    } else if line.hasPrefix("event: ") {
                        event.event = String(line.dropFirst(7))
                    } else if line.hasPrefix("data: ") {
                        data.append(line.dropFirst(6))
                    }
                }
                guard !data.isEmpty else { continue }  // comments and `retry:` only
                event.text = data.joined(separator: "\n")
                state.events.append(event)
            }
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        state.withLock { $0.finished = true }
    }
}

// MARK: - The live server

/// `clerk serve` on free ports with a fresh SQLite store, its content the package's own, and four agents made with
/// `clerk agents add`: alice, bob and carol (agents) and root (admin).
final class LiveServer: Sendable {
    @TaskLocal static var current: LiveServer?

    let base: URL
    /// The `--store` argument.
    let store: String
    private let folder: URL
    private let tokens: [String: String]
    private let process: RunningProcess
    private let output: URL

    static func require(sourceLocation: SourceLocation = #_sourceLocation) throws -> LiveServer {
        try #require(current, "not inside the .liveServer suite", sourceLocation: sourceLocation)
    }

    func token(_ name: String) -> String { tokens[name] ?? "" }

    static func start() async throws -> LiveServer {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clerk-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = "sqlite:" + folder.appendingPathComponent("clerk.sqlite").path
        var tokens: [String: String] = [:]
        for (name, role) in [("alice", "agent"), ("bob", "agent"), ("carol", "agent"), ("root", "admin")] {
            let added = try await clerk(["agents", "add", name, "--role", role, "--store", store])
            try #require(added.status == 0, "\(added)")
            tokens[name] = added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        let binary = try #require(clerkBinary, "no clerk binary found: build with 'swift build --build-tests' first")
        let output = folder.appendingPathComponent("serve.out")
        try Data().write(to: output)
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = binary
        process.arguments = [
            "serve", "--http-port", "0", "--chat-port", "0", "--store", store, "--content", packageRoot.path,
        ]
        process.currentDirectoryURL = folder
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()

        // The server prints its address once it listens.
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let printed = String(decoding: (try? Data(contentsOf: output)) ?? Data(), as: UTF8.self)
            if let match = printed.firstMatch(of: #/clerk: serving HTTP on (http://127\.0\.0\.1:\d+)/#),
                let base = URL(string: String(match.1))
            {
                return LiveServer(
                    base: base, store: store, folder: folder, tokens: tokens, process: RunningProcess(process),
                    output: output)
            }
            if !process.isRunning || ContinuousClock.now > deadline {
                if process.isRunning { process.terminate() }
                try? FileManager.default.removeItem(at: folder)
                throw ServerDidNotStart(output: printed)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private init(
        base: URL, store: String, folder: URL, tokens: [String: String], process: RunningProcess, output: URL
    ) {
        self.base = base
        self.store = store
        self.folder = folder
        self.tokens = tokens
        self.process = process
        self.output = output
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s) and removes its store. Returns how long it took, its exit
    /// status (nil when it had to be killed) and what it printed.
    @discardableResult
    func stop() async -> (seconds: Double, status: Int32?, printed: String) {
        let process = self.process.process
        let start = ContinuousClock.now
        process.terminate()
        var status: Int32?
        while true {
            if !process.isRunning {
                status = process.terminationStatus
                break
            }
            if ContinuousClock.now - start > .seconds(10) {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                break
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let elapsed = ContinuousClock.now - start
        let printed = self.printed
        try? FileManager.default.removeItem(at: folder)
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, status, printed)
    }

    /// What the server printed so far.
    var printed: String { String(decoding: (try? Data(contentsOf: output)) ?? Data(), as: UTF8.self) }
}

/// A child process, owned by one ``LiveServer``.
final class RunningProcess: @unchecked Sendable {
    let process: Process

    init(_ process: Process) { self.process = process }
}

struct ServerDidNotStart: Error, CustomStringConvertible {
    var output: String
    var description: String { "clerk serve did not print its HTTP address:\n\(output)" }
}

/// Starts one `clerk serve` for the whole suite and stops it afterwards.
struct LiveServerTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let server = try await LiveServer.start()
        do {
            try await LiveServer.$current.withValue(server) { try await function() }
        } catch {
            await server.stop()
            throw error
        }
        let stopped = await server.stop()
        #expect(stopped.status == 0, "clerk serve did not stop on SIGTERM within 10 s:\n\(stopped.printed)")
    }
}

extension Trait where Self == LiveServerTrait {
    /// One `clerk serve` for the suite, reached with ``LiveServer/current``.
    static var liveServer: Self { LiveServerTrait() }
}

/// One HTTP/1.1 response read from a raw socket: status line, headers, and a body of `Content-Length` bytes.
struct RawResponse: Sendable, CustomStringConvertible {
    var status: Int
    var headers: [String: String]
    var body: String
    var description: String { "\(status) \(headers) \(body)" }
}

func rawResponse(_ socket: inout LineSocket) throws -> RawResponse {
    let statusLine = try #require(try socket.line(), "the server closed the connection")
    let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
    var headers: [String: String] = [:]
    while let line = try socket.line()?.trimmingCharacters(in: .whitespacesAndNewlines), !line.isEmpty {
        let parts = line.split(separator: ":", maxSplits: 1)
        if parts.count == 2 {
            headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces)
        }
    }
    let length = Int(headers["content-length"] ?? "0") ?? 0
    return RawResponse(
        status: status, headers: headers, body: String(decoding: try socket.bytes(length), as: UTF8.self))
}
