import Foundation

/// An operation on an existing ticket. Every ``TicketStore`` applies these through the same rules
/// (``TicketLifecycle``), so SQLite and PostgreSQL agree on what is allowed.
public enum TicketAction: Sendable, Hashable {
    /// Take a queued ticket (or, with `force`, one another agent holds).
    case claim(agent: String, force: Bool)
    /// Put a held ticket back in the queue.
    case unclaim(actor: String)
    /// Hand a held ticket to another agent.
    case transfer(to: String, actor: String)
    /// Reply to the citizen; `agent` nil means the holder.
    case agentReply(agent: String?, text: String)
    /// A message from the citizen in the ticket's conversation.
    case citizenMessage(text: String)
    /// An internal note, never shown to the citizen.
    case note(actor: String, text: String)
    case resolve(actor: String, note: String?)
    case reopen(actor: String)
    case close(actor: String)
    /// Contact details the citizen agreed to give.
    case setContact(String)
}

/// What applying an action does to a ticket: the ticket after it, and the rows that record it. Stores write all
/// of it in one transaction.
struct TicketMutation: Sendable {
    /// The ticket after the action, with ``message`` already appended to its transcript.
    var ticket: Ticket
    /// A transcript line to append.
    var message: TicketMessage?
    var audit: AuditEntry
    var change: ChangeDraft
}

/// A change-feed row before the store gives it an id.
struct ChangeDraft: Sendable {
    var kind: TicketChange.Kind
    var status: TicketStatus
    var text: String?
    var actor: String?
    var at: Date

    func change(id: Int64, reference: TicketReference) -> TicketChange {
        TicketChange(id: id, reference: reference, kind: kind, status: status, text: text, actor: actor, at: at)
    }
}

/// The ticket lifecycle as a pure function: which actions each status allows and what they change.
///
/// | action | from | to |
/// |---|---|---|
/// | claim | queued | assigned |
/// | claim (force, another holder) | assigned, waiting_on_citizen | unchanged, new holder |
/// | unclaim | assigned, waiting_on_citizen | queued |
/// | transfer | assigned, waiting_on_citizen | unchanged, new holder |
/// | agent reply | assigned, waiting_on_citizen | waiting_on_citizen |
/// | citizen message | waiting_on_citizen → assigned; resolved → queued; queued, assigned unchanged | |
/// | note | any | unchanged |
/// | resolve | assigned, waiting_on_citizen | resolved |
/// | reopen | resolved | queued |
/// | close | resolved | closed |
/// | set contact | any but closed | unchanged |
enum TicketLifecycle {
    /// Applies `action` to `ticket` at `now`; nil when it changes nothing (the holder claiming again).
    ///
    /// - Throws: ``TicketStoreError`` when the ticket's status does not allow the action, or an argument is empty.
    static func apply(
        _ action: TicketAction, to ticket: Ticket, at now: Date
    ) throws(TicketStoreError)
        -> TicketMutation?
    {
        var after = ticket
        after.updatedAt = now
        let reference = ticket.reference
        let status = ticket.status
        var message: TicketMessage?
        let actor: String
        let name: String
        var note: String?
        let kind: TicketChange.Kind
        var changeText: String?

        switch action {
        case .claim(let agent, let force):
            actor = try validName(agent, "agent")
            switch status {
            case .queued:
                after.status = .assigned
                name = "claimed"
            case .assigned, .waitingOnCitizen:
                let holder = ticket.agent ?? ""
                if holder == actor { return nil }
                guard force else { throw .heldByAnother(reference, holder: holder) }
                name = "force_claimed"
                note = "taken over from \(holder)"
            case .resolved, .closed:
                throw refusal(ticket, "only a queued ticket can be claimed" + reopenHint(status))
            }
            after.agent = actor
            kind = .status

        case .unclaim(let who):
            actor = try validName(who, "actor")
            guard status.isHeld else {
                throw refusal(ticket, "only an assigned or waiting ticket can be unclaimed")
            }
            note = ticket.agent.map { "was held by \($0)" }
            after.status = .queued
            after.agent = nil
            name = "unclaimed"
            kind = .status

        case .transfer(let target, let who):
            actor = try validName(who, "actor")
            let target = try validName(target, "agent to transfer to")
            guard status.isHeld else {
                throw refusal(ticket, "only an assigned or waiting ticket can be transferred (claim a queued one)")
            }
            if ticket.agent == target {
                throw .illegalTransition(
                    reference, status: status, message: "\(reference) is already held by \(target)")
            }
            note = "from \(ticket.agent ?? "nobody") to \(target)"
            after.agent = target
            name = "transferred"
            kind = .status

        case .agentReply(let agent, let text):
            let text = try validText(text, "reply")
            guard status.isHeld else {
                if status == .queued {
                    throw refusal(ticket, "claim it before replying")
                }
                throw refusal(ticket, "only an assigned or waiting ticket can be replied to" + reopenHint(status))
            }
            let holder = ticket.agent ?? ""
            if let agent {
                let agent = try validName(agent, "agent")
                guard agent == holder else { throw .heldByAnother(reference, holder: holder) }
            }
            actor = holder
            after.status = .waitingOnCitizen
            message = TicketMessage(author: .agent, name: holder, text: text, at: now)
            name = "agent_reply"
            kind = .agentMessage
            changeText = text

        case .citizenMessage(let text):
            let text = try validText(text, "message")
            actor = "citizen"
            switch status {
            case .waitingOnCitizen:
                after.status = .assigned
            case .resolved:
                after.status = .queued
                after.agent = nil
                note = "reopened by the citizen"
            case .queued, .assigned:
                break
            case .closed:
                throw refusal(ticket, "a closed ticket takes no more messages; start a new conversation")
            }
            message = TicketMessage(author: .citizen, text: text, at: now)
            name = "citizen_message"
            kind = .citizenMessage
            changeText = text

        case .note(let who, let text):
            actor = try validName(who, "actor")
            let text = try validText(text, "note")
            message = TicketMessage(author: .note, name: actor, text: text, at: now)
            name = "note"
            kind = .note
            changeText = text

        case .resolve(let who, let resolution):
            actor = try validName(who, "actor")
            guard status.isHeld else {
                throw refusal(ticket, "only an assigned or waiting ticket can be resolved")
            }
            after.status = .resolved
            note = resolution.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
            name = "resolved"
            kind = .status

        case .reopen(let who):
            actor = try validName(who, "actor")
            guard status == .resolved else {
                throw refusal(ticket, "only a resolved ticket can be reopened")
            }
            after.status = .queued
            after.agent = nil
            name = "reopened"
            kind = .status

        case .close(let who):
            actor = try validName(who, "actor")
            guard status == .resolved else {
                throw refusal(ticket, "only a resolved ticket can be closed")
            }
            after.status = .closed
            name = "closed"
            kind = .status

        case .setContact(let contact):
            let contact = try validText(contact, "contact")
            guard status != .closed else {
                throw refusal(ticket, "a closed ticket cannot change")
            }
            actor = "citizen"
            after.contact = contact
            name = "contact_set"
            kind = .contact
        }

        if let message { after.transcript.append(message) }
        return TicketMutation(
            ticket: after, message: message,
            audit: AuditEntry(actor: actor, at: now, from: status, to: after.status, action: name, note: note),
            change: ChangeDraft(kind: kind, status: after.status, text: changeText, actor: actor, at: now))
    }

