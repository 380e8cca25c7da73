import Foundation
import GRDB
import GRDBSQLite
import InternoModel
import Testing

@_spi(Database) @testable import InternoStore

@Suite("The store: one database, one transaction per operation")
struct StoreTests {
    @Test func aFileDatabaseIsInWALModeAndMigrated() throws {
        let directory = try TemporaryDirectory()
        let store = try SiteStore.open(path: directory.path("site.sqlite"))
        let mode = try store.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        let migrations = try store.writer.read { db in try StoreSchema.migrator.appliedMigrations(db) }
        #expect(
            migrations == [
                "v1-initial", "v2-scopes", "v3-restores", "v4-timelines", "v5-roles", "v6-record-kinds",
                "v7-schema-2", "v8-request-indexes", "v9-kinds-by-query-table", "v10-request-states-in-rows",
                "v11-conflicted-any-field",
            ])
        #expect(throws: StoreError.notInitialized) { try store.replica() }
    }

    /// Every connection that writes commits with `synchronous = FULL` (DESIGN §3.8): the
    /// server's pool too, whose writer GRDB sets to NORMAL when it turns WAL on.
    @Test(arguments: [true, false])
    func theConnectionThatWritesSyncsEveryCommit(pool: Bool) throws {
        let directory = try TemporaryDirectory()
        let store = try SiteStore.open(path: directory.path("replica.sqlite"), concurrentReads: pool)
        let level = try store.writer.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(level == 2, "2 is FULL")
    }

    /// A log row changed behind the store's back (a cell of the wrong type, a counter out of
    /// its set) is a damaged database with the change named, not a crash of the process.
    @Test(arguments: [
        "counter = 'three'", "context = 'text, not a blob'", "at = x'00'", "kind = 'gadget'",
        "record = 'not-a-uuid'", "setStart = counter + 1", "refusalCode = 'seven'",
    ])
    func aDamagedLogRowIsReportedNotACrash(damage: String) throws {
        let store = try ServerStore.inMemory()
        try store.initialize(replica: ReplicaID(UUID()))
        let id = UUID()
        try store.write(
            [
                Edit(
                    .department, id,
                    [
                        "code": .text("HR"), "name": .text("HR"), "timeZone": .text("UTC"),
                        "hours": .text("mon-fri 09:00-17:00"),
                    ])
            ],
            author: "admin")
        try store.writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            try db.execute(sql: "UPDATE change SET \(damage)")
        }
        let error = try #require(throws: StoreError.self) { try store.changes(after: 0, limit: 10) }
        #expect("\(error)".contains("change 1"), "\(error)")
    }

    /// The role is the store's type: a server's database given where a site's replica is
    /// expected (a wrong path) is refused before anything is read or written, and the reverse.
    @Test func aDatabaseOpensOnlyAsTheRoleItWasMadeFor() throws {
        let directory = try TemporaryDirectory()
        let server = try ServerStore.open(path: directory.path("server.sqlite"))
        try server.initialize(replica: ReplicaID(UUID()))
        let site = try SiteStore.open(path: directory.path("site.sqlite"), concurrentReads: false)
        try site.initialize(replica: ReplicaID(UUID()), department: UUID(), code: "HR-LIS")
        let asSite = #expect(throws: StoreError.self) {
            try SiteStore.open(path: directory.path("server.sqlite"), concurrentReads: false)
        }
        #expect("\(asSite!)".contains("a server's, not a site's"), "\(asSite!)")
        let asServer = #expect(throws: StoreError.self) { try ServerStore.open(path: directory.path("site.sqlite")) }
        #expect("\(asServer!)".contains("a site's, not a server's"), "\(asServer!)")
        // Each keeps its own role's tables only (v5-roles).
        func tables(_ store: some ReplicaStore) throws -> Set<String> {
            Set(
                try store.writer.read { db in
                    try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
                })
        }
        let siteTables = try tables(site)
        let serverTables = try tables(server)
        #expect(siteTables.isSuperset(of: ["outbox", "stash", "change", "record_state", "request"]))
        #expect(siteTables.isDisjoint(with: ["replica_registry", "audience", "stream_epoch"]))
        #expect(
            serverTables.isSuperset(of: ["replica_registry", "audience", "stream_epoch", "change", "record_state"]))
        #expect(serverTables.isDisjoint(with: ["outbox", "stash"]))
        // Opened as what they are, they are as they were.
        #expect(try ServerStore.open(path: directory.path("server.sqlite")).replica().role == .server)
        #expect(try SiteStore.open(path: directory.path("site.sqlite")).replica().code == "HR-LIS")
    }

    /// A site reads between its writes (a sync reads its position, its outbox, what it set
    /// aside), and a read must not throw away the statements its writes compiled: GRDB's
    /// `DatabaseQueue.read` toggles `PRAGMA query_only`, which expires every prepared statement
    /// of the connection, so each write compiled its statements again (DESIGN §9). Reads and
    /// writes here go through the store on one connection, as a site opens it.
    @Test func aSiteReadKeepsItsWritesStatementsCompiled() throws {
        var hub = try Hub(.walFile)
        let path = hub.directory.path("hr.sqlite")
        hub.hr = try SiteStore.open(path: path, concurrentReads: false)
        _ = try hub.newRequest("Laptop")
        let before = try hub.hr.writer.writeWithoutTransaction { db in
            try Self.reprepareCount(ReplicaRow.select, db)
        }
        // A read through the store, then a write that runs the same statements again.
        #expect(try hub.hr.replica().counter == 1)
        #expect(try hub.hr.records(of: .request).count == 1)
        _ = try hub.newRequest("Desk")
        #expect(try hub.hr.records(of: .request).count == 2)
        let after = try hub.hr.writer.writeWithoutTransaction { db in
            try Self.reprepareCount(ReplicaRow.select, db)
        }
        #expect(after == before, "a read expired the connection's statements: \(before) → \(after) re-preparations")
        // A read that writes is refused and leaves nothing behind.
        let title = try hub.hr.read { db in try String.fetchOne(db, sql: "SELECT title FROM request LIMIT 1") }
        #expect(title == "Laptop" || title == "Desk")
        #expect(throws: StoreError.self) {
            try hub.hr.read { db in try db.execute(sql: "UPDATE request SET title = 'Changed'") }
        }
        #expect(Set(try hub.hr.requests().map(\.title)) == ["Laptop", "Desk"])
    }

    /// A batch's prefetch reads exactly what one lookup per record reads, whatever its size:
    /// a few ids looked up one by one, a chunk read by one query, the last chunk padded, ids
    /// named twice, ids of no record.
    @Test func aPrefetchReadsWhatOneLookupPerRecordReads() throws {
        let hub = try Hub(.walFile)
        let ids = (0..<300).map { _ in UUID.timeOrdered() }
        try hub.hr.write(
            ids.map { id in
                Edit(
                    .request, id,
                    [
                        "customer": hub.department("HR"), "provider": hub.department("IT"),
                        "title": .text("Laptop"), "priority": .text("normal"), "state": .text("submitted"),
                    ])
            }, author: "ana")
        let absent = (0..<30).map { _ in UUID.timeOrdered() }
        try hub.hr.writer.read { db in
            for count in [1, 2, 16, 17, 32, 33, 64, 100, 128, 129, 255, 256, 257, 300] {
                let named = Array(ids.shuffled().prefix(count)) + absent.prefix(count / 10) + ids.prefix(2)
                let state = StoredState(db)
                try state.prefetch(records: named)
                for id in named {
                    #expect(try state.record(id) == RecordTable.load(id, db), "\(count) ids")
                }
                #expect(try named.filter { try state.record($0) == nil }.count == count / 10, "\(count) ids")
            }
            // What a prefetch learned is what the judge reads: a record it did not name is
            // still looked up when asked for.
            let state = StoredState(db)
            try state.prefetch(records: ids.prefix(20))
            #expect(try state.record(ids[250])?.id == ids[250])
        }
    }

    /// A prefetch of request keys answers what one lookup per key answers: for every chunk size,
    /// with keys absent, repeated, held by two requests (the first id wins, as `idByKey`
    /// reads), and keys that differ in their bytes but not to Swift's `==`.
    @Test func aPrefetchOfKeysReadsWhatOneLookupPerKeyReads() throws {
        let directory = try TemporaryDirectory()
        let store = try SiteStore.open(path: directory.path("site.sqlite"))
        let ids = (0..<300).map { _ in UUID.timeOrdered() }.sorted { $0.text < $1.text }
        let composed = "HR-LIS-\u{C5}"  // Å as one code point
        let decomposed = "HR-LIS-A\u{30A}"  // A and a combining ring: == to Swift, not to SQLite
        #expect(composed == decomposed && !composed.utf8.elementsEqual(decomposed.utf8))
        try store.writer.write { db in
            func insert(_ id: UUID, _ key: String) throws {
                try db.execute(
                    sql: """
                        INSERT INTO request (id, key, customer, provider, createdAt, updatedAt, conflicted)
                        VALUES (?, ?, 'c', 'p', 0, 0, 0)
                        """, arguments: [id.text, key])
            }
            for (index, id) in ids.enumerated().dropLast(2) { try insert(id, "HR-LIS-\(index + 1)") }
            // Two requests with key 7 (a damaged database): the later id is the second.
            try insert(ids[298], "HR-LIS-7")
            try insert(ids[299], composed)
        }
        try store.writer.read { db in
            for count in [1, 16, 17, 32, 33, 100, 256, 257, 300] {
                let named =
                    (1...count).map { "HR-LIS-\($0)" } + ["HR-LIS-9999", "HR-LIS-7", composed, decomposed]
                let state = StoredState(db)
                try state.prefetch(keys: named.shuffled())
                for key in named {
                    let one = try String.fetchOne(db, sql: RequestRow.idByKey, arguments: [key]).flatMap(
                        UUID.init(text:))
                    #expect(try state.request(withKey: key) == one, "\(count) keys: \(key)")
                }
                #expect(try state.request(withKey: decomposed) == nil)
                #expect(try state.request(withKey: composed) == ids[299])
            }
        }
    }

    /// A local write checks each new request's key against the stored ones through one prefetch,
    /// not one lookup per key (6% of a site's local writes in a profile): the keys it numbers
    /// itself, those an edit gives, and none for an edit of a request that exists. The keys it
    /// hands out are those it handed out before.
    @Test func aLocalWriteLooksUpItsNewKeysTogether() throws {
        let hub = try Hub(.walFile)
        let (existing, _) = try hub.newRequest("Already there")
        final class Lookups: @unchecked Sendable { var count = 0 }
        let lookups = Lookups()
        hub.hr.writer.writeWithoutTransaction { db in
            db.trace { event in
                if case .statement(let statement) = event, statement.sql == RequestRow.idByKey { lookups.count += 1 }
            }
        }
        var edits = (0..<60).map { index in
            Edit(
                .request, UUID.timeOrdered(),
                [
                    "customer": hub.department("HR"), "provider": hub.department("IT"),
                    "title": .text("Laptop \(index)"), "priority": .text("normal"), "state": .text("submitted"),
                ])
        }
        edits.insert(Edit(.request, existing, ["title": .text("Edited")]), at: 20)
        let given = UUID.timeOrdered()
        edits.insert(
            Edit(
                .request, given,
                [
                    "key": .text("HR-LIS-ZZ"), "customer": hub.department("HR"), "provider": hub.department("IT"),
                    "title": .text("Keyed"), "priority": .text("low"), "state": .text("submitted"),
                ]), at: 40)
        try hub.hr.write(edits, author: "ana")
        hub.hr.writer.writeWithoutTransaction { db in db.trace(options: []) }
        #expect(lookups.count == 0, "one lookup per key")
        let keys = Dictionary(uniqueKeysWithValues: try hub.hr.requests().map { ($0.id, $0.key) })
        let numbered = edits.filter { $0.recordID != existing && $0.recordID != given }.map { keys[$0.recordID.text] }
        #expect(numbered == (2...61).map { (number: Int) in "HR-LIS-\(number)" })
        #expect(keys[given.text] == "HR-LIS-ZZ" && keys[existing.text] == "HR-LIS-1")
    }

    /// How many times SQLite compiled the cached statement for `sql` again after it was first
    /// prepared (`SQLITE_STMTSTATUS_REPREPARE`).
    static func reprepareCount(_ sql: String, _ db: Database) throws -> Int32 {
        sqlite3_stmt_status(try db.cachedStatement(sql: sql).sqliteStatement, SQLITE_STMTSTATUS_REPREPARE, 0)
    }

    /// The request table carries the indexes its queries read and no other: each index is
    /// written on every new request and every change of state, on every replica (DESIGN §9).
    @Test(arguments: Storage.allCases)
    func theRequestTableIsIndexedForTheQueriesThatReadIt(storage: Storage) throws {
        let hub = try Hub(storage)
        for store in [hub.hr as any ReplicaStore, hub.server] {
            try store.writer.read { db in
                let indexes = try Row.fetchAll(db, sql: "PRAGMA index_list(request)")
                    .filter { $0["origin"] == "c" }.map { $0["name"] as String }
                #expect(Set(indexes) == ["request_by_key", "request_by_submission", "request_state_conflicted"])
                // The store's own reads of requests, as it runs them.
                func plan(_ sql: String, _ arguments: StatementArguments) throws -> String {
                    try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN \(sql)", arguments: arguments)
                        .map { $0["detail"] as String }.joined(separator: "; ")
                }
                let byKey = try plan(RequestRow.idByKey, ["HR-LIS-1"])
                #expect(byKey.contains("INDEX request_by_key"), "\(byKey)")
                let report = try RequestRow.submitted(from: .now(), to: .now()).makePreparedRequest(db).statement
                let bySubmission = try plan(report.sql, report.arguments)
                #expect(bySubmission.contains("INDEX request_by_submission"), "\(bySubmission)")
                // `interno conflicts` reads the conflicted states alone, requests' among them.
                let conflicted = try plan(RecordTable.conflicted, [])
                #expect(conflicted.contains("INDEX request_state_conflicted"), "\(conflicted)")
                #expect(conflicted.contains("INDEX record_conflicted"), "\(conflicted)")
            }
        }
    }

    /// The departments and standards every CLI command looks up are read through the kind's
    /// query table, each record by its primary key, never by a scan of every record: on a site
    /// of 100 000 requests such a scan read 14 000 pages per command (DESIGN §4, §9). And they
    /// are exactly the records of that kind that exist, in id order.
    @Test func theRecordsOfOneKindAreReadThroughTheirQueryTable() throws {
        let hub = try Hub(.walFile)
        for kind in RecordKind.allCases {
            let plan = try hub.hr.writer.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN \(RecordTable.existing(of: kind))")
                    .map { $0["detail"] as String }
            }
            // A request's state is in its row (v10-request-states-in-rows); the others' are read
            // by their primary key.
            #expect(
                plan.contains { $0.hasPrefix("SEARCH record_state USING PRIMARY KEY") } != Projection.holdsState(kind),
                "\(kind): \(plan)")
            #expect(!plan.contains { $0.hasPrefix("SCAN record_state") }, "\(kind): \(plan)")
            #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(kind): \(plan)")
        }
        // Two requests, a comment, and on the server a request whose creation was refused (a
        // key of another site's): its record state is kept, with no value, so it does not exist.
        let (first, _) = try hub.newRequest("Laptop")
        _ = try hub.newRequest("Badge")
        try hub.hr.write(
            [Edit(.comment, UUID.timeOrdered(), ["request": .id(first), "body": .text("Urgent")])], author: "ana")
        try hub.sync(hub.hr)
        let replica = try hub.hr.replica()
        let forged = Change(
            dot: Dot(replica: replica.id, counter: UInt64(replica.counter) + 1), kind: .request,
            recordID: UUID.timeOrdered(), context: VersionVector(),
            fields: [
                "key": .text("IT-OPO-9"), "customer": hub.department("HR"), "provider": hub.department("IT"),
                "title": .text("Forged"), "priority": .text("low"), "state": .text("submitted"),
            ], author: "ana", at: .now())
        let outcome = try hub.server.receive([ChangeSet([forged])], from: hub.registry[replica.id]!)
        #expect(outcome.count == 1 && outcome[0] != .accepted)
        #expect(try hub.server.record(forged.recordID)?.exists == false)
        for store in [hub.server, hub.hr] as [any ReplicaStore] {
            for kind in RecordKind.allCases {
                let read = try store.records(of: kind)
                let present = try store.writer.read { db in
                    try String.fetchAll(
                        db, sql: "SELECT id FROM record WHERE kind = ? AND present ORDER BY id",
                        arguments: [kind.rawValue])
                }
                #expect(read.map(\.id.text) == present, "\(kind)")
                #expect(read.allSatisfy { $0.kind == kind && $0.exists }, "\(kind)")
            }
            #expect(try store.records(of: .request).count == 2)
            #expect(try store.records(of: .comment).count == 1)
            #expect(try store.records(of: .department).count == 3)
            // Each state is stored once: an existing request's in its row, none in `record_state`.
            let counts = try store.writer.read { db in
                try Row.fetchOne(
                    db,
                    sql: """
                        SELECT (SELECT COUNT(*) FROM record), (SELECT COUNT(DISTINCT id) FROM record),
                            (SELECT COUNT(*) FROM record_state WHERE kind = 'request' AND present),
                            (SELECT COUNT(*) FROM request WHERE clock IS NOT NULL)
                        """)
            }
            #expect(counts?[0] as Int? == counts?[1] as Int?)
            #expect(counts?[2] as Int? == 0)
            #expect(counts?[3] as Int? == 2)
        }
        // The refused request's state, which has no value, stays in `record_state`.
        #expect(
            try hub.server.writer.read { db in
                try Bool.fetchOne(
                    db, sql: "SELECT present FROM record_state WHERE id = ?", arguments: [forged.recordID.text])
            } == false)

        // An export reads every state in id order, page by page, each table in its key's order
        // and merged, never sorted whole for each page.
        let ordered = try hub.server.writer.read { db in
            try String.fetchAll(db, sql: "SELECT id FROM record ORDER BY id")
        }
        var exported: [RecordState] = []
        while case let page = try hub.server.exportRecords(after: exported.last?.id, limit: 2), !page.isEmpty {
            exported += page
        }
        #expect(exported.map(\.id.text) == ordered)
        #expect(exported.count > 6 && exported.contains { $0.kind == .request })
        let exportPlan = try hub.server.writer.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN \(RecordTable.inIDOrder)", arguments: ["", 2])
                .map { $0["detail"] as String }
        }
        #expect(exportPlan.contains { $0.hasPrefix("MERGE") }, "\(exportPlan)")
        #expect(!exportPlan.contains { $0.contains("TEMP B-TREE") }, "\(exportPlan)")
    }

    @Test func aDatabaseHasOneIdentity() throws {
        let store = try ServerStore.inMemory()
        let id = ReplicaID(UUID())
        try store.initialize(replica: id)
        #expect(throws: StoreError.alreadyInitialized(id)) {
            try store.initialize(replica: ReplicaID(UUID()))
        }
    }

    @Test(arguments: Storage.allCases)
    func aLocalWriteTakesTheNextDotLogsAppliesProjectsAndQueues(storage: Storage) throws {
        let hub = try Hub(storage)
        let before = try hub.hr.replica().counter
        let (id, key) = try hub.newRequest()
        #expect(key == "HR-LIS-1")
        let replica = try hub.hr.replica()
        #expect(replica.counter == before + 1)
        let record = try #require(try hub.hr.record(id))
        #expect(record.clock == VersionVector(Dot(replica: replica.id, counter: UInt64(before + 1))))
        let rows = try hub.hr.requests()
        #expect(rows.map(\.key) == ["HR-LIS-1"])
        #expect(rows.first?.state == "submitted")
        let pending = try hub.hr.pendingChangeSets()
        #expect(pending.count == 1)
        #expect(pending.first?.changes.first?.recordID == id)
        #expect(try hub.hr.nextRequestKey() == "HR-LIS-2")
    }

    /// The outbox reads the changes of sets whose counters follow on from each other in one
    /// query: each set still comes back exactly as written, whatever its size, with sets
    /// acknowledged, refused or outside the page around it.
    @Test(arguments: Storage.allCases)
    func theOutboxGivesBackEachSetAsWritten(storage: Storage) throws {
        let hub = try Hub(storage)
        var written: [ChangeSet] = []
        for (index, size) in [1, 3, 2, 1, 4, 2, 1].enumerated() {
            let edits = (0..<size).map { number in
                Edit(
                    .request, UUID(),
                    [
                        "customer": hub.department("HR"), "provider": hub.department("IT"),
                        "title": .text("Set \(index), request \(number)"), "priority": .text("normal"),
                        "state": .text("submitted"),
                    ])
            }
            written.append(try hub.hr.write(edits, author: "ana"))
        }
        // The second set acknowledged, the fifth refused: gaps in the pending counters.
        try hub.hr.recordPushResults([
            (written[1].firstCounter, .accepted),
            (written[4].firstCounter, .refused(Refusal(.notPermitted, "not this one"), kept: [])),
        ])
        #expect(try hub.hr.pendingChangeSets() == [0, 2, 3, 5, 6].map { written[$0] })
        let outbox = try hub.hr.outbox()
        // A refused set is given as it was written, not as its void.
        #expect(outbox.map(\.changeSet) == [0, 2, 3, 4, 5, 6].map { written[$0] })
        #expect(outbox.map(\.row.status) == [.pending, .pending, .pending, .refused, .pending, .pending])
        #expect(try hub.hr.pendingChangeSets(after: written[2].lastCounter, limit: 2) == [written[3], written[5]])
        #expect(try hub.hr.pendingChangeSets(after: written[6].lastCounter).isEmpty)

        // One Push's page (pending sets of 1, 2, 1, 2 and 1 changes): whole sets up to the
        // bound on changes, a first set larger than it alone, and whether any wait after.
        func page(after set: Int?, limit: Int = 10, changes: Int) throws -> ([ChangeSet], Bool) {
            let page = try hub.hr.pushPage(
                after: set.map { written[$0].lastCounter } ?? 0, limit: limit, maximumChanges: changes)
            return (page.sets, page.more)
        }
        #expect(try page(after: nil, changes: 3) == ([written[0], written[2]], true))
        #expect(try page(after: 2, changes: 3) == ([written[3], written[5]], true))
        #expect(try page(after: 5, changes: 3) == ([written[6]], false))
        #expect(try page(after: 0, changes: 1) == ([written[2]], true))
        #expect(try page(after: nil, limit: 2, changes: 100) == ([written[0], written[2]], true))
        #expect(try page(after: nil, limit: 5, changes: 100) == ([0, 2, 3, 5, 6].map { written[$0] }, false))
        #expect(try page(after: 6, changes: 3) == ([], false))
    }

    @Test(arguments: Storage.allCases)
    func aRefusedLocalWriteChangesNothing(storage: Storage) throws {
        let hub = try Hub(storage)
        let (id, _) = try hub.newRequest()
        let before = try dump(hub.hr)
        let bytes = fileBytes(hub.directory, "hr")
        #expect(throws: StoreError.self) {
            try hub.hr.write([Edit(.request, id, ["priority": .text("hgih")])], author: "ana")
        }
        #expect(throws: StoreError.self) {
            try hub.hr.write([Edit(.request, id, ["state": .text("acknowledged")])], author: "ana")
        }
        // A two-record write whose second edit is refused writes neither.
        #expect(throws: StoreError.self) {
            try hub.hr.write(
                [Edit(.request, id, ["title": .text("ok")]), Edit(.request, id, ["title": .text("")])], author: "ana")
        }
        #expect(try dump(hub.hr) == before)
        #expect(fileBytes(hub.directory, "hr") == bytes)
    }

    @Test func refusalsNameTheRuleForAPerson() throws {
        let hub = try Hub(.memory)
        let (id, key) = try hub.newRequest()
        try hub.sync(hub.hr)
        try hub.pull(hub.it)
        do {
            try hub.it.write([Edit(.request, id, ["state": .text("closed")])], author: "rui")
            Issue.record("IT confirmed a request")
        } catch StoreError.refused(let refusal) {
            #expect(refusal.code == .invalidTransition)
            #expect(refusal.message.contains("request \(key) cannot go from submitted to closed"))
        }
        try take("start", on: id, at: hub.it, author: "rui")
        try take("deliver", on: id, at: hub.it, author: "rui")
        do {
            try hub.it.write([Edit(.request, id, ["state": .text("closed")])], author: "rui")
            Issue.record("IT confirmed a request")
        } catch StoreError.refused(let refusal) {
            #expect(refusal.message == "IT may not confirm request \(key): only the customer department HR may")
        }
    }

    @Test(arguments: Storage.allCases)
    func everythingIsThereAfterReopeningTheFile(storage: Storage) throws {
        guard storage == .walFile else { return }
        var hub = try Hub(storage)
        let (id, key) = try hub.newRequest()
        let before = try dump(hub.hr)
        hub.hr = try SiteStore.inMemory()  // drop the pool: the file is closed
        let reopened = try SiteStore.open(path: hub.directory.path("hr.sqlite"))
        #expect(try dump(reopened) == before)
        #expect(try reopened.requestID(key: key) == id)
        #expect(try reopened.pendingChangeSets().count == 1)
        let integrity = try reopened.writer.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
        #expect(integrity == "ok")
    }
}

