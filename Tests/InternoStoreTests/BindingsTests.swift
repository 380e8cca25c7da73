import Foundation
import GRDB
import Testing

@testable import InternoStore

/// The store writes every change's rows through ``Bindings``, SQLite's C API, rather than
/// GRDB's arguments: what it stores must be exactly what GRDB would have stored.
@Suite("Binding values straight through SQLite")
struct BindingsTests {
    @Test func everyKindOfValueIsStoredAsGRDBStoresIt() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE cell (n INTEGER PRIMARY KEY, a, b, c, d, e, f, g, h, i, j)")
            let values: [(any DatabaseValueConvertible)?] = [
                Int64.min, "", "naïve – 名前 🙂", Data(), Data([0, 1, 255]), true, false, nil, 2.5,
                "with \u{0} inside",
            ]
            try db.execute(
                sql: "INSERT INTO cell (n, a, b, c, d, e, f, g, h, i, j) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: StatementArguments(values))
            let statement = try db.makeStatement(
                sql: "INSERT INTO cell (n, a, b, c, d, e, f, g, h, i, j) VALUES (2, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            var row = Bindings(statement)
            try row.add(Int64.min)
            try row.add("")
            try row.add("naïve – 名前 🙂")
            try row.add(bytes: [])
            try row.add(bytes: [0, 1, 255])
            try row.add(true)
            try row.add(false)
            try row.add(nil as String?)
            try row.add(2.5.databaseValue)
            try row.add("with \u{0} inside")
            try row.execute()
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT typeof(a), a, typeof(b), b, typeof(c), c, typeof(d), length(d), typeof(e), hex(e),
                        typeof(f), f, typeof(g), g, typeof(h), typeof(i), i
                    FROM cell ORDER BY n
                    """)
            #expect(rows.count == 2)
            #expect(rows[0] == rows[1])
            #expect(rows[1]["typeof(b)"] == "text" && rows[1]["typeof(d)"] == "blob")
            // Text is bound with its length, so a NUL inside it is kept with all that follows
            // (GRDB binds a C string, which ends at the NUL).
            let kept = try String.fetchOne(db, sql: "SELECT hex(j) FROM cell WHERE n = 2")
            #expect(kept == Data("with \u{0} inside".utf8).map { String(format: "%02X", $0) }.joined())
        }
    }

    /// An id is bound as its text made on the stack: the same cell as its `text` bound as a
    /// string, which every query that looks an id up compares with.
    @Test func anIdIsStoredAsItsText() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE cell (n INTEGER PRIMARY KEY, id)")
            let statement = try db.makeStatement(sql: "INSERT INTO cell (n, id) VALUES (?, ?)")
            var ids: [UUID] = []
            for n in 0..<100 {
                let id = UUID()
                ids.append(id)
                var row = Bindings(statement)
                try row.add(Int64(n))
                try row.add(id)
                try row.execute()
            }
            let stored = try Row.fetchAll(db, sql: "SELECT typeof(id), id FROM cell ORDER BY n")
            #expect(stored.map { $0[0] as String } == Array(repeating: "text", count: 100))
            #expect(stored.map { $0[1] as String } == ids.map(\.text))
            #expect(try Int.fetchOne(db, sql: "SELECT n FROM cell WHERE id = ?", arguments: [ids[42].text]) == 42)
        }
    }

    @Test func aStatementIsReusedByBothWaysOfBinding() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE item (id TEXT PRIMARY KEY, size INTEGER)")
            let sql = "INSERT INTO item (id, size) VALUES (?, ?)"
            var first = Bindings(try db.cachedStatement(sql: sql))
            try first.add("a")
            try first.add(Int64(1))
            try first.execute()
            try db.cachedStatement(sql: sql).execute(arguments: ["b", 2])
            var third = Bindings(try db.cachedStatement(sql: sql))
            try third.add("c")
            try third.add(nil as Int64?)
            try third.execute()
            let stored = try Row.fetchAll(db, sql: "SELECT id, size FROM item ORDER BY id")
            #expect(stored.map { $0["id"] as String } == ["a", "b", "c"])
            #expect(stored.map { $0["size"] as Int64? } == [1, 2, nil])
        }
    }

    @Test func tooFewOrTooManyValuesAreAnErrorAndNothingIsWritten() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE item (id TEXT PRIMARY KEY, size INTEGER)")
            let statement = try db.makeStatement(sql: "INSERT INTO item (id, size) VALUES (?, ?)")
            var short = Bindings(statement)
            try short.add("a")
            #expect(throws: StoreError.self) { try short.execute() }
            var long = Bindings(statement)
            try long.add("b")
            try long.add(Int64(2))
            // SQLite refuses a third value for two placeholders.
            #expect(throws: StoreError.self) { try long.add(Int64(3)) }
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM item") == 0)
        }
    }

    /// The same statement object, not one from GRDB's cache (which drops a failed one): its
    /// failed step is reported once, when it happens, and the statement then runs again.
    @Test func aStatementWhoseStepFailedIsBoundAgain() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE item (id TEXT PRIMARY KEY, size INTEGER)")
            let statement = try db.makeStatement(sql: "INSERT INTO item (id, size) VALUES (?, ?)")
            for (id, size) in [("a", Int64(1)), ("a", Int64(2)), ("b", Int64(3))] {
                var row = Bindings(statement)
                try row.add(id)
                try row.add(size)
                if size == 2 {
                    #expect(throws: DatabaseError.self) { try row.execute() }
                } else {
                    try row.execute()
                }
            }
            #expect(try Int.fetchOne(db, sql: "SELECT SUM(size) FROM item") == 4)
        }
    }

    @Test func aFailedInsertIsGRDBsErrorAndTheStatementIsUsableAgain() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE item (id TEXT PRIMARY KEY, size INTEGER)")
            let sql = "INSERT INTO item (id, size) VALUES (?, ?)"
            for (id, size) in [("a", Int64(1)), ("a", Int64(2)), ("b", Int64(3))] {
                var row = Bindings(try db.cachedStatement(sql: sql))
                try row.add(id)
                try row.add(size)
                if id == "a", size == 2 {
                    #expect(throws: DatabaseError.self) { try row.execute() }
                } else {
                    try row.execute()
                }
            }
            #expect(try Int.fetchOne(db, sql: "SELECT SUM(size) FROM item") == 4)
        }
    }

    /// Inside a transaction the statement is stepped straight through SQLite: a failure is
    /// GRDB's error all the same, with SQLite's extended code, its message and the statement.
    @Test func aFailureInsideATransactionIsGRDBsErrorWithSQLitesCodeAndMessage() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE item (id TEXT PRIMARY KEY, size INTEGER)")
            let sql = "INSERT INTO item (id, size) VALUES (?, ?)"
            for size in [Int64(1), 2] {
                var row = Bindings(try db.cachedStatement(sql: sql))
                try row.add("a")
                try row.add(size)
                if size == 1 {
                    try row.execute()
                } else {
                    let error = #expect(throws: DatabaseError.self) { try row.execute() }
                    #expect(error?.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY)
                    #expect(error?.message == "UNIQUE constraint failed: item.id")
                    #expect(error?.sql == sql)
                }
            }
        }
    }

    /// A transaction that SQLite rolled back after an error (a full disk, an I/O error; here a
    /// trigger's `RAISE(ROLLBACK)`) leaves the connection outside any transaction: a row bound
    /// after it is refused, never written and committed on its own.
    @Test func noRowIsWrittenOnItsOwnAfterSQLiteRolledTheTransactionBack() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE item (id TEXT PRIMARY KEY, size INTEGER);
                    CREATE TRIGGER boom BEFORE INSERT ON item WHEN NEW.id = 'boom'
                    BEGIN SELECT RAISE(ROLLBACK, 'the disk said no'); END
                    """)
        }
        try queue.writeWithoutTransaction { db in
            let statement = try db.cachedStatement(sql: "INSERT INTO item (id, size) VALUES (?, ?)")
            try? db.inTransaction {
                for id in ["a", "boom", "b"] {
                    var row = Bindings(statement)
                    try? row.add(id)
                    try? row.add(Int64(1))
                    // Every failure is swallowed, as careless code would: the row after the
                    // rollback must still fail, not commit on its own.
                    let written = (try? row.execute()) != nil
                    #expect(written == (id == "a"))
                }
                return .commit
            }
            #expect(!db.isInsideTransaction)
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM item") == 0)
        }
    }
}
