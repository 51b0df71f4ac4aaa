import Foundation

/// When people answer tickets: weekly opening hours in one time zone, holidays, and a reply target per priority
/// counted in open time only. Read from `config/office-hours.yaml` (see `docs/operations.md` and
/// ``OfficeHours/load(from:)``).
///
/// ```swift
/// let hours = try OfficeHours.load(from: URL(fileURLWithPath: "config/office-hours.yaml"))
/// hours.isOpen(at: now)
/// hours.replyBy(priority: .normal, from: now)  // 16 open hours later
/// ```
public struct OfficeHours: Sendable, Hashable {
    /// A day of the week, Monday first.
    public enum Weekday: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        case monday = 2, tuesday, wednesday, thursday, friday, saturday
        case sunday = 1

        /// `monday` … `sunday`, as in the file.
        public var description: String {
            switch self {
            case .monday: "monday"
            case .tuesday: "tuesday"
            case .wednesday: "wednesday"
            case .thursday: "thursday"
            case .friday: "friday"
            case .saturday: "saturday"
            case .sunday: "sunday"
            }
        }

        /// The order Monday…Sunday.
        public static let week: [Weekday] = [.monday, .tuesday, .wednesday, .thursday, .friday, .saturday, .sunday]
    }

    /// Opening times within one day, in minutes after local midnight: `start..<end`, `end` at most 1440.
    public struct Range: Sendable, Hashable, CustomStringConvertible {
        public var start: Int
        public var end: Int

        public init(start: Int, end: Int) {
            self.start = start
            self.end = end
        }

        /// `09:00-17:00`
        public var description: String {
            String(format: "%02d:%02d-%02d:%02d", start / 60, start % 60, end / 60, end % 60)
        }
    }

    /// A calendar day in the office's time zone.
    public struct Day: Sendable, Hashable, Comparable, CustomStringConvertible {
        public var year: Int
        public var month: Int
        public var day: Int

        public init(year: Int, month: Int, day: Int) {
            self.year = year
            self.month = month
            self.day = day
        }

        public var description: String { String(format: "%04d-%02d-%02d", year, month, day) }

        public static func < (lhs: Day, rhs: Day) -> Bool {
            (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
        }
    }

    public var timeZone: TimeZone
    /// Opening ranges per weekday, sorted, not overlapping; a missing day is closed.
    public var weekly: [Weekday: [Range]]
    /// Days closed all day.
    public var holidays: Set<Day>
    /// How much open time may pass before a reply, per priority.
    public var replyTargets: [TicketPriority: TimeInterval]

    /// The reply targets used when the file gives none: normal 16 h, high 4 h, urgent 1 h.
    public static let defaultReplyTargets: [TicketPriority: TimeInterval] = [
        .normal: 16 * 3600, .high: 4 * 3600, .urgent: 3600,
    ]

    public init(
        timeZone: TimeZone, weekly: [Weekday: [Range]], holidays: Set<Day> = [],
        replyTargets: [TicketPriority: TimeInterval] = OfficeHours.defaultReplyTargets
    ) {
        self.timeZone = timeZone
        self.weekly = weekly.mapValues { $0.sorted { $0.start < $1.start } }
        self.holidays = holidays
        self.replyTargets = replyTargets
    }

    /// How many days ahead the calculations look before giving up (a schedule whose every day is a holiday).
    private static let horizonDays = 800

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// Whether people are at work at `date`: a listed weekday range, not a holiday.
    public func isOpen(at date: Date) -> Bool {
        let calendar = self.calendar
        return openIntervals(on: day(containing: date, calendar), calendar).contains { $0.holds(date) }
    }

    /// The earliest moment at or after `date` when the office is open (`date` itself when open now).
    public func nextOpening(after date: Date) -> Date {
        for interval in openIntervals(from: date) {
            return max(interval.start, date)
        }
        return date
    }

    /// When a ticket of `priority` opened at `date` should have a reply: the reply target counted in open time
    /// only, skipping nights, weekends and holidays. A ticket opened on Friday evening with a 4-hour target is due
    /// on Monday at 13:00 when Monday opens at 09:00.
    public func replyBy(priority: TicketPriority, from date: Date) -> Date {
        var remaining = replyTargets[priority] ?? Self.defaultReplyTargets[priority] ?? 0
        for interval in openIntervals(from: date) {
            let start = max(interval.start, date)
            let available = interval.end.timeIntervalSince(start)
            if remaining <= available { return start.addingTimeInterval(remaining) }
            remaining -= available
        }
        return date.addingTimeInterval(remaining)
    }

    /// Open intervals that end after `date`, in order, up to the horizon.
    private func openIntervals(from date: Date) -> some Sequence<DateInterval> {
        let calendar = self.calendar
        let first = day(containing: date, calendar)
        let noon = calendar.date(from: DateComponents(year: first.year, month: first.month, day: first.day, hour: 12))!
        return (0..<Self.horizonDays).lazy.flatMap { offset -> [DateInterval] in
            guard let someDay = calendar.date(byAdding: .day, value: offset, to: noon) else { return [] }
            return openIntervals(on: day(containing: someDay, calendar), calendar).filter { $0.end > date }
        }
    }

    /// The open intervals of one local day, as real instants: a range across a daylight-saving change is as long
    /// as the time that really passes.
    private func openIntervals(on day: Day, _ calendar: Calendar) -> [DateInterval] {
        guard !holidays.contains(day),
            let date = calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day, hour: 12)),
            let weekday = Weekday(rawValue: calendar.component(.weekday, from: date)),
            let ranges = weekly[weekday]
        else { return [] }
        return ranges.compactMap { range in
            guard let start = instant(day, minute: range.start, calendar),
                let end = instant(day, minute: range.end, calendar), end > start
            else { return nil }
            return DateInterval(start: start, end: end)
        }
    }

    private func instant(_ day: Day, minute: Int, _ calendar: Calendar) -> Date? {
        if minute >= 24 * 60 {
            guard let midnight = calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day))
            else { return nil }
            return calendar.date(byAdding: .day, value: 1, to: midnight)
        }
        return calendar.date(
            from: DateComponents(year: day.year, month: day.month, day: day.day, hour: minute / 60, minute: minute % 60)
        )
    }

    private func day(containing date: Date, _ calendar: Calendar) -> Day {
        let components = calendar.dateComponents([.year, .month, .day], from: date)
        return Day(year: components.year!, month: components.month!, day: components.day!)
    }
}

extension DateInterval {
    /// Whether `date` is in `start..<end` (Foundation's `contains` includes the end).
    fileprivate func holds(_ date: Date) -> Bool { date >= start && date < end }
}
