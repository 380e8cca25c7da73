import Foundation
import Testing

@testable import InternoModel

@Suite("Values and validation")
struct ValidationTests {
    @Test func everyFieldOfEveryKindHasAWriterAndAValidPolicy() {
        for kind in RecordKind.allCases {
            let spec = Schema.spec(kind)
            #expect(!spec.fields.isEmpty)
            for field in spec.fields {
                #expect(!field.writers.isEmpty, "\(kind).\(field.name) has no writer")
                #expect(!(field.required && field.nullable), "\(kind).\(field.name) is required yet nullable")
            }
        }
        #expect(Schema.spec(.request).policy("state") == .workflow(Schema.requestLifecycle))
        #expect(Schema.spec(.request).policy("firstResponseAt") == .earliest)
    }

    @Test func aNewRecordNeedsItsRequiredFields() throws {
        var world = World()
        expectRefusal(.invalidValue, "a new request needs its title") {
            try world.write(
                .request, UUID(),
                [
                    "key": .text("HR-LIS-9"), "customer": world.department("HR"), "provider": world.department("IT"),
                    "priority": .text("normal"), "state": .text("submitted"),
                ], by: "HR")
        }
    }

    @Test func aNewRequestStartsSubmittedAndNotToItself() throws {
        var world = World()
        var fields: [FieldName: FieldValue] = [
            "key": .text("HR-LIS-9"), "customer": world.department("HR"), "provider": world.department("IT"),
            "title": .text("t"), "priority": .text("normal"), "state": .text("delivered"),
        ]
        expectRefusal(.invalidTransition, "starts as submitted") { try world.write(.request, UUID(), fields, by: "HR") }
        fields["state"] = .text("submitted")
        fields["provider"] = world.department("HR")
        expectRefusal(.invalidValue, "to itself") { try world.write(.request, UUID(), fields, by: "HR") }
        fields["provider"] = .id(UUID())
        expectRefusal(.notFound, "provider department", "does not exist") {
            try world.write(.request, UUID(), fields, by: "HR")
        }
    }

    @Test func unknownFieldsAreRefusedWithTheListOfKnownOnes() throws {
        var world = World()
        let id = try world.newRequest()
        expectRefusal(.unknownField, "no field 'titel'", "title") {
            try world.write(.request, id, ["titel": .text("x")], by: "HR")
        }
    }

    @Test(arguments: [
        ("priority", FieldValue.text("hgih"), "one of low, normal, high, urgent"),
        ("priority", FieldValue.integer(3), "one of low"),
        ("title", FieldValue.text(""), "1 to 200 characters"),
        ("title", FieldValue.text(String(repeating: "x", count: 201)), "1 to 200 characters"),
        ("title", FieldValue.text("bell\u{07}"), "control characters"),
        ("title", FieldValue.null, "cannot be cleared"),
        ("neededBy", FieldValue.text("tomorrow"), "must be a time"),
    ])
    func invalidRequestValuesAreRefused(field: String, value: FieldValue, words: String) throws {
        var world = World()
        let id = try world.newRequest()
        let before = world.records[id]
        expectRefusal(.invalidValue, words) { try world.write(.request, id, [field: value], by: "HR") }
        #expect(world.records[id] == before)
    }

    @Test func ratingsOutOfRangeAreRefused() throws {
        var world = World()
        let request = try world.newRequest()
        try world.take(request, "start", "deliver")
        let id = Schema.feedbackID(request: request, by: .customer)
        expectRefusal(.invalidValue, "a whole number from 1 to 5", "got 6") {
            try world.write(
                .feedback, id, ["request": .id(request), "by": .text("customer"), "rating": .integer(6)], by: "HR")
        }
        // A whole number out of range is not told it is a whole number (issue 14); a value of
        // another type is told what it was.
        do {
            try world.write(
                .feedback, id, ["request": .id(request), "by": .text("customer"), "rating": .integer(6)], by: "HR")
        } catch {
            #expect(error.message.hasSuffix("must be a whole number from 1 to 5; got 6"), "\(error.message)")
        }
        expectRefusal(.invalidValue, "got 4s (a duration)") {
            try world.write(
                .feedback, id, ["request": .id(request), "by": .text("customer"), "rating": .duration(4)], by: "HR")
        }
        expectRefusal(.invalidValue, "from 1 to 7") {
            try world.write(
                .feedback, id,
                ["request": .id(request), "by": .text("customer"), "rating": .integer(3), "effort": .integer(0)],
                by: "HR")
        }
    }

