import Foundation

/// The kinds of replicated record.
public enum RecordKind: String, CaseIterable, Sendable, Hashable, Comparable {
    /// A unit that serves others and is served by others: IT, HR, Payroll.
    case department
    /// A two-way service agreement between a provider and a customer department.
    case standard
    /// A request from a customer department to a provider department.
    case request
    /// An immutable remark on a request.
    case comment
    /// A rating of a delivered request, by its customer or by its provider.
    case feedback
    /// A service a provider department offers, in its catalogue (schema version 2).
    case service
    /// What a customer department needs from a catalogued service it uses (schema version 2).
    case need
    /// An improvement action one department of a pair commits to (schema version 2).
    case action
    /// Thanks from one department to another (schema version 2).
    case kudos
    /// A round of a perception survey of one service among its customers (schema version 2).
    case round
    /// One person's anonymous answers to a survey round (schema version 2).
    case answer

    public static func < (lhs: RecordKind, rhs: RecordKind) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    /// The kind with its indefinite article, as a sentence names one: `a request`, `an
    /// answer`, `kudos`.
    public var withArticle: String {
        switch self {
        case .kudos: "kudos"
        case .action, .answer: "an \(rawValue)"
        default: "a \(rawValue)"
        }
    }
}

/// A party to a record, relative to the department that writes.
public enum Role: String, Sendable, Hashable, CaseIterable, Comparable {
    /// The department that asks for the service.
    case customer
    /// The department that provides the service.
    case provider
    /// The server's administrator.
    case admin

    public static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Who writes: the server's administrator, or a department (the department of a site).
///
/// On the server this comes from the registry entry of the pushing replica, never from what
/// the client claims (DESIGN §6).
public enum Writer: Sendable, Hashable {
    /// The server's administrator (department records, retiring standards).
    case admin
    /// A department, by the id of its department record.
    case department(UUID)
}
