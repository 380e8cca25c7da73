import Foundation
import GRDB
import InternoModel

/// The one row of table `replica`: this database's identity, counter and sync position.
public struct ReplicaRow: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "replica"

    /// The columns of `replica`.
    public enum Columns {
        static let replicaID = Column(CodingKeys.replicaID)
        static let role = Column(CodingKeys.role)
        static let department = Column(CodingKeys.department)
        static let code = Column(CodingKeys.code)
        static let counter = Column(CodingKeys.counter)
        static let cursor = Column(CodingKeys.cursor)
        static let serverEpoch = Column(CodingKeys.serverEpoch)
        static let nextRequestNumber = Column(CodingKeys.nextRequestNumber)
        static let lastSyncAt = Column(CodingKeys.lastSyncAt)
        static let scope = Column(CodingKeys.scope)
        static let cursorEpoch = Column(CodingKeys.cursorEpoch)
    }

    /// The columns a store reads the row with, in the order ``init(selected:)`` reads them.
    static let selection = [
        Columns.replicaID, Columns.role, Columns.department, Columns.code, Columns.counter, Columns.cursor,
        Columns.serverEpoch, Columns.nextRequestNumber, Columns.lastSyncAt, Columns.scope, Columns.cursorEpoch,
    ]

    /// The one row, read with ``selection``: every write and sync reads it, so it is read by
    /// position through one cached statement, not decoded by name through `Decodable`.
    static let select = "SELECT \(selection.sql) FROM replica"

    /// Always 1: the table has one row.
    var singleton: Int = 1
    /// The replica id, lowercase UUID text.
    public var replicaID: String
    /// `site` or `server`.
    public var role: ReplicaRole
    /// The department of a site (its department record id); `nil` on the server.
    public var department: String?
    /// The site's code, `HR-LIS`: the prefix of its request keys. `nil` on the server.
    public var code: String?
    /// The last counter this replica used for a write.
    public var counter: Int64
    /// The last server sequence number pulled (sites).
    public var cursor: Int64
    /// The server's identity as the site last saw it (sites).
    public var serverEpoch: String?
    /// The next local number for a request key (sites).
    public var nextRequestNumber: Int64
    /// When the last complete sync ended (sites).
    public var lastSyncAt: Int64?
    /// What the server says this site receives; `nil` until a server has said (sites).
    public var scope: Scope.Kind?
    /// The stream epoch of `cursor`, as the server gave it (sites; DESIGN §3.9), as stored.
    var cursorEpoch: Int64 = 0

    /// The stream epoch of `cursor`, as the wire carries it.
    public var cursorEpochValue: UInt64 { UInt64(bitPattern: cursorEpoch) }

    /// The replica id as a typed value.
    public var id: ReplicaID { ReplicaID(uuidString: replicaID)! }

    /// How this replica writes: a site as its department, the server as the administrator.
    public var writer: Writer {
        if role == .site, let department, let id = UUID(text: department) { return .department(id) }
        return .admin
    }
}

extension ReplicaRow {
    /// The row read with ``select``; a cell of the wrong type throws, as `Decodable` would.
    init(selected row: Row) throws {
        let role: String = try row.decode(atIndex: 1)
        let scope: String? = try row.decode(atIndex: 9)
        guard let replicaRole = ReplicaRole(rawValue: role) else { throw StoreError.corrupt("replica role \(role)") }
        let scopeKind = try scope.map { text in
            guard let kind = Scope.Kind(rawValue: text) else { throw StoreError.corrupt("replica scope \(text)") }
            return kind
        }
        self.init(
            replicaID: try row.decode(atIndex: 0), role: replicaRole, department: try row.decode(atIndex: 2),
            code: try row.decode(atIndex: 3), counter: try row.decode(atIndex: 4), cursor: try row.decode(atIndex: 5),
            serverEpoch: try row.decode(atIndex: 6), nextRequestNumber: try row.decode(atIndex: 7),
            lastSyncAt: try row.decode(atIndex: 8), scope: scopeKind)
        cursorEpoch = try row.decode(atIndex: 10)
    }
}

/// Every write to the one row, each through one cached statement: its columns are named here
/// and nowhere else.
extension ReplicaRow {
    /// Stores the counter and next request number that `replica` has advanced to.
    static func saveCounters(of replica: ReplicaRow, _ db: Database) throws {
        try db.executeCached(
            sql: "UPDATE replica SET \([Columns.counter, Columns.nextRequestNumber].assignments)",
            arguments: [replica.counter, replica.nextRequestNumber])
    }

    /// Stores `counter` as the last counter used.
    static func saveCounter(_ counter: Int64, _ db: Database) throws {
        try db.executeCached(sql: "UPDATE replica SET \(Columns.counter) = ?", arguments: [counter])
    }

    /// The key of this site's request number `number`, like `HR-LIS-42`: its code, `-`, the
    /// number (DESIGN §3.2). `nil` for a replica without a code (the server).
    func requestKey(number: Int64) -> String? {
        code.map { "\($0)-\(number)" }
    }

    /// Takes the next local request number (sites).
    static func advanceRequestNumber(_ db: Database) throws {
        try db.executeCached(
            sql: "UPDATE replica SET \(Columns.nextRequestNumber) = \(Columns.nextRequestNumber) + 1")
    }

    /// Stores what a pulled batch advanced: the cursor, its epoch, and `replica`'s counters.
    static func savePull(cursor: Int64, epoch: UInt64, counters replica: ReplicaRow, _ db: Database) throws {
        let columns = [Columns.cursor, Columns.cursorEpoch, Columns.counter, Columns.nextRequestNumber]
        try db.executeCached(
            sql: "UPDATE replica SET \(columns.assignments)",
            arguments: [cursor, Int64(bitPattern: epoch), replica.counter, replica.nextRequestNumber])
    }

    /// Pulls from the start on the next sync.
    static func resetCursor(_ db: Database) throws {
        try db.executeCached(sql: "UPDATE replica SET \(Columns.cursor) = 0, \(Columns.cursorEpoch) = 0")
    }

    /// Stores the scope the server gave; `resetCursor` also pulls from the start on the next sync.
    static func saveScope(_ kind: Scope.Kind, resetCursor: Bool, _ db: Database) throws {
        try db.executeCached(
            sql: """
                UPDATE replica
                SET \(Columns.scope) = ?, \(Columns.cursor) = CASE WHEN ? THEN 0 ELSE \(Columns.cursor) END
                """,
            arguments: [kind.rawValue, resetCursor])
    }

    /// Records the end of a complete sync with the server whose identity is `epoch`.
    static func saveSync(at time: Timestamp, serverEpoch epoch: String, _ db: Database) throws {
        try db.executeCached(
            sql: "UPDATE replica SET \([Columns.lastSyncAt, Columns.serverEpoch].assignments)",
            arguments: [time.millisecondsSince1970, epoch])
    }
}
