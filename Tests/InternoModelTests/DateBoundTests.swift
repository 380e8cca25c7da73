import Foundation
import InternoModel
import Testing

/// Dates typed for bounds and shown back as typed (DESIGN §8, "Dates").
@Suite("Dates as bounds")
struct DateBoundTests {
    @Test func aDateStartsAndEndsAtUTCMidnights() throws {
        let date = try #require(CalendarDate("2026-11-27"))
        #expect(date.start == Timestamp(iso8601: "2026-11-27T00:00:00Z"))
        #expect(date.end == Timestamp(iso8601: "2026-11-28T00:00:00Z"))
        #expect(CalendarDate(ending: date.end) == date)
        #expect(CalendarDate(starting: date.start) == date)
        #expect(CalendarDate(ending: Timestamp(millisecondsSince1970: date.end.millisecondsSince1970 + 1)) == nil)
    }

    /// The day arithmetic agrees with Foundation's calendar on every day from 1970 to 2100,
    /// leap days and centuries included.
    @Test func theDayArithmeticMatchesTheGregorianCalendar() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var day = try #require(calendar.date(from: DateComponents(year: 1970, month: 1, day: 1)))
        let last = try #require(calendar.date(from: DateComponents(year: 2100, month: 12, day: 31)))
        while day <= last {
            let parts = calendar.dateComponents([.year, .month, .day], from: day)
            let date = try #require(CalendarDate(year: parts.year!, month: parts.month!, day: parts.day!))
            #expect(date.start == Timestamp(day), "\(date)")
            #expect(CalendarDate(starting: Timestamp(day)) == date)
            day = calendar.date(byAdding: .day, value: 1, to: day)!
        }
    }

    @Test func anInstantIsShownAsTheDateItBoundsElseAsATime() throws {
        let end = try #require(Timestamp(iso8601: "2026-11-28T00:00:00Z"))
        #expect(end.asEndOfDay == "2026-11-27")
        #expect(end.asStartOfDay == "2026-11-28")
        let time = try #require(Timestamp(iso8601: "2026-11-27T14:30:00Z"))
        #expect(time.asEndOfDay == "2026-11-27T14:30:00.000Z")
        #expect(time.asStartOfDay == "2026-11-27T14:30:00.000Z")
    }
}
