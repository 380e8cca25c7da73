import Foundation
import GRDB
import InternoModel
import Testing

@_spi(Database) @testable import InternoStore

/// The rules of Protocol §12 that the server enforces on a push, and that history written
/// before them is never judged again.
@Suite("Spec rules on the server (Protocol §12)")
struct SpecRuleStoreTests {
    func refusal(_ outcome: PushOutcome) -> Refusal? {
        if case .refused(let refusal, _) = outcome { return refusal }
        return nil
    }

    @Test(arguments: Storage.allCases)
    func aStepWithoutWhatItMustWriteIsRefusedWithTheRule(storage: Storage) throws {
        let hub = try Hub(storage)
        let (id, key) = try hub.newRequest()
        try hub.sync(hub.hr)
        try hub.sync(hub.it)
        // A client that sets the state alone, past its own checks, as the spec's reader did.
        _ = try forgeChange(on: hub.it, record: id, fields: ["state": .text("acknowledged")])
        let refused = try #require(refusal(try hub.push(hub.it)[0]))
        #expect(refused.code == .invalidValue)
        #expect(refused.message.contains("ack of request \(key) must also write firstResponseAt"))
        // The site rolls it back; the step as the site takes it is accepted everywhere.
        #expect(try value(hub.it, id, "state") == .value(.text("submitted")))
        try take("ack", on: id, at: hub.it, author: "rui")
        try hub.sync(hub.it)
        try hub.sync(hub.hr)
        #expect(try value(hub.hr, id, "state") == .value(.text("acknowledged")))
        guard case .value(.time) = try value(hub.hr, id, "firstResponseAt") else {
            Issue.record("HR shows no first response")
            return
        }
    }

    @Test func aChangeIsJudgedByTheServersClockWhenItArrives() throws {
        let hub = try Hub(.memory)
        let entry = hub.registry[try hub.hr.replica().id]!
        _ = try hub.newRequest()
        let late = try #require(try hub.hr.pendingChangeSets().first)
        let dated = late.changes[0].at.millisecondsSince1970
        // Received more than an hour before it was dated: the site's clock runs fast. Refused.
        let outcome = try hub.server.receive(
            late, from: entry, receivedAt: Timestamp(millisecondsSince1970: dated - 3_600_001))
        let refused = try #require(refusal(outcome))
        #expect(refused.code == .invalidValue)
        #expect(refused.message.contains("more than an hour after its receipt"))
        // Pushed again later, it gets the same refusal: the log is never judged again.
        #expect(try hub.server.receive(late, from: entry, receivedAt: .now()) == .refused(refused))
        // Exactly an hour ahead of the server's clock is within the allowance.
        _ = try hub.newRequest("Desk chair")
        let ahead = try #require(try hub.hr.pendingChangeSets().last)
        let receivedAt = Timestamp(millisecondsSince1970: ahead.changes[0].at.millisecondsSince1970 - 3_600_000)
        #expect(try hub.server.receive(ahead, from: entry, receivedAt: receivedAt) == .accepted)
    }

    @Test func aSiteMayRecordThePastButNotBefore2000() throws {
        let hub = try Hub(.memory)
        let (id, _) = try hub.newRequest()
        try hub.hr.write(
            [Edit(.request, id, ["title": .text("Laptop")])], author: "ana",
            at: Timestamp(iso8601: "2001-02-03T04:05:06Z")!)
        #expect(throws: StoreError.self) {
            try hub.hr.write(
                [Edit(.request, id, ["title": .text("Laptop")])], author: "ana",
                at: Timestamp(millisecondsSince1970: -1))
        }
        do {
            try hub.hr.write(
                [Edit(.request, id, ["title": .text("Laptop")])], author: "ana", at: Timestamp(millisecondsSince1970: 0)
            )
            Issue.record("a change dated 1970 was written")
        } catch StoreError.refused(let refusal) {
            #expect(refusal.code == .invalidValue)
            #expect(refusal.message.contains("must not be before 2000-01-01T00:00:00.000Z"))
        }
    }

    /// A change the server accepted before a rule existed is history: pulled, shown and
    /// rebuilt as it was, never judged again.
    @Test(arguments: Storage.allCases)
    func historyWrittenBeforeTheRulesIsNeverJudgedAgain(storage: Storage) throws {
        let hub = try Hub(storage)
        let (id, _) = try hub.newRequest()
        try hub.sync(hub.hr)
        // An earlier server accepted, from a site since gone, an ack without its first
        // response, dated 1970.
        let current = try #require(try hub.server.record(id))
        let old = Change(
            dot: Dot(replica: ReplicaID(UUID()), counter: 1), kind: .request, recordID: id, context: current.clock,
            fields: ["state": .text("acknowledged")], author: "old@IT-OLD", at: Timestamp(millisecondsSince1970: 0))
        try hub.server.writer.write { db in
            try ServerStore.judging(db) { judge in try judge.ingest(old, set: 1...1, into: current, audience: .derived)
            }
        }
        try hub.sync(hub.it)
        try hub.sync(hub.hr)
        for store in [hub.server, hub.hr, hub.it] as [any ReplicaStore] {
            try store.rebuildAll()
            #expect(try value(store, id, "state") == .value(.text("acknowledged")))
            #expect(try value(store, id, "firstResponseAt") == .unset)
            #expect(try store.log(of: id).contains { $0.dot == old.dot && $0.refusal == nil })
        }
        // The next step sees no first response and stamps one: the record heals going forward.
        try take("start", on: id, at: hub.it, author: "rui")
        try hub.sync(hub.it)
        #expect(try hub.it.conflicts().isEmpty)
        guard case .value(.time) = try value(hub.server, id, "firstResponseAt") else {
            Issue.record("the start after the old ack stamped no first response")
            return
        }
    }
}
