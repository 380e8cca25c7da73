import Foundation
import InternoModel
import Testing

@testable import InternoStore

/// A Push larger than one judge holds is judged in batches, each written before the next is
/// read (DESIGN §4): what a later batch judges must see what an earlier one accepted.
@Suite("A Push judged in batches")
struct PushBatchTests {
    @Test(arguments: Storage.allCases)
    func aLaterBatchSeesWhatAnEarlierOneAcceptedAndAllOfItConverges(storage: Storage) throws {
        var hub = try Hub(storage)
        let hr = hub.hr
        // More than two batches of requests, in sets of 100, then an edit and a comment of
        // the very first request, which the first batch creates.
        let sets = (ServerStore.batchChanges * 2 + 100) / 100
        let id = try #require(try Self.writeRequests(sets: sets, at: hub).first)
        try hr.write([Edit(.request, id, ["title": .text("Laptop, 16 GB")])], author: "ana")
        try hr.write(
            [Edit(.comment, UUID.timeOrdered(), ["request": .id(id), "body": .text("Urgent")])], author: "ana")
        let pending = try hr.pendingChangeSets()
        #expect(ServerStore.batches(of: pending).count > 2)

        // One Push of everything, as the sync engine sends it.
        let entry = hub.registry[try hr.replica().id]!
        let outcomes = try hub.server.receive(pending, from: entry)
        #expect(outcomes.allSatisfy { $0 == .accepted }, "\(outcomes.filter { $0 != .accepted })")
        try hr.recordPushResults(zip(pending, outcomes).map { ($0.firstCounter, $1) })

        // A key the first batch took, pushed again in a set of its own: refused, though no
        // judge of this Push holds it in memory any more.
        let replica = try hr.replica()
        let clash = Change(
            dot: Dot(replica: replica.id, counter: UInt64(replica.counter) + 1), kind: .request,
            recordID: UUID.timeOrdered(),
            context: VersionVector(),
            fields: [
                "key": .text("HR-LIS-1"), "customer": hub.department("HR"), "provider": hub.department("IT"),
                "title": .text("Again"), "priority": .text("normal"), "state": .text("submitted"),
            ], author: "ana", at: .now())
        guard case .refused(let refusal, _) = try hub.server.receive([ChangeSet([clash])], from: entry)[0] else {
            Issue.record("a key taken in an earlier batch was accepted again")
            return
        }
        #expect(refusal.code == .duplicate)

        hub.pullLimit = 5_000
        try hub.pull(hub.it)
        #expect(try hub.it.requests().count == sets * 100)
        #expect(try value(hub.it, id, "title") == .value(.text("Laptop, 16 GB")))
        #expect(try hub.it.comments(ofRequest: id).map(\.body) == ["Urgent"])
        #expect(try hub.server.timelineDrift().isEmpty && hub.it.timelineDrift().isEmpty)
    }

    /// A Push of several batches has the next batch judged while the last one is written
    /// (DESIGN §4): its judge reads what the batch ahead decided before what the database
    /// held, and reads the rest only once that batch is written. What it decides must be what
    /// it would decide with the batches judged one after the other. Here the last batch is
    /// judged while the one before it is written, and in it: a request under a key the batch
    /// before took (refused), a set that batch logged, again (a duplicate), and an edit and a
    /// comment of a request that batch made (accepted).
    @Test(arguments: Storage.allCases)
    func aBatchJudgedWhileTheOneAheadIsWrittenSeesAllThatOneDecided(storage: Storage) throws {
        let hub = try Hub(storage)
        let hr = hub.hr
        let sets = (ServerStore.batchChanges * 2 + 100) / 100
        try Self.writeRequests(sets: sets, at: hub)
        // The first set of the batch before the last, and its first request; the last batch
        // has room for the four sets added below.
        let layout = ServerStore.batches(of: try hr.pendingChangeSets())
        #expect(layout.count >= 3)
        let ahead = try #require(layout.dropLast().last?.first)
        let id = try #require(ahead.changes.first?.recordID)
        let key = try #require(ahead.changes.first?.fields["key"]?.text)
        try hr.write([Edit(.request, id, ["title": .text("Laptop, 16 GB")])], author: "ana")
        try hr.write(
            [Edit(.comment, UUID.timeOrdered(), ["request": .id(id), "body": .text("Urgent")])], author: "ana")
        var pending = try hr.pendingChangeSets()
        let replica = try hr.replica()
        let clash = Change(
            dot: Dot(replica: replica.id, counter: UInt64(replica.counter) + 1), kind: .request,
            recordID: UUID.timeOrdered(), context: VersionVector(),
            fields: [
                "key": .text(key), "customer": hub.department("HR"), "provider": hub.department("IT"),
                "title": .text("Again"), "priority": .text("normal"), "state": .text("submitted"),
            ], author: "ana", at: .now())
        pending.append(ChangeSet([clash]))
        pending.append(ahead)
        let batches = ServerStore.batches(of: pending)
        #expect(batches.count == layout.count)
        #expect(batches.dropLast().last?.first == ahead && batches.last?.contains(ChangeSet([clash])) == true)

        let entry = hub.registry[replica.id]!
        let before = try hub.server.latestSequence()
        let outcomes = try hub.server.receive(pending, from: entry)
        #expect(
            outcomes.dropLast(2).allSatisfy { $0 == .accepted }, "\(outcomes.dropLast(2).filter { $0 != .accepted })")
        guard case .refused(let refusal, _) = outcomes[outcomes.count - 2] else {
            Issue.record("a key the batch before took was taken again in the last: \(outcomes[outcomes.count - 2])")
            return
        }
        #expect(refusal.code == .duplicate)
        #expect(outcomes.last == .duplicate)

