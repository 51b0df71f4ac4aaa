import Foundation

/// Where a ticket is in its lifecycle; see `docs/operations.md` for the full transition table.
public enum TicketStatus: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Created and waiting for an agent to claim it.
    case queued
    /// Claimed by an agent, who now owns the conversation (the bot is silent).
    case assigned
    /// The agent replied and waits for the citizen.
    case waitingOnCitizen = "waiting_on_citizen"
    /// Done; a citizen message reopens it.
    case resolved
    /// Resolved and past its grace period; final.
    case closed

    /// The stored name, e.g. `waiting_on_citizen`.
    public var description: String { rawValue }

    /// Whether an agent holds the ticket (assigned or waiting on the citizen).
    public var isHeld: Bool { self == .assigned || self == .waitingOnCitizen }

    /// Reads a status by its stored name (`waiting_on_citizen`), case-insensitively; `waiting` is accepted too.
    public init?(name: some StringProtocol) {
        let lowered = name.lowercased().replacingOccurrences(of: "-", with: "_")
        if lowered == "waiting" {
            self = .waitingOnCitizen
        } else if let status = TicketStatus(rawValue: lowered) {
            self = status
        } else {
            return nil
        }
    }
}

/// How soon a ticket needs a person. Urgent is for safeguarding topics (violence, self-harm, a child at risk).
public enum TicketPriority: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// The usual case: answered within the normal reply target.
    case normal
    /// Answered sooner, e.g. a deadline the citizen mentioned.
    case high
    /// Safeguarding topics: answered first; the emergency number is shown at once.
    case urgent

    /// The stored name, e.g. `urgent`.
    public var description: String { rawValue }

    /// Higher is more pressing: normal 0, high 1, urgent 2. Lists show the highest first.
    public var rank: Int {
        switch self {
        case .normal: 0
        case .high: 1
        case .urgent: 2
        }
    }
}

/// One line of a ticket's transcript.
public struct TicketMessage: Sendable, Codable, Hashable {
    /// Who wrote a message.
    public enum Author: String, Sendable, Codable, CaseIterable {
        /// The person asking for help.
        case citizen
        /// Clerk's automated replies before the handoff.
        case bot
        /// A person answering the ticket.
        case agent
        /// An internal note by an agent: never shown to the citizen.
        case note
    }

    /// Who wrote the message.
    public var author: Author
    /// The agent's name for agent messages and notes; nil otherwise.
    public var name: String?
    /// The text, already masked by the caller where it came from a citizen.
    public var text: String
    /// When the message was written.
    public var at: Date

    public init(author: Author, name: String? = nil, text: String, at: Date) {
        self.author = author
        self.name = name
        self.text = text
        self.at = at
    }

    /// Whether the citizen may see this message (everything but internal notes).
    public var isVisibleToCitizen: Bool { author != .note }
}

/// A case handed from the bot to people: what the citizen asked, who holds it and where it stands.
public struct Ticket: Sendable, Codable, Hashable {
    /// `T-1042`: what the citizen is told and agents type.
    public var reference: TicketReference
    /// The conversation the ticket came from; agent replies are delivered there.
    public var conversationID: String
    /// The public service the case is about (e.g. `passport`), when known.
    public var service: String?
    /// A finer topic within the service (e.g. `renewal`), when known.
    public var category: String?
    public var priority: TicketPriority
    /// Where the ticket is in its lifecycle.
    public var status: TicketStatus
    /// The agent who holds (or last held) the ticket; nil while queued.
    public var agent: String?
    public var createdAt: Date
    /// When the last action changed the ticket.
    public var updatedAt: Date
    /// When the citizen was told to expect a reply, computed from office hours.
    public var replyBy: Date?
    /// Contact details, stored only when the citizen consented to give them.
    public var contact: String?
    /// Slots captured in the conversation (e.g. `service: passport`).
    public var slots: [String: String]
    /// The conversation so far, oldest first, with agent replies, citizen answers and internal notes.
    public var transcript: [TicketMessage]

    public init(
        reference: TicketReference, conversationID: String, service: String? = nil, category: String? = nil,
        priority: TicketPriority = .normal, status: TicketStatus = .queued, agent: String? = nil, createdAt: Date,
        updatedAt: Date, replyBy: Date? = nil, contact: String? = nil, slots: [String: String] = [:],
        transcript: [TicketMessage] = []
    ) {
        self.reference = reference
        self.conversationID = conversationID
        self.service = service
        self.category = category
        self.priority = priority
        self.status = status
        self.agent = agent
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.replyBy = replyBy
        self.contact = contact
        self.slots = slots
        self.transcript = transcript
    }
}

/// What it takes to open a ticket: the conversation it came from and what the bot learnt.
public struct NewTicket: Sendable, Hashable {
    public var conversationID: String
    public var service: String?
    public var category: String?
    public var priority: TicketPriority
    /// The masked conversation so far.
    public var transcript: [TicketMessage]
    public var slots: [String: String]
    /// When the citizen is told to expect a reply (see ``OfficeHours/replyBy(priority:from:)``).
    public var replyBy: Date?
    /// Who opened it, for the audit trail (e.g. `bot`).
    public var actor: String

    public init(
        conversationID: String, service: String? = nil, category: String? = nil, priority: TicketPriority = .normal,
        transcript: [TicketMessage] = [], slots: [String: String] = [:], replyBy: Date? = nil, actor: String = "bot"
    ) {
        self.conversationID = conversationID
        self.service = service
        self.category = category
        self.priority = priority
        self.transcript = transcript
        self.slots = slots
        self.replyBy = replyBy
        self.actor = actor
    }
}
