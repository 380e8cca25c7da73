import Foundation
import GRDB
import InternoModel

/// Reading and writing the `change` table: the log that is the source of truth (DESIGN §3.7).
enum ChangeLog {
    /// The columns of `change`.
    enum Columns {
        /// The change's place in this log, from 1.
        static let seq = Column("seq")
        /// The replica that wrote it, lowercase UUID text.
        static let replica = Column("replica")
        /// The counter that replica gave it.
        static let counter = Column("counter")
        /// The first counter of its change set.
        static let setStart = Column("setStart")
        /// The last counter of its change set.
        static let setEnd = Column("setEnd")
        /// The kind of record it writes.
        static let kind = Column("kind")
        /// The record it writes, lowercase UUID text.
        static let record = Column("record")
        /// The record's clock as its writer had seen it, in the binary encoding.
        static let context = Column("context")
        /// The fields it writes, in the binary encoding.
        static let fields = Column("fields")
        /// Who wrote it, `ana@HR-LIS`.
        static let author = Column("author")
        /// When, milliseconds since 1970.
        static let at = Column("at")
        /// The refusal's code, when the change is a void (DESIGN §3.6).
        static let refusalCode = Column("refusalCode")
        /// The refusal's reason, when the change is a void.
        static let refusalReason = Column("refusalReason")
        /// The changes it requires, in the binary encoding; NULL when none.
        static let requires = Column("requires")
    }

    /// Every column, in the order ``decode(_:)`` reads them and ``append(_:set:_:)`` writes
    /// them after `seq`.
    static let all = [
        Columns.seq, Columns.replica, Columns.counter, Columns.setStart, Columns.setEnd, Columns.kind, Columns.record,
        Columns.context, Columns.fields, Columns.author, Columns.at, Columns.refusalCode, Columns.refusalReason,
        Columns.requires,
    ]

    /// What ``decode(_:)`` reads, as an SQL list: a query may add columns after them.
    static let columns = all.sql

    private static let insert = "INSERT INTO change (\(all.dropFirst().sql)) VALUES (\(all.dropFirst().placeholders))"

    /// Appends `change`, a member of the set spanning counters `set`, and returns its sequence number.
    @discardableResult
    static func append(_ change: Change, set: ClosedRange<UInt64>, _ db: Database) throws -> Int64 {
        var context = BinaryWriter()
        context.write(clock: change.context)
        var fields = BinaryWriter()
        fields.write(fields: change.fields)
        var row = Bindings(try db.cachedStatement(sql: insert))
        try row.add(change.dot.replica.uuid)
        try row.add(Int64(change.dot.counter))
        try row.add(Int64(set.lowerBound))
        try row.add(Int64(set.upperBound))
        try row.add(change.kind.rawValue)
        try row.add(change.recordID)
        try row.add(bytes: context.bytes)
        try row.add(bytes: fields.bytes)
        try row.add(change.author)
        try row.add(change.at.millisecondsSince1970)
        try row.add(change.refusal.map { Int64($0.code.rawValue) })
        try row.add(change.refusal?.message)
        try row.add(bytes: requiresBytes(change.requires))
        try row.execute()
        return db.lastInsertedRowID
    }

    /// The stored form of what a change requires: NULL when nothing, as most changes.
    static func requiresBytes(_ dots: [Dot]) -> [UInt8]? {
        guard !dots.isEmpty else { return nil }
        var writer = BinaryWriter()
        writer.write(dots: dots)
        return writer.bytes
    }

    /// One logged change with its place in the log and its change set.
    typealias Entry = StreamEntry

    /// Decodes a row that starts with ``columns``, in that order (a query may add columns
    /// after them). Cells are read by position, not looked up by name on every row, and a
    /// cell of the wrong type is reported as a damaged database, never a crash.
    static func decode(_ row: Row) throws -> Entry { try decode(RowCells(row)) }

