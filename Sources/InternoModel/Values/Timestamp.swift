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
    public var description: String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// Parses ISO 8601 with or without fractional seconds and with any offset.
    public init?(iso8601 text: String) {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) {
            self.init(date)
            return
        }
        formatter.formatOptions = [.withInternetDateTime]
        guard let date = formatter.date(from: text) else { return nil }
        self.init(date)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSince1970 < rhs.millisecondsSince1970
    }
}
