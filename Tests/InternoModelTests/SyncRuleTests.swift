import Foundation
import Testing

@testable import InternoModel

private let a = ReplicaID(UUID(uuidString: "00000000-0000-0000-0000-00000000000A")!)
private let b = ReplicaID(UUID(uuidString: "00000000-0000-0000-0000-00000000000B")!)
private let c = ReplicaID(UUID(uuidString: "00000000-0000-0000-0000-00000000000C")!)
private let recordID = UUID(uuidString: "11111111-1111-1111-1111-111111111111")!

private func change(
    _ replica: ReplicaID, _ counter: UInt64, context: VersionVector = VersionVector(),
    _ fields: [FieldName: FieldValue]
) -> Change {
    Change(
        dot: Dot(replica: replica, counter: counter), kind: .request, recordID: recordID, context: context,
        fields: fields, author: "\(replica)", at: Timestamp(millisecondsSince1970: Int64(counter)))
}

@Suite("Version vectors")
struct VersionVectorTests {
    @Test func coversDotsUpToTheCounter() {
        let clock = VersionVector([a: 3])
        #expect(clock.covers(Dot(replica: a, counter: 1)))
        #expect(clock.covers(Dot(replica: a, counter: 3)))
        #expect(!clock.covers(Dot(replica: a, counter: 4)))
        #expect(!clock.covers(Dot(replica: b, counter: 1)))
    }

    @Test func comparesAllFourWays() {
        let x = VersionVector([a: 2, b: 1])
        #expect(x.compare(VersionVector([a: 2, b: 1])) == .equal)
        #expect(x.compare(VersionVector([a: 3, b: 1])) == .before)
        #expect(x.compare(VersionVector([a: 1])) == .after)
        #expect(x.compare(VersionVector([a: 1, c: 1])) == .concurrent)
        #expect(VersionVector().compare(VersionVector()) == .equal)
    }

    @Test func mergeIsThePointwiseMaximum() {
        let merged = VersionVector([a: 2, b: 5]).merging(VersionVector([a: 4, c: 1]))
        #expect(merged == VersionVector([a: 4, b: 5, c: 1]))
        #expect(merged.firstMissing(of: VersionVector([a: 4, b: 6])) == Dot(replica: b, counter: 6))
        #expect(VersionVector([a: 0]).isEmpty)
    }
}

@Suite("Applying a change (DESIGN §3.3)")
struct ApplyTests {
    @Test func aNewChangeSetsItsFieldsAndAdvancesTheClock() throws {
        var record = RecordState(kind: .request, id: recordID)
        #expect(try record.apply(change(a, 1, ["title": .text("Laptop")])) == .applied)
        #expect(record.clock == VersionVector([a: 1]))
        #expect(record.resolve("title", policy: .manual) == .value(.text("Laptop")))
    }

    @Test func applyingTwiceChangesNothing() throws {
        var record = RecordState(kind: .request, id: recordID)
        let first = change(a, 1, ["title": .text("Laptop")])
        try record.apply(first)
        let before = record
        #expect(try record.apply(first) == .alreadySeen)
        #expect(record == before)
    }

    @Test func aWriteThatSawTheOldValueReplacesIt() throws {
        var record = RecordState(kind: .request, id: recordID)
        try record.apply(change(a, 1, ["title": .text("Laptop")]))
        try record.apply(change(b, 1, context: VersionVector([a: 1]), ["title": .text("Laptop + dock")]))
        #expect(record.siblings("title").map(\.dot) == [Dot(replica: b, counter: 1)])
    }

    @Test func concurrentWritesToOneFieldBothStay() throws {
        var record = RecordState(kind: .request, id: recordID)
        try record.apply(change(a, 1, ["title": .text("Laptop")]))
        try record.apply(change(a, 2, context: VersionVector([a: 1]), ["title": .text("Laptop, 16GB")]))
        try record.apply(change(b, 1, context: VersionVector([a: 1]), ["title": .text("Laptop, 32GB")]))
        #expect(record.siblings("title").map(\.value) == [.text("Laptop, 32GB"), .text("Laptop, 16GB")])
        #expect(record.clock == VersionVector([a: 2, b: 1]))
    }

    @Test func concurrentWritesToDifferentFieldsMerge() throws {
        var record = RecordState(kind: .request, id: recordID)
        try record.apply(change(a, 1, ["title": .text("Laptop"), "priority": .text("normal")]))
        try record.apply(change(a, 2, context: VersionVector([a: 1]), ["title": .text("Laptop + dock")]))
        try record.apply(change(b, 1, context: VersionVector([a: 1]), ["priority": .text("high")]))
        #expect(record.resolve("title", policy: .manual) == .value(.text("Laptop + dock")))
        #expect(record.resolve("priority", policy: .manual) == .value(.text("high")))
    }

