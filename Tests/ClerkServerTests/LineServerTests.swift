import ClerkStore
import Foundation
import NIOCore
import Testing

@testable import ClerkServer

@Suite("Line protocol over real sockets")
struct LineServerTests {
    // MARK: Conversations

    @Test func aClientIsGreetedAndEachOfTwoTurnsEndsWithEND() async throws {
        try await withLineServer { server in
            try await withConnection(to: server.port) { connection in
                let greeting = try await connection.greeting()
                #expect(greeting.lines.contains { $0.hasPrefix("SAY Hello!") }, "\(greeting.lines)")
                #expect(greeting.lines.last == "END")
                #expect(server.harness.conversations.exists(greeting.id))

                let hello = try await connection.turn("hello")
                #expect(hello.first?.hasPrefix("SAY ") == true, "\(hello)")
                #expect(hello.last == "END")
                let passport = try await connection.turn("how much is a passport")
                #expect(passport.contains { $0.hasPrefix("SAY ") && $0.contains("€35") }, "\(passport)")
                #expect(passport.last == "END")
            }
        }
    }

    @Test func optionsAreNumberedLines() async throws {
        try await withLineServer { server in
            try await withConnection(to: server.port) { connection in
                _ = try await connection.greeting()
                let reply = try await connection.turn("hello")
                let options = reply.filter { $0.hasPrefix("OPTION ") }
                #expect(!options.isEmpty, "\(reply)")
                #expect(options.first?.hasPrefix("OPTION 1 ") == true, "\(reply)")
            }
        }
    }

    @Test func anAgentsReplyArrivesBetweenTurnsAndTheBotStaysSilent() async throws {
        try await withLineServer { server in
            let running = server.harness.runInBackground()
            defer { running.cancel() }
            try await withConnection(to: server.port) { connection in
                _ = try await connection.greeting()
                let handover = try await connection.turn("/human")
                let ticketLine = try #require(handover.first { $0.hasPrefix("TICKET T-") }, "\(handover)")
                #expect(ticketLine.split(separator: " ")[2] == "queued", "\(ticketLine)")
                #expect(handover.contains { $0.contains("Your reference is T-") }, "\(handover)")
                let ticket = try #require(TicketReference(String(ticketLine.split(separator: " ")[1])))

                let store = server.harness.store
                try await store.claim(ticket, agent: "alice")
                try await store.agentReply(ticket, text: "Hello, I am Alice.\nHow can I help?")
                // Nothing was sent: these lines come unasked, between turns.
                let pushed = try await connection.lines { $0.hasPrefix("AGENT alice How") }
                #expect(pushed.contains("AGENT-JOINED alice"), "\(pushed)")
                #expect(pushed.suffix(2) == ["AGENT alice Hello, I am Alice.", "AGENT alice How can I help?"])
                let waiting = try await connection.line()
                #expect(waiting == "TICKET \(ticket) waiting_on_citizen")

                let silent = try await connection.turn("thank you, my passport expired")
                #expect(!silent.contains { $0.hasPrefix("SAY ") }, "the bot is silent: \(silent)")
                #expect(silent.last == "END")
                #expect(try await store.ticket(ticket)?.transcript.last?.text == "thank you, my passport expired")
            }
        }
    }

    @Test func resumingWithTheSecretTokenAfterReconnectingContinuesTheConversation() async throws {
        try await withLineServer { server in
            let first = try await withConnection(to: server.port) { connection in
                let greeting = try await connection.greeting()
                let handover = try await connection.turn("/human")
                let ticketLine = try #require(handover.first { $0.hasPrefix("TICKET ") }, "\(handover)")
                return (greeting, ticketLine)
            }
            try await withConnection(to: server.port) { connection in
                let greeting = try await connection.greeting()
                #expect(greeting.id != first.0.id)
                let wrong = try await connection.turn("/resume \(first.0.token)x")
                #expect(wrong.count == 1 && wrong[0].hasPrefix("ERROR invalid-token "), "\(wrong)")
                let reference = String(first.1.split(separator: " ")[1])
                let byReference = try await connection.turn("/resume \(reference)")
                #expect(byReference.first?.hasPrefix("ERROR invalid-token ") == true, "\(byReference)")

                let resumed = try await connection.turn("/resume \(first.0.token)")
                #expect(resumed == ["RESUMED \(first.0.id)", first.1, "END"])
                let again = try await connection.turn("/human")
                #expect(again.contains { $0.contains("already in the queue with \(reference)") }, "\(again)")
            }
        }
    }

    /// The last line counts with or without its line end.
    @Test(arguments: ["hello\nhow much is a passport\n", "hello\nhow much is a passport"])
    func aClientThatHalfClosesAfterSendingStillGetsEveryReply(sent: String) async throws {
        try await withLineServer { server in
            try await withConnection(to: server.port) { connection in
                _ = try await connection.greeting()
                try await connection.send(bytes: Array(sent.utf8))
                connection.finishSending()
                let rest = try await connection.lines { _ in false }
                #expect(rest.filter { $0 == "END" }.count == 2, "\(rest)")
                #expect(rest.contains { $0.contains("€35") }, "\(rest)")
            }
        }
    }

