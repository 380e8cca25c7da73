import Foundation

/// A department's working time: its time zone, business hours per weekday and holidays
/// (DESIGN §7.1). Service clocks count business time in it.
///
/// Time is counted in milliseconds of business time. Targets are written as durations
/// (``DurationText``); in a target, a day (`d`, and so `24h`) means one business day of this
/// calendar, its mean length over the working days of the week (8 hours for
/// `mon-fri 09:00-17:00`), and hours, minutes and seconds under a day count business hours,
/// minutes and seconds. ``businessMilliseconds(forTarget:)`` does that conversion.
public struct BusinessCalendar: Sendable {
    /// The time zone the hours are read in.
    public let timeZone: TimeZone
    /// Business hours per weekday.
    public let hours: WeeklyHours
    /// Days without business hours.
    public let holidays: Set<CalendarDate>
    private let calendar: Calendar
    /// The local days worked out so far, shared by the copies of this calendar: Foundation's
    /// calendar arithmetic is most of what measuring a clock costs, and a listing measures
    /// thousands of clocks over the same few hundred days.
    private let known = KnownDays()

    /// The longest stretch of days searched for business time before giving up: a calendar
    /// whose hours are all holidays has none.
    static let searchLimit = 3_700

    /// A calendar of `hours` in `timeZone`, closed on `holidays`.
    public init(timeZone: TimeZone, hours: WeeklyHours, holidays: [CalendarDate] = []) {
        self.timeZone = timeZone
        self.hours = hours
        self.holidays = Set(holidays)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    /// Monday to Friday, 09:00 to 17:00, UTC, no holidays: for departments not yet known here.
    public static let standardOffice = BusinessCalendar(
        timeZone: TimeZone(identifier: "UTC")!, hours: .standard)

    /// The mean length of a working day, in milliseconds (0 for a week without hours).
    public var dayLength: Int64 {
        let working = hours.days.filter { !$0.isEmpty }
        guard !working.isEmpty else { return 0 }
        let minutes = working.reduce(0) { total, ranges in total + ranges.reduce(0) { $0 + $1.count } }
        return Int64(minutes) * 60_000 / Int64(working.count)
    }

    /// The business time a target of `seconds` stands for: whole days are business days of
    /// ``dayLength``, the rest business hours, minutes and seconds.
    public func businessMilliseconds(forTarget seconds: Int64) -> Int64 {
        let days = seconds / 86_400
        let rest = seconds % 86_400
        return days * dayLength + rest * 1_000
    }

    /// The business time between two instants, in milliseconds; 0 if `end` is not after `start`.
    public func businessMilliseconds(from start: Timestamp, to end: Timestamp) -> Int64 {
        guard end > start else { return 0 }
        var total: Int64 = 0
        var day = localDay(containing: start)
        var searched = 0
        while day.start < end.millisecondsSince1970, searched <= Self.searchLimit * 10 {
            for (open, close) in intervals(of: day) {
                let from = max(open, start.millisecondsSince1970)
                let to = min(close, end.millisecondsSince1970)
                if to > from { total += to - from }
            }
            day = next(day)
            searched += 1
        }
        return total
    }

    /// The instant at which `amount` milliseconds of business time have passed after `start`;
    /// `nil` if the calendar has no business time within about ten years.
    ///
    /// A clock that reaches its target exactly at closing time is due at closing time, not at
    /// the next opening.
    public func instant(after start: Timestamp, adding amount: Int64) -> Timestamp? {
        guard amount > 0 else { return start }
        var remaining = amount
        var day = localDay(containing: start)
        var idle = 0
        while idle <= Self.searchLimit {
            var progressed = false
            for (open, close) in intervals(of: day) {
                let from = max(open, start.millisecondsSince1970)
                guard close > from else { continue }
                progressed = true
                if close - from >= remaining { return Timestamp(millisecondsSince1970: from + remaining) }
                remaining -= close - from
            }
            idle = progressed ? 0 : idle + 1
            day = next(day)
        }
        return nil
    }

    /// `true` if `time` falls within business hours.
    public func isOpen(at time: Timestamp) -> Bool {
        intervals(of: localDay(containing: time)).contains { (open, close) in
            (open..<close).contains(time.millisecondsSince1970)
        }
    }

    // MARK: Local days

    struct LocalDay {
        var date: CalendarDate
        /// 0 = Monday … 6 = Sunday.
        var weekday: Int
        /// The instant of local midnight, in milliseconds.
        var start: Int64
        var midnight: Date
    }

    func localDay(containing time: Timestamp) -> LocalDay {
        let millisecond = time.millisecondsSince1970
        if let day = known.day(containing: millisecond) { return day }
        let day = day(startingAt: calendar.startOfDay(for: time.date))
        known.add(day, endingAt: known.entry(of: day, else: entry(of:)).next.start)
        return day
    }

    private func next(_ day: LocalDay) -> LocalDay {
        known.entry(of: day, else: entry(of:)).next
    }

    /// What the calendar says of `day`, worked out: its business intervals and the next day.
    private func entry(of day: LocalDay) -> KnownDays.Entry {
        // Noon of the day plus one day is always on the next local date, whatever DST does.
        let noon = day.midnight.addingTimeInterval(12 * 3_600)
        let tomorrow = calendar.date(byAdding: .day, value: 1, to: noon) ?? noon.addingTimeInterval(86_400)
        let next = self.day(startingAt: calendar.startOfDay(for: tomorrow))
        guard !holidays.contains(day.date) else { return KnownDays.Entry(intervals: [], next: next) }
        let intervals = hours.days[day.weekday].compactMap { range -> (Int64, Int64)? in
            let open = instant(on: day, minute: range.lowerBound, next: next)
            let close = instant(on: day, minute: range.upperBound, next: next)
            return close > open ? (open, close) : nil
        }
        return KnownDays.Entry(intervals: intervals, next: next)
    }

    private func day(startingAt midnight: Date) -> LocalDay {
        let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: midnight)
        let date = CalendarDate(year: parts.year!, month: parts.month!, day: parts.day!)!
        return LocalDay(
            date: date, weekday: (parts.weekday! + 5) % 7, start: Timestamp(midnight).millisecondsSince1970,
            midnight: midnight)
    }

