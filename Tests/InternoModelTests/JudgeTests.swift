import Foundation
import Testing

@testable import InternoModel

/// The judge in memory, over a source that is nothing but dictionaries: what it decides
/// depends on what it reads and on the batch so far, never on a database (DESIGN §4).
@Suite("Judging a batch")
struct JudgeTests {
    /// A database as plain values: the World's departments and whatever a test adds.
    final class MemorySource: JudgingSource {
        var records: [UUID: RecordState] = [:]
        var logs: [UUID: [LoggedChange]] = [:]
        var audiencesByRecord: [UUID: [Audience]] = [:]

        init(_ world: World) {
            records = world.records
        }

        /// Holds `changes`, each a set of its own, applied to their records.
        func hold(_ changes: [Change]) throws {
            for change in changes {
                var record = records[change.recordID] ?? RecordState(kind: change.kind, id: change.recordID)
                try record.apply(change)
                records[change.recordID] = record
                logs[change.recordID, default: []].append(
                    LoggedChange(change: change, set: change.dot.counter...change.dot.counter))
            }
        }

        func record(_ id: UUID) throws -> RecordState? { records[id] }
        func logged(_ dot: Dot) throws -> LoggedChange? {
            logs.values.lazy.flatMap { $0 }.first { $0.change.dot == dot }
        }
        func log(ofRecord id: UUID) throws -> [Change] { (logs[id] ?? []).map(\.change) }
        func hasDepartment(code: String) throws -> Bool {
            records.values.contains { $0.kind == .department && $0.value(of: "code") == .text(code) }
        }
        func request(withKey key: String) throws -> UUID? {
            records.values.first { $0.kind == .request && $0.exists && $0.value(of: "key") == .text(key) }?.id
        }
        func audiences(ofRecord id: UUID) throws -> [Audience] { audiencesByRecord[id] ?? [] }
    }

    let world = World()
    let site = ReplicaID(UUID())
    let received = Timestamp(millisecondsSince1970: World.epoch + 3_600_000)
    var pusher: Pusher {
        let hr = world.departments["HR"]!
        return Pusher(replica: site, department: hr, code: "HR-LIS", departmentCode: "HR", scope: .department(hr))
    }

    func change(
        _ counter: UInt64, _ id: UUID, _ fields: [FieldName: FieldValue], context: VersionVector = VersionVector(),
        kind: RecordKind = .request, requires: [Dot] = []
    ) -> Change {
        Change(
            dot: Dot(replica: site, counter: counter), kind: kind, recordID: id, context: context, fields: fields,
            author: "ana@HR-LIS", at: Timestamp(millisecondsSince1970: World.epoch + Int64(counter) * 1000),
            requires: requires)
    }

    func creation(_ counter: UInt64, _ id: UUID, key: String) -> Change {
        change(
            counter, id,
            [
                "key": .text(key), "customer": world.department("HR"), "provider": world.department("IT"),
                "title": .text("Laptop"), "priority": .text("normal"), "state": .text("submitted"),
            ])
    }

    @Test func aPushIsJudgedSetBySetAndEachSetSeesWhatTheBatchAcceptedBeforeIt() throws {
        let judge = Judge(MemorySource(world))
        let first = UUID()
        let second = UUID()
        let created = creation(1, first, key: "HR-LIS-1")
        // The second set takes the key the first took: only the batch knows it is taken.
        let clash = creation(2, second, key: "HR-LIS-1")
        var afterCreation = VersionVector()
        afterCreation.add(created.dot)
        let edit = change(3, first, ["title": .text("Laptop, 16 GB")], context: afterCreation)

        let outcomes = try [created, clash, edit].map {
            try judge.push(ChangeSet([$0]), from: pusher, receivedAt: received)
        }

        #expect(outcomes[0] == .accepted)
        guard case .refused(let refusal, let kept) = outcomes[1] else {
            Issue.record("the clashing key was not refused: \(outcomes[1])")
            return
        }
        #expect(refusal.code == .duplicate && refusal.message.contains("HR-LIS-1") && kept.isEmpty)
        #expect(outcomes[2] == .accepted)

        // The log gets all three, the refused one as a void that only HR receives.
        let appended = judge.appended
        #expect(appended.map(\.change.dot.counter) == [1, 2, 3])
        #expect(appended.map { $0.change.refusal?.code } == [nil, .duplicate, nil])
        let hr = world.departments["HR"]!
        let it = world.departments["IT"]!
        #expect(appended.map(\.audience) == [.departments([hr, it]), .departments([hr]), .departments([hr, it])])

        // The records as the batch leaves them: the new request with its timeline from the
        // batch alone, and the refused one only as a clock with no query row to time.
        let records = try judge.records()
        let request = try #require(records.first { $0.record.id == first })
        #expect(request.record.value(of: "title") == .text("Laptop, 16 GB"))
        #expect(request.timeline == RequestTimeline(log: [created, edit]))
        let refused = try #require(records.first { $0.record.id == second })
        #expect(!refused.record.exists && refused.timeline == nil)
    }