@Suite("Receiving pushed change sets on the server")
struct ServerReceiveTests {
    @Test(arguments: Storage.allCases)
    func acceptedThenDuplicate(storage: Storage) throws {
        let hub = try Hub(storage)
        _ = try hub.newRequest()
        let set = try #require(try hub.hr.pendingChangeSets().first)
        let entry = hub.registry[try hub.hr.replica().id]!
        #expect(try hub.server.receive(set, from: entry) == .accepted)
        let after = try dump(hub.server)
        #expect(try hub.server.receive(set, from: entry) == .duplicate)
        #expect(try dump(hub.server) == after)
        #expect(try hub.server.highestCounter(of: set.replica) == set.lastCounter)
    }

    @Test(arguments: Storage.allCases)
    func aRefusedChangeLeavesTheDatabaseAsItWasUnderApply(storage: Storage) throws {
        let hub = try Hub(storage)
        let (id, _) = try hub.newRequest()
        try hub.sync(hub.hr)
        let before = try dump(hub.server)
        let bytes = fileBytes(hub.directory, "server")
        let itReplica = try hub.it.replica()
        let hrRecord = try #require(try hub.server.record(id))
        func change(_ counter: UInt64, _ context: VersionVector, _ fields: [FieldName: FieldValue]) -> ChangeSet {
            ChangeSet([
                Change(
                    dot: Dot(replica: itReplica.id, counter: counter), kind: .request, recordID: id, context: context,
                    fields: fields, author: "rui", at: .now())
            ])
        }
        let it = Writer.department(hub.departments["IT"]!)
        // Not permitted: IT edits the customer's title.
        #expect(throws: StoreError.self) {
            try hub.server.apply(change(100, hrRecord.clock, ["title": .text("x")]), as: it, pusherCode: "IT-OPO")
        }
        // Invalid value.
        #expect(throws: StoreError.self) {
            try hub.server.apply(change(100, hrRecord.clock, ["assignee": .integer(3)]), as: it, pusherCode: "IT-OPO")
        }
        // A causality gap: the context names a write the server never received.
        let gap = hrRecord.clock.merging(VersionVector([itReplica.id: 99]))
        #expect(throws: StoreError.self) {
            try hub.server.apply(change(100, gap, ["assignee": .text("rui")]), as: it, pusherCode: "IT-OPO")
        }
        #expect(try dump(hub.server) == before)
        #expect(fileBytes(hub.directory, "server") == bytes)
    }

    @Test(arguments: Storage.allCases)
    func aRefusedSetBecomesVoidForEveryoneAndGetsTheSameAnswerAgain(storage: Storage) throws {
        let hub = try Hub(storage)
        let (id, _) = try hub.newRequest()
        try hub.sync(hub.hr)
        try hub.pull(hub.it)
        // IT writes its assignee (allowed), then HR's customer-only title, forged through the
        // store's primitive so the site's own check does not stop it first.
        let itReplica = try hub.it.replica()
        let seen = try #require(try hub.it.record(id))
        let forged = ChangeSet([
            Change(
                dot: Dot(replica: itReplica.id, counter: UInt64(itReplica.counter) + 1), kind: .request, recordID: id,
                context: seen.clock, fields: ["title": .text("IT renamed it")], author: "rui", at: .now())
        ])
        let entry = hub.registry[itReplica.id]!
        guard case .refused(let refusal, _) = try hub.server.receive(forged, from: entry) else {
            Issue.record("the server accepted a field IT may not write")
            return
        }
        #expect(refusal.code == .notPermitted)
        #expect(refusal.message.contains("IT may not set the title"))
        #expect(try hub.server.receive(forged, from: entry) == .refused(refusal))
        // The void is in the stream: HR's clock covers the dot, the title is unchanged.
        try hub.pull(hub.hr)
        let record = try #require(try hub.hr.record(id))
        #expect(record.clock.covers(forged.changes[0].dot))
        #expect(try value(hub.hr, id, "title") == .value(.text("Laptop for new hire")))
        // A later change whose context names the void dot still applies.
        try hub.pull(hub.it)
        try hub.it.write([Edit(.request, id, ["assignee": .text("rui")])], author: "rui")
        #expect(try hub.push(hub.it) == [.accepted])
    }

    @Test func aChangeByAnotherReplicaOrWithReusedCounterIsRefused() throws {
        let hub = try Hub(.memory)
        _ = try hub.newRequest()
        let set = try #require(try hub.hr.pendingChangeSets().first)
        let itEntry = hub.registry[try hub.it.replica().id]!
        guard case .refused(let refusal, _) = try hub.server.receive(set, from: itEntry) else {
            Issue.record("IT pushed HR's change")
            return
        }
        #expect(refusal.message.contains("another replica"))
        let hrEntry = hub.registry[try hub.hr.replica().id]!
        #expect(try hub.server.receive(set, from: hrEntry) == .accepted)
        var altered = set.changes[0]
        altered.fields["title"] = .text("Different content, same dot")
        guard case .refused(let reuse, _) = try hub.server.receive(ChangeSet([altered]), from: hrEntry) else {
            Issue.record("a dot came back with other content and was not refused")
            return
        }
        #expect(reuse.code == .malformed)
    }

    @Test func aChangeWhosePredecessorIsMissingIsDeferredNotRefused() throws {
        let hub = try Hub(.memory)
        let (id, _) = try hub.newRequest()
        try hub.hr.write([Edit(.request, id, ["title": .text("Second")])], author: "ana")
        let sets = try hub.hr.pendingChangeSets()
        let entry = hub.registry[try hub.hr.replica().id]!
        // The server lost the first set (restored from a backup): the second must wait.
        let outcome = try hub.server.receive(sets[1], from: entry)
        #expect(outcome == .deferred(missing: sets[0].changes[0].dot))
        #expect(try hub.server.record(id) == nil)
        #expect(try hub.server.receive(sets[0], from: entry) == .accepted)
        #expect(try hub.server.receive(sets[1], from: entry) == .accepted)
    }

    @Test func theStreamNeverSplitsAChangeSet() throws {
        let hub = try Hub(.memory)
        let ids = [UUID(), UUID(), UUID()]
        let edits = try ids.map { id in
            Edit(
                .request, id,
                [
                    "key": .text(try hub.hr.nextRequestKey()), "customer": hub.department("HR"),
                    "provider": hub.department("IT"), "title": .text("t"), "priority": .text("low"),
                    "state": .text("submitted"),
                ])
        }
        try hub.hr.write(edits, author: "ana")
        try hub.push(hub.hr)
        let cursor = try hub.it.replica().cursor
        let batch = try hub.server.changes(after: cursor, limit: 1)
        #expect(batch.sets.count == 1)
        #expect(batch.sets[0].changes.count == 3)
        #expect(!batch.more)
    }

    @Test func aBatchStaysWithinItsByteBudgetAndNeverStallsOnALargeSet() throws {
        let hub = try Hub(.memory)
        let cursor = try hub.it.replica().cursor
        for size in [1_000, 1_000, 1_000, 5_000, 1_000] {
            let (id, _) = try hub.newRequest()
            try hub.hr.write(
                [Edit(.request, id, ["details": .text(String(repeating: "x", count: size))])], author: "ana")
        }
        try hub.push(hub.hr)
        // Size a set by its details text: creations count 0, each edit its length.
        let size: (ChangeSet) -> Int = { set in
            set.changes.reduce(0) { $0 + ($1.fields["details"]?.text?.count ?? 0) }
        }
        var next = cursor
        var batches: [[Int]] = []
        while true {
            let batch = try hub.server.changes(after: next, limit: 100, maximumBytes: 2_500, size: size)
            batches.append(batch.sets.map(size))
            #expect(batch.nextCursor > next)
            next = batch.nextCursor
            if !batch.more { break }
        }
        // Whole sets up to 2 500 bytes a batch; the 5 000-byte set goes alone rather than never.
        #expect(batches == [[0, 1_000, 0, 1_000, 0], [1_000, 0], [5_000], [0, 1_000]])
    }
}
