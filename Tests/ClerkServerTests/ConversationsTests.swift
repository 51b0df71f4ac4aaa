import ClerkEngine
import ClerkStore
import Foundation
import Testing

@testable import ClerkServer

@Suite("Conversations: handover, agents, ticket status, resume")
struct ConversationsTests {
    // MARK: Event streams

    @Test(.timeLimit(.minutes(1)))
    func tabsThatCloseWhileAnAgentWritesNeverStallTheConversation() async throws {
        // Widget tabs that close (their event streams cancelled) at the moment an agent's message is delivered
        // must not block the delivery or the conversation: every message still reaches a tab that stays open.
        try await withHarness { harness in
            let running = harness.runInBackground()
            defer { running.cancel() }
            let id = harness.conversations.start().id
            let handover = try await harness.say(["I want to talk to a person", "yes"], in: id)[1]
            let ticket = try #require(reference(in: handover.text), "\(handover)")
            try await harness.store.claim(ticket, agent: "alice")
            let open = EventRecorder(try await harness.conversations.events(of: id))
            defer { open.stop() }

            let churn = Task {
                for _ in 0..<3000 {
                    let stream = try await harness.conversations.sequencedEvents(of: id)
                    let reader = Task { for await _ in stream {} }
                    await Task.yield()
                    reader.cancel()
                }
            }
            for number in 1...60 {
                try await harness.store.agentReply(ticket, text: "Message \(number)")
                try await Task.sleep(for: .milliseconds(5))
            }
            try await churn.value
            let last = await open.first { $0 == .agentMessage(agent: "alice", text: "Message 60") }
            #expect(last != nil, "the open tab did not get the last message: \(open.events.suffix(3))")
        }
    }

    // MARK: Handover

    @Test func askingForAPersonAsksConsentThenGivesAReferenceAndQueuesTheMaskedTranscript() async throws {
        try await withHarness { harness in
            let id = harness.conversations.start().id
            let replies = try await harness.say(
                ["How much is a passport? Write to me at jane.doe@example.org", "I want to talk to a person"], in: id)
            #expect(replies[1].text.contains("Shall I pass this"), "\(replies[1])")
            #expect(replies[1].ticket == nil)
            #expect(try await harness.store.tickets(status: nil, limit: 10).isEmpty, "no ticket before consent")

            let yes = try await harness.conversations.send("yes", to: id).0
            #expect(yes.text.contains("Your reference is T-"), "\(yes)")
            #expect(yes.handoff == .queued)
            let shown = try #require(reference(in: yes.text), "\(yes)")
            #expect(yes.ticket?.reference == shown.description)
            #expect(yes.ticket?.status == "queued")

            let ticket = try #require(try await harness.store.ticket(shown))
            #expect(ticket.status == .queued)
            #expect(ticket.priority == .normal)
            #expect(ticket.conversationID == id)
            let transcript = ticket.transcript.map(\.text).joined(separator: "\n")
            #expect(transcript.contains("Write to me at [e-mail]"), "\(transcript)")
            #expect(!transcript.contains("jane.doe"), "\(transcript)")
            #expect(transcript.contains("I want to talk to a person"), "\(transcript)")
        }
    }

    @Test func sayingNoToTheConsentQuestionCreatesNoTicket() async throws {
        try await withHarness { harness in
            let id = harness.conversations.start().id
            let replies = try await harness.say(["I want to talk to a person", "no"], in: id)
            #expect(replies[1].ticket == nil, "\(replies[1])")
            #expect(!replies[1].text.contains("Your reference is"), "\(replies[1])")
            #expect(try await harness.store.tickets(status: nil, limit: 10).isEmpty)
        }
    }

