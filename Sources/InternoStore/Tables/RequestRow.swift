import GRDB

/// A row of the query table `request`: a request's resolved values, for lists and reports.
public struct RequestRow: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "request"

    /// The record id.
    public var id: String
    /// The human key, `HR-LIS-42`.
    public var key: String
    /// The customer department's id.
    public var customer: String
    /// The provider department's id.
    public var provider: String
    /// The standard it falls under, if any.
    public var standard: String?
    /// The title (provisional if in conflict).
    public var title: String?
    /// The priority.
    public var priority: String?
    /// The lifecycle state.
    public var state: String?
    /// The needed-by time, milliseconds since 1970.
    public var neededBy: Int64?
    /// Who works on it at the provider.
    public var assignee: String?
    /// When it was raised.
    public var createdAt: Int64
    /// When it was last written.
    public var updatedAt: Int64
    /// `true` if any field is in conflict.
    public var conflicted: Bool
}
