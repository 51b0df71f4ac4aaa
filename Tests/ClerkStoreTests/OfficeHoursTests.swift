import ClerkStore
import Foundation
import Testing

private let tallinnWeek = """
    # Example City service centre (a test schedule)
    time_zone: Europe/Tallinn
    hours:
      monday: "09:00-17:00"
      tuesday: "09:00-17:00"
      wednesday: "09:00-17:00"
      thursday: ["09:00-12:00", "13:00-19:00"]
      friday: "09:00-17:00"
      saturday: closed
    holidays:
      - 2026-12-24
      - 2026-12-25
    reply_targets:
      normal: 16h
      high: 4h
      urgent: 1h
    """

private let tallinn = TimeZone(identifier: "Europe/Tallinn")!

/// A local time in Tallinn.
private func local(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int = 0) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = tallinn
    return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
}

@Suite("Office hours")
struct OfficeHoursTests {
    let hours = try! OfficeHours.parse(yaml: tallinnWeek)

    @Test func theOfficeIsOpenOnlyDuringListedHours() {
        #expect(hours.isOpen(at: local(2026, 3, 2, 10)))  // Monday
        #expect(hours.isOpen(at: local(2026, 3, 2, 9)))
        #expect(!hours.isOpen(at: local(2026, 3, 2, 8, 59)))
        #expect(!hours.isOpen(at: local(2026, 3, 2, 17)))  // closing time is closed
        #expect(!hours.isOpen(at: local(2026, 3, 5, 12, 30)))  // Thursday lunch
        #expect(hours.isOpen(at: local(2026, 3, 5, 18, 30)))  // Thursday late opening
        #expect(!hours.isOpen(at: local(2026, 3, 7, 11)))  // Saturday
        #expect(!hours.isOpen(at: local(2026, 3, 8, 11)))  // Sunday
        #expect(!hours.isOpen(at: local(2026, 12, 24, 11)))  // holiday on a Thursday
    }

    @Test func aTicketOnFridayEveningIsDueOnMondayMorning() {
        let friday = local(2026, 3, 6, 18, 30)
        #expect(hours.replyBy(priority: .high, from: friday) == local(2026, 3, 9, 13))
        #expect(hours.replyBy(priority: .urgent, from: friday) == local(2026, 3, 9, 10))
        #expect(hours.nextOpening(after: friday) == local(2026, 3, 9, 9))
    }

    @Test func openTimeLeftOnFridayCountsTowardsTheTarget() {
        #expect(hours.replyBy(priority: .high, from: local(2026, 3, 6, 16)) == local(2026, 3, 9, 12))
        // 16 working hours from Monday 09:00: all of Monday and Tuesday.
        #expect(hours.replyBy(priority: .normal, from: local(2026, 3, 2, 9)) == local(2026, 3, 3, 17))
    }

    @Test func lunchBreaksAreSkipped() {
        #expect(hours.replyBy(priority: .urgent, from: local(2026, 3, 5, 11, 30)) == local(2026, 3, 5, 13, 30))
        #expect(hours.nextOpening(after: local(2026, 3, 5, 12, 15)) == local(2026, 3, 5, 13))
    }

    @Test func holidaysAreSkipped() {
        // Wednesday 23 Dec 16:00: 1 h that day; the 24th and 25th are holidays, then the weekend;
        // Monday 28th gives 8 h, and the last 7 h end on Tuesday at 16:00.
        #expect(hours.replyBy(priority: .normal, from: local(2026, 12, 23, 16)) == local(2026, 12, 29, 16))
        #expect(hours.nextOpening(after: local(2026, 12, 23, 17)) == local(2026, 12, 28, 9))
    }

    @Test func replyTimesAcrossTheSpringClockChangeKeepLocalHours() {
        // Clocks go forward on Sunday 29 March 2026: Friday is UTC+2, Monday UTC+3.
        let due = hours.replyBy(priority: .high, from: local(2026, 3, 27, 16))
        #expect(due == local(2026, 3, 30, 12))
        #expect(due == Date(timeIntervalSince1970: 1_774_861_200))  // 2026-03-30 09:00 UTC
        #expect(hours.replyBy(priority: .high, from: local(2026, 10, 23, 16)) == local(2026, 10, 26, 12))
    }

