import GRDB
import InternoModel

/// A row of table `outbox`: one local change set not yet acknowledged by the server (sites).
///
/// It leaves only when the server accepts it or reports it a duplicate; a refused one stays,
/// with its reason, until a person deals with it (DESIGN §5).
public struct OutboxRow: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "outbox"

    /// What became of the change set so far.
    public enum Status: String, Codable, Sendable {
        /// Waiting to be pushed.
        case pending
        /// The server lacked a change it depends on; it is offered again on the next sync.
        case deferred
        /// The server refused it; see the reason.
        case refused
    }

    /// The counter of the set's first change: the outbox's order.
    public var firstCounter: Int64
    /// The counter of the set's last change.
    public var lastCounter: Int64
    /// Pending, deferred or refused.
    public var status: Status
    /// The refusal's code, when refused.
    public var refusalCode: Int?
    /// The refusal's reason, when refused.
    public var refusalReason: String?
    /// When the set was written locally (milliseconds since 1970).
    public var createdAt: Int64
}

extension OutboxRow {
    /// The columns of `outbox`.
    public enum Columns {
        static let firstCounter = Column(CodingKeys.firstCounter)
        static let lastCounter = Column(CodingKeys.lastCounter)
        static let status = Column(CodingKeys.status)
        static let createdAt = Column(CodingKeys.createdAt)
    }

    /// Queues a local change set as pending, through one cached statement: every local write
    /// does this, and GRDB's `insert` of a `Codable` record costs more than the insert itself.
    static func enqueue(_ set: ClosedRange<UInt64>, at time: Timestamp, _ db: Database) throws {
        var row = Bindings(try db.cachedStatement(sql: enqueueStatement))
        try row.add(Int64(set.lowerBound))
        try row.add(Int64(set.upperBound))
        try row.add(Status.pending.rawValue)
        try row.add(time.millisecondsSince1970)
        try row.execute()
    }

    /// Removes the set that starts at `firstCounter`, if any.
    static func delete(firstCounter: Int64, _ db: Database) throws {
        try db.executeCached(sql: "DELETE FROM outbox WHERE \(Columns.firstCounter) = ?", arguments: [firstCounter])
    }

    /// The counters of every queued set, in counter order, pending or not: read on every
    /// sync's Welcome (a restore check) through one cached statement, decoded by position, not
    /// through a query built and a `Codable` record decoded each time.
    static func queuedCounters(_ db: Database) throws -> [ClosedRange<Int64>] {
        let rows = try Row.fetchCursor(
            db.cachedStatement(
                sql:
                    "SELECT \(Columns.firstCounter), \(Columns.lastCounter) FROM \(databaseTableName) ORDER BY \(Columns.firstCounter)"
            ))
        var queued: [ClosedRange<Int64>] = []
        while let row = try rows.next() {
            let first: Int64 = try row.decode(atIndex: 0)
            let last: Int64 = try row.decode(atIndex: 1)
            guard first <= last else { throw StoreError.corrupt("outbox set \(first)...\(last)") }
            queued.append(first...last)
        }
        return queued
    }

    private static let enqueued = [Columns.firstCounter, Columns.lastCounter, Columns.status, Columns.createdAt]

    private static let enqueueStatement =
        "INSERT INTO \(databaseTableName) (\(enqueued.sql)) VALUES (\(enqueued.placeholders))"
}
