import Foundation

/// Conversions between model values and the columns both stores use.
enum StoredValues {
    static func status(_ raw: String) throws(TicketStoreError) -> TicketStatus {
        guard let status = TicketStatus(rawValue: raw) else { throw corrupt("ticket status '\(raw)'") }
        return status
    }

    static func optionalStatus(_ raw: String?) throws(TicketStoreError) -> TicketStatus? {
        guard let raw else { return nil }
        return try status(raw)
    }

    static func priority(_ raw: String) throws(TicketStoreError) -> TicketPriority {
        guard let priority = TicketPriority(rawValue: raw) else { throw corrupt("ticket priority '\(raw)'") }
        return priority
    }

    static func author(_ raw: String) throws(TicketStoreError) -> TicketMessage.Author {
        guard let author = TicketMessage.Author(rawValue: raw) else { throw corrupt("message author '\(raw)'") }
        return author
    }

    static func changeKind(_ raw: String) throws(TicketStoreError) -> TicketChange.Kind {
        guard let kind = TicketChange.Kind(rawValue: raw) else { throw corrupt("change kind '\(raw)'") }
        return kind
    }

    static func role(_ raw: String) throws(TicketStoreError) -> AgentRole {
        guard let role = AgentRole(rawValue: raw) else { throw corrupt("agent role '\(raw)'") }
        return role
    }

    /// Slots as a JSON object with sorted keys.
    static func slotsJSON(_ slots: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(slots)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func slots(_ json: String) throws(TicketStoreError) -> [String: String] {
        do {
            return try JSONDecoder().decode([String: String].self, from: Data(json.utf8))
        } catch {
            throw corrupt("slots '\(json)'")
        }
    }

    /// The SQL ordering of ticket lists: urgent, high, normal; then oldest first.
    static let listOrder = """
        CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END, created_at, number
        """

    private static func corrupt(_ what: String) -> TicketStoreError {
        .unavailable("The ticket store holds an unknown \(what); was it written by a newer Clerk?")
    }
}
