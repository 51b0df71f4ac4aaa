import Foundation

/// Masks personal data in text that is stored or shown to editors: e-mail addresses, phone numbers and long runs
/// of digits (account or ID numbers). Ticket references (`T-1042`) and short numbers (fees, dates, house numbers)
/// are kept.
public enum Redaction {
    private static let email = try! NSRegularExpression(
        pattern: #"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"#)
    /// Seven or more digits, possibly split by spaces, dots, dashes or brackets, optionally after a '+'.
    private static let phone = try! NSRegularExpression(
        pattern: #"(?<![\w-])\+?\d(?:[\s.\-()]{0,2}\d){6,}(?![\w-])"#)

    /// Dates written with digits (2026-11-28, 28.11.2026, 28/11/2026): kept, they are not personal data.
    private static let date = try! NSRegularExpression(
        pattern: #"^(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4})$"#)

    /// The text with e-mail addresses, phone numbers and digit runs of seven or more replaced.
    public static func mask(_ text: String) -> String {
        guard mayContainPersonalData(text) else { return text }
        let range = NSRange(text.startIndex..., in: text)
        var result = email.stringByReplacingMatches(in: text, range: range, withTemplate: "[e-mail]")
        let matches = phone.matches(in: result, range: NSRange(result.startIndex..., in: result))
        for match in matches.reversed() {
            guard let found = Range(match.range, in: result) else { continue }
            let candidate = String(result[found])
            if date.firstMatch(in: candidate, range: NSRange(candidate.startIndex..., in: candidate)) != nil {
                continue
            }
            result.replaceSubrange(found, with: "[number]")
        }
        return result
    }

    /// Whether the text has an `@` or a number at all; ASCII text (nearly all) is checked byte by byte.
    private static func mayContainPersonalData(_ text: String) -> Bool {
        var ascii = true
        for byte in text.utf8 {
            if byte == UInt8(ascii: "@") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { return true }
            if byte >= 0x80 { ascii = false }
        }
        return !ascii && text.contains(where: { $0 == "@" || $0.isNumber })
    }

    /// The first e-mail address or phone number in `text`, as written (for contact details given with consent).
    public static func contact(in text: String) -> String? {
        let range = NSRange(text.startIndex..., in: text)
        for regex in [email, phone] {
            if let match = regex.firstMatch(in: text, range: range), let found = Range(match.range, in: text) {
                return String(text[found]).trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}