    @Test func aSetRefusedHalfWayLeavesNothingButItsVoidsAndADeferredSetNothingAtAll() throws {
        let judge = Judge(MemorySource(world))
        let good = UUID()
        let bad = UUID()
        // One set: a valid creation, then a request whose title is empty.
        var broken = creation(2, bad, key: "HR-LIS-2")
        broken.fields["title"] = .text("")
        let set = ChangeSet([creation(1, good, key: "HR-LIS-1"), broken])
        guard case .refused = try judge.push(set, from: pusher, receivedAt: received) else {
            Issue.record("a set with an invalid change was not refused")
            return
        }
        // Waits for a change of the site's own that the server never received.
        let waiting = creation(3, UUID(), key: "HR-LIS-3")
        var deferred = waiting
        deferred.requires = [Dot(replica: site, counter: 99)]
        #expect(
            try judge.push(ChangeSet([deferred]), from: pusher, receivedAt: received)
                == .deferred(missing: Dot(replica: site, counter: 99)))

        #expect(judge.appended.allSatisfy { $0.change.refusal != nil })
        #expect(judge.appended.map(\.change.dot.counter) == [1, 2])
        #expect(try judge.records().allSatisfy { !$0.record.exists })
        #expect(try judge.hasRequest(key: "HR-LIS-1") == false)
    }

    @Test func aStoredRequestGetsANewTimelineOnlyWhenAChangeWritesWhatTheTimelineReads() throws {
        let source = MemorySource(world)
        let id = UUID()
        let created = creation(1, id, key: "HR-LIS-1")
        try source.hold([created])
        var seen = VersionVector()
        seen.add(created.dot)

        let retitled = Judge(source)
        #expect(
            try retitled.push(
                ChangeSet([change(2, id, ["title": .text("Desk")], context: seen)]), from: pusher, receivedAt: received)
                == .accepted)
        #expect(try retitled.records().map(\.timeline) == [nil])

        let cancelled = Judge(source)
        let cancel = change(2, id, ["state": .text("cancelled")], context: seen)
        #expect(try cancelled.push(ChangeSet([cancel]), from: pusher, receivedAt: received) == .accepted)
        #expect(try cancelled.records().map(\.timeline) == [RequestTimeline(log: [created, cancel])])
    }

    @Test func aPulledChangeOfTheSitesOwnIsHadRefusedOrStepsAside() throws {
        let source = MemorySource(world)
        let id = UUID()
        let mine = creation(1, id, key: "HR-LIS-1")
        try source.hold([mine])
        let judge = Judge(source)
        let refusal = Refusal(.notPermitted, "HR may not")

        #expect(try judge.pulled(mine, by: site) == .alreadyHad)
        #expect(try judge.pulled(mine.voided(refusal), by: site) == .refusalOfOwn(firstCounter: 1, refusal))
        var rewritten = mine
        rewritten.fields["title"] = .text("Written again after a restore")
        #expect(try judge.pulled(rewritten, by: site) == .stepAside(counter: rewritten.dot.counter))
        // Another site's change, and one of this site's that it does not hold: taken in.
        #expect(try judge.pulled(mine, by: ReplicaID(UUID())) == .take)
        #expect(try judge.pulled(creation(2, UUID(), key: "HR-LIS-2"), by: site) == .take)

        // A void of its own change that it already holds as refused changes nothing.
        let refusedSource = MemorySource(world)
        var refusedMine = mine
        refusedMine.refusal = refusal
        refusedSource.logs[id] = [LoggedChange(change: refusedMine, set: 1...1)]
        #expect(try Judge(refusedSource).pulled(mine.voided(refusal), by: site) == .knownRefusal)
    }
}
