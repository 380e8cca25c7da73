import Foundation
import GRDB
import GRDBSQLite
import Testing

@_spi(Database) @testable import InternoStore

/// The threads that run a store's blocking calls for async code (``ReplicaStore/background(_:)``).
@Suite("Threads for the store's blocking calls")
struct BlockingWorkersTests {
    /// Waits up to `seconds` for `condition`; whether it came true.
    private func eventually(within seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while !condition() {
            guard Date() < deadline else { return false }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return true
    }

    /// Runs `call` on `workers` and waits for it to finish.
    private func run(_ workers: BlockingWorkers, _ call: @escaping @Sendable () -> Void) {
        let done = DispatchSemaphore(value: 0)
        workers.run {
            call()
            done.signal()
        }
        done.wait()
    }

    @Test func callsOneAfterAnotherReuseOneThread() {
        let workers = BlockingWorkers(idleLifetime: 30)
        let names = NSLock()
        nonisolated(unsafe) var threads: Set<ObjectIdentifier> = []
        for _ in 0..<50 {
            run(workers) { names.withLock { _ = threads.insert(ObjectIdentifier(Thread.current)) } }
            // The thread is back waiting before the next call comes.
            #expect(eventually(within: 5) { workers.counts.idle == 1 })
        }
        #expect(threads.count == 1)
        #expect(workers.counts.threads == 1)
    }

    /// Eight calls that each wait until all eight run: with fewer threads than calls, this
    /// would never end. A call never waits for another to free a thread.
    @Test func callsAtOnceEachGetAThread() {
        let workers = BlockingWorkers(idleLifetime: 30)
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        for _ in 0..<8 {
            workers.run {
                started.signal()
                release.wait()
                finished.signal()
            }
        }
        var running = 0
        for _ in 0..<8 where started.wait(timeout: .now() + 10) == .success { running += 1 }
        #expect(running == 8)
        #expect(workers.counts.threads == 8)
        for _ in 0..<8 { release.signal() }
        for _ in 0..<8 { #expect(finished.wait(timeout: .now() + 10) == .success) }
        #expect(eventually(within: 5) { workers.counts.idle == 8 })
        // Idle threads take the next calls: none starts.
        for _ in 0..<20 { run(workers) {} }
        #expect(workers.counts.threads == 8)
    }

    @Test func idleThreadsEndAfterTheirLifetime() {
        let workers = BlockingWorkers(idleLifetime: 0.2)
        let release = DispatchSemaphore(value: 0)
        for _ in 0..<3 { workers.run { release.wait() } }
        #expect(workers.counts.threads == 3)
        for _ in 0..<3 { release.signal() }
        #expect(eventually(within: 10) { workers.counts.threads == 0 })
        #expect(workers.counts.idle == 0)
        // And a call after that still runs, on a thread started for it.
        let ran = DispatchSemaphore(value: 0)
        workers.run { ran.signal() }
        #expect(ran.wait(timeout: .now() + 10) == .success)
    }

    /// A store's async callers get each call's answer and its error through these threads.
    @Test func aStoreAnswersAndFailsThroughThem() async throws {
        let store = try SiteStore.inMemory()
        let answer = try await store.background { _ in 42 }
        #expect(answer == 42)
        await #expect(throws: StoreError.self) {
            try await store.background { _ in throw StoreError.io("refused") }
        }
    }
}

/// SQLite's process-wide settings (``SQLiteSettings``).
@Suite("SQLite's settings for the process")
struct SQLiteSettingsTests {
    /// `true` from ``SQLiteSettings/apply()`` means SQLite counts no memory in this process;
    /// `false`, that it started before the settings could be made, and counts.
    @Test func memoryStatisticsAreOffWhenTheSettingsSayTheyHold() throws {
        let applied = SQLiteSettings.apply()
        #expect(SQLiteSettings.apply() == applied)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("settings-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SiteStore.open(path: directory.appendingPathComponent("replica.sqlite").path)
        _ = try store.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record") }
        if applied {
            #expect(sqlite3_memory_highwater(0) == 0)
        } else {
            #expect(sqlite3_memory_highwater(0) > 0)
        }
    }

    /// A savepoint that changes a megabyte of pages keeps their first content in memory, not
    /// in a temporary file (SQLite names its temporary files `etilqs_…`, and unlinks them at
    /// once: they show only among the process's open files).
    @Test func aSavepointsJournalStaysInMemoryWhenTheSettingsSayTheyHold() throws {
        let applied = SQLiteSettings.apply()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("settings-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let queue = try DatabaseQueue(path: directory.appendingPathComponent("pages.sqlite").path)
        // In WAL mode, as every Interno database: a rollback journal would hold the pages
        // for the savepoint itself.
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE page (body BLOB)")
            for _ in 0..<1000 { try db.execute(sql: "INSERT INTO page VALUES (randomblob(1000))") }
        }
        func temporaryFiles() -> Set<String> {
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
            return Set(
                fds.compactMap { fd in
                    guard
                        let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)"),
                        target.contains("etilqs_")
                    else { return nil }
                    return "\(fd) \(target)"
                })
        }
        // The temporary files that appeared while a savepoint rewrote every page.
        func opened() throws -> Set<String> {
            let before = temporaryFiles()
            var during: Set<String> = []
            try queue.write { db in
                try db.inSavepoint {
                    try db.execute(sql: "UPDATE page SET body = randomblob(1000)")
                    during = temporaryFiles()
                    return .commit
                }
            }
            return during.subtracting(before)
        }
        if applied {
            // Tests run in parallel, and another's `VACUUM` may open a temporary file of its
            // own in that moment: the journal is in a file only if one appears every time.
            var seen: [Set<String>] = []
            for _ in 0..<3 {
                let new = try opened()
                if new.isEmpty { break }
                seen.append(new)
            }
            #expect(seen.count < 3, "a temporary file held the journal each time: \(seen)")
        } else {
            #expect(try !opened().isEmpty)
        }
    }
}
