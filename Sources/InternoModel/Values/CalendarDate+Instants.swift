/// Dates as people type them, and instants shown back as those dates (DESIGN §8, "Dates").
///
/// The model keeps every time as an instant. A date typed for a bound is one of two instants:
/// the end of that day, UTC (`--needed-by 2026-11-27`, `report --to 2026-11-27`), which is the
/// next UTC midnight, or its start (`report --from`), its own UTC midnight. An instant that is
/// exactly a UTC midnight is shown back as the date it ends or starts; any other is shown as
/// a time. The rule needs no record of how a value was typed, so it holds on every replica,
/// for values written before it existed, and never changes what is stored or sent.
extension CalendarDate {
    private static let millisecondsPerDay: Int64 = 86_400_000

    /// The first instant of this day, UTC.
    public var start: Timestamp {
        Timestamp(millisecondsSince1970: Self.daysFromCivil(year, month, day) * Self.millisecondsPerDay)
    }

    /// The first instant after this day, UTC: a date typed for an end (`--needed-by`) means it.
    public var end: Timestamp {
        Timestamp(millisecondsSince1970: start.millisecondsSince1970 + Self.millisecondsPerDay)
    }

    /// The date that starts at `time`, if `time` is exactly a UTC midnight.
    public init?(starting time: Timestamp) {
        let milliseconds = time.millisecondsSince1970
        guard milliseconds % Self.millisecondsPerDay == 0 else { return nil }
        let (year, month, day) = Self.civil(fromDays: milliseconds / Self.millisecondsPerDay)
        self.init(year: year, month: month, day: day)
    }

    /// The date that ends at `time` (whose end is `time`), if `time` is exactly a UTC midnight.
    public init?(ending time: Timestamp) {
        guard time.millisecondsSince1970 % Self.millisecondsPerDay == 0 else { return nil }
        self.init(
            starting: Timestamp(millisecondsSince1970: time.millisecondsSince1970 - Self.millisecondsPerDay))
    }

    /// Days since 1970-01-01 of a date of the proleptic Gregorian calendar (H. Hinnant's
    /// `days_from_civil`).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` after 1970-01-01 (H. Hinnant's `civil_from_days`).
    static func civil(fromDays days: Int64) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }
}

extension Timestamp {
    /// This instant read as the end of a period or a deadline: `2026-11-27` when it is the
    /// end of that day (exactly 2026-11-28T00:00:00.000Z), else the ISO time.
    public var asEndOfDay: String {
        CalendarDate(ending: self)?.description ?? description
    }

    /// This instant read as the start of a period: `2026-11-01` when it is exactly that UTC
    /// midnight, else the ISO time.
    public var asStartOfDay: String {
        CalendarDate(starting: self)?.description ?? description
    }
}
