import Foundation
import InternoModel
import InternoWire
import NIOCore
import NIOEmbedded
import Testing

/// The example frames of `Protocol/vectors/`: each decodes to the message built here and
/// encodes back to the same bytes. `INTERNO_WRITE_VECTORS=1` rewrites the files from these messages.
@Suite("Protocol vectors")
struct VectorTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Protocol/vectors").standardized

    static let site = UUID(uuidString: "0d9c5b8e-6f0a-4c1e-9a43-2b7f1c3e5a01")!
    static let server = UUID(uuidString: "5e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b")!
    static let hr = UUID(uuidString: "11111111-2222-4333-8444-555555555555")!
    static let it = UUID(uuidString: "66666666-7777-4888-8999-aaaaaaaaaaaa")!
    static let request = UUID(uuidString: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")!

    static func frame(_ body: Interno_V1_Frame.OneOf_Body) -> Interno_V1_Frame {
        var frame = Interno_V1_Frame()
        frame.body = body
        return frame
    }

    static var vectors: [(String, Interno_V1_Frame)] {
        var hello = Interno_V1_Hello()
        hello.protocolVersion = 1
        hello.replicaID = site.wire
        hello.schemaVersion = 2
        hello.cursor = 42
        hello.clientTimeMs = 1_795_426_200_000
        hello.clientVersion = "0.1.0"

        var welcome = Interno_V1_Welcome()
        welcome.protocolVersion = 1
        welcome.serverID = server.wire
        welcome.serverTimeMs = 1_795_426_200_250
        welcome.serverSequence = 57
        welcome.highestCounter = 12
        welcome.maxFrameBytes = UInt32(WireLimits.maximumFrameBytes)
        welcome.maxPushSets = UInt32(WireLimits.maximumPushSets)
        welcome.maxPullChanges = UInt32(WireLimits.maximumPullChanges)
        welcome.departmentCode = "HR"
        welcome.siteCode = "HR-LIS"

        let replica = ReplicaID(site)
        let creation = ChangeSet([
            Change(
                dot: Dot(replica: replica, counter: 13), kind: .request, recordID: request, context: VersionVector(),
                fields: [
                    "key": .text("HR-LIS-7"), "customer": .id(hr), "provider": .id(it),
                    "title": .text("Laptop for Marta"), "priority": .text("high"), "state": .text("submitted"),
                    "neededBy": .time(Timestamp(millisecondsSince1970: 1_796_083_200_000)),
                ], author: "ana@HR-LIS", at: Timestamp(millisecondsSince1970: 1_795_426_190_000))
        ])
        var push = Interno_V1_Push()
        push.sets = [Interno_V1_ChangeSet(creation)]

        var result = Interno_V1_PushResult()
        result.results = [
            Interno_V1_SetResult.with {
                $0.firstCounter = 13; $0.status = .accepted
            },
            Interno_V1_SetResult.with {
                $0.firstCounter = 14; $0.status = .duplicate
            },
            Interno_V1_SetResult.with {
                $0.firstCounter = 15
                $0.status = .deferred
                $0.missingReplica = server.wire
                $0.missingCounter = 3
            },
            Interno_V1_SetResult.with {
                $0.firstCounter = 16
                $0.status = .refused
                $0.refusal = Interno_V1_Refusal(
                    Refusal(.notPermitted, "HR may not deliver request HR-LIS-7: only the provider department IT may"))
            },
        ]

        var pull = Interno_V1_Pull()
        pull.cursor = 42
        pull.limit = 5000

        let edit = ChangeSet([
            Change(
                dot: Dot(replica: ReplicaID(it), counter: 8), kind: .request, recordID: request,
                context: VersionVector([replica: 13]),
                fields: [
                    "state": .text("acknowledged"),
                    "firstResponseAt": .time(Timestamp(millisecondsSince1970: 1_795_430_000_000)),
                ],
                author: "rui@IT-OPO", at: Timestamp(millisecondsSince1970: 1_795_430_000_000))
        ])
        let void = ChangeSet([
            Change(
                dot: Dot(replica: replica, counter: 16), kind: .request, recordID: request, context: VersionVector(),
                fields: [:], author: "ana@HR-LIS", at: Timestamp(millisecondsSince1970: 1_795_430_100_000),
                refusal: Refusal(
                    .notPermitted, "HR may not deliver request HR-LIS-7: only the provider department IT may"))
        ])
        var changes = Interno_V1_Changes()
        changes.sets = [Interno_V1_ChangeSet(edit), Interno_V1_ChangeSet(void)]
        changes.nextCursor = 44
        changes.more = false

        var error = Interno_V1_Error()
        error.code = WireError.Code.revoked.rawValue
        error.message = "site HR-LIS was revoked on this server: ask the administrator to enrol it again"

        return [
            ("hello", frame(.hello(hello))), ("welcome", frame(.welcome(welcome))), ("push", frame(.push(push))),
            ("push-result", frame(.pushResult(result))), ("pull", frame(.pull(pull))),
            ("changes", frame(.changes(changes))), ("error", frame(.error(error))),
        ]
    }

    static func framedBytes(_ frame: Interno_V1_Frame) -> [UInt8] {
        let body = Array(buffer: frame.serializedBuffer())
        return withUnsafeBytes(of: UInt32(body.count).bigEndian, Array.init) + body
    }

    static func hex(_ bytes: [UInt8]) -> String {
        stride(from: 0, to: bytes.count, by: 16).map { start in
            bytes[start..<min(start + 16, bytes.count)].map { byte in
                (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }.joined(separator: " ")
        }.joined(separator: "\n")
    }

    static func bytes(fromHex text: String) -> [UInt8] {
        text.split(separator: "\n").filter { !$0.hasPrefix("#") }.flatMap { $0.split(separator: " ") }
            .compactMap { UInt8($0, radix: 16) }
    }

    @Test(arguments: vectors.map(\.0))
    func aVectorDecodesToItsMessageAndEncodesBackByteForByte(name: String) throws {
        let expected = try #require(Self.vectors.first { $0.0 == name }?.1)
        let path = Self.directory.appendingPathComponent("\(name).hex")
        if ProcessInfo.processInfo.environment["INTERNO_WRITE_VECTORS"] == "1" {
            let text =
                "# interno.v1.Frame carrying \(expected.messageName); length prefix then body, hex\n"
                + Self.hex(Self.framedBytes(expected)) + "\n"
            try text.write(to: path, atomically: true, encoding: .utf8)
        }
        let bytes = Self.bytes(fromHex: try String(contentsOf: path, encoding: .utf8))
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        try channel.writeInbound(ByteBuffer(bytes: bytes))
        let body = try #require(try channel.readInbound(as: ByteBuffer.self))
        #expect(try channel.finish().isClean)
        let decoded = try Interno_V1_Frame(body: body)
        #expect(decoded == expected)
        #expect(Self.framedBytes(decoded) == bytes)
        if case .push(let push) = decoded.body {
            #expect(try push.sets.map { try $0.model() }.first?.changes.first?.fields["key"] == .text("HR-LIS-7"))
        }
    }
}