    // MARK: Commands

    @Test func doubleSlashSendsAMessageThatBeginsWithASlash() async throws {
        try await withLineServer { server in
            let start = Date()
            try await withConnection(to: server.port) { connection in
                _ = try await connection.greeting()
                let reply = try await connection.turn("//hello")
                #expect(reply.last == "END", "not a command: \(reply)")
                #expect(!reply.contains { $0.hasPrefix("ERROR") }, "\(reply)")
            }
            await server.harness.conversations.flush()
            let turns = try await server.harness.store.turns(from: start, to: Date().addingTimeInterval(60))
            #expect(turns.map(\.text) == ["/hello"])
        }
    }

    @Test func helpLangAndFeedbackAnswerAndQuitSaysByeAndCloses() async throws {
        try await withLineServer { server in
            try await withConnection(to: server.port) { connection in
                _ = try await connection.greeting()
                let help = try await connection.turn("/help")
                #expect(help.contains { $0.contains("/resume TOKEN") } && help.last == "END", "\(help)")
                #expect(try await connection.turn("/lang") == ["LANG en", "SAY I answer in English.", "END"])
                #expect(
                    try await connection.turn("/feedback yes it helped") == ["SAY Thank you for your feedback.", "END"])
                let badFeedback = try await connection.turn("/feedback maybe")
                #expect(badFeedback.first?.hasPrefix("ERROR bad-feedback ") == true, "\(badFeedback)")
                try await connection.send("/quit")
                #expect(try await connection.line() == "BYE goodbye")
                #expect(try await connection.isClosedByServer())
            }
        }
    }

    // MARK: Bad input

    @Test func anUnknownCommandIsAnErrorAndTheConnectionStaysOpen() async throws {
        try await withLineServer { server in
            try await withConnection(to: server.port) { connection in
                _ = try await connection.greeting()
                let reply = try await connection.turn("/frobnicate now")
                #expect(reply.count == 1 && reply[0].hasPrefix("ERROR unknown-command "), "\(reply)")
                #expect(try await connection.turn("hello").last == "END")
            }
        }
    }

    @Test func aLineOverFourKiBIsAnErrorItsRestIsDiscardedAndTheNextLineWorks() async throws {
        try await withLineServer { server in
            try await withConnection(to: server.port) { connection in
                _ = try await connection.greeting()
                // 20 KiB in several writes before the line ends: none of it may reach the conversation.
                for _ in 0..<5 { try await connection.send(bytes: Array(repeating: UInt8(ascii: "a"), count: 4096)) }
                try await connection.send(bytes: Array("/quit\n".utf8))
                let error = try await connection.reply()
                #expect(error.count == 1 && error[0].hasPrefix("ERROR line-too-long "), "\(error)")
                let next = try await connection.turn("how much is a passport")
                #expect(next.contains { $0.contains("€35") }, "\(next)")
            }
        }
    }

    @Test func aLineOfExactlyFourKiBIsAccepted() async throws {
        try await withLineServer { server in
            try await withConnection(to: server.port) { connection in
                _ = try await connection.greeting()
                let line = String(repeating: "passport ", count: 455) + "fee!"  // 4,099 bytes
                let exact = String(line.prefix(4096))
                let reply = try await connection.turn(exact)
                #expect(reply.last == "END", "\(reply)")
            }
        }
    }

    @Test func aFourKiBLineWhoseCRLFIsSplitAcrossPacketsIsAccepted() async throws {
        try await withLineServer { server in
            try await withConnection(to: server.port) { connection in
                _ = try await connection.greeting()
                let exact = String((String(repeating: "passport ", count: 456)).prefix(4096))
                try await connection.send(bytes: Array((exact + "\r").utf8))
                try await Task.sleep(for: .milliseconds(100))
                try await connection.send(bytes: [UInt8(ascii: "\n")])
                let reply = try await connection.reply()
                #expect(reply.last == "END", "\(reply)")
            }
        }
    }

    @Test(
        arguments: [
            ([0xFF, 0xFE, 0x41], "ERROR invalid-utf8 "),
            ([0xC3, 0x28], "ERROR invalid-utf8 "),
            ([0xED, 0xA0, 0x80], "ERROR invalid-utf8 "),  // a UTF-16 surrogate
            (Array("hel\0lo".utf8), "ERROR control-characters "),
            (Array("\u{1B}[31mred".utf8), "ERROR control-characters "),
            (Array("a\rb".utf8), "ERROR control-characters "),
            (Array("bell\u{07}".utf8), "ERROR control-characters "),
            (Array("del\u{7F}".utf8), "ERROR control-characters "),
        ] as [([UInt8], String)])
    func badBytesInALineAreAnErrorAndTheConnectionStaysOpen(_ bytes: [UInt8], _ error: String) async throws {
        try await withLineServer { server in
            try await withConnection(to: server.port) { connection in
                _ = try await connection.greeting()
                try await connection.send(bytes: bytes + [UInt8(ascii: "\n")])
                let reply = try await connection.reply()
                #expect(reply.count == 1 && reply[0].hasPrefix(error), "\(reply)")
                #expect(try await connection.turn("how much is a passport").contains { $0.contains("€35") })
            }
        }
    }

    @Test func crlfLineEndsAreAccepted() async throws {
        try await withLineServer { server in
            try await withConnection(to: server.port) { connection in
                _ = try await connection.greeting()
                try await connection.send(bytes: Array("how much is a passport\r\n/lang\r\n".utf8))
                let passport = try await connection.reply()
                #expect(passport.contains { $0.contains("€35") }, "\(passport)")
                #expect(try await connection.reply() == ["LANG en", "SAY I answer in English.", "END"])
            }
        }
    }

    @Test func thirtyLinesAtOnceAreRateLimitedButEachGetsAnAnswer() async throws {
        try await withLineServer { server in
            try await withConnection(to: server.port) { connection in
                _ = try await connection.greeting()
                try await connection.send(bytes: Array(String(repeating: "hello\n", count: 30).utf8))
                var answered = 0
                var limited = 0
                for _ in 0..<30 {
                    let reply = try await connection.reply()
                    if reply.last == "END" { answered += 1 }
                    if reply.first?.hasPrefix("ERROR rate-limited ") == true { limited += 1 }
                }
                #expect(answered + limited == 30)
                #expect(limited > 0)
                #expect(answered >= 10, "the burst of 10 is answered")
                // The connection stays open: a message after a pause is answered.
                try await Task.sleep(for: .milliseconds(400))
                #expect(try await connection.turn("hello").last == "END")
            }
        }
    }

    /// Bytes that never make a whole line (`partialLines` of them, sent now and then) do not keep a connection open.
    @Test(arguments: [0, 3])
    func anIdleConnectionGetsAGoodbyeAndIsClosed(partialLines: Int) async throws {
        var settings = LineServerSettings()
        settings.idleTimeout = .seconds(1)
        try await withLineServer(settings) { server in
            let connected = ContinuousClock.now
            try await withConnection(to: server.port) { connection in
                for _ in 0..<partialLines {
                    try await connection.send(bytes: Array("how much".utf8))
                    try await Task.sleep(for: .milliseconds(200))
                }
                // Everything up to the close: the greeting (unless a busy machine delays it past the timeout),
                // then the goodbye as the last line.
                let lines = try await connection.lines { _ in false }
                #expect(ContinuousClock.now - connected >= .milliseconds(900), "not before the timeout")
                #expect(lines.last?.hasPrefix("BYE idle ") == true, "\(lines)")
                #expect(lines.dropLast().allSatisfy { !$0.hasPrefix("BYE") }, "\(lines)")
            }
        }
    }

    @Test func aConnectionBeyondTheMaximumGetsAnErrorAndIsClosed() async throws {
        var settings = LineServerSettings()
        settings.maxConnections = 2
        try await withLineServer(settings) { server in
            try await withConnection(to: server.port) { first in
                _ = try await first.greeting()
                try await withConnection(to: server.port) { second in
                    _ = try await second.greeting()
                    try await withConnection(to: server.port) { third in
                        let refused = try await third.line()
                        #expect(refused?.hasPrefix("ERROR too-many-connections ") == true, "\(refused ?? "closed")")
                        #expect(try await third.isClosedByServer())
                    }
                    #expect(try await second.turn("hello").last == "END", "the others are served as before")
                }
            }
            // Once the others have left there is room again.
            var served = false
            for _ in 0..<50 where !served {
                served = try await withConnection(to: server.port) { connection in
                    try await connection.line()?.hasPrefix("HELLO ") == true
                }
                if !served { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(served)
        }
    }

    @Test func randomBytesNeverBringTheServerDown() async throws {
        try await withLineServer { server in
            var generator = SplitMix64(seed: 42)
            try await withConnection(to: server.port) { connection in
                _ = try await connection.greeting()
                for _ in 0..<16 {
                    let bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    try await connection.send(bytes: bytes)
                }
            }
            try await withConnection(to: server.port) { connection in
                _ = try await connection.greeting()
                #expect(try await connection.turn("how much is a passport").contains { $0.contains("€35") })
            }
        }
    }
}

/// A small seeded generator, so the random bytes are the same on every run.
@Suite("Line protocol: how a reply is written")
struct LineReplyTests {
    @Test func eachLineOfAMessageIsItsOwnSAYLineAndBlankLinesAreLeftOut() {
        let reply = BotReply(
            messages: ["\nFees: €35.\n\nSource: https://example.city/passport\n", "", "One line", "\n"],
            quickReplies: ["How long?"], handoff: .none, outcome: "answer")
        #expect(
            ConnectionState.lines(for: reply) == [
                "SAY Fees: €35.", "SAY Source: https://example.city/passport", "SAY One line", "OPTION 1 How long?",
                "END",
            ])
    }
}

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
