import ArgumentParser
import ClerkStore
import Foundation

struct TicketsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tickets",
        abstract: "Work the tickets people escalated: list, show, claim, reply, resolve.",
        discussion: """
            Every command takes --store (default sqlite:./data/clerk.sqlite) and prints a readable table at a \
            terminal, tab-separated lines on a pipe, or JSON with --json. Your name for the audit trail comes from \
            --agent, else $CLERK_AGENT, else your login name. An unknown or malformed reference, or an action the \
            ticket's status does not allow, exits with status 1 and changes nothing.

            Examples:
              clerk tickets list
              clerk tickets show T-1042
              clerk tickets claim T-1042 --agent alice
              clerk tickets reply T-1042 "Your renewal is booked for Monday."
              clerk tickets resolve T-1042 --note "Booked"
            """,
        subcommands: [
            ListTickets.self, ShowTicket.self, ClaimTicket.self, UnclaimTicket.self, TransferTicket.self,
            ReplyTicket.self, NoteTicket.self, ResolveTicket.self, ReopenTicket.self,
        ]
    )
}

/// `--agent NAME`: who acts, for the audit trail.
struct ActorOptions: ParsableArguments {
    @Option(help: "Your agent name for the audit trail. Default: $CLERK_AGENT, else your login name.")
    var agent: String?

    func name() throws -> String {
        guard let name = agent ?? defaultAgentName() else {
            throw ValidationError("Say who you are with --agent NAME (or set CLERK_AGENT).")
        }
        return name
    }
}

/// Runs one action on a ticket: opens the store, applies it, records the agent as active, prints the result.
private func act(
    _ storeOptions: StoreOptions, _ output: OutputOptions, reference text: String, actor: String?,
    _ action: TicketAction, describe: (Ticket) -> String
) async throws {
    let reference = try parseReference(text)
    try await storeOptions.withStore { store in
        let ticket = try await store.apply(action, to: reference)
        if let actor { try await store.touchAgent(actor, at: Date()) }
        if output.json {
            try Terminal.printJSON(ticket)
        } else {
            print(describe(ticket))
        }
    }
}

/// "assigned to alice", "queued", "waiting on the citizen (alice)".
private func state(_ ticket: Ticket) -> String {
    switch ticket.status {
    case .queued: "queued"
    case .assigned: "assigned to \(ticket.agent ?? "nobody")"
    case .waitingOnCitizen: "waiting on the citizen (\(ticket.agent ?? "nobody"))"
    case .resolved: "resolved"
    case .closed: "closed"
    }
}

struct ListTickets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List tickets: urgent first, then the oldest.",
        discussion: """
            Without --status, lists the open tickets (queued, assigned, waiting_on_citizen).

            Examples:
              clerk tickets list --status queued
              clerk tickets list --status all --json
            """
    )

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    @Option(
        help: ArgumentHelp(
            "Statuses to list, comma-separated: queued, assigned, waiting_on_citizen, resolved, closed, or all.",
            valueName: "status,…"))
    var status: String?

    @Option(help: "At most this many tickets.")
    var limit = 100

    func statuses() throws -> [TicketStatus]? {
        guard let status else { return [.queued, .assigned, .waitingOnCitizen] }
        if status.lowercased() == "all" { return nil }
        return try status.split(separator: ",").map { name in
            guard let parsed = TicketStatus(name: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError(
                    "Unknown status '\(name)'; use queued, assigned, waiting_on_citizen, resolved, closed or all.")
            }
            return parsed
        }
    }

    func validate() throws {
        _ = try statuses()
        guard limit > 0 else { throw ValidationError("--limit must be at least 1.") }
    }

    func run() async throws {
        let statuses = try statuses()
        try await storeOptions.withStore { store in
            let tickets = try await store.tickets(status: statuses, limit: limit)
            if output.json {
                try Terminal.printJSON(tickets)
                return
            }
            if tickets.isEmpty, Terminal.isInteractive {
                print("No tickets.")
                return
            }
            Terminal.printTable(
                header: ["REF", "PRIORITY", "STATUS", "AGENT", "SERVICE", "CREATED", "REPLY BY"],
                rows: tickets.map { ticket in
                    [
                        ticket.reference.description, ticket.priority.rawValue, ticket.status.rawValue,
                        ticket.agent ?? "-", ticket.service ?? "-", Terminal.time(ticket.createdAt),
                        Terminal.time(ticket.replyBy),
                    ]
                })
        }
    }
}

struct ShowTicket: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a ticket with its transcript and audit trail.",
        discussion: "Example:\n  clerk tickets show T-1042"
    )

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The ticket reference, e.g. T-1042.")
    var reference: String

    private struct Shown: Encodable {
        var ticket: Ticket
        var audit: [AuditEntry]
    }

    func run() async throws {
        let reference = try parseReference(self.reference)
        try await storeOptions.withStore { store in
            guard let ticket = try await store.ticket(reference) else { throw TicketStoreError.notFound(reference) }
            let audit = try await store.audit(reference)
            if output.json {
                try Terminal.printJSON(Shown(ticket: ticket, audit: audit))
                return
            }
            let topic = [ticket.service, ticket.category].compactMap { $0 }.joined(separator: " / ")
            print("\(ticket.reference)  \(topic.isEmpty ? "(no service)" : topic)")
            print("  status:       \(state(ticket))")
            print("  priority:     \(ticket.priority)")
            print("  conversation: \(ticket.conversationID)")
            print("  created:      \(Terminal.time(ticket.createdAt))   updated: \(Terminal.time(ticket.updatedAt))")
            print("  reply by:     \(Terminal.time(ticket.replyBy))")
            if let contact = ticket.contact { print("  contact:      \(contact)") }
            if !ticket.slots.isEmpty {
                let slots = ticket.slots.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                print("  slots:        \(slots.joined(separator: ", "))")
            }
            print("")
            print("Transcript")
            if ticket.transcript.isEmpty { print("  (empty)") }
            for message in ticket.transcript {
                let who =
                    switch message.author {
                    case .citizen: "citizen"
                    case .bot: "bot"
                    case .agent: message.name ?? "agent"
                    case .note: "\(message.name ?? "agent") (internal note)"
                    }
                print("  \(Terminal.time(message.at))  \(who): \(message.text)")
            }
            print("")
            print("Audit trail")
            Terminal.printTable(
                header: ["  WHEN", "WHO", "ACTION", "STATUS", "NOTE"],
                rows: audit.map { entry in
                    let move =
                        switch (entry.from, entry.to) {
                        case (let from?, let to?) where from != to: "\(from) → \(to)"
                        case (nil, let to?): "→ \(to)"
                        case (_, let to?): "\(to)"
                        default: "-"
                        }
                    return ["  " + Terminal.time(entry.at), entry.actor, entry.action, move, entry.note ?? ""]
                })
        }
    }
}

