import ClerkText

/// The kinds of typed capture a pattern can ask for with `{name:type}`.
public enum SlotType: String, Sendable, Hashable, Codable, CaseIterable {
    /// A number, written in digits or words ("3", "three").
    case number
    /// A date: `2026-11-28`, `28.11.2026`, `28 November [2026]`, `November 28`, `today`, `tomorrow`, a weekday.
    case date
    /// A ticket or case reference such as `T-1042`.
    case ticket
    /// A postcode: five digits (Example City's format).
    case postcode
    /// A public service from `knowledge/`, by name or alias ("passport", "travel document").
    case service
    /// A variant of a service's fields, such as `child` in `fee: {adult: …, child: …}` ("for my kid").
    case variant
    /// Any words (one or more), like `*` but named.
    case text

    /// Token counts this slot can consume starting at token `index` (empty when it cannot match there).
    /// Returned through `body` to avoid allocating.
    func forEachMatch(in tokens: Utterance, at index: Int, _ body: (Int) -> Void) {
        let count = tokens.count
        guard index < count else { return }
        let kind = tokens.kind(index)
        switch self {
        case .service, .variant:
            let wanted: Mention.Kind = self == .service ? .service : .variant
            for mention in tokens.mentions where mention.kind == wanted && Int(mention.start) == index {
                body(Int(mention.end - mention.start))
            }
        case .text:
            for length in 1...(count - index) { body(length) }
        case .number:
            if kind == .number { body(1) }
        case .ticket:
            if kind == .reference { body(1) }
        case .postcode:
            if kind == .number, tokens.withText(index, { $0.count == 5 && $0.allSatisfy(isASCIIDigit) }) {
                body(1)
            }
        case .date:
            if kind == .date {
                body(1)
                return
            }
            if kind == .word, tokens.withText(index, DateWords.isRelativeDay) {
                body(1)
                return
            }
            // 28 november [2026] / november 28 [2026]
            func isDay(_ i: Int) -> Bool {
                i < count && tokens.kind(i) == .number
                    && tokens.withText(i) { $0.count <= 2 && $0.allSatisfy(isASCIIDigit) }
            }
            func isMonth(_ i: Int) -> Bool {
                i < count && tokens.kind(i) == .word && tokens.withText(i, DateWords.isMonth)
            }
            func isYear(_ i: Int) -> Bool {
                i < count && tokens.kind(i) == .number
                    && tokens.withText(i) { $0.count == 4 && $0.allSatisfy(isASCIIDigit) }
            }
            if (isDay(index) && isMonth(index + 1)) || (isMonth(index) && isDay(index + 1)) {
                body(2)
                if isYear(index + 2) { body(3) }
            }
        }
    }
}

@inline(__always) private func isASCIIDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }

/// English month and day words for date captures.
enum DateWords {
    private static let months: [[UInt8]] = [
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
        "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    ].map { Array($0.utf8) }
    private static let relativeDays: [[UInt8]] = [
        "today", "tomorrow", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    ].map { Array($0.utf8) }

    static func isMonth(_ word: UnsafeBufferPointer<UInt8>) -> Bool {
        months.contains { $0.elementsEqual(word) }
    }

    static func isRelativeDay(_ word: UnsafeBufferPointer<UInt8>) -> Bool {
        relativeDays.contains { $0.elementsEqual(word) }
    }
}