    @Test func aChangeAheadOfItsContextIsRefusedAndChangesNothing() throws {
        var record = RecordState(kind: .request, id: recordID)
        try record.apply(change(a, 1, ["title": .text("Laptop")]))
        let before = record
        let early = change(b, 1, context: VersionVector([a: 2]), ["title": .text("x")])
        #expect(throws: ApplyError.causalityGap(change: early.dot, missing: Dot(replica: a, counter: 2))) {
            try record.apply(early)
        }
        #expect(record == before)
    }

    @Test func aChangeForAnotherRecordIsRefused() {
        var record = RecordState(kind: .request, id: UUID())
        #expect(throws: ApplyError.self) { try record.apply(change(a, 1, ["title": .text("x")])) }
        #expect(!record.exists)
    }

    @Test func theOrderOfConcurrentChangesDoesNotMatter() throws {
        let base = change(a, 1, ["title": .text("t"), "priority": .text("low")])
        let left = change(a, 2, context: VersionVector([a: 1]), ["title": .text("left")])
        let right = change(b, 1, context: VersionVector([a: 1]), ["title": .text("right"), "priority": .text("high")])
        let one = try RecordState.replay(kind: .request, id: recordID, changes: [base, left, right])
        let two = try RecordState.replay(kind: .request, id: recordID, changes: [base, right, left])
        #expect(one == two)
    }
}

@Suite("Field policies (DESIGN §3.5)")
struct FieldPolicyTests {
    private func siblings(_ values: [FieldValue]) -> [Sibling] {
        values.enumerated().map { index, value in
            Sibling(
                dot: Dot(replica: [a, b, c][index % 3], counter: UInt64(index + 1)), value: value, author: "x",
                at: Timestamp(millisecondsSince1970: 0))
        }
    }

    @Test func manualTurnsDistinctValuesIntoAConflictWithTheHighestDotProvisional() {
        let resolution = FieldPolicy.manual.reduce(siblings([.text("a"), .text("b")]))
        guard case .conflict(let provisional, let all) = resolution else {
            Issue.record("expected a conflict, got \(resolution)")
            return
        }
        #expect(provisional == .text("b"))
        #expect(all.count == 2)
    }

    @Test(arguments: [FieldPolicy.manual, .earliest, .latest, .workflow(Schema.requestLifecycle)])
    func equalValuesNeverConflict(policy: FieldPolicy) {
        #expect(policy.reduce(siblings([.text("delivered"), .text("delivered")])) == .value(.text("delivered")))
    }

    @Test func earliestAndLatestPickTheExtremes() {
        let times = siblings([.time(Timestamp(millisecondsSince1970: 50)), .time(Timestamp(millisecondsSince1970: 10))])
        #expect(FieldPolicy.earliest.reduce(times) == .value(.time(Timestamp(millisecondsSince1970: 10))))
        #expect(FieldPolicy.latest.reduce(siblings([.integer(3), .integer(9), .integer(4)])) == .value(.integer(9)))
    }

    @Test func workflowTakesTheFurthestStateOnOneForwardPath() {
        let policy = FieldPolicy.workflow(Schema.requestLifecycle)
        #expect(policy.reduce(siblings([.text("acknowledged"), .text("in_progress")])) == .value(.text("in_progress")))
        #expect(policy.reduce(siblings([.text("in_progress"), .text("cancelled")])) == .value(.text("cancelled")))
        #expect(
            policy.reduce(siblings([.text("acknowledged"), .text("in_progress"), .text("delivered")]))
                == .value(.text("delivered")))
    }

    @Test func workflowConflictsWhenStatesDiverge() {
        let policy = FieldPolicy.workflow(Schema.requestLifecycle)
        #expect(policy.reduce(siblings([.text("declined"), .text("in_progress")])).isConflict)
        #expect(policy.reduce(siblings([.text("delivered"), .text("cancelled")])).isConflict)
        #expect(policy.reduce(siblings([.text("waiting_on_customer"), .text("delivered")])).isConflict)
    }

    @Test func unwrittenIsUnset() {
        #expect(FieldPolicy.manual.reduce([]) == .unset)
    }
}

@Suite("Resolving conflicts (DESIGN §3.6)")
struct ResolutionTests {
    private func conflicted() throws -> RecordState {
        try RecordState.replay(
            kind: .request, id: recordID,
            changes: [
                change(a, 1, ["title": .text("t")]),
                change(a, 2, context: VersionVector([a: 1]), ["title": .text("mine")]),
                change(b, 1, context: VersionVector([a: 1]), ["title": .text("theirs")]),
            ])
    }

    @Test func aWriteWhoseContextCoversEverySiblingResolves() throws {
        var record = try conflicted()
        #expect(record.resolve("title", policy: .manual).isConflict)
        try record.apply(change(c, 1, context: record.clock, ["title": .text("theirs")]))
        #expect(record.resolve("title", policy: .manual) == .value(.text("theirs")))
    }