    @Test func someoneInDangerGetsTheEmergencyNumberFirstAndAnUrgentTicketAtOnce() async throws {
        try await withHarness { harness in
            let id = harness.conversations.start().id
            let reply = try await harness.conversations.send("my partner hits me", to: id).0
            let brain = try #require(shippedBrain)
            #expect(reply.messages.first == brain.settings.emergencyMessage, "\(reply)")
            #expect(reply.text.contains("112"))
            #expect(!reply.text.contains("Shall I pass"), "no consent question: \(reply)")
            let shown = try #require(reference(in: reply.text), "\(reply)")
            let ticket = try #require(try await harness.store.ticket(shown))
            #expect(ticket.priority == .urgent)
            #expect(ticket.status == .queued)
        }
    }

    @Test func anEMailGivenAfterTheHandoverBecomesTheTicketsContact() async throws {
        try await withHarness { harness in
            let id = harness.conversations.start().id
            let replies = try await harness.say(
                ["I want to talk to a person", "yes", "you can reach me at jane.doe@example.org"], in: id)
            #expect(replies[1].text.contains("e-mail address or phone number"), "contact is offered: \(replies[1])")
            #expect(replies[2].text.contains("jane.doe@example.org"), "\(replies[2])")
            let shown = try #require(reference(in: replies[1].text))
            let ticket = try #require(try await harness.store.ticket(shown))
            #expect(ticket.contact == "jane.doe@example.org")
            // The transcript keeps the masked form; only the contact field holds the address.
            #expect(!ticket.transcript.contains { $0.text.contains("jane.doe") })
        }
    }

    @Test func decliningToGiveContactDetailsKeepsTheTicketWithoutContact() async throws {
        try await withHarness { harness in
            let id = harness.conversations.start().id
            let replies = try await harness.say(["I want to talk to a person", "yes", "no thanks"], in: id)
            #expect(replies[2].text.contains("A person will answer here"), "\(replies[2])")
            let shown = try #require(reference(in: replies[1].text))
            #expect(try await harness.store.ticket(shown)?.contact == nil)
        }
    }

    @Test func askingAgainWhileQueuedRepeatsTheReferenceInsteadOfOpeningAnotherTicket() async throws {
        try await withHarness { harness in
            let id = harness.conversations.start().id
            let handover = try await harness.say(["I want to talk to a person", "yes"], in: id)[1]
            let again = try await harness.conversations.requestPerson(in: id)
            let shown = try #require(reference(in: handover.text))
            #expect(again.text.contains("already in the queue with \(shown)"), "\(again)")
            #expect(try await harness.store.tickets(status: nil, limit: 10).count == 1)
        }
    }

    // MARK: People answering

    @Test func anAgentsClaimAndReplyReachTheConversationAndTheBotStaysSilentUntilResolved() async throws {
        try await withHarness { harness in
            let running = harness.runInBackground()
            defer { running.cancel() }
            let id = harness.conversations.start().id
            let events = EventRecorder(try await harness.conversations.events(of: id))
            defer { events.stop() }
            let handover = try await harness.say(["I want to talk to a person", "yes"], in: id)[1]
            let ticket = try #require(reference(in: handover.text), "\(handover)")

            try await harness.store.claim(ticket, agent: "alice")
            let joined = await events.first { $0 == .agentJoined(agent: "alice") }
            #expect(joined != nil, "no agentJoined event: \(events.events)")
            #expect(try await harness.conversations.status(of: id).0 == .withAgent)

            try await harness.store.agentReply(ticket, text: "Hello, I am Alice. How can I help?")
            let message = await events.first {
                $0 == .agentMessage(agent: "alice", text: "Hello, I am Alice. How can I help?")
            }
            #expect(message != nil, "no agentMessage event: \(events.events)")

            // While a person holds the conversation, the citizen's messages go to the ticket and the bot is silent.
            let silent = try await harness.conversations.send("How much is a passport? My number is 5551234567", to: id)
                .0
            #expect(silent.messages.isEmpty, "\(silent)")
            #expect(silent.outcome == "agent")
            #expect(silent.handoff == .withAgent)
            let stored = try #require(try await harness.store.ticket(ticket))
            #expect(stored.status == .assigned)
            #expect(stored.transcript.last?.author == .citizen)
            #expect(stored.transcript.last?.text == "How much is a passport? My number is [number]")

            try await harness.store.resolve(ticket, actor: "alice")
            let notice = await events.first {
                if case .bot(let reply) = $0 { return reply.text.contains("resolved") }
                return false
            }
            #expect(notice != nil, "no notice that the person resolved it: \(events.events)")
            let answer = try await harness.conversations.send("How much is a passport?", to: id).0
            #expect(answer.text.contains("€35"), "the bot answers again: \(answer)")
            #expect(answer.handoff == .resolved)
        }
    }

