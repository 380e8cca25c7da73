import Foundation

/// The name of a field of a record, as the schema spells it (`title`, `state`).
public typealias FieldName = String

/// One typed value of a field.
///
/// Values have a total order (first by case, then by value) so that the `earliest` and
/// `latest` policies and every tie-break are the same on every replica.
public enum FieldValue: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// No value: a field that was cleared.
    case null
    /// A boolean.
    case bool(Bool)
    /// A whole number.
    case integer(Int64)
    /// A length of time, in seconds.
    case duration(Int64)
    /// A point in time.
    case time(Timestamp)
    /// Text: free text, enum members, and structured values in their canonical text form.
    case text(String)
    /// A reference to a record, or another identifier.
    case id(UUID)

    /// The rank of the case in the total order.
    var rank: Int {
        switch self {
        case .null: 0
        case .bool: 1
        case .integer: 2
        case .duration: 3
        case .time: 4
        case .text: 5
        case .id: 6
        }
    }

    /// The name of the value's type, for messages.
    public var typeName: String {
        switch self {
        case .null: "nothing"
        case .bool: "a boolean"
        case .integer: "a whole number"
        case .duration: "a duration"
        case .time: "a time"
        case .text: "text"
        case .id: "an id"
        }
    }

    public static func < (lhs: FieldValue, rhs: FieldValue) -> Bool {
        switch (lhs, rhs) {
        case (.bool(let a), .bool(let b)): return !a && b
        case (.integer(let a), .integer(let b)): return a < b
        case (.duration(let a), .duration(let b)): return a < b
        case (.time(let a), .time(let b)): return a < b
        case (.text(let a), .text(let b)): return a.utf8.lexicographicallyPrecedes(b.utf8)
        case (.id(let a), .id(let b)): return a.lexicographicallyPrecedes(b)
        default: return lhs.rank < rhs.rank
        }
    }

    public var description: String {
        switch self {
        case .null: "—"
        case .bool(let value): value ? "yes" : "no"
        case .integer(let value): String(value)
        case .duration(let seconds): DurationText.format(seconds: seconds)
        case .time(let timestamp): timestamp.description
        case .text(let text): text
        case .id(let uuid): uuid.text
        }
    }

    /// The text, if this is a text value.
    public var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    /// The integer, if this is an integer value.
    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The id, if this is an id value.
    public var id: UUID? {
        if case .id(let value) = self { return value }
        return nil
    }

    /// The time, if this is a time value.
    public var time: Timestamp? {
        if case .time(let value) = self { return value }
        return nil
    }

    /// The seconds, if this is a duration value.
    public var duration: Int64? {
        if case .duration(let value) = self { return value }
        return nil
    }

    /// The boolean, if this is a boolean value.
    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }
}
