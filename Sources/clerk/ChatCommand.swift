import ArgumentParser
import CEditLine
import ClerkEngine
import ClerkServer
import ClerkStore
import Foundation
import Synchronization

struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Talk to the assistant in the terminal.",
        discussion: """
            Connects to a running 'clerk serve' over the line chat protocol (--connect HOST:PORT, default \
            127.0.0.1:4242), or with --local runs the assistant in this process over the content folder and the \
            ticket store, which is what content editors use to try their changes. Both show the same thing: \
            answers, numbered suggestions, links, the ticket after a handover, and messages from a person as \
            they arrive, even while you type.

            On a terminal you get line editing, history, colours and wrapping; with piped input it prints one \
            reply block per line and exits at the end of the input, so it can be scripted. Type the number of a \
            suggestion to send it. /help lists the commands; /explain shows why the last message got its answer; \
            /quit ends the chat.

            Examples:
              clerk chat                                    connect to the server on this machine
              clerk chat --connect clerk.example.city:4242
              clerk chat --local
              printf 'how much is a passport\\nthanks\\n' | clerk chat --local
            """
    )

    @OptionGroup var contentOptions: ContentOptions
    @OptionGroup var storeOptions: StoreOptions

    @Flag(help: "Run the assistant in this process over the content folder (and the --store), instead of connecting.")
    var local = false

    @Option(help: "The server's line chat address, HOST:PORT.")
    var connect = "127.0.0.1:4242"

    func validate() throws {
        guard Self.address(connect) != nil else {
            throw ValidationError("--connect needs HOST:PORT, such as 127.0.0.1:4242 (got '\(connect)')")
        }
    }

    static func address(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port), colon > text.startIndex
        else { return nil }
        return (String(text[..<colon]), port)
    }

    func run() async throws {
        let interactive = isatty(STDIN_FILENO) != 0 && isatty(STDOUT_FILENO) != 0
        let renderer = LineRenderer(colour: interactive, width: interactive ? terminalWidth() : nil)
        let channel: any LineChannel
        var cleanup: @Sendable () async -> Void = {}
        var reconnect: (@Sendable () async throws -> any LineChannel)?
        if local {
            let brain = try contentOptions.loadBrain()
            let store: any TicketStore
            do {
                store = try await openStore(try StoreLocation(parsing: storeOptions.store))
            } catch {
                printError("warning: the ticket store cannot be opened (\(error)); handovers will not work")
                store = UnavailableStore(reason: "\(error)")
            }
            let officeHours = try? OfficeHours.load(
                from: contentOptions.root.appendingPathComponent("config/office-hours.yaml"))
            let conversations = Conversations(brains: BrainStore(brain), store: store, officeHours: officeHours)
            let background = Task { await conversations.run() }
            let localChannel = LocalLineChannel(conversations: conversations)
            try await localChannel.start()
            channel = localChannel
            cleanup = {
                background.cancel()
                await background.value
                await store.shutdown()
            }
        } else {
            let (host, port) = Self.address(connect)!
            do {
                channel = try await LineClient.connect(host: host, port: port)
            } catch {
                printError("error: cannot connect to \(host):\(port) (\(error)); is 'clerk serve' running there?")
                throw ExitCode(1)
            }
            reconnect = { try await LineClient.connect(host: host, port: port) }
        }
        let session = ChatSession(renderer: renderer, interactive: interactive)
        await session.run(channel, reconnect: reconnect)
        await cleanup()
    }

    private func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 20 { return Int(size.ws_col) }
        return 80
    }
}

/// A chat in the terminal over any ``LineChannel``: prints what the server sends, reads what the person types.
/// Input is read on its own thread (line editing blocks); output from the server is printed as it arrives.
final class ChatSession: @unchecked Sendable {
    private let renderer: LineRenderer
    private let interactive: Bool
    private let lock = NSLock()
    /// Guarded by `lock`.
    private var options: [String] = []
    private var token: String?
    private var waiting = true
    private var closed = false
    /// The person asked to leave: the server's goodbye need not be shown.
    private var quitting = false
    /// The last thing sent was a command (/explain, /help…): its answer keeps the suggestions of the last turn.
    private var sentCommand = false
    /// The next OPTION line starts a new list of suggestions.
    private var newOptions = true
    private var pending: [String] = []
    private let turnDone = DispatchSemaphore(value: 0)
    private var wakePipe: [Int32] = [-1, -1]

    init(renderer: LineRenderer, interactive: Bool) {
        self.renderer = renderer
        self.interactive = interactive
    }