    @Test func roundTheClockHoursCountRealTimeOnTheShortDay() throws {
        let always = try OfficeHours.parse(
            yaml: """
                time_zone: Europe/Tallinn
                hours: {mon: "00:00-24:00", tue: "00:00-24:00", wed: "00:00-24:00", thu: "00:00-24:00",
                        fri: "00:00-24:00", sat: "00:00-24:00", sun: "00:00-24:00"}
                reply_targets: {normal: 24h}
                """)
        // Sunday 29 March 2026 has only 23 hours, so 24 open hours end at 01:00 on Monday.
        #expect(always.replyBy(priority: .normal, from: local(2026, 3, 29, 0)) == local(2026, 3, 30, 1))
        #expect(always.isOpen(at: local(2026, 3, 29, 3, 30)))
        #expect(always.replyTargets[.urgent] == 3600)  // defaults fill what the file leaves out
    }

    @Test func nextOpeningIsNowWhenOpen() {
        let now = local(2026, 3, 2, 11, 17)
        #expect(hours.nextOpening(after: now) == now)
    }

    @Test func theShippedExampleCityHoursLoad() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/office-hours.yaml")
        let shipped = try OfficeHours.load(from: file)
        #expect(shipped.timeZone.identifier == "Europe/Tallinn")
        #expect(shipped.replyTargets == [.normal: 16 * 3600, .high: 4 * 3600, .urgent: 3600])
        #expect(!shipped.holidays.isEmpty)
        #expect(shipped.weekly[.sunday] == nil || shipped.weekly[.sunday] == [])
    }

    @Test(arguments: [
        ("time_zone: Mars/Olympus\nhours: {monday: \"09:00-17:00\"}", "1:12: unknown time zone 'Mars/Olympus'"),
        ("time_zone: UTC\nhours:\n  munday: \"09:00-17:00\"", "3:3: unknown weekday 'munday'"),
        ("time_zone: UTC\nhours:\n  monday: \"9-17\"", "3:11: '9-17' is not a time range"),
        ("time_zone: UTC\nhours:\n  monday: \"17:00-09:00\"", "3:11: '17:00-09:00' ends before it starts"),
        (
            "time_zone: UTC\nhours:\n  monday: [\"09:00-13:00\", \"12:00-17:00\"]",
            "3:27: 12:00-17:00 overlaps 09:00-13:00"
        ),
        (
            "time_zone: UTC\nhours: {monday: \"09:00-17:00\"}\nholidays: [2026-02-30]",
            "3:12: '2026-02-30' is not a date"
        ),
        (
            "time_zone: UTC\nhours: {monday: \"09:00-17:00\"}\nreply_targets: {normal: 2d}",
            "3:25: '2d' is not a duration"
        ),
        ("time_zone: UTC\nhours: {monday: \"09:00-17:00\"}\nreply_targets: {low: 2h}", "3:17: unknown priority 'low'"),
        ("time_zone: UTC\nopening: {}", "2:1: unknown key 'opening'"),
        ("time_zone: UTC\nhours: {saturday: closed}", "2:8: no weekday has opening hours"),
        ("hours: {monday: \"09:00-17:00\"}", "1:1: missing time_zone"),
        ("", "1:1: the file is empty"),
        ("time_zone: UTC\nhours: [monday", "the YAML is not valid here"),
    ])
    func mistakesInTheFileArePointedOutByLine(_ yaml: String, _ expected: String) {
        let error = #expect(throws: OfficeHoursError.self) {
            try OfficeHours.parse(yaml: yaml, file: "config/office-hours.yaml")
        }
        #expect(error?.description.hasPrefix("config/office-hours.yaml:") == true)
        #expect(error?.description.contains(expected) == true, "\(String(describing: error))")
    }
}
