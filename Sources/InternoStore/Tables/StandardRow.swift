import GRDB

/// A row of the query table `standard`: a standard's resolved terms and status.
public struct StandardRow: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "standard"

    /// The record id.
    public var id: String
    /// The provider department's id.
    public var provider: String
    /// The customer department's id.
    public var customer: String
    /// The service agreed on.
    public var service: String?
    /// Time to acknowledge, seconds of business time.
    public var ackTarget: Int64?
    /// Time to deliver, seconds of business time.
    public var deliverTarget: Int64?
    /// CSAT target, percent.
    public var csatTarget: Int64?
    /// Compliance target, percent.
    public var complianceTarget: Int64?
    /// `proposed`, `agreed` or `retired`.
    public var status: String
    /// `true` if any field is in conflict.
    public var conflicted: Bool
}