        // Everything written once: the log, the rows, the timelines.
        #expect(try hub.server.requests().count == sets * 100)
        #expect(try value(hub.server, id, "title") == .value(.text("Laptop, 16 GB")))
        #expect(try hub.server.comments(ofRequest: id).map(\.body) == ["Urgent"])
        #expect(try hub.server.timelineDrift().isEmpty)
        // Every change, once, and the clash's void.
        #expect(try hub.server.latestSequence() == before + Int64(sets * 100 + 2 + 1))
    }

    /// A batch made only of edits of requests the batch before made, judged while that one is
    /// written (DESIGN §4): its judge finds each request in what that batch decided, not in
    /// the database it read before, so every edit is accepted, and reaches IT.
    @Test(arguments: Storage.allCases)
    func editsOfRequestsTheBatchAheadMadeAreAcceptedAndReachTheProvider(storage: Storage) throws {
        var hub = try Hub(storage)
        let hr = hub.hr
        // Requests up to the end of a batch, then edits of the last 200 of them.
        var sets = 0
        var total = 0
        var limit = ServerStore.firstBatchChanges
        while total + limit <= ServerStore.batchChanges * 2 {
            total += limit
            sets += limit / 100
            limit = min(ServerStore.batchChanges, limit * 8 / 5 / 100 * 100)
        }
        let ids = try Self.writeRequests(sets: sets, at: hub)
        let edited = Array(ids.suffix(200))
        for chunk in [edited.prefix(100), edited.suffix(100)] {
            try hr.write(chunk.map { Edit(.request, $0, ["title": .text("Laptop, 16 GB")]) }, author: "ana")
        }
        let pending = try hr.pendingChangeSets()
        let batches = ServerStore.batches(of: pending)
        // The edits are a batch of their own, and the batch before made their requests.
        let last = try #require(batches.last)
        #expect(last.count == 2 && last.allSatisfy { set in set.changes.allSatisfy { $0.fields["title"] != nil } })
        let ahead = try #require(batches.dropLast().last)
        #expect(Set(ahead.flatMap(\.changes).map(\.recordID)).isSuperset(of: edited))

        let entry = hub.registry[try hr.replica().id]!
        let outcomes = try hub.server.receive(pending, from: entry)
        #expect(outcomes.allSatisfy { $0 == .accepted }, "\(outcomes.filter { $0 != .accepted })")
        try hr.recordPushResults(zip(pending, outcomes).map { ($0.firstCounter, $1) })
        hub.pullLimit = 5_000
        try hub.pull(hub.it)
        for id in edited { #expect(try value(hub.it, id, "title") == .value(.text("Laptop, 16 GB"))) }
        #expect(try hub.server.timelineDrift().isEmpty && hub.it.timelineDrift().isEmpty)
    }

    /// Writes `sets` sets of 100 new requests from HR to IT at HR, and returns the requests'
    /// ids in order.
    @discardableResult
    static func writeRequests(sets: Int, at hub: Hub) throws -> [UUID] {
        var ids: [UUID] = []
        for set in 0..<sets {
            let edits = (0..<100).map { _ in
                Edit(
                    .request, UUID.timeOrdered(),
                    [
                        "customer": hub.department("HR"), "provider": hub.department("IT"),
                        "title": .text("Laptop \(set)"), "priority": .text("normal"), "state": .text("submitted"),
                    ])
            }
            ids += edits.map(\.recordID)
            try hub.hr.write(edits, author: "ana")
        }
        return ids
    }
}
