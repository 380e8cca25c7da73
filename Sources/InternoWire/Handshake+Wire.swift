import Foundation
import InternoModel

// MARK: Hello

extension Interno_V1_Hello {
    /// The wire form of a Hello.
    public init(_ hello: Hello) {
        self.init()
        protocolVersion = hello.protocolVersion
        replicaID = hello.replica.uuid.wire
        schemaVersion = hello.schemaVersion
        cursor = hello.cursor
        cursorEpoch = hello.cursorEpoch
        clientTimeMs = hello.clientTime.millisecondsSince1970
        clientVersion = hello.clientVersion
    }

    /// The Hello this message carries. A reader checks `protocolVersion` first, on the
    /// message: a Hello of another version need not parse as this one.
    public func model() throws(WireError) -> Hello {
        Hello(
            protocolVersion: protocolVersion, replica: ReplicaID(try UUID(wire: replicaID, field: "Hello.replica_id")),
            schemaVersion: schemaVersion, cursor: cursor, cursorEpoch: cursorEpoch,
            clientTime: Timestamp(millisecondsSince1970: clientTimeMs), clientVersion: clientVersion)
    }
}

// MARK: Welcome

extension Interno_V1_Welcome {
    /// The wire form of a Welcome; `highest_counter` is the position's highest held counter.
    public init(_ welcome: Welcome) {
        self.init()
        protocolVersion = welcome.protocolVersion
        serverID = welcome.server.uuid.wire
        serverTimeMs = welcome.serverTime.millisecondsSince1970
        serverSequence = welcome.position.latestSequence
        highestCounter = welcome.position.highestCounter
        heldCounters = welcome.position.heldCounters.map(Interno_V1_CounterRange.init)
        cursorReset = !welcome.position.cursorValid
        maxFrameBytes = UInt32(clamping: welcome.maximumFrameBytes)
        maxPushSets = UInt32(clamping: welcome.maximumPushSets)
        maxPullChanges = UInt32(clamping: welcome.maximumPullChanges)
        departmentCode = welcome.departmentCode
        siteCode = welcome.siteCode
        scope = welcome.scope.map(Interno_V1_Scope.init) ?? .unspecified
    }

    /// The Welcome this message carries, checked: a 16-byte server id and valid counter
    /// ranges. A reader checks `protocolVersion` first, on the message.
    public func model() throws(WireError) -> Welcome {
        Welcome(
            protocolVersion: protocolVersion, server: ReplicaID(try UUID(wire: serverID, field: "Welcome.server_id")),
            serverTime: Timestamp(millisecondsSince1970: serverTimeMs),
            position: SyncPosition(
                latestSequence: serverSequence,
                heldCounters: try heldCounters.map { range throws(WireError) in try range.model() },
                cursorValid: !cursorReset),
            maximumFrameBytes: Int(maxFrameBytes), maximumPushSets: Int(maxPushSets),
            maximumPullChanges: Int(maxPullChanges), departmentCode: departmentCode, siteCode: siteCode,
            scope: scope.model)
    }
}

extension Interno_V1_Scope {
    /// The wire form of a kind of scope.
    public init(_ kind: Scope.Kind) {
        switch kind {
        case .all: self = .all
        case .department: self = .department
        }
    }
}
