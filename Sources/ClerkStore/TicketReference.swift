/// A ticket's public reference: `T-` and a short number that is easy to read aloud, such as `T-1042`.
///
/// Numbers come from a sequence in the store, start at 1001 and are never reused. Parsing is case-insensitive and
/// ignores surrounding spaces:
///
/// ```swift
/// let reference = try TicketReference(parsing: " t-1042 ")
/// print(reference)  // T-1042
/// ```
public struct TicketReference: Sendable, Hashable, Comparable, Codable, CustomStringConvertible,
    LosslessStringConvertible
{
    /// The number after `T-`.
    public let number: Int64

    /// The first number a new store hands out.
    public static let firstNumber: Int64 = 1001

    /// A reference with the given number (positive).
    public init(number: Int64) {
        precondition(number > 0, "ticket numbers are positive")
        self.number = number
    }

    /// Reads a reference such as `T-1042` (any case, surrounding spaces ignored).
    ///
    /// - Throws: ``TicketStoreError/malformedReference(_:)`` for anything else, e.g. `1042`, `T-`, `T-12a`.
    public init(parsing text: some StringProtocol) throws(TicketStoreError) {
        let trimmed = text.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed()
        let characters = Array(trimmed)
        guard characters.count >= 3, characters.count <= 20, characters[0] == "T" || characters[0] == "t",
            characters[1] == "-", characters[2...].allSatisfy({ $0.isASCII && $0.isNumber }),
            let number = Int64(String(characters[2...])), number > 0
        else { throw .malformedReference(String(text)) }
        self.number = number
    }

    /// Reads a reference, or returns nil when `description` is not one.
    public init?(_ description: String) {
        guard let reference = try? TicketReference(parsing: description) else { return nil }
        self = reference
    }

    /// `T-` and the number.
    public var description: String { "T-\(number)" }

    public static func < (lhs: TicketReference, rhs: TicketReference) -> Bool { lhs.number < rhs.number }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try TicketReference(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
