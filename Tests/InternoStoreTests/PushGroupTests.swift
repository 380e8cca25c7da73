import Foundation
import GRDB
import InternoModel
import Testing

@_spi(Database) @testable import InternoStore

/// Group commit (DESIGN §4): Pushes that wait for the server's writer together are judged in
/// its next transaction, each under a savepoint, and answered after that one commit.
@Suite("Pushes committed in groups")
struct PushGroupTests {
    /// Five sites push while the writer is held: the first Push takes the writer as soon as it
    /// is free and commits alone, the four that waited behind it share one commit, and every
    /// set of all five is on disk and pulled by IT.
    @Test func pushesThatWaitForTheWriterShareOneCommit() async throws {
        var hub = try Hub(.walFile)
        var sites = [hub.hr]
        for number in 2...5 { sites.append(try hub.addSite(department: "HR", site: "S\(number)")) }
        var titles: [String] = []
        for (index, site) in sites.enumerated() {
            for set in 0..<3 {
                let title = "Laptop \(index)-\(set)"
                titles.append(title)
                try site.write(
                    [
                        Edit(
                            .request, UUID.timeOrdered(),
                            [
                                "customer": hub.department("HR"), "provider": hub.department("IT"),
                                "title": .text(title), "priority": .text("normal"), "state": .text("submitted"),
                            ])
                    ], author: "ana")
            }
        }
        let server = hub.server
        let commits = CommitCounter(
            changedRows: try await server.writer.writeWithoutTransaction { $0.totalChangesCount })
        server.writer.add(transactionObserver: commits, extent: .databaseLifetime)
        let before = server.pushGroupCounts

        // The writer is held until every Push waits for it.
        let (holding, release) = try await hold(server)
        defer { release.set() }
        var pushes: [Task<[PushOutcome], any Error>] = []
        for site in sites {
            let sets = try site.pendingChangeSets()
            let pusher = try Pusher(hub.registry[try site.replica().id]!)
            pushes.append(Task { try await server.receiveInGroup(sets, from: pusher) })
            // The first Push is taken at once, alone, and waits for the writer; the four after
            // it queue behind it.
            if pushes.count == 1 {
                try await waitUntil("the first Push is taken") { server.pushGroupCounts.pushes > before.pushes }
            }
        }
        try await waitUntil("four Pushes wait") { server.pushesWaiting == 4 }
        release.set()
        try await holding.value

        for (site, push) in zip(sites, pushes) {
            let outcomes = try await push.value
            #expect(outcomes == Array(repeating: .accepted, count: 3))
            try site.recordPushResults(zip(try site.pendingChangeSets(), outcomes).map { ($0.firstCounter, $1) })
        }
        let after = server.pushGroupCounts
        #expect(after.groups - before.groups == 2)
        #expect(after.pushes - before.pushes == 5)
        #expect(after.largest == 4)
        // Two commits that wrote, one per group: not one per Push.
        #expect(commits.count == 2)

        // Durable: a new connection to the file reads all fifteen sets.
        let reopened = try ServerStore.open(path: hub.directory.path("server.sqlite"))
        let stored = try reopened.records(of: .request).compactMap { $0.value(of: "title")?.text }
        #expect(Set(stored) == Set(titles))
        hub.pullLimit = 100
        try hub.pull(hub.it)
        #expect(Set(try hub.it.requests().map(\.title)) == Set(titles))
    }

    /// A database error while one Push of a group is judged rolls back its savepoint and fails
    /// that Push alone: the others of its group are committed and acknowledged.
    @Test func aDatabaseErrorFailsOnlyItsOwnPushInAGroup() async throws {
        let group = try GroupOfThree()
        // The writer refuses to log a change by "boom": a database error, not a refusal.
        try await group.arrange(
            """
            CREATE TEMP TRIGGER refuse_boom BEFORE INSERT ON change WHEN NEW.author = 'boom'
            BEGIN SELECT RAISE(ABORT, 'the disk said no'); END
            """)
        let pushes = try await group.push()

        #expect(try await pushes[0].value == [.accepted])
        await #expect(throws: DatabaseError.self) { try await pushes[1].value }
        #expect(try await pushes[2].value == [.accepted])
        #expect(try group.storedTitles() == ["Warm-up", "Request 0", "Request 2"])
        #expect(try group.hub.server.timelineDrift().isEmpty)
    }

