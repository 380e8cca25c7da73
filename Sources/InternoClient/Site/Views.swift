import Foundation

/// A request in a list: the stable shape of `interno request list --json`.
public struct RequestSummary: Codable, Equatable, Sendable {
    public var key: String
    public var title: String
    public var state: String
    public var priority: String
    public var customer: String
    public var provider: String
    public var assignee: String?
    /// The needed-by instant, exact.
    public var neededBy: String?
    /// The needed-by date as it was typed, when it is the end of a day (`2026-11-27`), else `null`.
    public var neededByDate: String?
    public var createdAt: String
    /// `true` if any field is in conflict (values shown are provisional).
    public var conflicted: Bool
    /// The clock shown: the first one past its target, else the running one due next.
    public var clock: String?
    /// When that clock reaches its target.
    public var due: String?
    /// Business time left on it; negative once late.
    public var left: String?
    /// Every running clock past its target.
    public var overdue: [String]
}

/// One field of a record as shown: value (provisional if in conflict) and the conflict flag.
public struct FieldView: Codable, Equatable, Sendable {
    public var name: String
    public var label: String
    /// The value; a time exactly, as ISO 8601.
    public var value: String?
    /// For a field given as a date (`neededBy`) that holds the end of a day: that date, as
    /// typed and as the table shows it. `null` otherwise.
    public var date: String?
    public var conflicted: Bool
}

/// A comment as shown.
public struct CommentView: Codable, Equatable, Sendable {
    public var author: String
    public var at: String
    public var text: String
}

/// A request in full: the stable shape of `interno request show --json`.
public struct RequestDetails: Codable, Equatable, Sendable {
    public var key: String
    public var id: String
    public var fields: [FieldView]
    public var comments: [CommentView]
    public var conflicts: [FieldConflictView]
    /// The ref of the standard the request falls under, if any.
    public var standard: String?
    /// Its clocks, measured now.
    public var clocks: [ClockView]
    /// Feedback given on it, by either side.
    public var feedback: [FeedbackView]
}

/// Feedback as shown.
public struct FeedbackView: Codable, Equatable, Sendable {
    /// `customer` (the service rating) or `provider` (the cooperation rating).
    public var side: String
    public var rating: Int?
    public var effort: Int?
    public var comment: String?
    /// Who wrote it last.
    public var author: String
    public var at: String
    /// `true` if a field is in conflict (two people of one side rated at once).
    public var conflicted: Bool
}

/// One step of a request's audit trail: the stable shape of `interno history --json`.
public struct HistoryItemView: Codable, Equatable, Sendable {
    public var at: String
    public var author: String
    /// `request`, `comment` or `feedback`.
    public var record: String
    /// A sentence for people: "acknowledged", "set priority to high", "commented".
    public var what: String
    /// The fields written, with the values as shown.
    public var fields: [String: String]
    /// Fields this change put in conflict.
    public var conflicted: [String]
    /// Fields in conflict this change resolved.
    public var resolved: [String]
    /// Why the server refused it, if it did (then it changed nothing).
    public var refused: String?
}

/// One concurrent value of a field in conflict.
public struct SiblingView: Codable, Equatable, Sendable {
    /// 1-based, as `conflicts resolve --pick N` takes it.
    public var number: Int
    public var value: String?
    /// The date a date field's value was typed as (see ``FieldView/date``), else `null`.
    public var date: String?
    /// The person, `ana`.
    public var author: String
    /// The site the value was written at, `HR-LIS`.
    public var site: String
    public var replica: String
    public var at: String
    /// `true` if this site wrote it.
    public var mine: Bool
}

/// A field in conflict with its siblings.
public struct FieldConflictView: Codable, Equatable, Sendable {
    public var field: String
    public var label: String
    public var siblings: [SiblingView]
}

/// A record with conflicts: the stable shape of `interno conflicts --json`.
public struct ConflictView: Codable, Equatable, Sendable {
    public var kind: String
    public var key: String
    public var fields: [FieldConflictView]
}

/// A change set the server refused, as `interno status` shows it.
public struct RefusedView: Codable, Equatable, Sendable {
    public var firstCounter: UInt64
    public var code: Int
    public var reason: String
    /// What was tried, one line per change.
    public var changes: [String]
}

/// The stable shape of `interno status --json`.
public struct StatusView: Codable, Equatable, Sendable {
    public var replica: String
    public var department: String
    public var site: String
    public var server: String
    public var pending: Int
    public var deferred: Int
    public var refused: [RefusedView]
    public var conflicts: [String]
    public var lastSync: String?
    public var cursor: Int64
}

/// The stable shape of `interno whoami --json`.
public struct WhoAmIView: Codable, Equatable, Sendable {
    public var replica: String
    public var department: String
    public var site: String
    public var code: String
    public var server: String
    public var author: String
}

/// A department of the directory: the stable shape of `interno departments --json`.
public struct DepartmentView: Codable, Equatable, Sendable {
    public var code: String
    public var name: String
    public var timeZone: String
    public var hours: String
    public var holidays: String?
    /// One business day of its calendar, as targets count it: `8h` for `mon-fri 09:00-17:00`.
    public var businessDay: String
    /// `true` if a field is in conflict (values shown are provisional).
    public var conflicted: Bool
}