    func run(_ first: any LineChannel, reconnect: (@Sendable () async throws -> any LineChannel)?) async {
        _ = pipe(&wakePipe)
        let current = Mutex<any LineChannel>(first)
        let input = Task.detached { [self] in
            self.readInput { line in
                let channel = current.withLock { $0 }
                try? await channel.send(line)
            }
        }
        var channel = first
        while true {
            for await line in channel.lines { receive(line) }
            let (wasClosed, token) = lock.withLock { (closed, self.token) }
            guard !wasClosed, let reconnect, let token else { break }
            show(renderer.dim("  [connection lost; reconnecting…]"))
            guard let next = try? await reconnect() else {
                show(renderer.dim("  [could not reconnect]"))
                break
            }
            channel = next
            current.withLock { $0 = next }
            lock.withLock { waiting = true }
            try? await next.send("/resume \(token)")
        }
        lock.withLock { closed = true }
        turnDone.signal()
        wake()
        await channel.close()
        _ = await input.result
        close(wakePipe[0])
        close(wakePipe[1])
    }

    // MARK: Output

    private func receive(_ line: String) {
        let (kind, rest) = LineRenderer.split(line)
        switch kind {
        case "TOKEN": lock.withLock { token = rest }
        case "OPTION":
            let parts = rest.split(separator: " ", maxSplits: 1)
            lock.withLock {
                if newOptions { options = [] }
                newOptions = false
                if parts.count == 2 { options.append(String(parts[1])) }
            }
        case "BYE":
            let quitting = lock.withLock {
                closed = true
                return self.quitting
            }
            if quitting { return }
        default: break
        }
        let shown = renderer.render(kind: kind, rest, interactive: interactive)
        if kind == "END" {
            lock.withLock {
                // A turn without suggestions leaves none to pick; a command's answer keeps the last ones.
                if newOptions && !sentCommand { options = [] }
                newOptions = true
            }
            show(shown + [""])
            lock.withLock { waiting = false }
            turnDone.signal()
            wake()
            return
        }
        if !shown.isEmpty { show(shown) }
        if kind == "BYE" {
            turnDone.signal()
            wake()
        }
    }

    /// Prints now when piped; on a terminal hands the lines to the input thread, which prints them above the
    /// prompt and redraws what was being typed.
    private func show(_ lines: [String]) {
        guard interactive else {
            lock.withLock {
                for line in lines { print(line) }
                fflush(nil)
            }
            return
        }
        lock.withLock { pending.append(contentsOf: lines) }
        wake()
    }

    private func show(_ line: String) { show([line]) }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakePipe[1], &byte, 1)
    }

    // MARK: Input

    private func readInput(_ send: @escaping @Sendable (String) async -> Void) {
        func deliver(_ raw: String) -> Bool {
            var text = raw.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { return true }
            if text == "/quit" || text == "/exit" { text = "/quit" }
            let options = lock.withLock { self.options }
            if let number = Int(text), number >= 1, number <= options.count {
                text = options[number - 1]
                if interactive { show(renderer.dim("→ \(text)")) }
            }
            lock.withLock {
                waiting = true
                sentCommand = text.hasPrefix("/") && !text.hasPrefix("//")
                if text == "/quit" { quitting = true }
            }
            let semaphore = DispatchSemaphore(value: 0)
            Task {
                await send(text)
                semaphore.signal()
            }
            semaphore.wait()
            return true
        }
        // The greeting first.
        waitForTurn()
        if !interactive {
            while let line = readLine(strippingNewline: true) {
                if lock.withLock({ closed }) { return }
                _ = deliver(line)
                waitForTurn()
                if lock.withLock({ closed }) { return }
            }
            lock.withLock {
                closed = true
                quitting = true
            }
            Task { await send("/quit") }
            return
        }
        interactiveLoop(deliver)
    }

    private func waitForTurn() {
        while lock.withLock({ waiting && !closed }) {
            if interactive {
                flushPending(redraw: false)
                var fd = pollfd(fd: wakePipe[0], events: Int16(POLLIN), revents: 0)
                _ = poll(&fd, 1, 200)
                drainWake()
            } else {
                _ = turnDone.wait(timeout: .now() + 0.2)
            }
        }
        flushPending(redraw: false)
    }

    private func interactiveLoop(_ deliver: (String) -> Bool) {
        print(renderer.dim("Type a message, a number to pick a suggestion, /help for commands, /quit to leave."))
        ChatSession.submitted = nil
        Self.installPrompt()
        defer { rl_callback_handler_remove() }
        while !lock.withLock({ closed }) {
            var fds = [
                pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakePipe[0], events: Int16(POLLIN), revents: 0),
            ]
            _ = poll(&fds, 2, -1)
            if fds[1].revents != 0 {
                drainWake()
                flushPending(redraw: true)
            }
            if fds[0].revents != 0 {
                rl_callback_read_char()
                if let submitted = ChatSession.submitted {
                    ChatSession.submitted = nil
                    guard let line = submitted else {
                        print("")
                        _ = deliver("/quit")
                        return
                    }
                    rl_callback_handler_remove()
                    _ = deliver(line)
                    waitForTurn()
                    Self.installPrompt()
                }
            }
        }
    }

    /// Shows the prompt; a submitted line (or nil at end of input) lands in ``submitted``.
    private static func installPrompt() {
        rl_callback_handler_install("you> ") { raw in
            guard let raw else {
                ChatSession.submitted = .some(nil)
                return
            }
            let line = String(cString: raw)
            if !line.trimmingCharacters(in: .whitespaces).isEmpty { add_history(raw) }
            free(raw)
            ChatSession.submitted = .some(line)
        }
    }

    /// A line submitted through the line editor's callback (only the input thread touches it).
    nonisolated(unsafe) static var submitted: String??

    private func drainWake() {
        var buffer = [UInt8](repeating: 0, count: 64)
        var fd = pollfd(fd: wakePipe[0], events: Int16(POLLIN), revents: 0)
        while poll(&fd, 1, 0) > 0 && fd.revents != 0 {
            if read(wakePipe[0], &buffer, 64) <= 0 { break }
        }
    }

    private func flushPending(redraw: Bool) {
        let lines = lock.withLock { () -> [String] in
            defer { pending = [] }
            return pending
        }
        guard !lines.isEmpty else { return }
        if redraw { print("\r\u{1B}[K", terminator: "") }
        for line in lines { print(line) }
        fflush(nil)
        if redraw { rl_forced_update_display() }
    }
}

