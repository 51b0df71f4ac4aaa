import ClerkEngine
import ClerkStore
import Foundation
import NIOCore
import Testing

@testable import ClerkServer

@Suite("The chat endpoint's JSON")
struct FastJSONTests {
    @Test func aTurnWrittenDirectlyIsTheSameDocumentTheEncoderWrites() throws {
        let reply = BotReply(
            messages: ["Fees for \"Passport\": €35.\nSource: https://example.city/a/b", "tab\there \\ back\u{1}"],
            quickReplies: ["How long?", "Ünïcödé ＩＤ"],
            links: [TurnLink(title: "Passport", url: "https://example.city/services/passport")],
            ticket: TicketSummary(
                reference: "T-1001", status: "queued", replyBy: Date(timeIntervalSince1970: 1_764_601_200)),
            handoff: .queued, outcome: "handoff", intent: nil, service: "passport", turnID: "t3")
        let fast = FastJSON.turn(reply)
        let direct = try JSONSerialization.jsonObject(with: Data(fast.readableBytesView)) as? NSDictionary
        let encoded = try JSONSerialization.jsonObject(with: API.encoder.encode(TurnJSON(reply))) as? NSDictionary
        #expect(direct != nil)
        #expect(direct == encoded)
    }

    @Test(arguments: ["\"", "\\", "\n", "\r", "\t", "\u{1}", "\u{1F}", "é", "€", " ", "~", "\u{7F}"])
    func aStringReadsBackAsWrittenWhereverItsSpecialCharacterFalls(special: String) throws {
        // Lengths and positions around the eight bytes that are checked at a time.
        for length in [0, 1, 7, 8, 9, 15, 16, 17, 40] {
            for position in Set([0, length / 2, max(0, length - 1), length]) {
                var text = String(repeating: "a", count: length)
                text.insert(contentsOf: special, at: text.index(text.startIndex, offsetBy: min(position, length)))
                var buffer = ByteBuffer()
                FastJSON.string(text, &buffer)
                let json = "[" + String(buffer: buffer) + "]"
                let read = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String]
                #expect(read == [text], "\(json)")
            }
        }
    }

    @Test func aSnapshotAndATranscriptWrittenDirectlyReadBackAsTheSameConversation() throws {
        let shipped = try #require(shippedBrain)
        let state = shipped.reply(to: "how much is a passport", in: ConversationState()).state
        let snapshot = SessionSnapshot(engine: state, history: nil, ticket: "T-1001", ended: true)
        let decoded = try JSONDecoder().decode(SessionSnapshot.self, from: snapshot.encoded())
        #expect(decoded.history == nil)
        #expect(decoded.engine == snapshot.engine)
        #expect(decoded.ticket == "T-1001")
        #expect(decoded.ended)
        let plain = SessionSnapshot(engine: ConversationState(), history: nil, ticket: nil, ended: false)
        let none = try JSONDecoder().decode(SessionSnapshot.self, from: plain.encoded())
        #expect(none.ticket == nil && !none.ended && none.history == nil)

        let lines = [
            TicketMessage(
                author: .citizen, text: "my \"passport\"\nexpired \\ \u{1} ＩＤ",
                at: Date(timeIntervalSince1970: 1_764_601_200.123)),
            TicketMessage(author: .agent, name: "alice", text: "Hello", at: Date(timeIntervalSinceReferenceDate: 0.1)),
        ]
        let chunk = SessionSnapshot.encodeTranscript(lines)
        #expect(try JSONDecoder().decode([TicketMessage].self, from: chunk) == lines)
        #expect(try JSONDecoder().decode([TicketMessage].self, from: SessionSnapshot.encodeTranscript([])).isEmpty)
    }
}