    /// The business intervals of a local day as instants in milliseconds, in order.
    func intervals(of day: LocalDay) -> [(Int64, Int64)] {
        known.entry(of: day, else: entry(of:)).intervals
    }

    /// The instant of local time `minute` (minutes after midnight, up to 1440) on `day`. A
    /// local time that a DST change skips is moved forward by the length of the gap, as
    /// Foundation does (01:30 in a 01:00–02:00 gap is 02:30).
    private func instant(on day: LocalDay, minute: Int, next: LocalDay) -> Int64 {
        if minute >= 1_440 { return next.start }
        var parts = DateComponents()
        parts.year = day.date.year
        parts.month = day.date.month
        parts.day = day.date.day
        parts.hour = minute / 60
        parts.minute = minute % 60
        guard let date = calendar.date(from: parts) else { return day.start + Int64(minute) * 60_000 }
        return Timestamp(date).millisecondsSince1970
    }
}

/// The local days a ``BusinessCalendar`` has worked out, by the instant of their midnight,
/// and the span of instants each covers. A cache of pure results: what it returns is what the
/// calendar would work out again.
final class KnownDays: @unchecked Sendable {
    struct Entry {
        var intervals: [(Int64, Int64)]
        var next: BusinessCalendar.LocalDay
    }

    private let lock = NSLock()
    private var entries: [Int64: Entry] = [:]
    /// Days by start, sorted, with the instant each ends at (the next day's midnight).
    private var spans: [(start: Int64, end: Int64, day: BusinessCalendar.LocalDay)] = []

    func entry(of day: BusinessCalendar.LocalDay, else work: (BusinessCalendar.LocalDay) -> Entry) -> Entry {
        if let known = lock.withLock({ entries[day.start] }) { return known }
        let entry = work(day)
        lock.withLock { entries[day.start] = entry }
        return entry
    }

    /// The known day whose span holds `instant`, if any.
    func day(containing instant: Int64) -> BusinessCalendar.LocalDay? {
        lock.withLock {
            let index = insertionIndex(instant)
            guard index > 0, spans[index - 1].end > instant else { return nil }
            return spans[index - 1].day
        }
    }

    func add(_ day: BusinessCalendar.LocalDay, endingAt end: Int64) {
        lock.withLock {
            let index = insertionIndex(day.start)
            guard index == 0 || spans[index - 1].start != day.start else { return }
            spans.insert((day.start, end, day), at: index)
        }
    }

    /// The number of spans that start at or before `instant`.
    private func insertionIndex(_ instant: Int64) -> Int {
        var low = 0
        var high = spans.count
        while low < high {
            let middle = (low + high) / 2
            if spans[middle].start <= instant { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
