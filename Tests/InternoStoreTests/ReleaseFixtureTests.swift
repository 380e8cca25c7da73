import Foundation
import GRDB
import InternoModel
import Testing

@_spi(Database) @testable import InternoStore

/// A database written by an earlier release opens, migrates and syncs on (DESIGN §4): the
/// files under `Tests/Fixtures/` were written by the real binaries of that release
/// (`ReleaseFixtureWriter`), and are never rewritten by a later one.
@Suite("Databases of earlier releases")
struct ReleaseFixtureTests {
    /// The releases whose last migrations were `v3-restores`, `v4-timelines`, `v6-record-kinds`,
    /// `v7-schema-2`, `v8-request-indexes`, `v9-kinds-by-query-table`,
    /// `v10-request-states-in-rows` and `v11-conflicted-any-field` (December 2026); the same
    /// writer made all eight, so the same
    /// things are there, and from `v7-schema-2` a catalogued service and a need of it, an
    /// action, kudos, and a survey round with an answer.
    @Test(
        arguments: [
            "v3-restores", "v4-timelines", "v6-record-kinds", "v7-schema-2", "v8-request-indexes",
            "v9-kinds-by-query-table", "v10-request-states-in-rows", "v11-conflicted-any-field",
        ])
    func theDatabasesOfAnEarlierReleaseOpenMigrateAndSyncOn(release: String) throws {
        let hub = try Hub(fixture: release)
        let applied = try hub.server.writer.read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
        }
        #expect(applied == StoreSchema.migrator.migrations, "every migration of this release has run on the old file")

        // What that release wrote is all there, as it was.
        let keys = try hub.hr.records(of: .request).compactMap { $0.value(of: "key")?.text }.sorted()
        #expect(keys == ["HR-LIS-1", "HR-LIS-2", "HR-LIS-3", "HR-LIS-4"])
        #expect(try hub.server.records(of: .request).count == 3, "HR-LIS-4 was not pushed yet")
        #expect(try hub.hr.pendingChangeSets().count == 1)
        #expect(try hub.it.conflicts().count == 1, "the deliver and the cancel of HR-LIS-2 are still in conflict")
        #expect(try hub.server.records(of: .standard).count == 1)
        #expect(try hub.it.records(of: .feedback).count == 1)
        let catalogued = (Int(release.dropFirst().prefix { $0.isNumber }) ?? 0) >= 7
        for store in [hub.server, hub.hr, hub.it] as [any ReplicaStore] {
            #expect(try store.records(of: .service).count == (catalogued ? 1 : 0))
            #expect(try store.records(of: .need).count == (catalogued ? 1 : 0))
            #expect(try store.records(of: .action).count == (catalogued ? 1 : 0))
            #expect(try store.records(of: .kudos).count == (catalogued ? 1 : 0))
            #expect(try store.records(of: .round).count == (catalogued ? 1 : 0))
            #expect(try store.records(of: .answer).count == (catalogued ? 1 : 0))
            let covered = try store.records(of: .standard).first?.value(of: "catalogService")?.id
            #expect(covered == (try store.records(of: .service).first?.id))
        }
        // Every request has the timeline its log gives, on every replica (v4-timelines).
        for store in [hub.server, hub.hr, hub.it] as [any ReplicaStore] {
            #expect(try store.requests().count >= 3)
            #expect(try store.timelineDrift() == [])
        }

        // The request table keeps only the indexes its queries read (v8-request-indexes).
        for store in [hub.server, hub.hr, hub.it] as [any ReplicaStore] {
            let indexes = try store.writer.read { db in
                try Row.fetchAll(db, sql: "PRAGMA index_list(request)").filter { $0["origin"] == "c" }
                    .map { $0["name"] as String }
            }
            #expect(Set(indexes) == ["request_by_key", "request_by_submission", "request_state_conflicted"])
        }

