import Foundation
import Testing

@testable import InternoModel

/// What a lifecycle step writes besides the state (Protocol §12.9), checked by the schema.
@Suite("What a step writes (Protocol §12.9)")
struct StepWriteTests {
    /// The states a request passes through to reach `state`, and the steps that get it there.
    static let routes: [String: [String]] = [
        "submitted": [], "acknowledged": ["ack"], "in_progress": ["start"], "waiting_on_customer": ["start", "wait"],
        "delivered": ["start", "deliver"],
    ]

    @Test(arguments: Schema.requestLifecycle.steps.map(\.verb))
    func everyStepWritesItsStampsOnceAndTheSchemaHoldsItToThem(verb: String) throws {
        let step = try #require(Schema.requestLifecycle.step(named: verb))
        for from in step.from.sorted() {
            var world = World()
            let id = try world.newRequest()
            for earlier in Self.routes[from]! { try world.take(id, earlier) }
            let by = step.by == .customer ? "HR" : "IT"
            let fields = world.stepFields(id, verb)
            let firstResponseSeen = world.value(id, "firstResponseAt") != nil
            // What the step writes follows from what the writer saw.
            #expect(
                (fields["firstResponseAt"] != nil) == (step.by == .provider && !firstResponseSeen), "\(verb) \(from)")
            #expect((fields["firstDeliveredAt"] != nil) == (verb == "deliver"), "\(verb) from \(from)")
            for stamp in step.stamps where fields[stamp] != nil {
                var without = fields
                without[stamp] = nil
                var other = world
                expectRefusal(.invalidValue, "\(verb) of request HR-LIS-1 must also write \(stamp)") {
                    try other.write(.request, id, without, by: by)
                }
                var wrong = fields
                wrong[stamp] = .time(Timestamp(millisecondsSince1970: World.epoch))
                expectRefusal(.invalidValue, "\(stamp) of request HR-LIS-1 is the time of the step") {
                    try other.write(.request, id, wrong, by: by)
                }
            }
            try world.write(.request, id, fields, by: by)
            #expect(world.value(id, "state") == .text(step.to))
        }
    }

    @Test func aStampIsWrittenByNothingButTheStepThatIsDue() throws {
        var world = World()
        let id = try world.newRequest()
        expectRefusal(.invalidValue, "firstResponseAt of request HR-LIS-1 is written only by a step that stamps it") {
            try world.write(.request, id, ["firstResponseAt": .time(world.now)], by: "IT")
        }
        try world.take(id, "start")
        var fields = world.stepFields(id, "wait")
        fields["firstResponseAt"] = .time(world.now)
        expectRefusal(.invalidValue, "firstResponseAt", "written only by a step that stamps it") {
            try world.write(.request, id, fields, by: "IT")
        }
        // A customer's step stamps nothing, and the customer may not write a stamp at all.
        try world.take(id, "deliver")
        expectRefusal(.notPermitted, "HR may not set the first response") {
            try world.write(.request, id, ["state": .text("closed"), "firstResponseAt": .time(world.now)], by: "HR")
        }
        try world.take(id, "confirm")
    }

    /// Two sites of a department decline and cancel at once; the conflict is resolved by
    /// writing one of the states alone: a resolution takes no step, so it needs no reason and
    /// writes no stamp (DESIGN §3.6).
    @Test func aResolutionWritesTheStateAloneWhateverItPicks() throws {
        var world = World()
        let id = try world.newRequest()
        let seen = world.records[id]!
        let now = world.now
        let decline = Change(
            dot: Dot(replica: ReplicaID(UUID()), counter: 1), kind: .request, recordID: id, context: seen.clock,
            fields: world.stepFields(id, "decline"), author: "it", at: now)
        let cancel = Change(
            dot: Dot(replica: ReplicaID(UUID()), counter: 1), kind: .request, recordID: id, context: seen.clock,
            fields: ["state": .text("cancelled")], author: "hr", at: now)
        var record = seen
        try record.apply(decline)
        try record.apply(cancel)
        world.records[id] = record
        #expect(record.resolve("state", policy: Schema.spec(.request).policy("state")).isConflict)
        // The customer may pick declined: before, it needed a reason only the provider may give.
        var customer = world
        try customer.write(.request, id, ["state": .text("declined")], by: "HR")
        #expect(customer.value(id, "state") == .text("declined"))
        #expect(customer.value(id, "declineReason") == .text("not ours"))
        // The provider may give the reason again, but not a stamp.
        var provider = world
        expectRefusal(.invalidValue, "written only by a step that stamps it") {
            try provider.write(
                .request, id, ["state": .text("declined"), "firstResponseAt": .time(provider.now)], by: "IT")
        }
        try provider.write(
            .request, id, ["state": .text("declined"), "declineReason": .text("still not ours")], by: "IT")
        #expect(provider.value(id, "declineReason") == .text("still not ours"))
    }
}

@Suite("Text and times (Protocol §12.4, §12.6)")
struct TextAndTimeRuleTests {
    static let received = Timestamp(iso8601: "2026-12-01T00:00:00Z")!

