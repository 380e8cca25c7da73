import Foundation
import GRDB
import InternoModel
import Testing

@_spi(Database) @testable import InternoStore

/// Where a test's databases live: GRDB's own tests run one body several ways.
enum Storage: String, CaseIterable, CustomTestStringConvertible {
    case memory
    case walFile

    var testDescription: String { rawValue }
}

/// A temporary directory, removed when the value is deinitialised.
final class TemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("interno-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A server and two department sites (HR at LIS, IT at OPO) with departments HR, IT and FAC,
/// synced in process through the same store calls the sync engine makes.
struct Hub: Sendable {
    let storage: Storage
    let directory: TemporaryDirectory
    var server: ServerStore
    var hr: SiteStore
    var it: SiteStore
    var registry: [ReplicaID: RegistryRow] = [:]
    var departments: [String: UUID] = [:]
    /// How many changes a pull asks for at a time: small, so tests cross batch boundaries.
    var pullLimit = 3
    /// Whether a sync's pulls ask the server to leave out the sets it accepted in that sync, as
    /// the sync engine's do (Protocol §5.4); `false` pulls as a client of an earlier release.
    var leavesOutOwnSets = true
    let serverID = ReplicaID(UUID())

    init(_ storage: Storage) throws {
        self.storage = storage
        let directory = try TemporaryDirectory()
        self.directory = directory
        func open<S: ReplicaStore>(_ name: String) throws -> S {
            storage == .memory ? try S.inMemory() : try S.open(path: directory.path("\(name).sqlite"))
        }
        server = try open("server")
        hr = try open("hr")
        it = try open("it")
        try server.initialize(replica: serverID)
        for code in ["HR", "IT", "FAC"] { try addDepartment(code) }
        try enrol(hr, department: "HR", site: "LIS")
        try enrol(it, department: "IT", site: "OPO")
        try sync(hr)
        try sync(it)
    }

    /// The hub of a release fixture (`Tests/Fixtures/<last migration>/`, written by
    /// `ReleaseFixtureWriter`): copies of its files, opened, and so migrated, by this release.
    init(fixture name: String) throws {
        storage = .walFile
        let directory = try TemporaryDirectory()
        self.directory = directory
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent(name)
        func open<S: ReplicaStore>(_ file: String) throws -> S {
            try FileManager.default.copyItem(
                atPath: folder.appendingPathComponent("\(file).sqlite").path, toPath: directory.path("\(file).sqlite"))
            return try S.open(path: directory.path("\(file).sqlite"))
        }
        server = try open("server")
        hr = try open("hr-lis")
        it = try open("it-opo")
        for row in try server.registry() { registry[ReplicaID(uuidString: row.replicaID)!] = row }
        for record in try server.records(of: .department) {
            departments[record.value(of: "code")!.text!] = record.id
        }
    }

    func department(_ code: String) -> FieldValue { .id(departments[code]!) }

    /// Adds a department, written by the server replica.
    mutating func addDepartment(_ code: String) throws {
        let id = UUID()
        departments[code] = id
        try server.write(
            [
                Edit(
                    .department, id,
                    [
                        "code": .text(code), "name": .text(code), "timeZone": .text("Europe/Lisbon"),
                        "hours": .text("mon-fri 09:00-17:00"),
                    ])
            ], author: "admin")
    }

    /// Enrols one more site, synced.
    mutating func addSite(department: String, site: String, scope: Scope.Kind = .department) throws -> SiteStore {
        let store =
            storage == .memory
            ? try SiteStore.inMemory() : try SiteStore.open(path: directory.path("\(department)-\(site).sqlite"))
        try enrol(store, department: department, site: site, scope: scope)
        try sync(store)
        return store
    }

    /// Registers `store` as a new site of `department` and gives it its identity.
    mutating func enrol(_ store: SiteStore, department: String, site: String, scope: Scope.Kind = .department) throws {
        let id = ReplicaID(UUID())
        let row = RegistryRow(
            replicaID: id.description, department: departments[department]!.uuidString.lowercased(),
            departmentCode: department, site: site, fingerprint: UUID().uuidString, enrolledAt: 0, scope: scope)
        try server.register(row)
        registry[id] = row
        try store.initialize(replica: id, department: departments[department]!, code: row.code)
    }

    /// Pushes the site's outbox and reports each outcome to it, as the sync engine does.
    @discardableResult
    func push(_ site: SiteStore) throws -> [PushOutcome] {
        try pushed(site).map(\.outcome)
    }

    /// ``push(_:)``, with the sets pushed.
    func pushed(_ site: SiteStore) throws -> [(set: ChangeSet, outcome: PushOutcome)] {
        let entry = registry[try site.replica().id]!
        let sets = try site.pendingChangeSets()
        let outcomes = try sets.map { try server.receive($0, from: entry) }
        try site.recordPushResults(zip(sets, outcomes).map { ($0.firstCounter, $1) })
        return Array(zip(sets, outcomes))
    }

    /// The site's scope, as the server takes it from the registry.
    func scope(of site: SiteStore) throws -> Scope {
        try Pusher(registry[try site.replica().id]!).scope
    }

    /// Pulls everything new that the site may see, in small batches, having taken the scope
    /// the server gives it, as the sync engine does.
    @discardableResult
    func pull(_ site: SiteStore, limit: Int? = nil, leavingOut own: OwnSets? = nil) throws -> PullSummary {
        let limit = limit ?? pullLimit
        try site.adopt(scope: registry[try site.replica().id]!.scope)
        var total = PullSummary()
        while true {
            let batch = try server.changes(
                after: try site.replica().cursor, limit: limit, scope: try scope(of: site),
                leavingOut: own)
            let summary = try site.applyPulled(batch)
            total.applied += summary.applied
            total.alreadyHad += summary.alreadyHad
            total.refusals += summary.refusals
            if !batch.more { return total }
        }
    }

    /// What a site does with Welcome, as the sync engine does: Hello carries its cursor and
    /// epoch, Welcome what the server holds of it and whether the cursor still stands.
    @discardableResult
    func welcome(_ site: SiteStore) throws -> WelcomeSummary {
        let replica = try site.replica()
        let position = try server.writer.read { db in
            try ServerStore.syncPosition(
                of: replica.id, cursor: replica.cursor, cursorEpoch: replica.cursorEpochValue, db)
        }
        return try site.prepare(heldCounters: position.heldCounters, cursorReset: !position.cursorValid)
    }

    /// One sync as the sync engine runs it (DESIGN §3.9): act on what the server holds of the
    /// site, pull first if its outbox uses counters the server holds, bring back renumbered
    /// what stepped aside, push, pull.
    ///
    /// Its pulls ask the server to leave out the sets it accepted in this sync, as the sync
    /// engine's do (Protocol §5.4), unless ``leavesOutOwnSets`` is `false`.
    @discardableResult
    func sync(_ site: SiteStore) throws -> PullSummary {
        let me = try site.replica().id
        var accepted: [ClosedRange<UInt64>] = []
        var total = PullSummary()
        func push() throws {
            accepted += try pushed(site).filter { $0.outcome == .accepted }.map {
                $0.set.firstCounter...$0.set.lastCounter
            }
        }
        func pull() throws {
            let summary = try self.pull(site, leavingOut: leavesOutOwnSets ? OwnSets(of: me, accepted) : nil)
            total.applied += summary.applied
            total.alreadyHad += summary.alreadyHad
        }
        let prepared = try welcome(site)
        if prepared.pullFirst {
            try pull()
            _ = try site.restoreSetAside()
        }
        try push()
        try pull()
        if try site.setAsideCount() > 0 {
            _ = try site.restoreSetAside()
            try push()
            try pull()
        }
        return total
    }

    /// A new request from HR to IT.
    func newRequest(_ title: String = "Laptop for new hire") throws -> (id: UUID, key: String) {
        let id = UUID()
        let key = try hr.nextRequestKey()
        try hr.write(
            [
                Edit(
                    .request, id,
                    [
                        "key": .text(key), "customer": department("HR"), "provider": department("IT"),
                        "title": .text(title), "priority": .text("normal"), "state": .text("submitted"),
                    ])
            ], author: "ana")
        return (id, key)
    }
}

/// Every row of every table, in a fixed order: equal dumps mean equal databases.
func dump(_ store: some ReplicaStore) throws -> [String] {
    try store.writer.read { db in
        let tables = try String.fetchAll(
            db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        return try tables.flatMap { table in
            try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\" ORDER BY 1").map { "\(table): \($0)" }
        }
    }
}

/// The bytes of a database file and its WAL, for byte-for-byte comparisons.
func fileBytes(_ directory: TemporaryDirectory, _ name: String) -> [Data?] {
    ["\(name).sqlite", "\(name).sqlite-wal"].map { FileManager.default.contents(atPath: directory.path($0)) }
}

/// Takes the lifecycle step `verb` on request `id` at `site`, writing what the step writes
/// besides the state (``Schema/stepWrites(_:seen:at:)``) as `Site.transition` does, and `extra`.
func take(_ verb: String, on id: UUID, at site: SiteStore, author: String, extra: [FieldName: FieldValue] = [:]) throws
{
    let step = try #require(Schema.requestLifecycle.step(named: verb))
    let record = try #require(try site.record(id))
    let at = Timestamp.now()
    let fields = Schema.stepWrites(step, seen: record, at: at).merging(extra) { $1 }
    try site.write([Edit(.request, id, fields)], author: author, at: at)
}

func value(_ store: some ReplicaStore, _ id: UUID, _ field: FieldName) throws -> FieldResolution {
    let record = try #require(try store.record(id))
    return record.resolve(field, policy: Schema.spec(record.kind).policy(field))
}

/// Damages request `id` at `site` as no write of the store does: its state goes back into
/// `record_state` and its query row is deleted, so the request has a state and no row.
func moveStateOutOfQueryRow(of id: UUID, at site: SiteStore) throws {
    try site.writer.write { db in
        try db.execute(
            sql: """
                INSERT INTO record_state (id, kind, clock, fields, present, conflicted)
                SELECT id, 'request', clock, fields, 1, stateConflicted FROM request WHERE id = ?
                """, arguments: [id.text])
        try db.execute(sql: "DELETE FROM request WHERE id = ?", arguments: [id.text])
    }
}

/// Writes a change into a site's log and outbox as a buggy or tampered client would: straight
/// into the tables, past the site's own checks. Returns the change.
func forgeChange(on store: SiteStore, record id: UUID, fields: [FieldName: FieldValue]) throws -> Change {
    let replica = try store.replica()
    let seen = try #require(try store.record(id))
    let counter = UInt64(replica.counter) + 1
    let forged = Change(
        dot: Dot(replica: replica.id, counter: counter), kind: .request, recordID: id, context: seen.clock,
        fields: fields, author: "rui", at: .now())
    try store.writer.write { db in
        var record = seen
        try record.apply(forged)
        try ChangeLog.append(forged, set: counter...counter, db)
        try RecordTable.save(record, db)
        try db.execute(sql: "UPDATE replica SET counter = ?", arguments: [Int64(counter)])
        try OutboxRow(
            firstCounter: Int64(counter), lastCounter: Int64(counter), status: .pending, refusalCode: nil,
            refusalReason: nil, createdAt: 0
        ).insert(db)
    }
    return forged
}
