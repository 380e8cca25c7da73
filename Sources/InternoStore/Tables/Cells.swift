import Foundation
import GRDB
import GRDBSQLite
import InternoModel

/// The cells of the row a statement has stepped to (``Statement/forEachRow(arguments:_:)``),
/// read through the SQLite C API (GRDB documents this use of `Statement.sqliteStatement`).
/// A byte buffer is valid until the statement steps, or the same column is read again.
///
/// Two ways to read them. `StoredDigests` hashes cells in place (``integer(_:)``,
/// ``bytes(_:)``, ``key(_:)``, ``text(_:)``), where a damaged cell must still hash and never
/// stop a verify. The decoders of log entries and record states read typed values
/// (``CellReading``), where a damaged cell is an error: they run once per change or record of
/// every Push and pull, and read here an id is parsed from SQLite's own text with no `String`
/// in between, and a blob is copied once, where a GRDB `Row` copies each cell into a
/// `DatabaseValue` (a blob into `Data`, which the decoder copied again into bytes) through
/// generic conversions that look up type metadata per cell (DESIGN §9).
struct Cells {
    let statement: SQLiteStatement

    /// The storage class of column `index`: `SQLITE_NULL`, `SQLITE_INTEGER`, `SQLITE_TEXT`...
    func type(_ index: Int32) -> Int32 {
        sqlite3_column_type(statement, index)
    }

    /// The integer in column `index`. A cell of another type (a damaged row) reads as
    /// `Int64.min`, so it hashes apart from any real value: verify reports it, and never stops
    /// on it.
    func integer(_ index: Int32) -> Int64 {
        type(index) == SQLITE_INTEGER ? sqlite3_column_int64(statement, index) : .min
    }

    /// The bytes of column `index`: a text's UTF-8, a blob's bytes; none for NULL.
    func bytes(_ index: Int32) -> UnsafeRawBufferPointer {
        // The pointer first, then the count, as SQLite asks.
        let start = sqlite3_column_blob(statement, index)
        return UnsafeRawBufferPointer(start: start, count: Int(sqlite3_column_bytes(statement, index)))
    }

    /// The record id in column `index`, if it is one in canonical lowercase form.
    func key(_ index: Int32) -> RecordKey? {
        RecordKey(text: bytes(index))
    }

    /// The text of column `index`, for a cell that is not a record id.
    func text(_ index: Int32) -> String {
        String(decoding: bytes(index), as: UTF8.self)
    }
}

/// Typed values of a row's cells, by position, as the decoders of log entries and record
/// states read them. A cell whose type is not the one asked for reads as `nil`, which the
/// decoders report as a damaged database, never a crash. Types are those GRDB accepts for each
/// conversion: text and blob each readable as the other, an integer stored as a whole real.
protocol CellReading {
    /// `true` when cell `index` is NULL.
    func isNull(_ index: Int32) -> Bool
    /// The integer in cell `index`, or `nil`.
    func int64(_ index: Int32) -> Int64?
    /// The text in cell `index`, or `nil`.
    func string(_ index: Int32) -> String?
    /// The id written as text in cell `index` (``UUID/text``, either case), or `nil`.
    func uuid(_ index: Int32) -> UUID?
    /// The bytes of the blob in cell `index`, or `nil`.
    func blob(_ index: Int32) -> [UInt8]?
}

extension Cells: CellReading {
    func isNull(_ index: Int32) -> Bool { type(index) == SQLITE_NULL }

    func int64(_ index: Int32) -> Int64? {
        switch type(index) {
        case SQLITE_INTEGER: sqlite3_column_int64(statement, index)
        case SQLITE_FLOAT: Int64(exactly: sqlite3_column_double(statement, index))
        default: nil
        }
    }

    func string(_ index: Int32) -> String? {
        switch type(index) {
        case SQLITE_TEXT: text(index)
        // A blob is text only if it is UTF-8, as GRDB reads one.
        case SQLITE_BLOB: String(validating: bytes(index), as: UTF8.self)
        default: nil
        }
    }

    func uuid(_ index: Int32) -> UUID? {
        guard isBytes(index) else { return nil }
        return bytes(index).withMemoryRebound(to: UInt8.self) { UUID(utf8: $0) }
    }

    func blob(_ index: Int32) -> [UInt8]? {
        isBytes(index) ? [UInt8](bytes(index)) : nil
    }

    /// `true` for a text or a blob.
    private func isBytes(_ index: Int32) -> Bool {
        let type = type(index)
        return type == SQLITE_TEXT || type == SQLITE_BLOB
    }
}

/// The cells of a GRDB row already fetched, through `DatabaseValue`: for the decoders' callers
/// that read rows with other columns after the decoded ones.
struct RowCells: CellReading {
    let row: Row

    init(_ row: Row) { self.row = row }

    func isNull(_ index: Int32) -> Bool { (row[Int(index)] as DatabaseValue).isNull }
    func int64(_ index: Int32) -> Int64? { Int64.fromDatabaseValue(row[Int(index)] as DatabaseValue) }
    func string(_ index: Int32) -> String? { String.fromDatabaseValue(row[Int(index)] as DatabaseValue) }
    func uuid(_ index: Int32) -> UUID? { string(index).flatMap(UUID.init(text:)) }
    func blob(_ index: Int32) -> [UInt8]? {
        Data.fromDatabaseValue(row[Int(index)] as DatabaseValue).map { [UInt8]($0) }
    }
}

extension Statement {
    /// Runs the statement with `arguments` (`nil`: with what is bound already, ``Bindings``)
    /// and calls `body` with the cells of each row, in order, as SQLite steps to it: nothing
    /// is copied into a row first.
    func forEachRow(arguments: StatementArguments?, _ body: (Cells) throws -> Void) throws {
        let rows = try arguments.map { try Row.fetchCursor(self, arguments: $0) } ?? Row.fetchCursor(self)
        let cells = Cells(statement: sqliteStatement)
        while try rows.next() != nil { try body(cells) }
    }

    /// Runs the statement with `arguments` and returns what `decode` makes of each row's cells.
    func decodeAll<T>(arguments: StatementArguments, _ decode: (Cells) throws -> T) throws -> [T] {
        var decoded: [T] = []
        try forEachRow(arguments: arguments) { decoded.append(try decode($0)) }
        return decoded
    }
}
