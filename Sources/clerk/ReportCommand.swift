import ArgumentParser
import ClerkContent
import ClerkEngine
import ClerkStore
import Foundation

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Show editors what the assistant failed to answer, and how it is doing.",
        discussion: """
            Reads the turns `clerk serve` logged in the store (text already masked of e-mail addresses, phone \
            numbers and long digit runs) over a date range and lists the messages that ended in a miss, a \
            "Did you mean …?" question or a handover, most frequent first, grouped by how the assistant read \
            them, with the closest intents and their scores on the current content. Then answers per intent, the \
            miss and handover rates, and the helpful / not helpful feedback.

            Examples:
              clerk report                                  the last 7 days
              clerk report --from 2026-11-01 --to 2026-11-30 --json
              clerk report --html report.html               a self-contained page with charts
            """
    )

    @OptionGroup var contentOptions: ContentOptions
    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "First day (YYYY-MM-DD, UTC). Default: 7 days ago.")
    var from: String?

    @Option(help: "Last day, included (YYYY-MM-DD, UTC). Default: today.")
    var to: String?

    @Option(help: "How many groups of unanswered messages to list.")
    var top = 30

    @Flag(help: "Print one JSON object.")
    var json = false

    @Option(help: "Also write a self-contained HTML report to this file.")
    var html: String?

    func validate() throws {
        for (name, value) in [("--from", from), ("--to", to)] {
            if let value, Self.day(value) == nil {
                throw ValidationError("\(name) needs a date written YYYY-MM-DD (got '\(value)')")
            }
        }
    }

    static func day(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.date(from: text)
    }

    struct Group: Encodable {
        var normalized: String
        var count: Int
        var example: String
        var outcomes: [String: Int]
        var closest: [Candidate]
    }

    struct Candidate: Encodable {
        var intent: String
        var score: Double
    }

    struct IntentStats: Encodable {
        var intent: String
        var answers: Int
        var helpful: Int
        var notHelpful: Int
    }

    struct Report: Encodable {
        var from: String
        var to: String
        var conversations: Int
        var messages: Int
        var answered: Int
        var misses: Int
        var clarifications: Int
        var handovers: Int
        var missRate: Double
        var handoverRate: Double
        var helpful: Int
        var notHelpful: Int
        var unanswered: [Group]
        var intents: [IntentStats]
    }

    func run() async throws {
        let end = (to.flatMap(Self.day) ?? Self.day(Self.today())!).addingTimeInterval(86_400)
        let start = from.flatMap(Self.day) ?? end.addingTimeInterval(-8 * 86_400)
        let brain = ContentLoader(root: contentOptions.root).compile().brain
        let turns = try await storeOptions.withStore { store in try await store.turns(from: start, to: end) }
        let report = Self.build(turns, brain: brain, from: start, to: end.addingTimeInterval(-86_400), top: top)
        if let html {
            try Self.html(report).write(toFile: html, atomically: true, encoding: .utf8)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print(
            "Report \(report.from) to \(report.to): \(report.conversations) conversations, \(report.messages) messages")
        print(
            String(
                format: "answered %d, missed %d (%.1f %%), asked \"Did you mean\" %d, handed over %d (%.1f %%)",
                report.answered, report.misses, report.missRate, report.clarifications, report.handovers,
                report.handoverRate))
        print("feedback: \(report.helpful) helpful, \(report.notHelpful) not helpful")
        print("")
        print("Unanswered, most frequent first:")
        if report.unanswered.isEmpty { print("  (none)") }
        for group in report.unanswered {
            let closest = group.closest.map { String(format: "%@ %.2f", $0.intent, $0.score) }.joined(separator: ", ")
            let outcomes = group.outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
                separator: ", ")
            print(
                "  \(group.count)×  \"\(group.example)\"  [\(outcomes)]"
                    + (closest.isEmpty ? "" : "  closest: \(closest)"))
        }
        print("")
        print("Answers per intent:")
        for stats in report.intents {
            var line = "  \(stats.answers)×  \(stats.intent)"
            if stats.helpful + stats.notHelpful > 0 {
                line += "  (helpful \(stats.helpful), not helpful \(stats.notHelpful))"
            }
            print(line)
        }
    }

    static func today() -> String {
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: Date())
    }

    /// Groups and counts the log; pure, for tests.
    static func build(_ turns: [TurnRecord], brain: Brain?, from: Date, to: Date, top: Int) -> Report {
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        let citizen = turns.filter { !["notice", "feedback_helpful", "feedback_not_helpful"].contains($0.outcome) }
        var groups: [String: Group] = [:]
        var order: [String] = []
        var perIntent: [String: IntentStats] = [:]
        var helpful = 0
        var notHelpful = 0
        let reading = turns.count >= 10_000 ? ProgressBar(total: turns.count) : nil
        defer { reading?.finish() }
        for turn in turns {
            reading?.advance()
            switch turn.outcome {
            case "feedback_helpful", "feedback_not_helpful":
                let good = turn.outcome == "feedback_helpful"
                if good { helpful += 1 } else { notHelpful += 1 }
                if let intent = turn.intent {
                    var stats = perIntent[intent] ?? IntentStats(intent: intent, answers: 0, helpful: 0, notHelpful: 0)
                    if good { stats.helpful += 1 } else { stats.notHelpful += 1 }
                    perIntent[intent] = stats
                }
            case "answer":
                if let intent = turn.intent {
                    var stats = perIntent[intent] ?? IntentStats(intent: intent, answers: 0, helpful: 0, notHelpful: 0)
                    stats.answers += 1
                    perIntent[intent] = stats
                }
            case "miss", "clarify", "handoff":
                let key = normalize(turn.text, brain: brain)
                if groups[key] == nil {
                    order.append(key)
                    groups[key] = Group(normalized: key, count: 0, example: turn.text, outcomes: [:], closest: [])
                }
                groups[key]!.count += 1
                groups[key]!.outcomes[turn.outcome, default: 0] += 1
            default:
                break
            }
        }
        var unanswered = order.compactMap { groups[$0] }.sorted { $0.count > $1.count }
        unanswered = Array(unanswered.prefix(top))
        if let brain {
            let bar = unanswered.count >= 200 ? ProgressBar(total: unanswered.count) : nil
            defer { bar?.finish() }
            for index in unanswered.indices {
                bar?.advance()
                unanswered[index].closest = brain.candidates(for: unanswered[index].example, limit: 3).map {
                    Candidate(intent: $0.intent, score: ($0.score * 100).rounded() / 100)
                }
            }
        }
        let messages = citizen.count
        let misses = citizen.count { $0.outcome == "miss" }
        let handovers = citizen.count { $0.outcome == "handoff" }
        return Report(
            from: formatter.string(from: from), to: formatter.string(from: to),
            conversations: Set(turns.map(\.conversationID)).count, messages: messages,
            answered: citizen.count { $0.outcome == "answer" }, misses: misses,
            clarifications: citizen.count { $0.outcome == "clarify" }, handovers: handovers,
            missRate: messages == 0 ? 0 : 100 * Double(misses) / Double(messages),
            handoverRate: messages == 0 ? 0 : 100 * Double(handovers) / Double(messages), helpful: helpful,
            notHelpful: notHelpful, unanswered: unanswered,
            intents: perIntent.values.sorted { ($0.answers, $1.intent) > ($1.answers, $0.intent) })
    }

    /// How the assistant reads a message (its terms), so "Parking fine??" and "parking fine" group together.
    static func normalize(_ text: String, brain: Brain?) -> String {
        if let brain {
            let terms = brain.explain(text).1.normalized
            if !terms.isEmpty { return terms.joined(separator: " ") }
        }
        return text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).joined(separator: " ")
    }

    static func html(_ report: Report) -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        func bars(_ rows: [(String, Int)]) -> String {
            let most = max(rows.map(\.1).max() ?? 1, 1)
            return rows.map { label, value in
                "<div class=row><span class=label>\(escape(label))</span><span class=bar style=\"width:"
                    + "\(max(1, 60 * value / most))%\"></span><span class=value>\(value)</span></div>"
            }.joined(separator: "\n")
        }
        let outcomes = [
            ("answered", report.answered), ("missed", report.misses), ("asked which", report.clarifications),
            ("handed over", report.handovers),
        ]
        let unanswered = report.unanswered.map { group -> String in
            let closest = group.closest.map { String(format: "%@ (%.2f)", $0.intent, $0.score) }.joined(
                separator: ", ")
            return "<tr><td>\(group.count)</td><td>\(escape(group.example))</td><td>"
                + escape(
                    group.outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                + "</td><td>\(escape(closest))</td></tr>"
        }.joined(separator: "\n")
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Clerk report \(report.from) – \(report.to)</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>
            body{font:16px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1a1a1a}
            h1,h2{line-height:1.2} table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #ccc;
            padding:.4rem;text-align:left;vertical-align:top} .row{display:flex;align-items:center;gap:.5rem;
            margin:.2rem 0} .label{width:12rem} .bar{background:#1f5fa8;height:1rem;display:inline-block}
            .value{font-variant-numeric:tabular-nums}
            </style></head><body>
            <h1>Clerk report, \(report.from) to \(report.to)</h1>
            <p>\(report.conversations) conversations, \(report.messages) messages. Miss rate
            \(String(format: "%.1f", report.missRate)) %, handover rate \(String(format: "%.1f", report.handoverRate)) %.
            Feedback: \(report.helpful) helpful, \(report.notHelpful) not helpful.</p>
            <h2>Outcomes</h2>
            \(bars(outcomes))
            <h2>Unanswered messages, most frequent first</h2>
            <table><thead><tr><th>times</th><th>message (masked)</th><th>outcome</th><th>closest intents</th></tr></thead>
            <tbody>
            \(unanswered)
            </tbody></table>
            <h2>Answers per intent</h2>
            \(bars(report.intents.prefix(30).map { ($0.intent, $0.answers) }))
            </body></html>
            """
    }
}