    @Test func departmentValuesAreCheckedAndCanonical() throws {
        var world = World()
        let id = world.departments["IT"]!
        expectRefusal(.invalidValue, "time zone name") {
            try world.write(.department, id, ["timeZone": .text("Mars/Olympus")], as: .admin)
        }
        expectRefusal(.invalidValue, "canonical form, 'mon-fri 09:00-17:00'") {
            try world.write(.department, id, ["hours": .text("mon-fri 9:00-17:00")], as: .admin)
        }
        expectRefusal(.invalidValue, "YYYY-MM-DD") {
            try world.write(.department, id, ["holidays": .text("2026-02-30")], as: .admin)
        }
        try world.write(.department, id, ["holidays": .text("2026-12-25, 2026-12-26")], as: .admin)
        expectRefusal(.invalidValue, "uppercase letter") {
            try world.write(.department, UUID(), ["code": .text("it"), "name": .text("x")], as: .admin)
        }
    }

    @Test func declineNeedsAReasonAndOnlyThen() throws {
        var world = World()
        let id = try world.newRequest()
        expectRefusal(.invalidValue, "needs a reason") {
            try world.write(.request, id, ["state": .text("declined")], by: "IT")
        }
        expectRefusal(.invalidValue, "only with the state it explains (declined)") {
            try world.write(.request, id, ["declineReason": .text("because")], by: "IT")
        }
        try world.take(id, "decline")
        #expect(world.value(id, "declineReason") == .text("not ours"))
    }
}

@Suite("The request lifecycle (DESIGN §7.3)")
struct LifecycleTests {
    @Test func forbiddenTransitionsSayWhatIsAllowed() throws {
        var world = World()
        let id = try world.newRequest()
        expectRefusal(.invalidTransition, "cannot go from submitted to delivered", "ack (to acknowledged)") {
            try world.write(.request, id, ["state": .text("delivered")], by: "IT")
        }
        expectRefusal(.invalidTransition, "already submitted") {
            try world.write(.request, id, ["state": .text("submitted")], by: "IT")
        }
    }

    @Test func theWholeHappyPathAndTheLoops() throws {
        var world = World()
        let id = try world.newRequest()
        try world.take(id, "ack", "start", "wait", "resume", "deliver", "reopen", "deliver", "confirm")
        #expect(world.value(id, "state") == .text("closed"))
    }

    @Test func aConflictedStateIsResolvedByPickingASiblingAndNothingElse() throws {
        var world = World()
        let id = try world.newRequest()
        try world.take(id, "start")
        // IT delivers and HR cancels, concurrently: both saw in_progress.
        let seen = world.records[id]!
        let now = world.now
        let deliver = Change(
            dot: Dot(replica: ReplicaID(UUID()), counter: 1), kind: .request, recordID: id, context: seen.clock,
            fields: world.stepFields(id, "deliver"), author: "it", at: now)
        let cancel = Change(
            dot: Dot(replica: ReplicaID(UUID()), counter: 1), kind: .request, recordID: id, context: seen.clock,
            fields: ["state": .text("cancelled")], author: "hr", at: now)
        let snapshot = world.records
        try Schema.check(deliver, by: world.writer("IT"), seen: seen, lookup: { snapshot[$1] }, receivedAt: now)
        try Schema.check(cancel, by: world.writer("HR"), seen: seen, lookup: { snapshot[$1] }, receivedAt: now)
        var record = seen
        try record.apply(deliver)
        try record.apply(cancel)
        world.records[id] = record
        #expect(record.resolve("state", policy: Schema.spec(.request).policy("state")).isConflict)
        expectRefusal(.conflictPending, "in conflict", "conflicts resolve") {
            try world.write(.request, id, ["state": .text("closed")], by: "HR")
        }
        try world.write(.request, id, ["state": .text("cancelled")], by: "IT")
        #expect(world.value(id, "state") == .text("cancelled"))
    }

