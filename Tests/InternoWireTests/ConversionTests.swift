import Foundation
import InternoModel
import InternoWire
import NIOCore
import Testing

@Suite("Messages to and from the model")
struct ConversionTests {
    let replica = ReplicaID(UUID(uuidString: "00000000-0000-4000-8000-000000000001")!)

    func change(_ counter: UInt64, _ fields: [FieldName: FieldValue], refusal: Refusal? = nil) -> Change {
        Change(
            dot: Dot(replica: replica, counter: counter), kind: .request,
            recordID: UUID(uuidString: "00000000-0000-4000-8000-0000000000aa")!,
            context: VersionVector([replica: counter - 1, ReplicaID(UUID()): 3]), fields: fields, author: "ana@HR-LIS",
            at: Timestamp(millisecondsSince1970: 1_795_426_200_000), refusal: refusal)
    }

    @Test func helloAndWelcomeRoundTripAndAMalformedOneIsRefused() throws {
        let hello = Hello(
            protocolVersion: 1, replica: replica, schemaVersion: 4, cursor: 42, cursorEpoch: 7,
            clientTime: Timestamp(millisecondsSince1970: 1_795_426_200_000), clientVersion: "0.1.0")
        #expect(try Interno_V1_Hello(hello).model() == hello)
        let welcome = Welcome(
            protocolVersion: 1, server: ReplicaID(UUID()), serverTime: Timestamp(millisecondsSince1970: 5),
            position: SyncPosition(latestSequence: 99, heldCounters: [1...4, 6...9], cursorValid: false),
            maximumFrameBytes: 16_777_216, maximumPushSets: 2_000, maximumPullChanges: 5_000, departmentCode: "HR",
            siteCode: "HR-LIS", scope: .department)
        let message = Interno_V1_Welcome(welcome)
        #expect(message.highestCounter == 9 && message.cursorReset)
        #expect(try message.model() == welcome)

        var short = Interno_V1_Hello(hello)
        short.replicaID = Data([1, 2, 3])
        #expect(throws: WireError.self) { try short.model() }
        var backwards = message
        backwards.heldCounters = [Interno_V1_CounterRange(5...5)]
        backwards.heldCounters[0].last = 2
        #expect(throws: WireError.self) { try backwards.model() }
    }

    @Test func everyValueTypeRoundTrips() throws {
        let set = ChangeSet([
            change(
                2,
                [
                    "a": .null, "b": .bool(true), "c": .integer(-7), "d": .duration(3600),
                    "e": .time(Timestamp(millisecondsSince1970: -1)), "f": .text("héllo"), "g": .id(UUID()),
                ]),
            change(3, [:], refusal: Refusal(.notPermitted, "IT may not")),
        ])
        #expect(try Interno_V1_ChangeSet(set).model() == set)
    }

    @Test func invalidMessagesAreRefusedWithAReason() throws {
        var wire = Interno_V1_ChangeSet(ChangeSet([change(2, ["title": .text("t")])]))
        var bad = wire
        bad.replica = Data([1, 2, 3])
        #expect(throws: WireError.self) { try bad.model() }
        bad = wire
        bad.changes = []
        #expect(throws: WireError.malformed("a change set holds no change")) { try bad.model() }
        bad = wire
        bad.changes[0].kind = "invoice"
        #expect(throws: WireError.self) { try bad.model() }
        bad = wire
        bad.changes[0].fields = []
        #expect(throws: WireError.self) { try bad.model() }
        bad = wire
        bad.changes[0].fields.append(bad.changes[0].fields[0])
        #expect(throws: WireError.self) { try bad.model() }
        // The same field twice is refused as such, whichever value comes second.
        bad.changes[0].fields[1].value.text = "another title"
        #expect(throws: WireError.malformed("change 2 writes field title twice")) { try bad.model() }
        bad = wire
        bad.changes.append(bad.changes[0])
        #expect(throws: WireError.malformed("the changes of a set must have consecutive counters")) { try bad.model() }
        bad = wire
        bad.changes[0].counter = UInt64(Int64.max) + 1
        #expect(throws: WireError.self) { try bad.model() }
        bad = wire
        bad.changes[0].fields[0].value = Interno_V1_Value()
        #expect(throws: WireError.self) { try bad.model() }
        bad = wire
        bad.changes[0].fields[0].value.text = String(repeating: "x", count: WireLimits.maximumTextBytes + 1)
        #expect(throws: WireError.self) { try bad.model() }
        wire.changes[0].counter = 0
        #expect(throws: WireError.self) { try wire.model() }
    }

    /// A record's log for a repair (Protocol/README.md, 4.16): consecutive changes of one set
    /// travel together, and what comes back is what went; a change of another record in it is
    /// refused.
    @Test func aRecordsLogRoundTripsSetBySetAndAForeignChangeIsRefused() throws {
        let log = RecordLog(
            id: change(1, [:]).recordID,
            entries: [
                LoggedChange(change: change(1, ["title": .text("a")]), set: 1...3),
                LoggedChange(change: change(3, ["title": .text("b")]), set: 1...3),
                LoggedChange(change: change(4, [:], refusal: Refusal(.notPermitted, "no")), set: 4...4),
            ])
        let wire = Interno_V1_RecordLog(log)
        #expect(wire.sets.map { $0.changes.changes.count } == [2, 1])
        #expect(try Interno_V1_RecordLog(serializedBytes: try wire.serializedBytes() as [UInt8]).model() == log)
        var foreign = wire
        foreign.recordID = UUID().wire
        #expect(throws: WireError.self) { try foreign.model() }
    }

