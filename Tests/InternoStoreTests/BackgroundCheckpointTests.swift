import Foundation
import GRDB
import InternoModel
import Testing

@_spi(Database) @testable import InternoStore

/// The checkpoints of a store's writer run beside it (DESIGN §4): its commits ask for them,
/// the WAL stays bounded, and closing the store still leaves no WAL behind.
@Suite("Checkpoints beside the writer")
struct BackgroundCheckpointTests {
    /// About `pages` pages of new rows in one transaction: rows of a page's worth of bytes.
    private static func write(pages: Int, _ store: some ReplicaStore) throws {
        try store.writer.write { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS filler (bytes BLOB)")
            for _ in 0..<pages { try db.execute(sql: "INSERT INTO filler (bytes) VALUES (randomblob(3900))") }
        }
    }

    private static func counts(_ store: some ReplicaStore) throws -> BackgroundCheckpoints.Counts {
        try #require(try store.writer.writeWithoutTransaction { db in try BackgroundCheckpoints.counts(db) })
    }

    private static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Waits up to five seconds for `condition`.
    private static func eventually(_ condition: () throws -> Bool) async throws -> Bool {
        for _ in 0..<500 {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return try condition()
    }

    /// Commits that bring the WAL past a thousand pages, but never near the bound where the
    /// writer checkpoints itself: a checkpoint runs, the database file grows with what it
    /// copied, and the writer ran none.
    @Test func theWritersCommitsAskForCheckpointsThatRunBesideIt() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("server.sqlite")
        let store = try ServerStore.open(path: path)
        let before = Self.size(path)
        for _ in 0..<25 { try Self.write(pages: 100, store) }
        #expect(try await Self.eventually { try Self.counts(store).background >= 1 })
        #expect(try Self.counts(store).inline == 0)
        #expect(try await Self.eventually { Self.size(path) > before + 1_500 * 4_096 })
        #expect(try await store.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM filler") } == 2_500)
        #expect(try await store.writer.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") } == "ok")
    }

    /// With no checkpoint beside it (as when one falls behind a writer that commits all the
    /// time), the writer checkpoints itself past the bound, so the WAL starts again and never
    /// holds much more than the bound and one transaction.
    @Test func pastTheBoundTheWriterCheckpointsItself() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("server.sqlite")
        let store = try ServerStore.open(path: path)
        let pool = try #require(store.writer as? DatabasePool)
        try BackgroundCheckpoints.install(on: pool, frames: .max, inlineFrames: 2_000)
        let transaction = 300
        var largest = 0
        for _ in 0..<40 {
            try Self.write(pages: transaction, store)
            largest = max(largest, Self.size(path + "-wal"))
        }
        let bound = (2_000 + 2 * transaction) * (4_096 + 24)
        #expect(largest > 1_000 * 4_096)
        #expect(largest < bound, "the WAL grew to \(largest) bytes")
        let counts = try Self.counts(store)
        #expect(counts.background == 0)
        #expect(counts.inline >= 4)
        #expect(try store.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM filler") } == 12_000)
    }

    /// A store dropped while a checkpoint may still run beside it: its close waits for that
    /// one and closes the checkpoints' connection, and the file's last connection to close
    /// copies the WAL into the database and deletes it, so when the store is gone there is
    /// no WAL, and the file opens again at once with every row.
    @Test func closingTheStoreLeavesNoWAL() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("server.sqlite")
        for round in 1...5 {
            do {
                let store = try ServerStore.open(path: path)
                for _ in 0..<12 { try Self.write(pages: 100, store) }
            }
            #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
            let reopened = try ServerStore.open(path: path)
            #expect(
                try reopened.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM filler") }
                    == round * 1_200)
        }
    }

    /// A site's one connection checkpoints beside it too: a sync's pull of many changes goes
    /// on while the pages of the last batches are copied.
    @Test func aSitesOneConnectionCheckpointsBesideItToo() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("site.sqlite")
        let site = try SiteStore.open(path: path, concurrentReads: false)
        let before = Self.size(path)
        for _ in 0..<25 { try Self.write(pages: 100, site) }
        #expect(try await Self.eventually { try Self.counts(site).background >= 1 })
        #expect(try Self.counts(site).inline == 0)
        #expect(try await Self.eventually { Self.size(path) > before + 1_500 * 4_096 })
    }

    /// Emptying the WAL after a scope's records were deleted meets a connection that holds it
    /// (a checkpoint beside the writer, or here a reader): SQLite answers "busy" without an
    /// error, and the store tries again until the WAL is empty, rather than leave the
    /// deleted records' old pages in it.
    @Test func emptyingTheWALWaitsForAConnectionThatHoldsIt() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("site.sqlite")
        let site = try SiteStore.open(path: path, concurrentReads: false)
        try Self.write(pages: 50, site)
        let reader = try DatabaseQueue(path: path)
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let readerDone = DispatchSemaphore(value: 0)
        // Threads of their own, not tasks or dispatch's workers: both block, and those pools
        // have a thread or two per core.
        Thread {
            _ = try? reader.read { db in
                _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM filler")
                started.signal()
                release.wait()
            }
            readerDone.signal()
        }.start()
        started.wait()
        // Pages the reader's snapshot does not have: the WAL cannot be emptied while it reads.
        try Self.write(pages: 10, site)
        #expect(Self.size(path + "-wal") > 0)
        let emptied = DispatchSemaphore(value: 0)
        let outcome = Outcome()
        Thread {
            do {
                try site.writer.writeWithoutTransaction { db in try SiteStore.truncateWAL(db) }
            } catch {
                outcome.error = error
            }
            emptied.signal()
        }.start()
        Thread.sleep(forTimeInterval: 0.2)
        #expect(Self.size(path + "-wal") > 0)
        release.signal()
        readerDone.wait()
        emptied.wait()
        #expect(outcome.error == nil)
        #expect(Self.size(path + "-wal") == 0)
    }

    /// What a thread found, read after it signalled.
    private final class Outcome: @unchecked Sendable {
        var error: (any Error)?
    }
}
