import Foundation
import GRDB
import InternoModel

private typealias Log = ChangeLog.Columns
private typealias Registry = RegistryRow.Columns

/// The server's `audience` table: who may receive each logged change (DESIGN §6.1).
enum Audiences {
    /// The department column's value for a change every site receives (the directory).
    static let everyone = "*"

    /// The columns of `audience`.
    enum Columns {
        /// A department's record id, or ``everyone``.
        static let department = Column("department")
        /// The sequence number of the change in the log.
        static let seq = Column("seq")
    }

    /// Both columns, in the order a change's audience is written.
    static let all = [Columns.department, Columns.seq]

    /// Records that the change logged at `seq` goes to `audience`.
    static func record(_ seq: Int64, _ audience: Audience, _ db: Database) throws {
        let statement = try db.cachedStatement(sql: insert)
        // One row, its department bound by `department` (a string, or an id from the stack).
        func row(_ department: (inout Bindings) throws -> Void) throws {
            var row = Bindings(statement)
            try department(&row)
            try row.add(seq)
            try row.execute()
        }
        switch audience {
        case .everyone:
            try row { try $0.add(everyone) }
        case .departments(let departments):
            for department in departments.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                try row { try $0.add(department) }
            }
        }
    }

    /// The insert of one audience row, written once.
    private static let insert = "INSERT INTO audience (\(all.sql)) VALUES (\(all.placeholders))"

    /// The audiences of the changes logged for record `id` (its voids, when it does not exist).
    static func ofRecord(_ id: UUID, _ db: Database) throws -> [Audience] {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT change.\(Log.seq), audience.\(Columns.department)
                FROM change JOIN audience ON audience.\(Columns.seq) = change.\(Log.seq)
                WHERE change.\(Log.record) = ? ORDER BY change.\(Log.seq)
                """, arguments: [id.text])
        var bySeq: [Int64: Audience] = [:]
        for row in rows {
            let seq: Int64 = row[0]
            let department: String = row[1]
            guard department != everyone, let id = UUID(text: department) else {
                bySeq[seq] = .everyone
                continue
            }
            if case .departments(let set) = bySeq[seq] {
                bySeq[seq] = .departments(set.union([id]))
            } else if bySeq[seq] == nil {
                bySeq[seq] = .departments([id])
            }
        }
        return bySeq.keys.sorted().map { bySeq[$0]! }
    }

    /// Gives every change of a server's log its audience: for a server made by a release that
    /// handed every change to every site (migration `v2-scopes`). Parties never change, so a
    /// record's current state tells who may see each of its changes; a void of a record that
    /// never came to exist goes to its writer's department, as the ``Judge``
    /// decides for new ones.
    static func backfill(_ db: Database) throws {
        let departments = Dictionary(
            try Row.fetchAll(
                db, sql: "SELECT \([Registry.replicaID, Registry.department].sql) FROM replica_registry"
            ).compactMap { row -> (String, UUID)? in
                guard let department = UUID(text: row[1]) else { return nil }
                return (row[0], department)
            }, uniquingKeysWith: { first, _ in first })
        let lookups = Lookups(db)
        let rows = try Row.fetchCursor(db, sql: "SELECT \(ChangeLog.columns) FROM change ORDER BY \(Log.seq)")
        while let row = try rows.next() {
            let entry = try ChangeLog.decode(row)
            let change = entry.change
            let audience: Audience?
            if let record = lookups.any(change.kind, change.recordID), record.exists {
                audience = Schema.audience(of: record, lookup: lookups.any)
            } else if case .sameAs = Schema.partyRule(of: change.kind) {
                audience = Schema.audience(of: change.kind, value: { change.fields[$0] }, lookup: lookups.any)
            } else {
                audience = departments[change.dot.replica.description].map { .departments([$0]) }
            }
            try lookups.rethrow()
            // A change whose parties cannot be told goes to whole-organisation sites only.
            if let audience { try record(entry.seq, audience, db) }
        }
    }
}

/// Record lookups outside the judge (a migration's backfill, a site adopting its scope). The
/// lookups cannot throw, so a database error is kept and rethrown by ``rethrow()`` after.
final class Lookups {
    private let db: Database
    private let scope: Scope
    private var error: (any Error)?

    init(_ db: Database, scope: Scope = .all) {
        self.db = db
        self.scope = scope
    }

    /// Every record, whatever the scope.
    var any: Schema.Lookup {
        { [self] _, id in load(id) }
    }

    /// `true` if the scope covers `record` (``Scope/covers(_:lookup:)``).
    func visible(_ record: RecordState) -> Bool {
        scope.covers(record, lookup: any)
    }

    /// Throws the database error a lookup met, if any.
    func rethrow() throws {
        if let error { throw error }
    }

    private func load(_ id: UUID) -> RecordState? {
        do { return try RecordTable.load(id, db) } catch {
            self.error = error
            return nil
        }
    }
}
