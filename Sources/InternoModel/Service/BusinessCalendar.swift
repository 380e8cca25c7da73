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
    ///
    /// The difference of two running totals of business time (``KnownDays``), so a clock that
    /// has run for months costs two lookups, not a walk over its days.
    public func businessMilliseconds(from start: Timestamp, to end: Timestamp) -> Int64 {
        guard end > start else { return 0 }
        // Instants further apart than the walk would go (only absurd dates): walk, as far as it goes.
        guard end.millisecondsSince1970 - start.millisecondsSince1970 < Self.walkLimitMilliseconds else {
            return walkedBusinessMilliseconds(from: start, to: end)
        }
        return known.businessTime(from: start.millisecondsSince1970, to: end.millisecondsSince1970, self)
    }

    /// Beyond this span ``businessMilliseconds(from:to:)`` walks day by day, and stops where
    /// the walk stops: ten search limits of days of at least 23 hours.
    static let walkLimitMilliseconds = Int64(searchLimit * 10) * 23 * 3_600_000

    /// ``businessMilliseconds(from:to:)`` worked out day by day, for at most ten search limits
    /// of days.
    func walkedBusinessMilliseconds(from start: Timestamp, to end: Timestamp) -> Int64 {
        guard end > start else { return 0 }
        var total: Int64 = 0
        var day = localDay(containing: start)
        var searched = 0
        while day.start < end.millisecondsSince1970, searched <= Self.searchLimit * 10 {
            for (open, close) in entry(of: day).intervals {
                let from = max(open, start.millisecondsSince1970)
                let to = min(close, end.millisecondsSince1970)
                if to > from { total += to - from }
            }
            day = entry(of: day).next
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
        return known.instant(after: start.millisecondsSince1970, adding: amount, self).map(
            Timestamp.init(millisecondsSince1970:))
    }

    /// ``instant(after:adding:)`` worked out day by day from Foundation's calendar, with no
    /// running totals: what the tests hold the fast path to.
    func walkedInstant(after start: Timestamp, adding amount: Int64) -> Timestamp? {
        guard amount > 0 else { return start }
        var remaining = amount
        var day = localDay(containing: start)
        var idle = 0
        while idle <= Self.searchLimit {
            var progressed = false
            let entry = entry(of: day)
            for (open, close) in entry.intervals {
                let from = max(open, start.millisecondsSince1970)
                guard close > from else { continue }
                progressed = true
                if close - from >= remaining { return Timestamp(millisecondsSince1970: from + remaining) }
                remaining -= close - from
            }
            idle = progressed ? 0 : idle + 1
            day = entry.next
        }
        return nil
    }

    /// `true` if `time` falls within business hours.
    public func isOpen(at time: Timestamp) -> Bool {
        known.intervals(containing: time.millisecondsSince1970, self).contains { (open, close) in
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

    /// The local day that holds `time`, worked out from Foundation's calendar.
    func localDay(containing time: Timestamp) -> LocalDay {
        day(startingAt: calendar.startOfDay(for: time.date))
    }

    /// What the calendar says of `day`, worked out: its business intervals and the next day.
    func entry(of day: LocalDay) -> KnownDays.Entry {
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

/// The local days a ``BusinessCalendar`` has worked out: one unbroken run of days, each with
/// its business intervals and the business time from the start of the run to its start (a
/// running total). Business time between two instants is the difference of two running
/// totals; the instant a target falls due is found by a search on them. A cache of pure
/// results: what it returns is what the calendar works out day by day
/// (``BusinessCalendar/walkedInstant(after:adding:)`` and the walk of
/// ``BusinessCalendar/walkedBusinessMilliseconds(from:to:)``), which the tests check.
final class KnownDays: @unchecked Sendable {
    /// What the calendar says of one day: its business intervals and the next day.
    struct Entry {
        var intervals: [(Int64, Int64)]
        var next: BusinessCalendar.LocalDay
    }

    /// A day of the run.
    struct Day {
        var day: BusinessCalendar.LocalDay
        var intervals: [(Int64, Int64)]
        /// Business time on this day.
        var length: Int64
        /// Business time from the start of the run to the start of this day.
        var before: Int64
        /// The instant this day ends: the next day's midnight.
        var end: Int64
    }

    private let lock = NSLock()
    /// Contiguous: each day ends where the next starts.
    private var days: [Day] = []
    /// The day after the last one of the run.
    private var following: BusinessCalendar.LocalDay?

    /// The business time between `start` and `end` (after it): the difference of their running
    /// totals, read from one run.
    func businessTime(from start: Int64, to end: Int64, _ calendar: BusinessCalendar) -> Int64 {
        lock.withLock {
            let first = index(containing: start, calendar)
            // Later than `start`: the run only grows forward, so `first` stays where it is.
            let last = index(containing: end, calendar, restarting: false)
            return total(on: days[last], at: end) - total(on: days[first], at: start)
        }
    }

    /// The running total at `instant`, which falls on `day`.
    private func total(on day: Day, at instant: Int64) -> Int64 {
        var total = day.before
        for (open, close) in day.intervals where instant > open { total += min(close, instant) - open }
        return total
    }

    /// The business intervals of the local day that holds `instant`.
    func intervals(containing instant: Int64, _ calendar: BusinessCalendar) -> [(Int64, Int64)] {
        lock.withLock { days[index(containing: instant, calendar)].intervals }
    }

    /// The instant at which `amount` (> 0) of business time has passed after `start`: the
    /// first day on or after the day of `start` whose running total reaches the total at
    /// `start` plus `amount`, and the place in its intervals. `nil` after more than
    /// ``BusinessCalendar/searchLimit`` days in a row without business time.
    func instant(after start: Int64, adding amount: Int64, _ calendar: BusinessCalendar) -> Int64? {
        lock.withLock {
            var index = index(containing: start, calendar)
            let target = total(on: days[index], at: start) + amount
            var idle = 0
            while true {
                if index == days.count { extend(calendar) }
                let day = days[index]
                // A day counts as progress if business time is left on it after `start`.
                let progressed = day.intervals.contains { $0.1 > max($0.0, start) }
                if progressed, day.before + day.length >= target {
                    var remaining = target - day.before
                    for (open, close) in day.intervals {
                        if close - open >= remaining { return open + remaining }
                        remaining -= close - open
                    }
                }
                idle = progressed ? 0 : idle + 1
                if idle > BusinessCalendar.searchLimit { return nil }
                index += 1
            }
        }
    }

    /// How far from the run an instant may fall for the run to grow to it; further away,
    /// the run starts afresh at the instant's day rather than work out every day between.
    static let bridge: Int64 = 400 * 86_400_000

    /// The index of the day of the run that holds `instant`, the run grown to reach it (or,
    /// `restarting`, started afresh when it lies beyond ``bridge``).
    private func index(containing instant: Int64, _ calendar: BusinessCalendar, restarting: Bool = true) -> Int {
        if restarting, let first = days.first, let last = days.last,
            instant < first.day.start - Self.bridge || instant >= last.end + Self.bridge
        {
            days = []
            following = nil
        }
        if days.isEmpty || instant < days[0].day.start {
            prepend(calendar.localDay(containing: Timestamp(millisecondsSince1970: instant)), calendar)
        }
        while instant >= days[days.count - 1].end { extend(calendar) }
        var low = 0
        var high = days.count
        while low < high {
            let middle = (low + high) / 2
            if days[middle].day.start <= instant { low = middle + 1 } else { high = middle }
        }
        return low - 1
    }

    /// Adds the day after the last one.
    private func extend(_ calendar: BusinessCalendar) {
        guard let next = following else { return }
        let last = days[days.count - 1]
        append(next, before: last.before + last.length, calendar)
    }

    private func append(_ day: BusinessCalendar.LocalDay, before: Int64, _ calendar: BusinessCalendar) {
        let entry = calendar.entry(of: day)
        let length = entry.intervals.reduce(0) { $0 + $1.1 - $1.0 }
        days.append(Day(day: day, intervals: entry.intervals, length: length, before: before, end: entry.next.start))
        following = entry.next
    }

    /// Starts the run at `day`, keeping the days already known after it: the days in between
    /// are worked out and every running total moves by their business time.
    private func prepend(_ day: BusinessCalendar.LocalDay, _ calendar: BusinessCalendar) {
        let known = days
        let knownFollowing = following
        days = []
        append(day, before: 0, calendar)
        guard let first = known.first else { return }
        while days[days.count - 1].end < first.day.start { extend(calendar) }
        guard days[days.count - 1].end == first.day.start else { return }  // not contiguous: start afresh
        let last = days[days.count - 1]
        let shift = last.before + last.length
        days += known.map { known in
            var moved = known
            moved.before += shift
            return moved
        }
        following = knownFollowing
    }
}
