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

    /// The text with e-mail addresses, phone numbers and digit runs of seven or more replaced.
    public static func mask(_ text: String) -> String {
        guard text.contains(where: { $0 == "@" || $0.isNumber }) else { return text }
        var result = text
        for (regex, replacement) in [(email, "[e-mail]"), (phone, "[number]")] {
            let range = NSRange(result.startIndex..., in: result)
            result = regex.stringByReplacingMatches(in: result, range: range, withTemplate: replacement)
        }
        return result
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
