import Foundation
import Yams

/// A problem in `config/office-hours.yaml`, with where it is: `config/office-hours.yaml:4:12: …`.
public struct OfficeHoursError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "\(file):\(line):\(column): \(message)" }
    public var errorDescription: String? { description }
}

extension OfficeHours {
    /// Reads office hours from a YAML file.
    ///
    /// ```yaml
    /// time_zone: Europe/Tallinn
    /// hours:
    ///   monday: "09:00-17:00"
    ///   thursday: ["09:00-12:00", "13:00-19:00"]
    ///   saturday: closed
    /// holidays: [2026-12-24, 2026-12-25]
    /// reply_targets: {normal: 16h, high: 4h, urgent: 1h}
    /// ```
    ///
    /// - Throws: ``OfficeHoursError`` naming the file, line and column of the first problem.
    public static func load(from url: URL) throws -> OfficeHours {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw OfficeHoursError(
                file: url.relativePath, line: 1, column: 1,
                message: "cannot read the file (\(error.localizedDescription))"
            )
        }
        return try parse(yaml: text, file: url.relativePath)
    }

    /// Reads office hours from YAML text; `file` names it in errors.
    public static func parse(
        yaml: String, file: String = "office-hours.yaml"
    ) throws(OfficeHoursError)
        -> OfficeHours
    {
        try OfficeHoursReader(file: file).read(yaml)
    }
}

/// Walks the composed YAML, reporting each problem at its node.
private struct OfficeHoursReader {
    var file: String

    private static let weekdays: [String: OfficeHours.Weekday] = [
        "monday": .monday, "tuesday": .tuesday, "wednesday": .wednesday, "thursday": .thursday, "friday": .friday,
        "saturday": .saturday, "sunday": .sunday, "mon": .monday, "tue": .tuesday, "wed": .wednesday,
        "thu": .thursday, "fri": .friday, "sat": .saturday, "sun": .sunday,
    ]

    func read(_ yaml: String) throws(OfficeHoursError) -> OfficeHours {
        let root: Node
        do {
            guard let composed = try Yams.compose(yaml: yaml) else {
                throw problem(nil, "the file is empty; it needs time_zone and hours")
            }
            root = composed
        } catch let error as OfficeHoursError {
            throw error
        } catch {
            throw yamlProblem(error)
        }
        guard case .mapping(let mapping) = root else {
            throw problem(root, "expected keys time_zone, hours, holidays and reply_targets")
        }
        var timeZone: TimeZone?
        var weekly: [OfficeHours.Weekday: [OfficeHours.Range]]?
        var holidays: Set<OfficeHours.Day> = []
        var targets = OfficeHours.defaultReplyTargets
        for (key, value) in mapping {
            switch key.string ?? "" {
            case "time_zone":
                let name = try scalar(value, "a time zone name such as Europe/Tallinn")
                guard let zone = TimeZone(identifier: name) else {
                    throw problem(value, "unknown time zone '\(name)'; use an IANA name such as Europe/Tallinn")
                }
                timeZone = zone
            case "hours":
                weekly = try hours(value)
            case "holidays":
                holidays = try days(value)
            case "reply_targets":
                targets = try replyTargets(value, defaults: targets)
            default:
                throw problem(
                    key, "unknown key '\(key.string ?? "")'; expected time_zone, hours, holidays or reply_targets")
            }
        }
        guard let timeZone else { throw problem(root, "missing time_zone (e.g. time_zone: Europe/Tallinn)") }
        guard let weekly else { throw problem(root, "missing hours (e.g. hours: {monday: \"09:00-17:00\"})") }
        return OfficeHours(timeZone: timeZone, weekly: weekly, holidays: holidays, replyTargets: targets)
    }

    private func hours(_ node: Node) throws(OfficeHoursError) -> [OfficeHours.Weekday: [OfficeHours.Range]] {
        guard case .mapping(let mapping) = node else {
            throw problem(node, "hours needs one line per weekday, e.g. monday: \"09:00-17:00\"")
        }
        var weekly: [OfficeHours.Weekday: [OfficeHours.Range]] = [:]
        for (key, value) in mapping {
            let name = (key.string ?? "").lowercased()
            guard let weekday = Self.weekdays[name] else {
                throw problem(key, "unknown weekday '\(key.string ?? "")'; use monday … sunday")
            }
            guard weekly[weekday] == nil else { throw problem(key, "\(weekday) is given twice") }
            var items: [Node] = []
            switch value {
            case .sequence(let sequence): items = Array(sequence)
            case .scalar(let scalar) where ["closed", ""].contains(scalar.string.lowercased()): items = []
            default: items = [value]
            }
            var ranges: [OfficeHours.Range] = []
            for item in items {
                let range = try self.range(item)
                if let overlap = ranges.first(where: { $0.start < range.end && range.start < $0.end }) {
                    throw problem(item, "\(range) overlaps \(overlap) on \(weekday)")
                }
                ranges.append(range)
            }
            weekly[weekday] = ranges.sorted { $0.start < $1.start }
        }
        guard weekly.values.contains(where: { !$0.isEmpty }) else {
            throw problem(node, "no weekday has opening hours, so no reply time could ever be promised")
        }
        return weekly
    }

