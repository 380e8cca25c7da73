import Foundation
import GRDB
import InternoModel

/// The `record` table: each record's state as the log makes it, with its query row.
enum RecordTable {
    /// The columns of `record`.
    enum Columns {
        /// The record id, lowercase UUID text.
        static let id = Column("id")
        /// Its kind, `request`.
        static let kind = Column("kind")
        /// Its clock, in the binary encoding.
        static let clock = Column("clock")
        /// Each field's siblings, in the binary encoding.
        static let fields = Column("fields")
        /// `true` if the record exists (it was created and not deleted).
        static let present = Column("present")
        /// `true` if any field is in conflict.
        static let conflicted = Column("conflicted")
    }

    /// What ``decode(_:)`` reads, in this order: a query may add columns after them.
    static let selection = [Columns.id, Columns.kind, Columns.clock, Columns.fields].sql

    /// Every column, in the order ``save(_:timeline:_:)`` writes them.
    static let all = [
        Columns.id, Columns.kind, Columns.clock, Columns.fields, Columns.present, Columns.conflicted,
    ]

    /// The records of `kind` that exist, in id order, as ``decode(_:)`` reads them. The kind's
    /// query table holds a row for exactly those (``Projection``): it is read in its key's
    /// order, and each record by its primary key, never by a scan of every record
    /// (`v9-kinds-by-query-table`).
    static func existing(of kind: RecordKind) -> String {
        let columns = [Columns.id, Columns.kind, Columns.clock, Columns.fields].map { "record.\($0)" }
        return """
            SELECT \(columns.joined(separator: ", ")) FROM \(kind.rawValue) AS shown
            JOIN record ON record.\(Columns.id) = shown.\(Projection.id) ORDER BY shown.\(Projection.id)
            """
    }

    /// One record's state, by id: ``selection`` with one `?`.
    static let byID = "SELECT \(selection) FROM record WHERE \(Columns.id) = ?"

    /// Deletes the state of record `id`, if any.
    static func delete(_ id: String, _ db: Database) throws {
        try db.executeCached(sql: "DELETE FROM record WHERE \(Columns.id) = ?", arguments: [id])
    }

    static func load(_ id: UUID, _ db: Database) throws -> RecordState? {
        try db.cachedStatement(sql: byID).decodeAll(arguments: [id.text], decode).first
    }

    /// Decodes a row that starts with ``selection``. Cells are read by position, not looked up
    /// by name on every row, and a cell of the wrong type is reported as a damaged database,
    /// never a crash.
    static func decode(_ row: Row) throws -> RecordState { try decode(RowCells(row)) }

    /// ``decode(_:)-(Row)`` for the row a statement has stepped to (``Statement/decodeAll(arguments:_:)``).
    static func decode(_ cells: some CellReading) throws -> RecordState {
        guard let id = cells.uuid(0), let kind = cells.string(1).flatMap(RecordKind.init(rawValue:)) else {
            throw StoreError.corrupt("record \(cells.string(0) ?? "?") of kind \(cells.string(1) ?? "?")")
        }
        guard let clock = cells.blob(2), let fields = cells.blob(3) else {
            throw StoreError.corrupt("record \(id.text): its clock or fields are not bytes")
        }
        do {
            return try RecordState(kind: kind, id: id, encodedClock: clock, encodedFields: fields)
        } catch {
            throw StoreError.corrupt("record \(id.text): \(error)")
        }
    }

    /// Stores `record` and its query row over `previous`, its stored state (`nil`: the table
    /// has no row of it), writing only what differs: a record that stays present and keeps
    /// its conflict flag rewrites its clock and fields alone, which leaves the indexes on
    /// `kind` untouched, and its query row only the columns whose shown values changed.
    static func save(
        _ record: RecordState, over previous: RecordState?, timeline: RequestTimeline?, _ db: Database
    ) throws {
        guard let previous, previous.exists == record.exists, previous.isConflicted == record.isConflicted else {
            try save(record, timeline: timeline, db)
            return
        }
        var clock = BinaryWriter()
        clock.write(clock: record.clock)
        var fields = BinaryWriter()
        fields.write(siblings: record.fields)
        var row = Bindings(try db.cachedStatement(sql: update))
        try row.add(bytes: clock.bytes)
        try row.add(bytes: fields.bytes)
        try row.add(record.id)
        try row.execute()
        try Projection.update(record, over: previous, timeline: timeline, db)
    }

    /// Stores `record` and its query row, whole, whatever was stored before; a request's
    /// `timeline`, when given, is stored with its row (`nil` leaves the stored one as it is:
    /// the caller knows the log did not change what a timeline reads).
    static func save(_ record: RecordState, timeline: RequestTimeline? = nil, _ db: Database) throws {
        var clock = BinaryWriter()
        clock.write(clock: record.clock)
        var fields = BinaryWriter()
        fields.write(siblings: record.fields)
        var row = Bindings(try db.cachedStatement(sql: upsert))
        try row.add(record.id)
        try row.add(record.kind.rawValue)
        try row.add(bytes: clock.bytes)
        try row.add(bytes: fields.bytes)
        try row.add(record.exists)
        try row.add(record.isConflicted)
        try row.execute()
        try Projection.update(record, timeline: timeline, db)
    }

    private static let update =
        "UPDATE record SET \([Columns.clock, Columns.fields].assignments) WHERE \(Columns.id) = ?"

    private static let upsert = """
        INSERT INTO record (\(all.sql)) VALUES (\(all.placeholders))
        ON CONFLICT (\(Columns.id)) DO UPDATE SET \(all.dropFirst(2).excludedAssignments)
        """
}