/// Turns protocol lines into what a person reads.
struct LineRenderer {
    var colour: Bool
    var width: Int?

    static func split(_ line: String) -> (String, String) {
        guard let space = line.firstIndex(of: " ") else { return (line, "") }
        return (String(line[..<space]), String(line[line.index(after: space)...]))
    }

    func render(kind: String, _ rest: String, interactive: Bool) -> [String] {
        switch kind {
        case "SAY", "NOTICE":
            return wrap("Clerk: " + rest).enumerated().map { $0 == 0 ? bold($1) : $1 }
        case "OPTION":
            return ["  " + rest.replacingOccurrences(of: " ", with: ") ", options: [], range: rest.range(of: " "))]
        case "LINK":
            let (url, title) = Self.split(rest)
            return [dim("  link: \(title.isEmpty ? url : "\(title) — \(url)")")]
        case "TICKET":
            let parts = rest.split(separator: " ").map(String.init)
            guard parts.count >= 2 else { return [] }
            var text = "  [ticket \(parts[0]): \(parts[1].replacingOccurrences(of: "_", with: " "))"
            if parts.count > 2, let due = ISO8601DateFormatter().date(from: parts[2]) {
                let formatter = DateFormatter()
                formatter.dateFormat = "EEEE d MMMM HH:mm"
                text += ", reply by \(formatter.string(from: due))"
            }
            return [dim(text + "]")]
        case "AGENT-JOINED": return [dim("  [\(rest), a person, has joined the conversation]")]
        case "AGENT":
            let (name, text) = Self.split(rest)
            return wrap("\(name): \(text)").enumerated().map { $0 == 0 ? agent($1, name) : $1 }
        case "ERROR":
            let (_, text) = Self.split(rest)
            return ["  ! " + text]
        case "BYE": return [dim("  [conversation closed: \(rest)]")]
        case "RESUMED": return [dim("  [resumed the earlier conversation]")]
        case "TOKEN":
            return interactive ? [dim("  [to come back to this conversation later: /resume \(rest)]")] : []
        default: return []  // HELLO, END, LANG
        }
    }

    func dim(_ text: String) -> String { colour ? "\u{1B}[2m\(text)\u{1B}[0m" : text }

    private func bold(_ text: String) -> String {
        guard colour, let range = text.range(of: "Clerk:") else { return text }
        return text.replacingCharacters(in: range, with: "\u{1B}[1;36mClerk:\u{1B}[0m")
    }

    private func agent(_ text: String, _ name: String) -> String {
        guard colour, let range = text.range(of: name + ":") else { return text }
        return text.replacingCharacters(in: range, with: "\u{1B}[1;33m\(name):\u{1B}[0m")
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