    @Test func permissionsAreJudgedAgainstWhatTheWriterHadSeen() throws {
        var world = World()
        let id = try world.newRequest()
        let seenAtSubmission = world.records[id]!
        try world.take(id, "start", "deliver", "confirm")
        // HR edited the title offline while the request was still submitted: legal where it was done.
        let offlineEdit = Change(
            dot: Dot(replica: ReplicaID(UUID()), counter: 1), kind: .request, recordID: id,
            context: seenAtSubmission.clock, fields: ["title": .text("Offline title")], author: "hr",
            at: world.now)
        let snapshot = world.records
        try Schema.check(
            offlineEdit, by: world.writer("HR"), seen: seenAtSubmission, lookup: { snapshot[$1] }, receivedAt: world.now
        )
        // The same edit judged against the closed request, as if HR had seen it, is refused.
        #expect(throws: Refusal.self) {
            try Schema.check(
                offlineEdit, by: world.writer("HR"), seen: world.records[id]!, lookup: { snapshot[$1] },
                receivedAt: world.now)
        }
    }
}

@Suite("Value parsing")
struct ValueParsingTests {
    @Test(arguments: [("90m", Int64(5400)), ("1h30m", 5400), ("2d", 172_800), ("1w", 604_800), ("45s", 45)])
    func durations(text: String, seconds: Int64) {
        #expect(DurationText.parse(text) == seconds)
    }

    @Test(arguments: ["", "h", "5", "5x", "1h5", "-3h", "99999999999999999999d"])
    func invalidDurations(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test func durationsFormatBack() {
        #expect(DurationText.format(seconds: 5400) == "1h30m")
        #expect(DurationText.format(seconds: 0) == "0s")
        #expect(DurationText.parse(DurationText.format(seconds: 93_784)) == 93_784)
    }

    @Test func weeklyHoursParseAndPrintCanonically() throws {
        let hours = try WeeklyHours(parsing: "mon-thu 09:00-12:00 13:00-17:00, fri 09:00-15:00")
        #expect(hours.description == "mon-thu 09:00-12:00 13:00-17:00; fri 09:00-15:00")
        #expect(hours.days[4] == [540..<900])
        #expect(hours.days[5].isEmpty)
        #expect(WeeklyHours.standard.description == "mon-fri 09:00-17:00")
        #expect(throws: ValueError.self) { try WeeklyHours(parsing: "mon 17:00-09:00") }
        #expect(throws: ValueError.self) { try WeeklyHours(parsing: "mon 09:00-12:00 11:00-13:00") }
        #expect(throws: ValueError.self) { try WeeklyHours(parsing: "funday 09:00-12:00") }
        #expect(throws: ValueError.self) { try WeeklyHours(parsing: "mon 09:00-12:00; mon 13:00-14:00") }
    }

    @Test func priorityTargetsParse() throws {
        let targets = try PriorityTargets(parsing: "high=2h/1d, urgent=30m/4h")
        #expect(targets.description == "urgent=30m/4h, high=2h/1d")
        #expect(targets.targets["urgent"]?.deliver == 14_400)
        #expect(throws: ValueError.self) { try PriorityTargets(parsing: "critical=1h/2h") }
    }

    /// A standard's per-priority targets are read for the request's priority, and ones that
    /// cannot be read are an error, never a quiet fall back to the general targets.
    @Test func serviceTargetsTakeThePriorityTargetsOrRefuseUnreadableOnes() throws {
        func standard(_ priorityTargets: String) throws -> RecordState {
            var record = RecordState(kind: .standard, id: UUID())
            try record.apply(
                Change(
                    dot: Dot(replica: ReplicaID(UUID()), counter: 1), kind: .standard, recordID: record.id,
                    context: VersionVector(),
                    fields: [
                        "ackTarget": .duration(7_200), "deliverTarget": .duration(86_400),
                        "priorityTargets": .text(priorityTargets),
                    ], author: "ana@HR-LIS", at: Timestamp(millisecondsSince1970: 0)))
            return record
        }
        let readable = try standard("urgent=30m/4h")
        #expect(try ServiceTargets(standard: readable, priority: "urgent").deliver == 14_400)
        #expect(try ServiceTargets(standard: readable, priority: "normal").deliver == 86_400)
        #expect(try ServiceTargets(standard: readable, priority: nil).acknowledge == 7_200)
        let unreadable = try standard("urgent=soon")
        #expect(throws: ValueError.self) { try ServiceTargets(standard: unreadable, priority: "urgent") }
        #expect(throws: ValueError.self) { try ServiceTargets(standard: unreadable, priority: "normal") }
    }

    @Test func derivedIDsAreStable() {
        #expect(DerivedID.make("a", "b") == DerivedID.make("a", "b"))
        #expect(DerivedID.make("a", "b") != DerivedID.make("ab", ""))
        #expect(DerivedID.fingerprint("x").count == 16)
    }

    @Test func timestampsRoundTripISO8601() {
        let time = Timestamp(iso8601: "2026-11-23T09:30:00Z")
        #expect(time?.millisecondsSince1970 == 1_795_426_200_000)
        #expect(time.flatMap { Timestamp(iso8601: $0.description) } == time)
        #expect(Timestamp(iso8601: "23/11/2026") == nil)
    }
}

@Suite("Binary encoding")
struct BinaryEncodingTests {
    @Test func valuesClocksAndSiblingsRoundTrip() throws {
        let replica = ReplicaID(UUID())
        let values: [FieldName: FieldValue] = [
            "n": .null, "b": .bool(true), "i": .integer(-42), "d": .duration(3600),
            "t": .time(Timestamp(millisecondsSince1970: -5)), "s": .text("héllo\n"), "u": .id(UUID()),
        ]
        let clock = VersionVector([replica: 7, ReplicaID(UUID()): UInt64.max])
        let siblings: [FieldName: [Sibling]] = [
            "title": [
                Sibling(
                    dot: Dot(replica: replica, counter: 3), value: .text("x"), author: "ana",
                    at: Timestamp(millisecondsSince1970: 1))
            ]
        ]
        var writer = BinaryWriter()
        writer.write(fields: values)
        writer.write(clock: clock)
        writer.write(siblings: siblings)
        var reader = BinaryReader(writer.bytes)
        #expect(try reader.readFields() == values)
        #expect(try reader.readClock() == clock)
        #expect(try reader.readSiblings() == siblings)
        #expect(reader.isAtEnd)
    }

