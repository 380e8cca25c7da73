import Foundation
import GRDB
import GRDBSQLite
import InternoModel

/// The arguments of one execution of a cached statement, bound straight through SQLite's C API
/// (GRDB documents this use of `Statement.sqliteStatement`), for the statements that every
/// change runs: its log entry, its record state, its query row, its audience.
///
/// GRDB's `execute(arguments:)` turns each value into a `DatabaseValue`, checks the list
/// against the statement, and binds it through one nested closure per argument: a DWARF
/// profile put that plumbing at a sixth to a fifth of applying a pulled batch or judging a Push,
/// more than the inserts themselves. Here a value is bound where it is, in one call, and SQLite
/// copies it (`SQLITE_TRANSIENT`).
///
/// `setUncheckedArguments` with no values resets the statement and clears its bindings through
/// GRDB, so that GRDB's ``Statement/execute(arguments:)`` (without arguments) then steps it
/// with its own bookkeeping (transaction state, observation, errors); ``execute()`` checks that
/// every placeholder was bound.
package struct Bindings {
    private let statement: Statement
    private var index: CInt = 0

    package init(_ statement: Statement) {
        // A statement whose last step failed reports that failure again on its next reset, and
        // `setUncheckedArguments` traps on an error there. GRDB drops a failed statement from
        // its caches, so this is only a guard: the failure was reported when it happened.
        sqlite3_reset(statement.sqliteStatement)
        statement.setUncheckedArguments(StatementArguments())
        self.statement = statement
    }

    /// Binds the next placeholder to an integer.
    package mutating func add(_ value: Int64) throws {
        index += 1
        try check(sqlite3_bind_int64(statement.sqliteStatement, index, value))
    }

    /// Binds the next placeholder to 1 or 0.
    package mutating func add(_ value: Bool) throws {
        try add(Int64(value ? 1 : 0))
    }

    /// Binds the next placeholder to an integer, or NULL.
    package mutating func add(_ value: Int64?) throws {
        guard let value else { return try addNull() }
        try add(value)
    }

    /// Binds the next placeholder to text, with its length: a NUL inside it is kept, with all
    /// that follows (GRDB binds a C string, which ends there).
    package mutating func add(_ value: String) throws {
        var text = value
        try text.withUTF8 { try add(utf8: $0) }
    }

    /// Binds the next placeholder to an id's text (``UUID/text``), made on the stack.
    package mutating func add(_ id: UUID) throws {
        try id.withText { try add(utf8: $0) }
    }

    /// Binds the next placeholder to the text whose UTF-8 is `utf8`, with its length.
    private mutating func add(utf8: UnsafeBufferPointer<UInt8>) throws {
        index += 1
        guard let base = utf8.baseAddress, !utf8.isEmpty else {
            return try check(sqlite3_bind_text(statement.sqliteStatement, index, "", 0, Self.transient))
        }
        let code = UnsafeRawPointer(base).withMemoryRebound(to: CChar.self, capacity: utf8.count) { characters in
            sqlite3_bind_text(statement.sqliteStatement, index, characters, CInt(utf8.count), Self.transient)
        }
        try check(code)
    }

    /// Binds the next placeholder to text, or NULL.
    package mutating func add(_ value: String?) throws {
        guard let value else { return try addNull() }
        try add(value)
    }

    /// Binds the next placeholder to a blob (an empty one is a blob of no bytes, never NULL).
    package mutating func add(bytes: [UInt8]) throws {
        index += 1
        let code = bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress, !buffer.isEmpty else {
                return sqlite3_bind_zeroblob(statement.sqliteStatement, index, 0)
            }
            return sqlite3_bind_blob(statement.sqliteStatement, index, base, CInt(buffer.count), Self.transient)
        }
        try check(code)
    }

    /// Binds the next placeholder to a blob, or NULL.
    package mutating func add(bytes: [UInt8]?) throws {
        guard let bytes else { return try addNull() }
        try add(bytes: bytes)
    }

    /// Binds the next placeholder to a value as GRDB holds it.
    package mutating func add(_ value: DatabaseValue) throws {
        switch value.storage {
        case .null: try addNull()
        case .int64(let number): try add(number)
        case .double(let number):
            index += 1
            try check(sqlite3_bind_double(statement.sqliteStatement, index, number))
        case .string(let text): try add(text)
        case .blob(let data): try add(bytes: [UInt8](data))
        }
    }

    /// Binds the next placeholder to NULL.
    package mutating func addNull() throws {
        index += 1
        try check(sqlite3_bind_null(statement.sqliteStatement, index))
    }

    /// Runs the statement with what was bound: every placeholder, no more, no fewer.
    ///
    /// Inside a transaction, which every change's rows are written in, it steps the statement
    /// here: GRDB's `execute()` resets it again and, around the step, checks for an aborted
    /// transaction or a suspended database and prepares transaction observers, none of which
    /// a store has. That was 7.5% of the server's writer in a profile of a 100 000-change push
    /// (DESIGN §9). A failure is thrown as GRDB would (`DatabaseError`, SQLite's code and
    /// message, the statement's SQL), and the statement is reset on its next use (``init(_:)``).
    /// Outside a transaction (the connection in autocommit mode: a transaction SQLite rolled
    /// back after an error, or a write on its own) it is GRDB's `execute()`, whose checks then
    /// matter: a statement after a rolled-back transaction is refused rather than committed on
    /// its own.
    package func execute() throws {
        try checkCount()
        let connection = sqlite3_db_handle(statement.sqliteStatement)
        guard sqlite3_get_autocommit(connection) == 0 else { return try statement.execute() }
        while true {
            let code = sqlite3_step(statement.sqliteStatement)
            switch code {
            case SQLITE_DONE: return
            case SQLITE_ROW: continue
            default:
                throw DatabaseError(
                    resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)),
                    sql: statement.sql)
            }
        }
    }

    /// Runs the query with what was bound (every placeholder, no more, no fewer) and calls
    /// `body` with the cells of each row, in order.
    func forEachRow(_ body: (Cells) throws -> Void) throws {
        try checkCount()
        try statement.forEachRow(arguments: nil, body)
    }

    private func checkCount() throws {
        let expected = sqlite3_bind_parameter_count(statement.sqliteStatement)
        guard index == expected else {
            throw StoreError.io("a statement was given \(index) values for \(expected) placeholders: \(statement.sql)")
        }
    }

    private func check(_ code: CInt) throws {
        guard code == SQLITE_OK else {
            throw StoreError.io("SQLite could not bind value \(index) of a statement (code \(code)): \(statement.sql)")
        }
    }

    /// SQLite copies what it is given before the call returns (`SQLITE_TRANSIENT`).
    static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
}