    /// ``decode(_:)-(Row)`` for the row a statement has stepped to (``Statement/decodeAll(arguments:_:)``).
    static func decode(_ cells: some CellReading) throws -> Entry {
        let seq = cells.int64(0) ?? -1
        func damaged(_ what: String) -> StoreError {
            StoreError.corrupt("change \(seq) has an unreadable \(what)")
        }
        func integer(_ index: Int32, _ name: String) throws -> Int64 {
            guard let value = cells.int64(index) else { throw damaged(name) }
            return value
        }
        func bytes(_ index: Int32, _ name: String) throws -> [UInt8] {
            guard let value = cells.blob(index) else { throw damaged(name) }
            return value
        }
        guard let replica = cells.uuid(1).map(ReplicaID.init) else { throw damaged("replica") }
        guard let kind = cells.string(5).flatMap(RecordKind.init(rawValue:)) else { throw damaged("kind") }
        guard let record = cells.uuid(6) else { throw damaged("record") }
        var refusal: Refusal?
        if !cells.isNull(11) {
            guard let code = cells.int64(11) else { throw damaged("refusal code") }
            var reason = "refused"
            if !cells.isNull(12) {
                guard let text = cells.string(12) else { throw damaged("refusal reason") }
                reason = text
            }
            refusal = Refusal(Refusal.Code(rawValue: Int(truncatingIfNeeded: code)) ?? .malformed, reason)
        }
        let counter = try integer(2, "counter")
        let setStart = try integer(3, "set start")
        let setEnd = try integer(4, "set end")
        guard counter > 0, setStart > 0, setStart <= counter, counter <= setEnd else { throw damaged("counter") }
        guard let author = cells.string(9) else { throw damaged("author") }
        let at = try integer(10, "time")
        do {
            var contextReader = BinaryReader(try bytes(7, "context"))
            var fieldReader = BinaryReader(try bytes(8, "fields"))
            var requires: [Dot] = []
            if !cells.isNull(13) {
                var reader = BinaryReader(try bytes(13, "requires"))
                requires = try reader.readDots()
            }
            let change = Change(
                dot: Dot(replica: replica, counter: UInt64(counter)), kind: kind, recordID: record,
                context: try contextReader.readClock(), fields: try fieldReader.readFields(),
                author: author, at: Timestamp(millisecondsSince1970: at), refusal: refusal, requires: requires)
            return Entry(seq: seq, change: change, set: UInt64(setStart)...UInt64(setEnd))
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.corrupt("change \(seq): \(error)")
        }
    }

    /// Every logged change of one record, in log order.
    static func entries(ofRecord id: UUID, _ db: Database) throws -> [Entry] {
        try db.cachedStatement(
            sql: "SELECT \(columns) FROM change WHERE \(Columns.record) = ? ORDER BY \(Columns.seq)"
        ).decodeAll(arguments: [id.text], decode)
    }

    /// The logged change with `dot`, if any.
    static func entry(_ dot: Dot, _ db: Database) throws -> Entry? {
        try db.cachedStatement(
            sql: "SELECT \(columns) FROM change WHERE \(Columns.replica) = ? AND \(Columns.counter) = ?"
        ).decodeAll(arguments: [dot.replica.description, Int64(dot.counter)], decode).first
    }

    /// The logged changes of one replica with counters in a range, in counter order, through
    /// the `(replica, counter)` index. Arguments: the replica id, the lowest and highest counter.
    static let ofReplica = """
        SELECT \(columns) FROM change
        WHERE \(Columns.replica) = ? AND \(Columns.counter) BETWEEN ? AND ? ORDER BY \(Columns.counter)
        """

