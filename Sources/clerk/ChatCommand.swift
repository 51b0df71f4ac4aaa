import ArgumentParser
import CEditLine
import ClerkEngine
import Foundation

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Talk to the assistant in the terminal.",
        discussion: """
            With --local the engine runs in this process over the content folder, which is what content \
            editors use to try their changes. On a terminal you get line editing and history; with piped input \
            it prints one reply block per line and exits at the end of the input, so it can be scripted.

            Type the number of a suggested reply to send it. /quit ends the chat; /explain shows why the last \
            message got its answer.

            Examples:
              clerk chat --local
              printf 'how much is a passport\\nthanks\\n' | clerk chat --local
            """
    )

    @OptionGroup var contentOptions: ContentOptions

    @Flag(help: "Run the engine in this process over the content folder.")
    var local = false

    func validate() throws {
        guard local else {
            throw ValidationError(
                "connecting to a running server arrives with the line protocol; for now use 'clerk chat --local'")
        }
    }

    func run() throws {
        let brain = try contentOptions.loadBrain()
        let interactive = isatty(STDIN_FILENO) != 0 && isatty(STDOUT_FILENO) != 0
        let printer = TurnPrinter(colour: interactive, width: interactive ? terminalWidth() : nil)
        var state = ConversationState()
        var lastQuickReplies: [String] = []
        var lastMessage: String?
        var lastState = ConversationState()
        if interactive {
            print(printer.dim("Clerk (local) — type a message, a number to pick a suggestion, /quit to leave."))
        }
        while let line = readMessage(interactive: interactive) {
            var text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if text == "/quit" || text == "/exit" { break }
            if text == "/explain" {
                if let lastMessage { print(ExplanationText.render(brain.explain(lastMessage, in: lastState).1)) }
                continue
            }
            if let number = Int(text), (1...max(lastQuickReplies.count, 1)).contains(number),
                number <= lastQuickReplies.count
            {
                text = lastQuickReplies[number - 1]
                if interactive { print(printer.dim("→ \(text)")) }
            }
            let turn = brain.reply(to: text, in: state)
            lastState = state
            state = turn.state
            lastQuickReplies = turn.quickReplies
            lastMessage = text
            print(printer.render(turn))
            fflush(nil)
        }
    }

    private func readMessage(interactive: Bool) -> String? {
        guard interactive else { return readLine(strippingNewline: true) }
        guard let raw = readline("you> ") else {
            print("")
            return nil
        }
        defer { free(raw) }
        let line = String(cString: raw)
        if !line.trimmingCharacters(in: .whitespaces).isEmpty { add_history(raw) }
        return line
    }

    private func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 20 { return Int(size.ws_col) }
        return 80
    }
}

/// Prints a turn as a reply block: the messages, numbered suggestions, and any action.
struct TurnPrinter {
    var colour: Bool
    var width: Int?

    func render(_ turn: Turn) -> String {
        var lines: [String] = []
        for message in turn.messages {
            lines.append(contentsOf: wrap("Clerk: " + message).enumerated().map { $0 == 0 ? bold($1) : $1 })
        }
        for (index, reply) in turn.quickReplies.enumerated() {
            lines.append("  \(index + 1)) \(reply)")
        }
        for action in turn.actions {
            switch action {
            case .escalate(let reason):
                lines.append(
                    dim("  [handing over to a person: \(reason.rawValue.replacingOccurrences(of: "_", with: " "))]"))
            case .ticketStatus(let reference):
                lines.append(dim("  [looking up ticket \(reference): no ticket store in this session]"))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func dim(_ text: String) -> String { colour ? "\u{1B}[2m\(text)\u{1B}[0m" : text }

    private func bold(_ text: String) -> String {
        guard colour, let range = text.range(of: "Clerk:") else { return text }
        return text.replacingCharacters(in: range, with: "\u{1B}[1;36mClerk:\u{1B}[0m")
    }

    private func wrap(_ text: String) -> [String] {
        guard let width, text.count > width else { return [text] }
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            if !current.isEmpty && current.count + 1 + word.count > width {
                lines.append(current)
                current = "       " + word
            } else {
                current += current.isEmpty ? String(word) : " " + word
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}