    /// `09:00-17:00`; the end may be `24:00`.
    private func range(_ node: Node) throws(OfficeHoursError) -> OfficeHours.Range {
        let text = try scalar(node, "a time range such as \"09:00-17:00\"")
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard parts.count == 2, let start = minutes(parts[0]), let end = minutes(parts[1]), start < 24 * 60 else {
            throw problem(node, "'\(text)' is not a time range; write it like \"09:00-17:00\"")
        }
        guard start < end else { throw problem(node, "'\(text)' ends before it starts") }
        return OfficeHours.Range(start: start, end: end)
    }

    private func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count <= 2, parts[1].count == 2, let hour = Int(parts[0]),
            let minute = Int(parts[1]), (0...24).contains(hour), (0..<60).contains(minute),
            hour < 24 || minute == 0
        else { return nil }
        return hour * 60 + minute
    }

    private func days(_ node: Node) throws(OfficeHoursError) -> Set<OfficeHours.Day> {
        guard case .sequence(let sequence) = node else {
            throw problem(node, "holidays needs a list of dates, e.g. [2026-12-24, 2026-12-25]")
        }
        var days: Set<OfficeHours.Day> = []
        for item in sequence {
            let text = try scalar(item, "a date such as 2026-12-24")
            let parts = text.split(separator: "-").map { Int($0) }
            guard parts.count == 3, let year = parts[0], let month = parts[1], let day = parts[2],
                text.count == 10, Self.isValid(year: year, month: month, day: day)
            else { throw problem(item, "'\(text)' is not a date; write it like 2026-12-24") }
            days.insert(OfficeHours.Day(year: year, month: month, day: day))
        }
        return days
    }

    private static func isValid(year: Int, month: Int, day: Int) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: year, month: month, day: day)
        guard let date = calendar.date(from: components) else { return false }
        let back = calendar.dateComponents([.year, .month, .day], from: date)
        return back.year == year && back.month == month && back.day == day
    }

    private func replyTargets(
        _ node: Node, defaults: [TicketPriority: TimeInterval]
    ) throws(OfficeHoursError) -> [TicketPriority: TimeInterval] {
        guard case .mapping(let mapping) = node else {
            throw problem(node, "reply_targets needs one line per priority, e.g. normal: 16h")
        }
        var targets = defaults
        for (key, value) in mapping {
            guard let priority = TicketPriority(rawValue: key.string ?? "") else {
                throw problem(key, "unknown priority '\(key.string ?? "")'; use normal, high or urgent")
            }
            let text = try scalar(value, "a duration such as 16h or 30m")
            guard let seconds = Self.duration(text), seconds > 0 else {
                throw problem(value, "'\(text)' is not a duration; write hours and minutes like 16h, 90m or 1h30m")
            }
            targets[priority] = seconds
        }
        return targets
    }

    /// `16h`, `90m`, `1h30m`, in seconds.
    static func duration(_ text: String) -> TimeInterval? {
        var total = 0
        var number = ""
        var sawUnit = false
        for character in text.replacingOccurrences(of: " ", with: "") {
            if character.isASCII, character.isNumber {
                number.append(character)
            } else if character == "h" || character == "m", let value = Int(number) {
                total += value * (character == "h" ? 3600 : 60)
                number = ""
                sawUnit = true
            } else {
                return nil
            }
        }
        return number.isEmpty && sawUnit ? TimeInterval(total) : nil
    }

    private func scalar(_ node: Node, _ expected: String) throws(OfficeHoursError) -> String {
        guard case .scalar(let scalar) = node else { throw problem(node, "expected \(expected)") }
        return scalar.string
    }

    private func problem(_ node: Node?, _ message: String) -> OfficeHoursError {
        OfficeHoursError(file: file, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1, message: message)
    }

    private func yamlProblem(_ error: any Error) -> OfficeHoursError {
        switch error {
        case YamlError.scanner(_, let text, let mark, _), YamlError.parser(_, let text, let mark, _),
            YamlError.composer(_, let text, let mark, _):
            return OfficeHoursError(
                file: file, line: mark.line, column: mark.column, message: "the YAML is not valid here: \(text)")
        case YamlError.duplicatedKeysInMapping(let duplicates, let context):
            return OfficeHoursError(
                file: file, line: context.mark.line, column: context.mark.column,
                message: "repeated key \(duplicates.joined(separator: ", "))")
        default:
            return OfficeHoursError(file: file, line: 1, column: 1, message: "the YAML is not valid: \(error)")
        }
    }
}