    /// The audit entry and feed row for a new ticket.
    static func creation(of ticket: Ticket, by actor: String) -> (AuditEntry, ChangeDraft) {
        (
            AuditEntry(actor: actor, at: ticket.createdAt, from: nil, to: .queued, action: "created"),
            ChangeDraft(kind: .created, status: .queued, actor: actor, at: ticket.createdAt)
        )
    }

    /// Checks a new ticket's fields; returns it with its dates rounded to what the stores keep.
    static func validate(_ new: NewTicket) throws(TicketStoreError) -> NewTicket {
        var new = new
        guard !new.conversationID.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw .invalidInput("A ticket needs the conversation it came from")
        }
        new.actor = try validName(new.actor, "actor")
        new.replyBy = new.replyBy.map(StoreTime.rounded)
        new.transcript = new.transcript.map {
            var message = $0
            message.at = StoreTime.rounded(message.at)
            return message
        }
        return new
    }

    /// "T-1042 is resolved; only an assigned or waiting ticket can be resolved"
    private static func refusal(_ ticket: Ticket, _ rule: String) -> TicketStoreError {
        .illegalTransition(
            ticket.reference, status: ticket.status, message: "\(ticket.reference) is \(ticket.status.phrase); \(rule)")
    }

    private static func reopenHint(_ status: TicketStatus) -> String {
        status == .resolved ? " (reopen it first)" : ""
    }

    static func validName(_ name: String, _ role: String) throws(TicketStoreError) -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .invalidInput("The \(role) name is empty") }
        guard trimmed.count <= 100 else { throw .invalidInput("The \(role) name is longer than 100 characters") }
        return trimmed
    }

    private static func validText(_ text: String, _ role: String) throws(TicketStoreError) -> String {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw .invalidInput("The \(role) is empty")
        }
        return text
    }
}

extension TicketStatus {
    /// How a sentence names the status: "T-1042 is waiting on the citizen".
    var phrase: String {
        switch self {
        case .queued: "queued"
        case .assigned: "assigned"
        case .waitingOnCitizen: "waiting on the citizen"
        case .resolved: "resolved"
        case .closed: "closed"
        }
    }
}

/// Time as the stores keep it: whole milliseconds, so what a store returns equals what it reads back later.
enum StoreTime {
    static func rounded(_ date: Date) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds(date)) / 1000)
    }

    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