    @Test func aFrameWithoutAMessageOrWithGarbageDoesNotDecode() {
        #expect(throws: WireError.self) { try Interno_V1_Frame(body: ByteBuffer()) }
        #expect(throws: WireError.self) { try Interno_V1_Frame(body: ByteBuffer(bytes: [0xFF, 0xFF, 0xFF])) }
    }

    /// A Push or Changes frame is written level by level, each change serialised once
    /// (`serializedBuffer`): its bytes must be exactly SwiftProtobuf's, whatever the sets hold,
    /// and decode back to the same frame.
    @Test func aFrameOfChangeSetsIsWrittenExactlyAsSwiftProtobufWritesIt() throws {
        let other = ReplicaID(UUID(uuidString: "00000000-0000-4000-8000-000000000002")!)
        let sets = [
            ChangeSet([
                change(2, ["title": .text(String(repeating: "é", count: 300)), "n": .integer(Int64.min)]),
                change(3, [:], refusal: Refusal(.notPermitted, "IT may not")),
                change(4, ["a": .null, "b": .bool(true), "d": .duration(3600), "g": .id(UUID())]),
            ]),
            ChangeSet([change(9, ["title": .text("x")])]),
        ]
        var manySets = Interno_V1_Changes()
        manySets.sets = (0..<300).map { index in
            var set = Interno_V1_ChangeSet(ChangeSet([change(UInt64(10 + index), ["title": .text("\(index)")])]))
            if index % 2 == 0 { set.replica = other.uuid.wire }
            return set
        }
        manySets.nextCursor = 1_234_567
        manySets.more = true
        manySets.cursorEpoch = UInt64.max
        var changes = Interno_V1_Changes()
        changes.sets = sets.map(Interno_V1_ChangeSet.init)
        changes.nextCursor = 42
        changes.cursorEpoch = 7
        var push = Interno_V1_Push()
        push.sets = sets.map(Interno_V1_ChangeSet.init)
        var frames: [Interno_V1_Frame] = []
        for body in [
            Interno_V1_Frame.OneOf_Body.changes(changes), .changes(manySets), .changes(Interno_V1_Changes()),
            .push(push), .push(Interno_V1_Push()),
        ] {
            var frame = Interno_V1_Frame()
            frame.body = body
            frames.append(frame)
        }
        for frame in frames {
            let written = Array(buffer: frame.serializedBuffer())
            #expect(written == (try frame.serializedBytes() as [UInt8]), "\(frame.messageName)")
            #expect(try Interno_V1_Frame(body: ByteBuffer(bytes: written)) == frame)
        }
    }

    @Test func theSizeEstimateBoundsTheEncoding() throws {
        let set = ChangeSet([change(2, ["title": .text(String(repeating: "é", count: 500)), "n": .integer(Int64.min)])])
        let encoded: [UInt8] = try Interno_V1_ChangeSet(set).serializedBytes()
        #expect(set.estimatedWireSize >= encoded.count)
    }

    @Test func enrolmentBundlesRoundTripAndRejectOtherFiles() throws {
        let bundle = EnrollmentBundle(
            host: "localhost", port: 7443, serverID: "s", replicaID: "r", departmentID: "d", departmentCode: "HR",
            site: "LIS", caCertificate: "ca", clientCertificate: "cert", clientKey: "key")
        #expect(try EnrollmentBundle.decode(try bundle.encoded()) == bundle)
        #expect(bundle.code == "HR-LIS")
        #expect(throws: WireError.self) { try EnrollmentBundle.decode(Data("{}".utf8)) }
        var other = bundle
        other.format = "something-else"
        #expect(throws: WireError.self) { try EnrollmentBundle.decode(try other.encoded()) }
    }

    /// The directory travels as base64 protobuf change sets; a bundle from before it has none
    /// and still reads; one that carries anything but departments is refused (Protocol §10).
    @Test func aBundleCarriesTheDirectoryAndOldBundlesStillRead() throws {
        let server = ReplicaID(UUID())
        let department = Change(
            dot: Dot(replica: server, counter: 1), kind: .department, recordID: UUID(), context: VersionVector(),
            fields: ["code": .text("IT"), "name": .text("IT")], author: "admin@server",
            at: Timestamp(millisecondsSince1970: 1_700_000_000_000))
        let bundle = EnrollmentBundle(
            host: "localhost", port: 7443, serverID: "s", replicaID: "r", departmentID: "d", departmentCode: "HR",
            site: "LIS", caCertificate: "ca", clientCertificate: "cert", clientKey: "key",
            directory: [ChangeSet([department])])
        let encoded = try bundle.encoded()
        let json = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        let directory = try #require(json["directory"] as? [String])
        #expect(directory.count == 1 && Data(base64Encoded: directory[0]) != nil)
        #expect(try EnrollmentBundle.decode(encoded).directoryChangeSets() == [ChangeSet([department])])

        var old = json
        old["directory"] = nil
        let before = try EnrollmentBundle.decode(try JSONSerialization.data(withJSONObject: old))
        #expect(before.directory == nil)
        #expect(try before.directoryChangeSets().isEmpty)

        var request = department
        request.kind = .request
        let wrong = EnrollmentBundle(
            host: "localhost", port: 7443, serverID: "s", replicaID: "r", departmentID: "d", departmentCode: "HR",
            site: "LIS", caCertificate: "ca", clientCertificate: "cert", clientKey: "key",
            directory: [ChangeSet([request])])
        #expect(throws: WireError.self) { try EnrollmentBundle.decode(try wrong.encoded()).directoryChangeSets() }
    }
}