    @Test func aCitizenMessageAfterResolutionFromTheQueueReopensTheTicket() async throws {
        try await withHarness { harness in
            let running = harness.runInBackground()
            defer { running.cancel() }
            let id = harness.conversations.start().id
            let events = EventRecorder(try await harness.conversations.events(of: id))
            defer { events.stop() }
            let handover = try await harness.say(["I want to talk to a person", "yes"], in: id)[1]
            let ticket = try #require(reference(in: handover.text))
            try await harness.store.claim(ticket, agent: "alice")
            try await harness.store.resolve(ticket, actor: "alice")
            let resolved = await events.first {
                if case .ticketStatus(let summary) = $0 { return summary.status == "resolved" }
                return false
            }
            #expect(resolved != nil, "\(events.events)")
            let again = try await harness.conversations.requestPerson(in: id)
            #expect(again.text.contains("I have reopened \(ticket)"), "\(again)")
            #expect(try await harness.store.ticket(ticket)?.status == .queued)
        }
    }

    @Test func aNumberWrittenAfterThePersonResolvedItIsAQuestionNotContactDetails() async throws {
        try await withHarness { harness in
            let running = harness.runInBackground()
            defer { running.cancel() }
            let id = harness.conversations.start().id
            let events = EventRecorder(try await harness.conversations.events(of: id))
            defer { events.stop() }
            // The contact offer comes with the reference; a person takes over before the citizen answers it.
            let handover = try await harness.say(["I want to talk to a person", "yes"], in: id)[1]
            let ticket = try #require(reference(in: handover.text))
            try await harness.store.claim(ticket, agent: "alice")
            #expect(await events.first { $0 == .agentJoined(agent: "alice") } != nil, "\(events.events)")
            _ = try await harness.conversations.send("thank you for taking this", to: id)
            try await harness.store.resolve(ticket, actor: "alice")
            let resolved = await events.first {
                if case .bot(let reply) = $0 { return reply.text.contains("resolved") }
                return false
            }
            #expect(resolved != nil, "\(events.events)")

            let reply = try await harness.conversations.send(
                "my ID code is 38501012234, how much is a passport?", to: id
            ).0
            #expect(reply.text.contains("€35"), "\(reply)")
            #expect(try await harness.store.ticket(ticket)?.contact == nil)
        }
    }

    @Test func aTransferAnnouncesThePersonWhoNowHasTheConversation() async throws {
        try await withHarness { harness in
            let running = harness.runInBackground()
            defer { running.cancel() }
            let id = harness.conversations.start().id
            let events = EventRecorder(try await harness.conversations.events(of: id))
            defer { events.stop() }
            let handover = try await harness.say(["I want to talk to a person", "yes"], in: id)[1]
            let ticket = try #require(reference(in: handover.text))
            try await harness.store.claim(ticket, agent: "alice")
            #expect(await events.first { $0 == .agentJoined(agent: "alice") } != nil, "\(events.events)")

            // A supervisor hands the conversation from Alice to Bob.
            try await harness.store.transfer(ticket, to: "bob", actor: "sam")
            let transferred = await events.waitUntil { events in
                events.count { if case .ticketStatus = $0 { true } else { false } } >= 2
            }
            #expect(transferred, "the transfer reached the conversation: \(events.events)")
            #expect(events.events.contains(.agentJoined(agent: "bob")), "\(events.events)")
            #expect(!events.events.contains(.agentJoined(agent: "sam")), "\(events.events)")
        }
    }

    // MARK: Ticket status