    /// A group whose commit fails keeps nothing: every Push of it fails, those judged well
    /// too, none of their sets is in the log or the tables, and the next groups commit. The
    /// sites push the same sets again and every one is accepted.
    @Test func aCommitThatFailsFailsTheWholeGroupAndKeepsNothing() async throws {
        let group = try GroupOfThree()
        let server = group.hub.server
        let sequence = try server.latestSequence()
        // Logging a change by "boom" breaks a deferred foreign key: every statement succeeds,
        // and SQLite refuses the COMMIT of the transaction that holds it, as it would one that
        // met a full disk or an I/O error at the end.
        try await group.arrange(
            """
            CREATE TEMP TABLE boom_parent (id INTEGER PRIMARY KEY);
            CREATE TEMP TABLE boom_child (parent INTEGER REFERENCES boom_parent (id) DEFERRABLE INITIALLY DEFERRED);
            CREATE TEMP TRIGGER boom AFTER INSERT ON change WHEN NEW.author = 'boom'
            BEGIN INSERT INTO boom_child VALUES (42); END;
            """)
        let groups = server.pushGroupCounts.groups
        let pushes = try await group.push()

        // One group of the three, and its commit failed: each Push gets the commit's error.
        for push in pushes {
            let error = await #expect(throws: DatabaseError.self) { try await push.value }
            #expect(error?.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY)
        }
        #expect(server.pushGroupCounts.groups - groups == 2)
        #expect(server.pushGroupCounts.largest == 3)
        // Nothing of the group is on disk: the warm-up's one change alone follows the sequence
        // read before.
        let reopened = try ServerStore.open(path: group.hub.directory.path("server.sqlite"))
        #expect(try reopened.latestSequence() == sequence + 1)
        #expect(try group.storedTitles() == ["Warm-up"])
        for site in group.sites {
            #expect(try reopened.highestCounter(of: try site.replica().id) == 0)
        }

        // The writer is usable again, and the same sets pushed again are all accepted.
        try await group.pushAgainWithoutBoom()
        #expect(try group.hub.server.timelineDrift().isEmpty)
    }

    /// A Push that fails alone (its savepoint rolled back), then a COMMIT that fails: the
    /// failed Push keeps its own error, and those judged well get the commit's, the cause of
    /// their failure, not the message of a transaction rolled back midway.
    @Test func aCommitThatFailsAfterOnePushFailedGivesTheOthersTheCommitsError() async throws {
        let group = try GroupOfThree()
        let sequence = try group.hub.server.latestSequence()
        let third = try group.sites[2].replica().id.description
        try await group.arrange(
            """
            CREATE TEMP TRIGGER boom BEFORE INSERT ON change WHEN NEW.author = 'boom'
            BEGIN SELECT RAISE(ABORT, 'the disk said no'); END;
            CREATE TEMP TABLE boom_parent (id INTEGER PRIMARY KEY);
            CREATE TEMP TABLE boom_child (parent INTEGER REFERENCES boom_parent (id) DEFERRABLE INITIALLY DEFERRED);
            CREATE TEMP TRIGGER boom_commit AFTER INSERT ON change WHEN NEW.replica = '\(third)'
            BEGIN INSERT INTO boom_child VALUES (42); END;
            """)
        let pushes = try await group.push()

        let own = await #expect(throws: DatabaseError.self) { try await pushes[1].value }
        #expect(own?.message == "the disk said no")
        for index in [0, 2] {
            let error = await #expect(throws: DatabaseError.self) { try await pushes[index].value }
            #expect(error?.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY)
        }
        let reopened = try ServerStore.open(path: group.hub.directory.path("server.sqlite"))
        #expect(try reopened.latestSequence() == sequence + 1)
        #expect(try group.storedTitles() == ["Warm-up"])

        try await group.arrange("DROP TRIGGER temp.boom_commit")
        try await group.pushAgainWithoutBoom()
    }