        // The records of a kind are read through their query table: no index by kind is left
        // on the record table to write (v9-kinds-by-query-table).
        for store in [hub.server, hub.hr, hub.it] as [any ReplicaStore] {
            let indexes = try store.writer.read { db in
                try Row.fetchAll(db, sql: "PRAGMA index_list(record_state)").filter { $0["origin"] == "c" }
                    .map { $0["name"] as String }
            }
            #expect(indexes == ["record_conflicted"])
        }
        // Every request that exists has its state in its row, and only there; the unresolved
        // conflict is still flagged on it (v10-request-states-in-rows).
        for store in [hub.server, hub.hr, hub.it] as [any ReplicaStore] {
            let (rows, stated, leftBehind, conflicted) = try store.writer.read { db in
                (
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM request") ?? -1,
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM request WHERE clock IS NOT NULL") ?? -1,
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record_state WHERE kind = 'request' AND present")
                        ?? -1,
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM request WHERE stateConflicted") ?? -1
                )
            }
            #expect(rows >= 3 && stated == rows && leftBehind == 0)
            #expect(conflicted == (try store.conflicts().filter { $0.kind == .request }.count))
        }
        #expect(try hub.it.conflicts().map(\.kind) == [.request])

        // Each file keeps its own role's tables only (v5-roles); the site's outbox is still there.
        for site in [hub.hr, hub.it] {
            let tables = try site.writer.read { db in
                try ["outbox", "replica_registry", "audience"].map { try db.tableExists($0) }
            }
            #expect(tables == [true, false, false])
            #expect(try site.writer.read { db in try db.tableExists("respondent") }, "a site remembers who answered")
        }
        #expect(
            try hub.server.writer.read { db in
                try db.tableExists("outbox") || db.tableExists("stash") || db.tableExists("respondent")
            } == false)

        // And it syncs on: the old outbox is pushed, new work joins it, the other site pulls both.
        try hub.sync(hub.hr)
        let new = try hub.newRequest("Written after the upgrade")
        #expect(new.key == "HR-LIS-5")
        try hub.sync(hub.hr)
        try hub.sync(hub.it)
        #expect(try hub.hr.pendingChangeSets().isEmpty)
        let atIT = try hub.it.records(of: .request)
        #expect(atIT.count == 5)
        #expect(atIT == (try hub.server.records(of: .request)))
        #expect(try hub.it.records(of: .comment) == (try hub.server.records(of: .comment)))
        #expect(try hub.hr.records(of: .request) == atIT)
        for store in [hub.server, hub.hr, hub.it] as [any ReplicaStore] {
            #expect(try store.writer.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") } == "ok")
        }
    }

    /// An earlier release flagged a query row `conflicted` only for a conflict in a field the
    /// row shows; `v11-conflicted-any-field` flags the row of every record whose state is in
    /// conflict, so `request list` shows a conflict in a request's details (Protocol §5.9).
    @Test func theRowsOfRecordsInConflictAreFlaggedWhateverFieldIsInConflict() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("it-opo.sqlite")
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/v10-request-states-in-rows/it-opo.sqlite")
        try FileManager.default.copyItem(atPath: fixture.path, toPath: path)
        // What that release wrote for a conflict in a field no row shows: the state says
        // conflicted, the row does not (the fixture's one conflict is in `state`, which the
        // request row shows, so its flag is taken off here as that release would have left it;
        // and the action's state is marked conflicted as one in its `details`, which its row
        // does not show, would leave it).
        let (request, action) = try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "UPDATE request SET conflicted = 0 WHERE stateConflicted")
            try db.execute(sql: "UPDATE record_state SET conflicted = 1 WHERE kind = 'action'")
            return (
                try String.fetchOne(db, sql: "SELECT id FROM request WHERE stateConflicted"),
                try String.fetchOne(db, sql: "SELECT id FROM action")
            )
        }
        let (requestID, actionID) = (try #require(request), try #require(action))
        let store = try SiteStore.open(path: path)
        let flagged = try store.writer.read { db in
            try String.fetchAll(
                db, sql: "SELECT id FROM request WHERE conflicted UNION ALL SELECT id FROM action WHERE conflicted")
        }
        #expect(flagged == [requestID, actionID])
        let clean = try store.writer.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM request WHERE conflicted AND NOT stateConflicted")
        }
        #expect(clean == 0, "a request whose state is not in conflict is not flagged")
    }
}
