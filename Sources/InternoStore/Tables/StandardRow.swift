import GRDB

/// A row of the query table `standard`: a standard's resolved terms and status.
public struct StandardRow: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "standard"

    /// The columns of `standard`.
    public enum Columns {
        static let id = Column(CodingKeys.id)
        static let provider = Column(CodingKeys.provider)
        static let customer = Column(CodingKeys.customer)
        static let service = Column(CodingKeys.service)
        /// The catalogued service it covers, if any (not in this row type: read as a record).
        static let catalogService = Column("catalogService")
        static let ackTarget = Column(CodingKeys.ackTarget)
        static let deliverTarget = Column(CodingKeys.deliverTarget)
        static let csatTarget = Column(CodingKeys.csatTarget)
        static let complianceTarget = Column(CodingKeys.complianceTarget)
        static let status = Column(CodingKeys.status)
        static let conflicted = Column(CodingKeys.conflicted)
    }

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