    /// An error that SQLite answers by rolling back the whole transaction (a full disk, an
    /// I/O error; here a trigger's `RAISE(ROLLBACK)`) in the middle of a group: the Push judged
    /// before it is rolled back with it and fails too, never acknowledged; the Push that met
    /// the error gets that error; the one after it is not judged, and says so. Nothing of the
    /// group is on disk, and the same sets pushed again are accepted.
    @Test func aTransactionRolledBackMidGroupFailsEveryPushOfIt() async throws {
        let group = try GroupOfThree()
        let server = group.hub.server
        let sequence = try server.latestSequence()
        try await group.arrange(
            """
            CREATE TEMP TRIGGER boom BEFORE INSERT ON change WHEN NEW.author = 'boom'
            BEGIN SELECT RAISE(ROLLBACK, 'the disk said no'); END
            """)
        let pushes = try await group.push()
        // Judged and then rolled back: told so, and never the other Push's error.
        let before = await #expect(throws: StoreError.self) { try await pushes[0].value }
        #expect(before?.description.contains("rolled back by a later error in another Push") == true)
        #expect(before?.description.contains("sends it again at its next sync") == true)
        #expect(before?.description.contains("the disk said no") == false)
        // The cause, as SQLite gave it while this Push was judged.
        let cause = await #expect(throws: DatabaseError.self) { try await pushes[1].value }
        #expect(cause?.message == "the disk said no")
        // Never judged, outside any transaction: told why, to push again.
        let after = await #expect(throws: StoreError.self) { try await pushes[2].value }
        #expect(after?.description.contains("rolled back by an earlier error") == true)
        let reopened = try ServerStore.open(path: group.hub.directory.path("server.sqlite"))
        #expect(try reopened.latestSequence() == sequence + 1)
        #expect(try group.storedTitles() == ["Warm-up"])

        try await group.pushAgainWithoutBoom()
        #expect(try group.hub.server.timelineDrift().isEmpty)
    }
}

/// Three HR sites with one new request each, the second written by "boom", and an IT site
/// with one of its own: ``push()`` makes the IT site's Push a group of its own and the three
/// HR sites' the next group, whatever the test has done to the server's writer.
private struct GroupOfThree {
    let hub: Hub
    let sites: [SiteStore]
    let warmup: SiteStore

    init() throws {
        var hub = try Hub(.walFile)
        // Every site is enrolled here, before the writer is held: enrolling writes the registry.
        let other = try hub.addSite(department: "HR", site: "S2")
        let third = try hub.addSite(department: "HR", site: "S3")
        warmup = try hub.addSite(department: "IT", site: "S4")
        sites = [hub.hr, other, third]
        self.hub = hub
        for (index, site) in sites.enumerated() {
            try site.write([request("Request \(index)", from: "HR", to: "IT")], author: index == 1 ? "boom" : "ana")
        }
        try warmup.write([request("Warm-up", from: "IT", to: "HR")], author: "ana")
    }

    private func request(_ title: String, from customer: String, to provider: String) -> Edit {
        Edit(
            .request, UUID.timeOrdered(),
            [
                "customer": hub.department(customer), "provider": hub.department(provider), "title": .text(title),
                "priority": .text("normal"), "state": .text("submitted"),
            ])
    }