    /// The records that the changes of `replica` with counters `first` through `last` write.
    static func records(ofReplica replica: String, from first: Int64, through last: Int64, _ db: Database) throws
        -> [String]
    {
        try String.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT DISTINCT \(Columns.record) FROM change
                    WHERE \(Columns.replica) = ? AND \(Columns.counter) BETWEEN ? AND ?
                    """),
            arguments: [replica, first, last])
    }

    /// Every record the log has a change of.
    static func records(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT DISTINCT \(Columns.record) FROM change")
    }

    /// Deletes the changes of `replica` with counters `first` through `last`.
    static func delete(ofReplica replica: String, from first: Int64, through last: Int64, _ db: Database) throws {
        try db.executeCached(
            sql: "DELETE FROM change WHERE \(Columns.replica) = ? AND \(Columns.counter) BETWEEN ? AND ?",
            arguments: [replica, first, last])
    }

    /// Deletes every logged change of record `id`.
    static func delete(ofRecord id: String, _ db: Database) throws {
        try db.executeCached(sql: "DELETE FROM change WHERE \(Columns.record) = ?", arguments: [id])
    }
}

private typealias Log = ChangeLog.Columns
private typealias AudienceColumns = Audiences.Columns

/// The server's stream as a site with `scope` receives it (DESIGN §6.1): the log in sequence
/// order, restricted to the changes whose audience the scope covers. A department's reads go
/// through the `audience` index, so they cost what they deliver, not what the log holds.
struct Stream {
    let scope: Scope

    /// The first `limit` changes after `cursor`.
    func entries(after cursor: Int64, limit: Int, _ db: Database) throws -> [ChangeLog.Entry] {
        guard case .department(let department) = scope else {
            return try db.cachedStatement(
                sql: "SELECT \(ChangeLog.columns) FROM change WHERE \(Log.seq) > ? ORDER BY \(Log.seq) LIMIT ?"
            ).decodeAll(arguments: [cursor, limit], ChangeLog.decode)
        }
        // Two index ranges (the department's and everyone's), each read only as far as the limit.
        let statement = try db.cachedStatement(
            sql:
                "SELECT \(AudienceColumns.seq) FROM audience WHERE \(AudienceColumns.department) = ? AND \(AudienceColumns.seq) > ? ORDER BY \(AudienceColumns.seq) LIMIT ?"
        )
        var seqs = try Int64.fetchAll(statement, arguments: [department.text, cursor, limit])
        seqs += try Int64.fetchAll(statement, arguments: [Audiences.everyone, cursor, limit])
        seqs = Array(Set(seqs).sorted().prefix(limit))
        return try fetch(seqs, db)
    }

    /// The changes after `last` that belong to its change set, which lie within as many
    /// sequence numbers as the set has counters left after it.
    func rest(ofSetOf last: ChangeLog.Entry, _ db: Database) throws -> [ChangeLog.Entry] {
        let span = Int64(last.set.upperBound - last.change.dot.counter)
        let rows = try db.cachedStatement(
            sql: """
                SELECT \(ChangeLog.columns) FROM change
                WHERE \(Log.seq) > ? AND \(Log.seq) <= ? AND \(Log.replica) = ? AND \(Log.setStart) = ?
                ORDER BY \(Log.seq)
                """
        ).decodeAll(
            arguments: [last.seq, last.seq + span, last.change.dot.replica.description, Int64(last.set.lowerBound)],
            ChangeLog.decode)
        guard case .department(let department) = scope, !rows.isEmpty else { return rows }
        let seen = Set(
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT \(AudienceColumns.seq) FROM audience
                    WHERE \(AudienceColumns.department) IN (?, ?) AND \(AudienceColumns.seq) > ? AND \(AudienceColumns.seq) <= ?
                    """,
                arguments: [department.text, Audiences.everyone, last.seq, last.seq + span]))
        return rows.filter { seen.contains($0.seq) }
    }

    /// `true` if the stream holds a change after `seq` that the scope covers.
    func hasEntries(after seq: Int64, _ db: Database) throws -> Bool {
        guard case .department(let department) = scope else {
            return try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM change WHERE \(Log.seq) > ?)"), arguments: [seq])
                ?? false
        }
        let statement = try db.cachedStatement(
            sql:
                "SELECT EXISTS (SELECT 1 FROM audience WHERE \(AudienceColumns.department) = ? AND \(AudienceColumns.seq) > ?)"
        )
        for key in [department.text, Audiences.everyone]
        where try Bool.fetchOne(statement, arguments: [key, seq]) == true {
            return true
        }
        return false
    }

    /// Every change that every site receives, whatever its scope: the directory, through the
    /// `audience` index.
    static func directory(_ db: Database) throws -> [ChangeLog.Entry] {
        let seqs = try Int64.fetchAll(
            db.cachedStatement(
                sql:
                    "SELECT \(AudienceColumns.seq) FROM audience WHERE \(AudienceColumns.department) = ? ORDER BY \(AudienceColumns.seq)"
            ),
            arguments: [Audiences.everyone])
        return try Stream(scope: .all).fetch(seqs, db)
    }

    /// The logged changes with sequence numbers `seqs` (ascending), in that order; a number
    /// with no change is skipped.
    ///
    /// A few queries of up to ``chunk`` numbers each, not one per change: GRDB sets up a cursor
    /// for every query (its column names, lowercased, in a table), which was two fifths of
    /// reading a department's pull on the server. A chunk is padded with repeats of its last
    /// number to the smallest size that holds it, so each size is one cached statement.
    private func fetch(_ seqs: [Int64], _ db: Database) throws -> [ChangeLog.Entry] {
        var entries: [ChangeLog.Entry] = []
        entries.reserveCapacity(seqs.count)
        for start in stride(from: 0, to: seqs.count, by: Self.chunk) {
            let slice = seqs[start..<min(start + Self.chunk, seqs.count)]
            let size = Self.sizes.first { $0 >= slice.count } ?? Self.chunk
            var arguments = Bindings(try db.cachedStatement(sql: Self.bySeq[size]!))
            for seq in slice { try arguments.add(seq) }
            for _ in slice.count..<size { try arguments.add(slice.last!) }
            try arguments.forEachRow { entries.append(try ChangeLog.decode($0)) }
        }
        return entries
    }

    /// The most sequence numbers one query of ``fetch(_:_:)`` names.
    private static let chunk = 256
    private static let sizes = [8, 32, 128, chunk]
    /// For each size, the query that reads that many sequence numbers, in sequence order.
    private static let bySeq = Dictionary(
        uniqueKeysWithValues: sizes.map { size in
            (
                size,
                "SELECT \(ChangeLog.columns) FROM change WHERE \(Log.seq) IN (\(repeatElement("?", count: size).joined(separator: ", "))) ORDER BY \(Log.seq)"
            )
        })
}