    @Test func askingForATicketsStatusRevealsOnlyItsStatus() async throws {
        try await withHarness { harness in
            let created = try await harness.store.createTicket(
                NewTicket(
                    conversationID: "someone-else", service: "passport",
                    transcript: [TicketMessage(author: .citizen, text: "My secret problem", at: Date())]))
            _ = try await harness.store.setContact(created.reference, contact: "secret@example.org")
            let id = harness.conversations.start().id
            let reply = try await harness.conversations.send("what's the status of \(created.reference)", to: id).0
            #expect(reply.text.contains("\(created.reference) is waiting for a person"), "\(reply)")
            #expect(!reply.text.contains("secret"), "\(reply)")
            #expect(reply.ticket == nil, "the looked-up ticket is not this conversation's ticket")
        }
    }

    @Test func askingForAnUnknownTicketSaysItCannotBeFound() async throws {
        try await withHarness { harness in
            let id = harness.conversations.start().id
            let reply = try await harness.conversations.send("what's the status of T-9999", to: id).0
            #expect(reply.text.contains("I cannot find T-9999"), "\(reply)")
        }
    }

    @Test func withTheStoreDownAPersonCannotBeReachedButQuestionsAreStillAnswered() async throws {
        try await withHarness(store: UnavailableStore(reason: "test: disk gone")) { harness in
            let settings = fastSettings()
            let id = harness.conversations.start().id
            let replies = try await harness.say(
                ["I want to talk to a person", "yes", "How much is a passport?", "what's the status of T-1042"],
                in: id)
            #expect(replies[1].text.contains(settings.fallbackContact), "\(replies[1])")
            #expect(!replies[1].text.contains("Your reference is"), "\(replies[1])")
            #expect(replies[1].ticket == nil)
            #expect(replies[2].text.contains("€35"), "\(replies[2])")
            #expect(replies[3].text.contains(settings.fallbackContact), "\(replies[3])")
            let danger = try await harness.conversations.send("my partner hits me", to: id).0
            #expect(danger.text.contains("112"), "the emergency number is shown even so: \(danger)")
            #expect(danger.text.contains(settings.fallbackContact), "\(danger)")
        }
    }

    // MARK: Resume