    /// Holds the writer, lets the warm-up's Push take it alone, queues the three sites' Pushes
    /// behind it in the sites' order, then lets them all go: the three are judged in one group,
    /// in that order. Checks that the warm-up was accepted and returns the three Pushes.
    func push() async throws -> [Task<[PushOutcome], any Error>] {
        let server = hub.server
        let warmupSets = try warmup.pendingChangeSets()
        let warmupPusher = try Pusher(hub.registry[try warmup.replica().id]!)
        let (holding, release) = try await hold(server)
        defer { release.set() }
        let taken = server.pushGroupCounts.pushes
        let first = Task { try await server.receiveInGroup(warmupSets, from: warmupPusher) }
        try await waitUntil("the warm-up's Push is taken") { server.pushGroupCounts.pushes > taken }
        var pushes: [Task<[PushOutcome], any Error>] = []
        for site in sites {
            let sets = try site.pendingChangeSets()
            let pusher = try Pusher(hub.registry[try site.replica().id]!)
            pushes.append(Task { try await server.receiveInGroup(sets, from: pusher) })
            // Queued before the next is submitted: the group judges them in this order.
            let queued = pushes.count
            try await waitUntil("\(queued) Pushes wait") { server.pushesWaiting == queued }
        }
        release.set()
        try await holding.value
        #expect(try await first.value == [.accepted])
        return pushes
    }

    /// Runs `sql` on the server's writer outside any transaction: what makes a test's Push fail.
    func arrange(_ sql: String) async throws {
        try await hub.server.writer.writeWithoutTransaction { db in try db.execute(sql: sql) }
    }

    /// Drops the trigger `boom`, then pushes each site's sets again, alone: each is accepted,
    /// and every request is on disk.
    func pushAgainWithoutBoom() async throws {
        try await arrange("DROP TRIGGER temp.boom")
        for site in sites {
            let sets = try site.pendingChangeSets()
            let pusher = try Pusher(hub.registry[try site.replica().id]!)
            #expect(try await hub.server.receiveInGroup(sets, from: pusher) == [.accepted])
        }
        #expect(try storedTitles() == ["Warm-up", "Request 0", "Request 1", "Request 2"])
    }

    /// The titles of the requests on the server's disk, read through a new connection.
    func storedTitles() throws -> Set<String> {
        Set(
            try ServerStore.open(path: hub.directory.path("server.sqlite")).records(of: .request)
                .compactMap { $0.value(of: "title")?.text })
    }
}

/// Waits until `condition` holds, looking every 5 ms; after 30 s the test fails instead of
/// hanging with the server's writer held.
private func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("timed out waiting until \(what)")
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// Holds `server`'s writer in a transaction of its own until the returned flag is set: the
/// task ends when the transaction has ended.
private func hold(_ server: ServerStore) async throws -> (Task<Void, any Error>, Flag) {
    let (acquired, release) = (Flag(), Flag())
    let holding = Task.detached {
        try await server.writer.write { _ in
            acquired.set()
            while !release.isSet { usleep(1_000) }
        }
    }
    while !acquired.isSet { try await Task.sleep(for: .milliseconds(1)) }
    return (holding, release)
}

/// A flag set once, read from any thread.
private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return value
    }

    func set() {
        lock.lock()
        value = true
        lock.unlock()
    }
}

/// Counts the commits of a connection that wrote a row, by SQLite's count of the rows its
/// statements changed (`sqlite3_total_changes`): the store writes a change's rows straight
/// through SQLite's C API (``Bindings``), which GRDB's per-statement change events do not see.
private final class CommitCounter: TransactionObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var commits = 0
    /// The connection's count of changed rows at its last commit or rollback.
    private var changedRows: Int

    init(changedRows: Int) {
        self.changedRows = changedRows
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return commits
    }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) {
        lock.lock()
        if db.totalChangesCount > changedRows { commits += 1 }
        changedRows = db.totalChangesCount
        lock.unlock()
    }
    func databaseDidRollback(_ db: Database) {
        lock.lock()
        changedRows = db.totalChangesCount
        lock.unlock()
    }
}
