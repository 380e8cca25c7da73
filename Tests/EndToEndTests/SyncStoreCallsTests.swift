import Foundation
import GRDB
import InternoModel
@_spi(Database) import InternoStore
import Testing

@testable import InternoClient

/// What one sync asks of the site's database: each call to the store is a thread hop and a
/// transaction, a sizeable part of a small sync's cost (DESIGN §4), so a sync reads the outbox
/// only as often as it sends a Push, and counts it only when one Push cannot take it all.
@Suite("What a sync asks of the site's store", .serialized)
struct SyncStoreCallsTests {
    /// The statements the site's own connection runs during `body`, by their first words.
    final class Statements: @unchecked Sendable {
        private var seen: [String] = []
        private let lock = NSLock()
        func add(_ sql: String) { lock.withLock { seen.append(sql) } }
        func count(_ prefix: String) -> Int { lock.withLock { seen.filter { $0.hasPrefix(prefix) }.count } }
        /// Where the statements that start with `prefix` ran, in the order of all of them.
        func positions(_ prefix: String) -> [Int] {
            lock.withLock { seen.indices.filter { seen[$0].hasPrefix(prefix) } }
        }
    }

    static func tracing(_ engine: SyncEngine) -> Statements {
        let statements = Statements()
        engine.store.writer.writeWithoutTransaction { db in
            db.trace { event in
                if case .statement(let statement) = event { statements.add(statement.sql) }
            }
        }
        return statements
    }

    static let pages = "SELECT * FROM outbox"
    static let counts = "SELECT COUNT(*) FROM outbox"
    /// A set the server accepted leaves the outbox.
    static let acknowledged = "DELETE FROM outbox"

    @Test func aQueueOnePushTakesIsReadOnceAndNeverCounted() async throws {
        try await Deployment.with { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let site = try hr.site()
            for title in ["Laptop", "Monitor", "Desk"] { _ = try site.newRequest(to: "IT", title: title) }
            let engine = try SyncEngine(home: SiteHome(path: hr.home))
            let statements = Self.tracing(engine)
            let report = try await engine.sync()
            #expect(report.accepted == 3)
            #expect(statements.count(Self.pages) == 1, "one page, read with the Welcome's answer")
            #expect(statements.count(Self.counts) == 0, "a page shorter than a Push's limit is the whole queue")
            #expect(try site.store.pendingChangeSets().isEmpty)
            #expect(try await deployment.store.requestKeys() == ["HR-LIS-1", "HR-LIS-2", "HR-LIS-3"])
            // Nothing queued: one read finds that, and the sync goes on to pull.
            let idle = try await engine.sync()
            #expect(idle.accepted == 0 && statements.count(Self.pages) == 2 && statements.count(Self.counts) == 0)
        }
    }

    /// More than one Push carries (here by bytes: half of the server's largest frame, 8 MB per
    /// Push): each page after the first is read while the server judges the Push before it,
    /// in the same call that records the results of the Push before that, and every set
    /// arrives once.
    @Test func aQueueLargerThanOnePushGoesInSeveralAndEverySetArrivesOnce() async throws {
        try await Deployment.with { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let site = try hr.site()
            let details = String(repeating: "0123456789", count: 2_000)
            let count = 450
            for index in 1...count { _ = try site.newRequest(to: "IT", title: "Request \(index)", details: details) }
            let engine = try SyncEngine(home: SiteHome(path: hr.home))
            let statements = Self.tracing(engine)
            let report = try await engine.sync()
            #expect(report.accepted == count)
            #expect(statements.count(Self.pages) == 2, "two Pushes, two pages")
            #expect(try site.store.pendingChangeSets().isEmpty)
            #expect(try await deployment.store.requestKeys() == Set((1...count).map { "HR-LIS-\($0)" }))
        }
    }

    /// A Push also holds at most 5000 changes, in whole sets (`SyncConnection.maximumPushChanges`):
    /// a queue of 60 sets of 100 changes goes in two Pushes, the second page read while the
    /// server judges the first, and every set arrives once.
    @Test func aQueueOfLargeSetsGoesInPushesOfAtMost5000Changes() async throws {
        try await Deployment.with { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let site = try hr.site()
            try site.queueRequests(sets: 60, of: 100, to: "IT")
            let engine = try SyncEngine(home: SiteHome(path: hr.home))
            let statements = Self.tracing(engine)
            let report = try await engine.sync()
            #expect(report.accepted == 60)
            #expect(statements.count(Self.pages) == 2, "two Pushes (50 sets, then 10), two pages")
            #expect(statements.count(Self.counts) == 1, "the first page did not hold the whole queue")
            // The second page is read, and its Push encoded, while the server judges the first
            // Push: before the first Push's results are recorded.
            let pages = statements.positions(Self.pages)
            let acknowledged = statements.positions(Self.acknowledged)
            #expect(acknowledged.count == 60)
            #expect(pages.count == 2 && acknowledged.first.map { pages[1] < $0 } == true)
            #expect(try site.store.pendingChangeSets().isEmpty)
            #expect(try await deployment.store.requestKeys() == Set((1...6_000).map { "HR-LIS-\($0)" }))
        }
    }
}
