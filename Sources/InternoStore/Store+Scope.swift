import Foundation
import GRDB
import InternoModel

extension SiteStore {
    /// Takes the scope the server says this site has (DESIGN §6.1). The first time, or if it
    /// ever narrows, every record outside it is deleted: its record state, every log entry and
    /// every query-table row, with `secure_delete` on; then the file is vacuumed and the WAL
    /// checkpointed and truncated, so the bytes are gone from the database and its WAL.
    ///
    /// This site's own changes are kept whatever they touch: it wrote them, so it could see
    /// them. A record whose parties cannot be told here (only voids of it arrived) is deleted
    /// too, and the cursor goes back to 0 so that the server hands out again whatever of it
    /// the site may see: applying what it already has changes nothing.
    ///
    /// - Returns: how many records were deleted (0 when the scope was known already).
    @discardableResult
    public func adopt(scope kind: Scope.Kind) throws -> Int {
        // Every sync says the scope; nearly always it is the one already held, and a read says so.
        guard try replica().scope != kind else { return 0 }
        let removed = try writer.writeWithoutTransaction { db -> Int in
            // Deleted cells and pages are overwritten with zeros, in the file and in the WAL.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            defer { try? db.execute(sql: "PRAGMA secure_delete = OFF") }
            var removed = 0
            try db.inTransaction {
                removed = try Self.adopt(kind, db)
                return .commit
            }
            return removed
        }
        if removed > 0 {
            // Rebuild the file without the freed pages, then move the WAL into it and empty it.
            try writer.writeWithoutTransaction { db in
                try db.execute(sql: "VACUUM")
                try Self.truncateWAL(db)
            }
        }
        return removed
    }

    /// Copies the whole WAL into the database and empties it. A checkpoint running beside
    /// the writer (``BackgroundCheckpoints``), which the `VACUUM`'s commit may have asked
    /// for, holds SQLite's checkpoint lock while it copies, and SQLite then answers this one
    /// "busy" at once, without waiting and without an error: it is tried again until it
    /// truncates, for up to five seconds, then fails rather than leave the deleted records'
    /// old pages in the WAL.
    static func truncateWAL(_ db: Database) throws {
        for attempt in 0..<500 {
            // One row: busy (0 when it ran to the end), the WAL's pages, the pages copied.
            let busy = try Int.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            if busy == 0 { return }
            if attempt < 499 { Thread.sleep(forTimeInterval: 0.01) }
        }
        throw StoreError.io(
            "the records outside this site's scope were deleted, but the WAL that still holds their old pages could not be emptied now: another connection kept it in use for five seconds; it is emptied when the last program that has this site's database open closes it, so stop any other program that opens it"
        )
    }

    private static func adopt(_ kind: Scope.Kind, _ db: Database) throws -> Int {
        let replica = try replicaRow(db)
        if replica.scope == kind { return 0 }
        var removed = 0
        if kind == .department {
            guard let department = replica.department.flatMap(UUID.init(text:)) else {
                throw StoreError.corrupt("this site has no department")
            }
            removed = try removeRecords(outside: .department(department), keepingThoseOf: replica.id, db)
        }
        // Pull from the start after deleting (whatever of it this site may see comes back), or
        // when the scope widens (what the narrower one held back was never received).
        let widens = replica.scope == .department && kind == .all
        try ReplicaRow.saveScope(kind, resetCursor: removed > 0 || widens, db)
        return removed
    }

    /// Deletes every record `scope` does not cover and that `own` never wrote, with its log
    /// entries and query-table rows; returns how many.
    static func removeRecords(outside scope: Scope, keepingThoseOf own: ReplicaID, _ db: Database) throws -> Int {
        let lookups = Lookups(db, scope: scope)
        let ownRecords = Set(try ChangeLog.records(ofReplica: own.description, from: .min, through: .max, db))
        var doomed: [(id: String, kind: RecordKind)] = []
        let rows = try Row.fetchCursor(db, sql: "SELECT \(RecordTable.selection) FROM record")
        while let row = try rows.next() {
            let record = try RecordTable.decode(row)
            let id = record.id.text
            guard !ownRecords.contains(id) else { continue }
            if !record.exists || !lookups.visible(record) { doomed.append((id, record.kind)) }
        }
        try lookups.rethrow()
        // Log entries of records that have no state here at all (none should exist).
        let orphans = try String.fetchAll(
            db,
            sql: """
                SELECT DISTINCT \(ChangeLog.Columns.record) FROM change
                WHERE \(ChangeLog.Columns.record) NOT IN (SELECT \(RecordTable.Columns.id) FROM record)
                """)
        for id in doomed.map(\.id) + orphans {
            try ChangeLog.delete(ofRecord: id, db)
            try RecordTable.delete(id, db)
        }
        for (id, kind) in doomed {
            try Projection.delete(id, kind: kind, db)
        }
        return doomed.count + orphans.count
    }
}
