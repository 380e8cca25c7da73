import Foundation
import GRDB
import InternoModel

/// The record states, as the log makes them (DESIGN §4). A request that exists keeps its
/// state in its query row (`request.clock`, `.fields`, `.stateConflicted`); every other state
/// is a row of table `record_state`. View `record` shows both with the same columns, and is
/// what every reader reads; the store writes the tables themselves (`v10-request-states-in-rows`).
enum RecordTable {
    /// The view of every record state.
    static let view = "record"
    /// The table of the states not kept in a query row.
    static let table = "record_state"

    /// The columns of `record` (and of `record_state`).
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
    /// order, with each record state in the same row (a request) or read by its primary key,
    /// never by a scan of every record (`v9-kinds-by-query-table`). The view would not do:
    /// SQLite does not flatten a compound view into a join.
    static func existing(of kind: RecordKind) -> String {
        if Projection.holdsState(kind) {
            typealias R = RequestRow.Columns
            return """
                SELECT \(Projection.id), '\(kind.rawValue)', \(R.clock), \(R.fields) FROM \(kind.rawValue)
                WHERE \(R.clock) IS NOT NULL ORDER BY \(Projection.id)
                """
        }
        let columns = [Columns.id, Columns.kind, Columns.clock, Columns.fields].map { "\(table).\($0)" }
        return """
            SELECT \(columns.joined(separator: ", ")) FROM \(kind.rawValue) AS shown
            JOIN \(table) ON \(table).\(Columns.id) = shown.\(Projection.id) ORDER BY shown.\(Projection.id)
            """
    }

    /// Up to `?2` record states after the id `?1` (existing or not), in id order, as
    /// ``decode(_:)`` reads them: each table in its key's order, merged (on the view, SQLite
    /// would sort every state after `?1` for each page).
    static let inIDOrder = """
        SELECT \(selection) FROM \(table) WHERE \(Columns.id) > ?1
        UNION ALL
        SELECT \(Projection.id), '\(RecordKind.request.rawValue)', \(RequestRow.Columns.clock), \(RequestRow.Columns.fields)
        FROM \(RecordKind.request.rawValue) WHERE \(Projection.id) > ?1 AND \(RequestRow.Columns.clock) IS NOT NULL
        ORDER BY 1 LIMIT ?2
        """

    /// The states with a field in conflict, by kind and id, through the partial indexes of
    /// the conflicted ones (`record_conflicted`, `request_state_conflicted`).
    static let conflicted =
        "SELECT \(selection) FROM \(view) WHERE \(Columns.conflicted) ORDER BY \(Columns.kind), \(Columns.id)"

    /// One record's state, by id: ``selection`` with one `?`.
    static let byID = "SELECT \(selection) FROM \(view) WHERE \(Columns.id) = ?"

    /// Deletes the state of record `id`, if any, and the query row of a request, which holds it.
    static func delete(_ id: String, _ db: Database) throws {
        try db.executeCached(sql: "DELETE FROM \(table) WHERE \(Columns.id) = ?", arguments: [id])
        try Projection.delete(id, kind: .request, db)
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

    /// Stores `record` and its query row over `previous`, its stored state (`nil`: there is
    /// none), writing only what differs (``RecordRows/init(_:over:timeline:)``).
    static func save(
        _ record: RecordState, over previous: RecordState?, timeline: RequestTimeline?, _ db: Database
    ) throws {
        try save(RecordRows(record, over: previous, timeline: timeline), db)
    }

    /// Stores `record` and its query row, whole, whatever was stored before; a request's
    /// `timeline`, when given, is stored with its row (`nil` leaves the stored one as it is:
    /// the caller knows the log did not change what a timeline reads).
    static func save(_ record: RecordState, timeline: RequestTimeline? = nil, _ db: Database) throws {
        try save(RecordRows(record, timeline: timeline), db)
    }

    /// Writes the rows `rows` describes: the record's state, in `record_state` or in its query
    /// row, and its query row.
    static func save(_ rows: RecordRows, _ db: Database) throws {
        let record = rows.record
        switch rows.stateRow {
        case .deleted:
            try db.executeCached(sql: "DELETE FROM \(table) WHERE \(Columns.id) = ?", arguments: [record.id.text])
        case .upserted:
            var row = Bindings(try db.cachedStatement(sql: upsert))
            try row.add(record.id)
            try row.add(record.kind.rawValue)
            try row.add(bytes: rows.state.clock)
            try row.add(bytes: rows.state.fields)
            try row.add(record.exists)
            try row.add(rows.state.conflicted)
            try row.execute()
        case .updated:
            var row = Bindings(try db.cachedStatement(sql: update))
            try row.add(bytes: rows.state.clock)
            try row.add(bytes: rows.state.fields)
            try row.add(record.id)
            try row.execute()
        case .inQueryRow:
            break
        }
        try Projection.write(rows.shown, of: record, state: rows.state, timeline: rows.timeline, db)
    }

    private static let update =
        "UPDATE \(table) SET \([Columns.clock, Columns.fields].assignments) WHERE \(Columns.id) = ?"

    private static let upsert = """
        INSERT INTO \(table) (\(all.sql)) VALUES (\(all.placeholders))
        ON CONFLICT (\(Columns.id)) DO UPDATE SET \(all.dropFirst(2).excludedAssignments)
        """
}

/// The rows one record's save writes, worked out from its states alone, without the
/// database: a batch's are made on another thread while the writer appends its log entries
/// (``ReplicaStore/write(_:_:)``, DESIGN §4). ``RecordTable/save(_:_:)-(RecordRows,_)`` writes them.
struct RecordRows: Sendable {
    /// What becomes of the record's row in `record_state`.
    enum StateRow: Sendable {
        /// Deleted, if there is one: the state goes into the record's query row.
        case deleted
        /// Written whole.
        case upserted
        /// Its clock and siblings rewritten: it exists, and the record's existence and conflict
        /// flag are unchanged.
        case updated
        /// Nothing: the state is in the query row, and nothing of it stood in `record_state`.
        case inQueryRow
    }

