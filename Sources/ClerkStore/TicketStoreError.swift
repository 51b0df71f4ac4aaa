import Foundation

/// Why a store operation was refused or failed. Every case reads as a sentence a person can act on; an operation
/// that throws changes nothing.
public enum TicketStoreError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// The text is not a ticket reference.
    case malformedReference(String)
    /// No ticket has this reference.
    case notFound(TicketReference)
    /// The ticket's status does not allow the operation; `message` says what would.
    case illegalTransition(TicketReference, status: TicketStatus, message: String)
    /// Another agent holds the ticket; claiming it needs `force`.
    case heldByAnother(TicketReference, holder: String)
    /// An active agent already has this name.
    case agentExists(String)
    /// No active agent has this name.
    case unknownAgent(String)
    /// An argument is empty or otherwise unusable.
    case invalidInput(String)
    /// The store location could not be read (bad path or URL).
    case invalidLocation(String, reason: String)
    /// The store could not be opened or written (read-only file, missing folder, server unreachable).
    case unavailable(String)

    public var description: String {
        switch self {
        case .malformedReference(let text):
            "'\(text)' is not a ticket reference; references look like T-1042"
        case .notFound(let reference):
            "There is no ticket \(reference)"
        case .illegalTransition(_, _, let message):
            message
        case .heldByAnother(let reference, let holder):
            "\(reference) is held by \(holder); claim it with force to take it over, or ask \(holder) to transfer it"
        case .agentExists(let name):
            "An agent named '\(name)' already exists; revoke it first to issue a new token"
        case .unknownAgent(let name):
            "There is no active agent named '\(name)'"
        case .invalidInput(let message):
            message
        case .invalidLocation(let location, let reason):
            "Cannot use the store location '\(location)': \(reason)"
        case .unavailable(let message):
            message
        }
    }

    public var errorDescription: String? { description }
}
