import Foundation
import InternoModel
import InternoStore
import InternoTestSupport
import Testing

@testable import InternoPostgres

/// The central store on a real PostgreSQL server (DESIGN §4.1): judged by the same ``Judge`` as
/// on SQLite, serving real SQLite sites. `Tools/postgres start` starts a throwaway server.
@Suite(
    "The central store on PostgreSQL", .enabled(if: TestPostgres.isAvailable, Comment(rawValue: TestPostgres.howToRun)))
struct PostgresStoreTests {
    /// A PostgreSQL central store with departments HR, IT and FAC, and SQLite sites enrolled.
    final class Central: @unchecked Sendable {
        let store: PostgresServerStore
        let runner: Task<Void, Never>
        var departments: [String: UUID] = [:]
        var registry: [ReplicaID: RegistryRow] = [:]

        init(url: String) async throws {
            store = PostgresServerStore(try PostgresLocation(url: url))
            let store = store
            runner = Task { await store.run() }
            try await store.migrate()
            try await store.initialize(replica: .random())
            try await store.beginEpoch()
            for code in ["HR", "IT", "FAC"] {
                let id = UUID()
                departments[code] = id
                try await store.write(
                    [
                        Edit(
                            .department, id,
                            [
                                "code": .text(code), "name": .text(code), "timeZone": .text("Europe/Lisbon"),
                                "hours": .text("mon-fri 09:00-17:00"),
                            ])
                    ], author: "admin")
            }
        }

        deinit { runner.cancel() }

        func site(_ department: String, _ code: String) async throws -> SiteStore {
            let site = try SiteStore.inMemory()
            let id = ReplicaID.random()
            let row = RegistryRow(
                replicaID: id.description, department: departments[department]!.text, departmentCode: department,
                site: code, fingerprint: UUID().uuidString, enrolledAt: 0)
            try await store.register(row)
            registry[id] = row
            try site.initialize(replica: id, department: departments[department]!, code: row.code)
            try await sync(site)
            return site
        }

        /// One sync as the sync engine runs it, through `instance` (this store by default):
        /// Welcome, pull first if asked, push, pull.
        func sync(_ site: SiteStore, through instance: PostgresServerStore? = nil) async throws {
            let store = instance ?? self.store
            let replica = try site.replica()
            let position = try await store.syncPosition(
                of: replica.id, cursor: replica.cursor, cursorEpoch: replica.cursorEpochValue)
            if try site.prepare(heldCounters: position.heldCounters, cursorReset: !position.cursorValid).pullFirst {
                try await pull(site, through: store)
                _ = try site.restoreSetAside()
            }
            let sets = try site.pendingChangeSets()
            let outcomes = try await store.receive(sets, from: try Pusher(registry[replica.id]!), receivedAt: .now())
            try site.recordPushResults(zip(sets, outcomes).map { ($0.firstCounter, $1) })
            try await pull(site, through: store)
        }