    @Test func truncatedOrCorruptInputThrowsAndNeverCrashes() {
        var writer = BinaryWriter()
        writer.write(fields: ["title": .text("Laptop"), "n": .integer(1)])
        let bytes = writer.bytes
        for length in 0..<bytes.count {
            var reader = BinaryReader(Array(bytes.prefix(length)))
            #expect(throws: BinaryReader.Error.self) { try reader.readFields() }
        }
        var reader = BinaryReader([1, 1, 0x61, 99])
        #expect(throws: BinaryReader.Error.unknownTag(99)) { try reader.readFields() }
        var huge = BinaryReader([0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
        #expect(throws: BinaryReader.Error.self) { try huge.readFields() }
    }

    /// Strings come back exactly as written, ASCII or not, and bytes that are not UTF-8 are
    /// an error wherever they are in the string, never a string with replacement characters.
    @Test func stringsComeBackExactlyAndBytesThatAreNotUTF8AreRefused() throws {
        let strings = ["", "ana", "Laptop for the new hire", "Müller", "東京の新人", "🚀 ready", "a\u{0}b", "e\u{301}"]
        var writer = BinaryWriter()
        for string in strings { writer.write(string: string) }
        var reader = BinaryReader(writer.bytes)
        for string in strings {
            let read = try reader.readString()
            #expect(Array(read.utf8) == Array(string.utf8))
        }
        #expect(reader.isAtEnd)

        // A lone continuation byte, a truncated sequence, an overlong encoding, a surrogate,
        // and a byte UTF-8 never uses: alone, first, in the middle and last.
        for bad: [UInt8] in [[0x80], [0xE6, 0x9D], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xFF]] {
            for (prefix, suffix) in [
                ([], []), ([], Array("cd".utf8)), (Array("ab".utf8), Array("cd".utf8)), (Array("ab".utf8), []),
            ] {
                let body = prefix + bad + suffix
                var reader = BinaryReader([UInt8(body.count)] + body)
                #expect(throws: BinaryReader.Error.invalidUTF8) { try reader.readString() }
            }
        }
    }
}