struct ClaimTicket: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "claim",
        abstract: "Take a queued ticket; the bot goes quiet in that conversation.",
        discussion: """
            A ticket another agent holds is refused unless --force is given (recorded as force_claimed).

            Example:
              clerk tickets claim T-1042 --agent alice
            """
    )

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The ticket reference, e.g. T-1042.") var reference: String
    @Option(help: "The agent taking the ticket. Default: $CLERK_AGENT.") var agent: String?
    @Flag(help: "Take the ticket even when another agent holds it.") var force = false

    func run() async throws {
        guard let agent = agent ?? ProcessInfo.processInfo.environment["CLERK_AGENT"], !agent.isEmpty else {
            throw ValidationError("Say who claims the ticket with --agent NAME (or set CLERK_AGENT).")
        }
        try await act(
            storeOptions, output, reference: reference, actor: agent, .claim(agent: agent, force: force)
        ) { "\($0.reference) is \(state($0))" }
    }
}

struct UnclaimTicket: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unclaim", abstract: "Put a held ticket back in the queue.",
        discussion: "Example:\n  clerk tickets unclaim T-1042")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var actor: ActorOptions
    @Argument(help: "The ticket reference, e.g. T-1042.") var reference: String

    func run() async throws {
        let name = try actor.name()
        try await act(storeOptions, output, reference: reference, actor: name, .unclaim(actor: name)) {
            "\($0.reference) is back in the queue"
        }
    }
}

struct TransferTicket: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer", abstract: "Hand a held ticket to another agent.",
        discussion: "Example:\n  clerk tickets transfer T-1042 --to bob")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var actor: ActorOptions
    @Argument(help: "The ticket reference, e.g. T-1042.") var reference: String
    @Option(help: "The agent who takes the ticket over.") var to: String

    func run() async throws {
        let name = try actor.name()
        try await act(storeOptions, output, reference: reference, actor: name, .transfer(to: to, actor: name)) {
            "\($0.reference) is \(state($0))"
        }
    }
}

struct ReplyTicket: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reply",
        abstract: "Reply to the citizen; the reply reaches a live conversation within a second.",
        discussion: """
            Replies as the agent who holds the ticket unless --agent names them (another agent is refused).

            Example:
              clerk tickets reply T-1042 "Your renewal is booked for Monday at 10:00."
            """
    )

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The ticket reference, e.g. T-1042.") var reference: String
    @Argument(help: "The reply, as the citizen will read it.") var text: String
    @Option(help: "The agent replying. Default: the agent who holds the ticket.") var agent: String?

    func run() async throws {
        let reference = try parseReference(self.reference)
        try await storeOptions.withStore { store in
            let ticket = try await store.agentReply(reference, agent: agent, text: text)
            if let holder = ticket.agent { try await store.touchAgent(holder, at: Date()) }
            if output.json {
                try Terminal.printJSON(ticket)
            } else {
                print("\(ticket.reference): reply sent; \(state(ticket))")
            }
        }
    }
}

struct NoteTicket: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "note", abstract: "Add an internal note; the citizen never sees it.",
        discussion: "Example:\n  clerk tickets note T-1042 \"Called the passport office\" --agent alice")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var actor: ActorOptions
    @Argument(help: "The ticket reference, e.g. T-1042.") var reference: String
    @Argument(help: "The note.") var text: String

    func run() async throws {
        let name = try actor.name()
        try await act(storeOptions, output, reference: reference, actor: name, .note(actor: name, text: text)) {
            "\($0.reference): note added"
        }
    }
}

struct ResolveTicket: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve", abstract: "Mark a held ticket resolved; the bot takes the conversation back.",
        discussion: "Example:\n  clerk tickets resolve T-1042 --note \"Appointment booked\"")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var actor: ActorOptions
    @Argument(help: "The ticket reference, e.g. T-1042.") var reference: String
    @Option(help: "A note for the audit trail.") var note: String?

    func run() async throws {
        let name = try actor.name()
        try await act(storeOptions, output, reference: reference, actor: name, .resolve(actor: name, note: note)) {
            "\($0.reference) is resolved"
        }
    }
}

struct ReopenTicket: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reopen", abstract: "Put a resolved ticket back in the queue.",
        discussion: "Example:\n  clerk tickets reopen T-1042")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var actor: ActorOptions
    @Argument(help: "The ticket reference, e.g. T-1042.") var reference: String

    func run() async throws {
        let name = try actor.name()
        try await act(storeOptions, output, reference: reference, actor: name, .reopen(actor: name)) {
            "\($0.reference) is reopened: back in the queue"
        }
    }
}
