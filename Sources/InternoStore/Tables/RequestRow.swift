import Foundation
import GRDB
import InternoModel

/// A row of query table `request`, with the timeline its clocks are measured from.
///
/// Listings and reports read thousands of these at once, so a row is decoded by position from
/// ``selection``, never by looking each column up by name, and a damaged cell is reported as a
/// damaged database, never a crash or a default.
public struct RequestRow: Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "request"

    /// The columns of `request`.
    public enum Columns {
        static let id = Column("id")
        static let key = Column("key")
        static let customer = Column("customer")
        static let provider = Column("provider")
        static let standard = Column("standard")
        static let title = Column("title")
        static let priority = Column("priority")
        static let state = Column("state")
        static let neededBy = Column("neededBy")
        static let assignee = Column("assignee")
        static let createdAt = Column("createdAt")
        static let updatedAt = Column("updatedAt")
        static let conflicted = Column("conflicted")
        static let submittedAt = Column("submittedAt")
        static let timeline = Column("timeline")
        static let service = Column("service")
        /// The request's record state, while it exists (`v10-request-states-in-rows`): its
        /// clock and siblings in the binary encoding, and `true` if any field is in conflict
        /// (as ``conflicted`` is since `v11-conflicted-any-field`). What view `record` shows of it.
        static let clock = Column("clock")
        static let fields = Column("fields")
        static let stateConflicted = Column("stateConflicted")
    }

    /// The id of the request with a key, through `request_by_key`: every new request is
    /// checked against it, and every CLI command that names a request reads it.
    static let idByKey = "SELECT \(Columns.id) FROM request WHERE \(Columns.key) = ? LIMIT 1"

    /// The requests submitted within `from..<to`, newest first, through `request_by_submission`:
    /// what a report reads.
    static func submitted(from: Timestamp, to: Timestamp) -> QueryInterfaceRequest<RequestRow> {
        RequestRow.filter(
            Columns.submittedAt >= from.millisecondsSince1970 && Columns.submittedAt < to.millisecondsSince1970
        ).order(Columns.createdAt.desc, Columns.key)
    }

    /// What ``init(row:)`` reads, in this order.
    public static var databaseSelection: [any SQLSelectable] {
        [
            Columns.id, Columns.key, Columns.customer, Columns.provider, Columns.standard, Columns.title,
            Columns.priority, Columns.state, Columns.neededBy, Columns.assignee, Columns.createdAt, Columns.updatedAt,
            Columns.conflicted, Columns.timeline, Columns.service,
        ]
    }

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
    /// When it was submitted and the states it entered: what its clocks are measured from.
    public var timeline: RequestTimeline
    /// The catalogued service it asks for, if any (schema version 2).
    public var service: String?

    public init(row: Row) throws {
        // Text cells are read the fast way (SQLite converts a number to its text, which loses
        // nothing); numbers and the timeline are checked, so a damaged cell is an error.
        let label: String? = String.fromDatabaseValue(row[1] as DatabaseValue)
        func damaged(_ what: String) -> StoreError {
            .corrupt(
                "the \(what) of request \(label ?? "?") as stored here cannot be read; run `interno verify --repair`")
        }
        func optionalText(_ index: Int, _ name: String) throws -> String? {
            let value: String?? = try? row.decode(String?.self, atIndex: index)
            guard let value else { throw damaged(name) }
            return value
        }
        func text(_ index: Int, _ name: String) throws -> String {
            guard let value = try optionalText(index, name) else { throw damaged(name) }
            return value
        }
        func cell(_ index: Int) -> DatabaseValue? {
            let value = row[index] as DatabaseValue
            return value.isNull ? nil : value
        }
        func integer(_ index: Int, _ name: String) throws -> Int64? {
            guard let value = cell(index) else { return nil }
            guard let number = Int64.fromDatabaseValue(value) else { throw damaged(name) }
            return number
        }
        func requiredInteger(_ index: Int, _ name: String) throws -> Int64 {
            guard let number = try integer(index, name) else { throw damaged(name) }
            return number
        }
        id = try text(0, "id")
        key = try text(1, "key")
        customer = try text(2, "customer")
        provider = try text(3, "provider")
        standard = try optionalText(4, "standard")
        title = try optionalText(5, "title")
        priority = try optionalText(6, "priority")
        state = try optionalText(7, "state")
        neededBy = try integer(8, "needed-by time")
        assignee = try optionalText(9, "assignee")
        createdAt = try requiredInteger(10, "creation time")
        updatedAt = try requiredInteger(11, "update time")
        conflicted = try requiredInteger(12, "conflict flag") != 0
        guard let blob = cell(13), let bytes = Data.fromDatabaseValue(blob) else { throw damaged("timeline") }
        do {
            timeline = try RequestTimeline(decoding: [UInt8](bytes))
        } catch {
            throw damaged("timeline (\(error))")
        }
        service = try optionalText(14, "service")
    }
}
