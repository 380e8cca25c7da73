import Foundation

/// A point in time, in whole milliseconds since 1970-01-01T00:00:00Z.
///
/// Milliseconds are exact in SQLite integers and on the wire, where `Date`'s double is not.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Milliseconds since the Unix epoch, UTC.
    public let millisecondsSince1970: Int64

    /// The instant `milliseconds` after the epoch.
    public init(millisecondsSince1970 milliseconds: Int64) {
        self.millisecondsSince1970 = milliseconds
    }

    /// The instant of `date`, truncated to the millisecond.
    public init(_ date: Date) {
        self.millisecondsSince1970 = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The current wall-clock time.
    public static func now() -> Timestamp {
        Timestamp(Date())
    }

    /// The same instant as a `Date`.
    public var date: Date {
        Date(timeIntervalSince1970: Double(millisecondsSince1970) / 1000)
    }

    /// ISO 8601 in UTC with milliseconds, e.g. `2026-11-23T09:30:00.000Z`.
    ///
    /// Worked out with integer arithmetic in the Gregorian calendar: listings print thousands
    /// of times, and a Foundation formatter costs tens of microseconds to make. Years before
    /// 1600 (where Foundation's formatter turns Julian) and after 9999 go through the formatter.
    public var description: String {
        let (days, rest) = Self.floorDivision(millisecondsSince1970, 86_400_000)
        let (year, month, day) = CalendarDate.civil(fromDays: days)
        guard (1_600...9_999).contains(year) else {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return formatter.string(from: date)
        }
        func digits<Number: BinaryInteger>(_ value: Number, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return digits(year, 4) + "-" + digits(month, 2) + "-" + digits(day, 2) + "T" + digits(rest / 3_600_000, 2)
            + ":" + digits(rest / 60_000 % 60, 2) + ":" + digits(rest / 1_000 % 60, 2) + "." + digits(rest % 1_000, 3)
            + "Z"
    }

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }

    /// Parses ISO 8601 with or without fractional seconds and with any offset.
    public init?(iso8601 text: String) {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        // The text is exact to the millisecond; its double is not (….999 reads as ….998999…),
        // so round to the nearest millisecond rather than down.
        if let date = formatter.date(from: text) {
            self.init(millisecondsSince1970: Int64((date.timeIntervalSince1970 * 1000).rounded()))
            return
        }
        formatter.formatOptions = [.withInternetDateTime]
        guard let date = formatter.date(from: text) else { return nil }
        self.init(millisecondsSince1970: Int64((date.timeIntervalSince1970 * 1000).rounded()))
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSince1970 < rhs.millisecondsSince1970
    }
}