    @Test func theResolutionSupersedesTheSiblingsOnEveryReplica() throws {
        var here = try conflicted()
        let resolution = change(c, 1, context: here.clock, ["title": .text("agreed")])
        try here.apply(resolution)
        // Another replica received the siblings in another order, then the resolution.
        var there = try RecordState.replay(
            kind: .request, id: recordID,
            changes: [
                change(a, 1, ["title": .text("t")]),
                change(b, 1, context: VersionVector([a: 1]), ["title": .text("theirs")]),
                change(a, 2, context: VersionVector([a: 1]), ["title": .text("mine")]),
            ])
        try there.apply(resolution)
        #expect(here == there)
    }

    @Test func twoConcurrentResolutionsMakeASmallerConflictAndLoseNeither() throws {
        var record = try conflicted()
        let context = record.clock
        try record.apply(change(a, 3, context: context, ["title": .text("mine")]))
        try record.apply(change(b, 2, context: context, ["title": .text("theirs")]))
        let siblings = record.siblings("title")
        #expect(siblings.map(\.dot) == [Dot(replica: b, counter: 2), Dot(replica: a, counter: 3)])
        #expect(record.resolve("title", policy: .manual).isConflict)
    }
}

@Suite("Refused changes (DESIGN §3.4)")
struct VoidTests {
    let refusal = Refusal(.notPermitted, "IT may not confirm request HR-LIS-1")

    @Test func aVoidOnlyAdvancesTheClock() throws {
        var record = RecordState(kind: .request, id: recordID)
        try record.apply(change(a, 1, ["title": .text("t")]))
        let void = change(b, 1, context: VersionVector([a: 1]), ["title": .text("bad")]).voided(refusal)
        #expect(void.fields.isEmpty && void.context.isEmpty)
        try record.apply(void)
        #expect(record.clock == VersionVector([a: 1, b: 1]))
        #expect(record.resolve("title", policy: .manual) == .value(.text("t")))
    }

    @Test func aLaterChangeNamingTheVoidDotStillApplies() throws {
        var record = RecordState(kind: .request, id: recordID)
        try record.apply(change(b, 1, ["title": .text("bad")]).voided(refusal))
        try record.apply(change(b, 2, context: VersionVector([b: 1]), ["title": .text("good")]))
        #expect(record.resolve("title", policy: .manual) == .value(.text("good")))
    }

    @Test func rebuildingWithoutTheRefusedChangeRestoresWhatWasThere() throws {
        let log = [
            change(a, 1, ["title": .text("t"), "priority": .text("low")]),
            change(b, 1, context: VersionVector([a: 1]), ["title": .text("refused title")]),
            change(b, 2, context: VersionVector([a: 1, b: 1]), ["priority": .text("high")]),
        ]
        let rebuilt = try RecordState.replay(
            kind: .request, id: recordID, changes: log, voided: [Dot(replica: b, counter: 1): refusal])
        #expect(rebuilt.resolve("title", policy: .manual) == .value(.text("t")))
        #expect(rebuilt.resolve("priority", policy: .manual) == .value(.text("high")))
        #expect(rebuilt.clock == VersionVector([a: 1, b: 2]))
        // The server, which applied the void, holds the same record.
        var central = RecordState(kind: .request, id: recordID)
        try central.apply(log[0])
        try central.apply(log[1].voided(refusal))
        try central.apply(log[2])
        #expect(central == rebuilt)
    }

    @Test func aRecordWhoseOnlyWriteWasRefusedDoesNotExist() throws {
        var record = RecordState(kind: .request, id: recordID)
        try record.apply(change(a, 1, ["title": .text("t")]).voided(refusal))
        #expect(!record.exists)
    }

    @Test func theViewAtAContextIsWhatTheWriterSaw() throws {
        let log = [
            change(a, 1, ["state": .text("submitted")]),
            change(b, 1, context: VersionVector([a: 1]), ["state": .text("acknowledged")]),
        ]
        let view = try RecordState.view(kind: .request, id: recordID, log: log, at: VersionVector([a: 1]))
        #expect(view.resolve("state", policy: .manual) == .value(.text("submitted")))
    }

    /// A context that covers a change covers what that change had seen (DESIGN §3.9: a
    /// restored site's rebuilt context may name only the change).
    @Test func theViewAtAContextTakesInWhatTheChangesItCoversHadSeen() throws {
        let log = [
            change(a, 1, ["state": .text("submitted"), "title": .text("Laptop")]),
            change(a, 2, context: VersionVector([a: 1]), ["title": .text("Laptop, 16 GB")]),
            change(b, 1, context: VersionVector([a: 2]), ["assignee": .text("rui")]),
            change(a, 3, context: VersionVector([a: 2]), ["details": .text("by Monday")]),
        ]
        let context = VersionVector([a: 1, b: 1])
        #expect(RecordState.seen(context, in: log) == VersionVector([a: 2, b: 1]))
        let view = try RecordState.view(kind: .request, id: recordID, log: log, at: context)
        #expect(view.resolve("assignee", policy: .manual) == .value(.text("rui")))
        #expect(view.resolve("title", policy: .manual) == .value(.text("Laptop, 16 GB")))
        #expect(view.resolve("details", policy: .manual) == .unset)
    }
}
