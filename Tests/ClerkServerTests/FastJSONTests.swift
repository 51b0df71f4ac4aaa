import ClerkEngine
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
}