    let record: RecordState
    let timeline: RequestTimeline?
    let state: EncodedState
    let stateRow: StateRow
    let shown: Projection.Shown

    /// The rows of `record` and its query row over `previous`, its stored state (`nil`: there
    /// is none), writing only what differs: a record that stays present and keeps its conflict
    /// flag rewrites its clock and fields and only the query row's columns whose shown values
    /// changed, a request all of that in one `UPDATE` of its row.
    init(_ record: RecordState, over previous: RecordState?, timeline: RequestTimeline?) {
        let state = EncodedState(record)
        guard let previous, previous.exists == record.exists, previous.isConflicted == state.conflicted else {
            self.init(record, state: state, timeline: timeline, replacing: previous != nil)
            return
        }
        self.init(
            record: record, timeline: timeline, state: state,
            stateRow: Projection.holdsState(record.kind) && record.exists ? .inQueryRow : .updated,
            shown: Projection.shown(record, over: previous))
    }

    /// The rows of `record` and its query row, whole, whatever was stored before.
    init(_ record: RecordState, timeline: RequestTimeline?) {
        self.init(record, state: EncodedState(record), timeline: timeline, replacing: true)
    }

    /// `replacing` is `false` when nothing of the record is stored.
    private init(_ record: RecordState, state: EncodedState, timeline: RequestTimeline?, replacing: Bool) {
        // A state in a query row: one it had while it did not exist goes from `record_state`.
        let inQueryRow = Projection.holdsState(record.kind) && record.exists
        self.init(
            record: record, timeline: timeline, state: state,
            stateRow: inQueryRow ? (replacing ? .deleted : .inQueryRow) : .upserted, shown: Projection.shown(record))
    }

    private init(
        record: RecordState, timeline: RequestTimeline?, state: EncodedState, stateRow: StateRow,
        shown: Projection.Shown
    ) {
        self.record = record
        self.timeline = timeline
        self.state = state
        self.stateRow = stateRow
        self.shown = shown
    }
}

/// A record's state as it is stored: its clock and siblings in the binary encoding, and
/// whether any field is in conflict.
struct EncodedState: Sendable {
    var clock: [UInt8]
    var fields: [UInt8]
    var conflicted: Bool

    init(_ record: RecordState) {
        var clock = BinaryWriter()
        clock.write(clock: record.clock)
        var fields = BinaryWriter()
        fields.write(siblings: record.fields)
        self.clock = clock.bytes
        self.fields = fields.bytes
        conflicted = record.isConflicted
    }
}

extension Bindings {
    /// Binds the next three placeholders to a state's clock, siblings and conflict flag.
    mutating func add(_ state: EncodedState) throws {
        try add(bytes: state.clock)
        try add(bytes: state.fields)
        try add(state.conflicted)
    }
}