        /// Syncs `site` (through `instance`), which must fail with an error that names the
        /// database inside a site's 60 s request limit (55 s, for a loaded machine), the site
        /// keeping its one unacknowledged set.
        func expectSyncFails(
            _ site: SiteStore, through instance: PostgresServerStore? = nil, saying words: String? = nil,
            sourceLocation: SourceLocation = #_sourceLocation
        ) async throws {
            let start = ContinuousClock.now
            do {
                try await sync(site, through: instance)
                Issue.record("a sync went through with the database away", sourceLocation: sourceLocation)
            } catch let error as PostgresStoreError {
                #expect(
                    "\(error)".contains("central database postgres://interno@127.0.0.1")
                        && words.map { "\(error)".contains($0) } ?? true, "\(error)", sourceLocation: sourceLocation)
            }
            #expect(ContinuousClock.now - start < .seconds(55), sourceLocation: sourceLocation)
            #expect(
                try site.pendingChangeSets().count == 1, "the site keeps what was not acknowledged",
                sourceLocation: sourceLocation)
        }

        /// Syncs `site` as soon as the database serves again (the pool connects anew for each
        /// transaction), trying for up to 30 s; `false` if it never did.
        func syncOnceBack(_ site: SiteStore) async throws -> Bool {
            for _ in 0..<60 {
                do {
                    try await sync(site)
                    return true
                } catch is PostgresStoreError {
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
            return false
        }

        func pull(_ site: SiteStore, through instance: PostgresServerStore? = nil, limit: Int = 3) async throws {
            let store = instance ?? self.store
            let entry = registry[try site.replica().id]!
            try site.adopt(scope: entry.scope)
            let scope = try Pusher(entry).scope
            while true {
                let batch = try await store.changes(after: try site.replica().cursor, limit: limit, scope: scope)
                try site.applyPulled(batch)
                if !batch.more { return }
            }
        }

        func newRequest(at site: SiteStore, _ title: String) throws -> UUID {
            let id = UUID()
            try site.write(
                [
                    Edit(
                        .request, id,
                        [
                            "customer": .id(departments["HR"]!), "provider": .id(departments["IT"]!),
                            "title": .text(title), "priority": .text("normal"), "state": .text("submitted"),
                        ])
                ], author: "ana")
            return id
        }
    }

    @Test func migrationsRunOnceWhenInstancesStartTogether() async throws {
        let url = try await TestPostgres.newDatabase()
        let stores = try (0..<3).map { _ in PostgresServerStore(try PostgresLocation(url: url)) }
        let runners = stores.map { store in Task { await store.run() } }
        defer { runners.forEach { $0.cancel() } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for store in stores { group.addTask { try await store.migrate() } }
            try await group.waitForAll()
        }
        #expect(try await stores[0].appliedMigrations() == ["v1-initial"])
        try await stores[1].migrate()
        #expect(try await stores[1].appliedMigrations() == ["v1-initial"])
    }

    /// "Last seen" is kept to the minute here too (`RegistryRow.lastSeenResolution`).
    @Test func aSiteSeenWithinAMinuteIsNotWrittenDownAgain() async throws {
        let central = try await Central(url: try await TestPostgres.newDatabase())
        _ = try await central.site("HR", "LIS")
        let row = try #require(central.registry.values.first { $0.code == "HR-LIS" })
        let store = central.store
        func stored() async throws -> Int64? { try await store.registry().first { $0.code == "HR-LIS" }?.lastSeenAt }
        let start: Int64 = 1_800_000_000_000
        func at(_ seconds: Int64) -> Timestamp { Timestamp(millisecondsSince1970: start + seconds * 1000) }
        #expect(try await store.connect(fingerprint: row.fingerprint, at: at(0))?.lastSeenAt == start)
        #expect(try await stored() == start)
        #expect(try await store.connect(fingerprint: row.fingerprint, at: at(59))?.lastSeenAt == start)
        #expect(try await stored() == start, "a connection within the minute is not written down")
        #expect(try await store.connect(fingerprint: row.fingerprint, at: at(60))?.lastSeenAt == start + 60_000)
        #expect(try await stored() == start + 60_000)
        try await store.revoke(try #require(ReplicaID(uuidString: row.replicaID)))
        #expect(try await store.connect(fingerprint: row.fingerprint, at: at(600))?.revoked == true)
        #expect(try await stored() == start + 60_000, "a revoked site's attempt is not 'last seen'")
    }

    @Test func sitesConvergeThroughIt() async throws {
        let central = try await Central(url: try await TestPostgres.newDatabase())
        let hr = try await central.site("HR", "LIS")
        let it = try await central.site("IT", "OPO")
        let facilities = try await central.site("FAC", "PRT")
        let laptop = try central.newRequest(at: hr, "Laptop")
        let badge = try central.newRequest(at: hr, "Badge")
        try await central.sync(hr)
        try await central.sync(it)
        // IT works one; HR edits the other meanwhile.
        try it.write([Edit(.request, laptop, ["assignee": .text("rui")])], author: "rui")
        try hr.write([Edit(.request, badge, ["details": .text("for the new hire")])], author: "ana")
        for site in [it, hr, it, facilities] { try await central.sync(site) }
        for id in [laptop, badge] {
            let held = try await central.store.record(id)
            #expect(held != nil)
            #expect(try hr.record(id) == held)
            #expect(try it.record(id) == held)
            // Facilities is no party: nothing of either reaches its file.
            #expect(try facilities.record(id) == nil)
        }
        #expect(try hr.outbox().isEmpty)
        #expect(try it.outbox().isEmpty)
        #expect(try await central.store.record(laptop)?.value(of: "assignee") == .text("rui"))
        // Every site knows every department.
        #expect(try facilities.records(of: .department).count == 3)
    }

    @Test func aRefusedWriteIsRecordedAsAVoidAndAnsweredAgainTheSameWay() async throws {
        let central = try await Central(url: try await TestPostgres.newDatabase())
        let hr = try await central.site("HR", "LIS")
        let it = try await central.site("IT", "OPO")
        let laptop = try central.newRequest(at: hr, "Laptop")
        try await central.sync(hr)
        try await central.sync(it)
        // A change that breaks a rule, pushed by hand: IT may not write the customer's title.
        let entry = central.registry[try it.replica().id]!
        let replica = try it.replica()
        let change = Change(
            dot: Dot(replica: replica.id, counter: UInt64(replica.counter) + 1), kind: .request, recordID: laptop,
            context: try #require(try it.record(laptop)).clock, fields: ["title": .text("Mine")], author: "rui",
            at: .now())
        let set = ChangeSet([change])
        let first = try await central.store.receive([set], from: try Pusher(entry), receivedAt: .now())
        guard case .refused = first[0] else {
            Issue.record("a title written by the provider was not refused: \(first)")
            return
        }
        #expect(try await central.store.receive([set], from: try Pusher(entry), receivedAt: .now()) == first)
        #expect(try await central.store.heldCounters(of: replica.id) == [1...(UInt64(replica.counter) + 1)])
        #expect(try await central.store.record(laptop)?.value(of: "title") == .text("Laptop"))
    }

    /// Request keys are told apart by their bytes, as PostgreSQL compares text: a key equal to
    /// a held one under Swift's `==` but not in its bytes is a new key. The snapshot once kept
    /// the keys it had read in a `String`-keyed table, so the held key answered for the other
    /// one too, and a Push that named both had the new one refused as a duplicate.
    @Test func requestKeysAreToldApartByTheirBytes() async throws {
        let central = try await Central(url: try await TestPostgres.newDatabase())
        let hr = try await central.site("HR", "LIS")
        let composed = "HR-LIS-\u{C5}"  // Å as one code point
        let decomposed = "HR-LIS-A\u{30A}"  // A and a combining ring
        #expect(composed == decomposed && !composed.utf8.elementsEqual(decomposed.utf8))
        func fields(_ key: String) -> [FieldName: FieldValue] {
            [
                "key": .text(key), "customer": .id(central.departments["HR"]!),
                "provider": .id(central.departments["IT"]!), "title": .text("Key \(key.unicodeScalars.count)"),
                "priority": .text("low"), "state": .text("submitted"),
            ]
        }
        try hr.write([Edit(.request, UUID.timeOrdered(), fields(composed))], author: "ana")
        try await central.sync(hr)
        // One Push of two sets, forged as another implementation could send them: the held key
        // again (a duplicate), then the key that differs from it in its bytes.
        let replica = try hr.replica()
        let sets = [composed, decomposed].enumerated().map { index, key in
            ChangeSet([
                Change(
                    dot: Dot(replica: replica.id, counter: UInt64(replica.counter) + UInt64(index) + 1),
                    kind: .request, recordID: UUID.timeOrdered(), context: VersionVector(), fields: fields(key),
                    author: "ana", at: .now())
            ])
        }
        let entry = central.registry[replica.id]!
        let outcomes = try await central.store.receive(sets, from: try Pusher(entry), receivedAt: .now())
        guard case .refused(let refusal, _) = outcomes[0] else {
            Issue.record("a held key was accepted again: \(outcomes)")
            return
        }
        #expect(refusal.code == .duplicate)
        #expect(outcomes[1] == .accepted, "\(outcomes)")
        let keys = try await central.store.records(of: .request).compactMap { $0.value(of: "key")?.text }
        #expect(keys.count == 2)
        #expect(keys.contains { $0.utf8.elementsEqual(decomposed.utf8) }, "\(keys)")
    }

    /// The hazard of event stores on PostgreSQL (DESIGN §4.1): a Push through one instance
    /// holds its commit open while others push through a second instance and a site pulls
    /// through it all along. Without the stream lock the second instance's changes would take
    /// sequence numbers after the open one's and become visible first, and the pulling site
    /// would move its cursor past the open ones for good (or, numbering by the highest
    /// committed, two instances would take one number and a Push would fail).
    @Test func aCommitHeldOpenOnOneInstanceIsNeverSkippedByAPullThroughAnother() async throws {
        let url = try await TestPostgres.newDatabase()
        let central = try await Central(url: url)
        let slow = PostgresServerStore(
            try PostgresLocation(url: url), logger: PostgresServerStore.quiet,
            beforeAppendCommits: { try? await Task.sleep(for: .milliseconds(150)) })
        let runner = Task { await slow.run() }
        defer { runner.cancel() }
        var writers: [SiteStore] = []
        for code in ["LIS", "POR", "FAR", "BRA"] { writers.append(try await central.site("HR", code)) }
        let reader = try await central.site("IT", "OPO")
        let perSite = 6
        let writing = Writing()
        // The reader pulls through the other instance the whole time the writers push.
        let pulling = Task {
            while await writing.isOn {
                try await central.pull(reader, limit: 2)
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, site) in writers.enumerated() {
                group.addTask {
                    for round in 0..<perSite {
                        _ = try central.newRequest(at: site, "Request \(round) of site \(index)")
                        // Alternately through the slow instance and the other one.
                        try await central.sync(site, through: (index + round) % 2 == 0 ? slow : central.store)
                    }
                }
            }
            try await group.waitForAll()
        }
        await writing.end()
        try await pulling.value
        for site in writers { try await central.sync(site) }
        try await central.pull(reader)
        let held = try await central.store.records(of: .request)
        #expect(held.count == writers.count * perSite)
        #expect(try reader.records(of: .request) == held)
        for site in writers { #expect(try site.outbox().isEmpty) }
    }

    /// PostgreSQL going down while sites sync, and coming back: a sync fails with an error that
    /// names the database, nothing of its Push is kept, the site keeps its changes, and the
    /// store serves again once the database is back, taking the set once.
    @Test func aSyncWhilePostgreSQLIsDownFailsNamingItAndTheStoreServesAgainWhenItIsBack() async throws {
        let own = try await OwnPostgres()
        let central = try await Central(url: own.url)
        let hr = try await central.site("HR", "LIS")
        let it = try await central.site("IT", "OPO")
        let laptop = try central.newRequest(at: hr, "Laptop")
        try await central.sync(hr)
        let badge = try central.newRequest(at: hr, "Badge")
        let before = try await central.store.latestSequence()
        try await own.pause()
        // The pool retries its connections for as long as the database is down; a session
        // waits for one at most `leaseTimeout` (30 s), not the minute and more the retries
        // take, so the site hears why before its own timeout. The bound is generous: the
        // point is an answer, not a figure.
        try await central.expectSyncFails(hr)
        try await own.resume()
        // The pool connects again for the next transaction.
        #expect(try await central.syncOnceBack(hr), "the store did not serve again after the database came back")
        #expect(try await central.store.latestSequence() == before + 1, "the set is in the log once")
        try await central.sync(it)
        for id in [laptop, badge] {
            let held = try await central.store.record(id)
            #expect(held != nil)
            #expect(try it.record(id) == held)
        }
        #expect(try hr.outbox().isEmpty)
        try await own.stop()
    }

    /// The database stops while a Push holds its transaction open, just before the commit
    /// (fast shutdown: PostgreSQL ends every session, and the transaction with it). The Push
    /// fails naming the database, nothing of it is kept, the site keeps the set, and once the
    /// database is back the set goes through once.
    // A regression would hang, not fail: the limit makes it fail.
    @Test(.timeLimit(.minutes(3))) func theDatabaseStoppingInTheMiddleOfAPushKeepsNothingAndThePushGoesThroughAfter()
        async throws
    {
        let own = try await OwnPostgres()
        let central = try await Central(url: own.url)
        let hr = try await central.site("HR", "LIS")
        let laptop = try central.newRequest(at: hr, "Laptop")
        let before = try await central.store.latestSequence()
        // postgres-nio drops a statement written to a connection that has closed, and its
        // caller would wait for ever: `statement` checks first.
        let stopping = PostgresServerStore(
            try PostgresLocation(url: own.url), logger: PostgresServerStore.quiet, transactionLimit: .seconds(150),
            beforeAppendCommits: {
                do { try await own.pause() } catch { Issue.record("the database did not stop: \(error)") }
            })
        let runner = Task { await stopping.run() }
        defer { runner.cancel() }
        try await central.expectSyncFails(hr, through: stopping, saying: "lost the connection")
        try await own.resume()
        #expect(try await central.syncOnceBack(hr), "the store did not serve again after the database came back")
        #expect(try await central.store.latestSequence() == before + 1, "the set is in the log once")
        #expect(try await central.store.record(laptop) != nil)
        #expect(try hr.outbox().isEmpty)
        try await own.stop()
    }

    /// The database stops answering while a Push holds its transaction open, its connection
    /// left open (as across a network partition): the statement would wait for TCP to give
    /// up, hours later. The transaction limit (20 s here) closes the connection, the Push fails naming the
    /// database, and once the database answers again the set goes through once.
    // A regression would hang, not fail: the limit makes it fail.
    @Test(.timeLimit(.minutes(3))) func aDatabaseThatStopsAnsweringInAPushIsGivenUpAtTheTransactionLimit() async throws
    {
        let own = try await OwnPostgres()
        let central = try await Central(url: own.url)
        let hr = try await central.site("HR", "LIS")
        _ = try central.newRequest(at: hr, "Laptop")
        let before = try await central.store.latestSequence()
        let frozen = PostgresServerStore(
            try PostgresLocation(url: own.url), logger: PostgresServerStore.quiet, transactionLimit: .seconds(20),
            beforeAppendCommits: {
                do { try await own.freeze() } catch { Issue.record("the database did not freeze: \(error)") }
            })
        let runner = Task { await frozen.run() }
        defer { runner.cancel() }
        try await central.expectSyncFails(hr, through: frozen, saying: "did not answer within 20")
        try await own.thaw()
        try await central.sync(hr)
        #expect(try await central.store.latestSequence() == before + 1, "the set is in the log once")
        #expect(try hr.outbox().isEmpty)
        try await own.stop()
    }

    /// TLS to the database as libpq's `sslmode` says (DESIGN §4.1). The test server offers TLS
    /// with a certificate from a CA of its own, as a database with its own self-signed one
    /// (Debian's default) does: `prefer`, the default, and `require` encrypt without checking
    /// it; `verify-full` needs the CA, and without it says so, naming the database.
    @Test(
        .enabled(
            if: TestPostgres.certificateAuthority != nil || TestPostgres.serverURL == nil,
            "a server of your own (INTERNO_TEST_POSTGRES) needs INTERNO_TEST_POSTGRES_CA, the CA of its certificate"))
    func theConnectionIsProtectedAsTheURLSays() async throws {
        let ca = try #require(
            TestPostgres.certificateAuthority,
            "INTERNO_TEST_POSTGRES_CA is not set: start the server with Tools/postgres")
        let url = try await TestPostgres.newDatabase()
        let localhost = url.replacingOccurrences(of: "@127.0.0.1:", with: "@localhost:")
        func security(_ url: String) async throws -> String {
            try await PostgresServerStore.with(try PostgresLocation(url: url)) { store in
                try await store.connectionSecurity()
            }
        }
        #expect(try await security(url + "?sslmode=disable") == "none")
        #expect(try await security(url) == "TLSv1.3")
        #expect(try await security(url + "?sslmode=require") == "TLSv1.3")
        #expect(try await security(url + "?sslmode=verify-ca&sslrootcert=\(ca)") == "TLSv1.3")
        #expect(try await security(url + "?sslmode=verify-full&sslrootcert=\(ca)") == "TLSv1.3")
        #expect(try await security(localhost + "?sslmode=verify-full&sslrootcert=\(ca)") == "TLSv1.3")
        do {
            _ = try await security(url + "?sslmode=verify-full")
            Issue.record("a certificate no trusted CA signed was accepted under verify-full")
        } catch let error as PostgresStoreError {
            #expect("\(error)".contains("offered a certificate that is not trusted"), "\(error)")
            #expect("\(error)".contains("sslrootcert=PATH"), "\(error)")
        }
        #expect(throws: PostgresStoreError.self) { try PostgresLocation(url: url + "?sslrootcert=/no/such/ca.pem") }
        #expect(throws: PostgresStoreError.self) {
            try PostgresLocation(url: url + "?sslmode=disable&sslrootcert=\(ca)")
        }
        #expect(throws: PostgresStoreError.self) { try PostgresLocation(url: url + "?sslmode=verify") }
    }

    @Test func aWrongURLOrAServerThatIsDownIsSaidPlainly() async throws {
        #expect(throws: PostgresStoreError.self) { try PostgresLocation(url: "mysql://a@b/c") }
        #expect(throws: PostgresStoreError.self) { try PostgresLocation(url: "postgres://host/db") }
        #expect(throws: PostgresStoreError.self) { try PostgresLocation(url: "postgres://u@host") }
        #expect(throws: PostgresStoreError.self) { try PostgresLocation(url: "postgres://u@host/db?foo=bar") }
        let location = try PostgresLocation(url: "postgres://interno:secret@127.0.0.1:1/nothing")
        #expect(location.description == "postgres://interno@127.0.0.1:1/nothing")
        do {
            try await PostgresServerStore.with(location) { _ in }
            Issue.record("a database that is not there was used")
        } catch let error as PostgresStoreError {
            #expect("\(error)".contains("cannot reach the central database postgres://interno@127.0.0.1:1/nothing"))
            #expect(!"\(error)".contains("secret"))
        }
    }
}

/// Whether writers are still at work, for a reader that runs beside them.
private actor Writing {
    private(set) var isOn = true
    func end() { isOn = false }
}