    static let times: [(Int64, Bool)] = [
        (-1, false), (0, false), (946_684_799_999, false), (946_684_800_000, true),
        (1_796_083_200_000 + 3_600_000, true), (1_796_083_200_000 + 3_600_001, false), (4_102_444_800_000, false),
        (Int64.max, false), (Int64.min, false),
    ]

    @Test(arguments: times)
    func aChangesTimeLiesFrom2000ToAnHourAfterItsReceipt(at: Int64, accepted: Bool) {
        do {
            try Schema.checkTime(Timestamp(millisecondsSince1970: at), receivedAt: Self.received)
            #expect(accepted, "\(at) was accepted")
        } catch {
            #expect(!accepted, "\(at) was refused: \(error.message)")
        }
    }

    @Test func aCheckReadsNoClockButTheOneItIsGiven() throws {
        var world = World()
        let id = try world.newRequest()
        let seen = world.records[id]!
        let change = Change(
            dot: Dot(replica: ReplicaID(UUID()), counter: 1), kind: .request, recordID: id, context: seen.clock,
            fields: ["title": .text("Laptop")], author: "hr", at: Timestamp(iso8601: "2100-01-01T00:00:00Z")!)
        let snapshot = world.records
        expectRefusal(.invalidValue, "more than an hour after its receipt") {
            try Schema.check(
                change, by: world.writer("HR"), seen: seen, lookup: { snapshot[$1] }, receivedAt: world.now)
        }
        try Schema.check(
            change, by: world.writer("HR"), seen: seen, lookup: { snapshot[$1] },
            receivedAt: Timestamp(iso8601: "2099-12-31T23:30:00Z")!)
    }

    @Test func textOverTheWiresByteLimitIsRefusedBeforeItCouldNeverBePushed() throws {
        var world = World()
        let id = try world.newRequest()
        // 16 385 characters, well under 20 000, but 65 540 bytes.
        let details = String(repeating: "\u{1F600}", count: 16_385)
        #expect(details.count <= 20_000 && details.utf8.count > Schema.maximumTextBytes)
        expectRefusal(.invalidValue, "65540 bytes long", "at most 65536 bytes") {
            try world.write(.request, id, ["details": .text(details)], by: "HR")
        }
        // One character of many code points: within 200 characters, over the bytes.
        let heavy = "e" + String(repeating: "\u{0301}", count: 40_000)
        #expect(heavy.count == 1)
        expectRefusal(.invalidValue, "at most 65536 bytes") {
            try world.write(.request, id, ["title": .text(heavy)], by: "HR")
        }
        try world.write(.request, id, ["details": .text(String(repeating: "\u{1F600}", count: 16_384))], by: "HR")
    }

    @Test func anAuthorOverTwoHundredBytesIsRefused() throws {
        var world = World()
        let id = try world.newRequest()
        let seen = world.records[id]!
        let snapshot = world.records
        for (author, accepted) in [
            (String(repeating: "a", count: 200), true), (String(repeating: "é", count: 101), false),
        ] {
            let change = Change(
                dot: Dot(replica: ReplicaID(UUID()), counter: 1), kind: .request, recordID: id, context: seen.clock,
                fields: ["title": .text("Laptop")], author: author, at: world.now)
            let check = { () throws(Refusal) in
                try Schema.check(
                    change, by: world.writer("HR"), seen: seen, lookup: { snapshot[$1] }, receivedAt: world.now)
            }
            if accepted {
                try check()
            } else {
                expectRefusal(.invalidValue, "author", "at most 200 bytes") { try check() }
            }
        }
    }

    /// Equal values never conflict, and text values are equal when canonically equivalent.
    @Test func canonicallyEquivalentTextsMergeAsOneValue() {
        let composed = "Caf\u{00E9}"
        let decomposed = "Cafe\u{0301}"
        #expect(Array(composed.utf8) != Array(decomposed.utf8))
        let siblings = [composed, decomposed].enumerated().map { index, text in
            Sibling(
                dot: Dot(replica: ReplicaID(UUID()), counter: UInt64(index + 1)), value: .text(text), author: "a",
                at: Timestamp(millisecondsSince1970: 0))
        }
        guard case .value(.text(let shown)) = FieldPolicy.manual.reduce(siblings) else {
            Issue.record("two canonically equivalent texts made a conflict")
            return
        }
        #expect(Array(shown.utf8) == Array(decomposed.utf8), "the sibling with the highest dot is shown")
        // Canonical forms are compared byte for byte: a canonically equivalent look-alike is not one.
        let hours = Schema.spec(.department).field("hours")!
        let lookalike = "mon-fri 09:00-17:00\u{037E} sat 10:00-13:00"
        #expect(lookalike == "mon-fri 09:00-17:00; sat 10:00-13:00", "Swift's == takes them as one text")
        #expect(throws: Refusal.self) { try Schema.validate(.text(lookalike), for: hours, of: .department) }
    }
}