    @Test func resumingWithTheTokenAfterARestartRestoresTheServiceAndTheTicket() async throws {
        try await withHarness { before in
            let handle = before.conversations.start()
            let replies = try await before.say(
                ["How much is a passport?", "I want to talk to a person", "yes"], in: handle.id)
            #expect(replies[0].service == "passport", "\(replies[0])")
            let ticket = try #require(reference(in: replies[2].text), "\(replies[2])")
            await before.conversations.flush()

            // A new process: a new Conversations over the same store file, knowing nothing of the conversation.
            let after = try await before.restarted()
            #expect(!after.conversations.exists(handle.id))
            let resumed = try await after.conversations.resume(token: handle.resumeToken)
            #expect(resumed == handle.id)
            let (state, summary) = try await after.conversations.status(of: resumed)
            #expect(state == .queued)
            #expect(summary?.reference == ticket.description)
            // The engine remembers the service: a follow-up that does not name it is still about passports.
            let followUp = try await after.conversations.send("how long does it take?", to: resumed).0
            #expect(followUp.service == "passport", "\(followUp)")

            await #expect(throws: ConversationError.invalidResumeToken) {
                try await after.conversations.resume(token: "not-the-token")
            }
            await #expect(throws: ConversationError.invalidResumeToken, "a ticket reference never resumes") {
                try await after.conversations.resume(token: ticket.description)
            }
            await after.store.shutdown()
        }
    }

    @Test func aLongConversationShowsItsLastLinesAfterARestartThoughItsTranscriptWasSavedInPieces() async throws {
        try await withHarness { before in
            let handle = before.conversations.start()
            // 700 turns, saved every 25: far more lines than are kept, so the stored transcript is shortened too.
            for round in 0..<28 {
                _ = try await before.say(
                    (0..<25).map { "how much is a passport? (\(round * 25 + $0))" }, in: handle.id)
                await before.conversations.flush()
            }
            let shown = try await before.conversations.history(of: handle.id)
            #expect(shown.count == 500)
            let stored = try #require(try await before.store.session(id: handle.id))
            #expect(stored.transcript.count < 28, "appended in chunks, some replaced: \(stored.transcript.count)")

            let after = try await before.restarted()
            let resumed = try await after.conversations.resume(token: handle.resumeToken)
            #expect(try await after.conversations.history(of: resumed) == shown)
            await after.store.shutdown()
        }
    }

    @Test func aConversationSavedByTheVersionBeforeResumesWithItsTranscript() async throws {
        try await withHarness { before in
            // A session saved with its transcript inside its state, as before transcripts were stored apart.
            let said = Date(timeIntervalSinceReferenceDate: 786_000_000.25)
            let old = SessionSnapshot(
                engine: ConversationState(),
                history: [
                    TicketMessage(author: .citizen, text: "how much is a passport", at: said),
                    TicketMessage(author: .bot, text: "A passport costs €35.", at: said),
                ], ticket: nil, ended: false)
            let token = "an-old-token"
            try await before.store.saveSession(
                id: "c_old", resumeTokenHash: AgentToken.hash(token), state: try JSONEncoder().encode(old),
                updatedAt: before.conversations.clock())

            let resumed = try await before.conversations.resume(token: token)
            #expect(
                try await before.conversations.history(of: resumed).map(\.text).prefix(2) == [
                    "how much is a passport", "A passport costs €35.",
                ])
            _ = try await before.say(["thanks"], in: resumed)
            await before.conversations.flush()

            // Saved again, the old lines are kept with the new ones.
            let after = try await before.restarted()
            let again = try await after.conversations.resume(token: token)
            let texts = try await after.conversations.history(of: again).map(\.text)
            #expect(texts.prefix(3) == ["how much is a passport", "A passport costs €35.", "thanks"], "\(texts)")
            await after.store.shutdown()
        }
    }

    @Test func feedbackOnAnEarlierAnswerIsCountedForThatAnswersIntent() async throws {
        try await withHarness { harness in
            let start = Date().addingTimeInterval(-1)
            let id = harness.conversations.start().id
            let replies = try await harness.say(
                ["how much is a passport", "who can get child benefit"], in: id)
            let first = try #require(replies[0].intent, "\(replies[0])")
            #expect(replies[1].intent != first, "\(replies[1])")
            #expect(replies[0].turnID == "t1")
            await harness.conversations.feedback(on: id, turn: "t1", helpful: false, comment: nil)
            // A turn id this conversation never gave counts for its last answer.
            await harness.conversations.feedback(on: id, turn: "t99", helpful: true, comment: nil)
            await harness.conversations.flush()
            let logged = try await harness.store.turns(from: start, to: Date().addingTimeInterval(1))
            #expect(logged.first { $0.outcome == "feedback_not_helpful" }?.intent == first, "\(logged)")
            #expect(logged.first { $0.outcome == "feedback_helpful" }?.intent == replies[1].intent, "\(logged)")
        }
    }

    @Test func aFollowUpInANewConversationDoesNotKnowTheService() async throws {
        try await withHarness { harness in
            let id = harness.conversations.start().id
            let reply = try await harness.conversations.send("how long does it take?", to: id).0
            #expect(reply.service != "passport", "\(reply)")
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func closingTheStreamsAtShutdownEndsEverySubscription() async throws {
        try await withHarness { harness in
            let id = harness.conversations.start().id
            let events = try await harness.conversations.sequencedEvents(of: id)
            let poll = Task { try await harness.conversations.events(of: id, after: 0, wait: .seconds(30)) }
            try await Task.sleep(for: .milliseconds(100))
            await harness.conversations.closeStreams()
            for await _ in events {}
            #expect(try await poll.value.isEmpty)
            // The conversation still answers afterwards.
            #expect(try await harness.conversations.send("hello", to: id).0.messages.isEmpty == false)
        }
    }
}
