import Foundation

/// What a site says first on a connection (Protocol §4.1): who it is and where it stands in
/// the server's stream. The server believes none of it until the certificate agrees.
public struct Hello: Sendable, Equatable {
    /// The protocol version the site speaks.
    public var protocolVersion: UInt32
    /// The site's replica, which must be the one its certificate was enrolled as.
    public var replica: ReplicaID
    /// The domain schema the site speaks (``Schema/version``).
    public var schemaVersion: UInt32
    /// The last server sequence number the site applied; 0 before its first pull.
    public var cursor: Int64
    /// The stream epoch that `cursor` belongs to (DESIGN §3.9); 0 with cursor 0.
    public var cursorEpoch: UInt64
    /// The site's clock, for the record.
    public var clientTime: Timestamp
    /// The site's release, for the record (`0.1.0`).
    public var clientVersion: String

    /// A Hello.
    public init(
        protocolVersion: UInt32, replica: ReplicaID, schemaVersion: UInt32, cursor: Int64, cursorEpoch: UInt64,
        clientTime: Timestamp, clientVersion: String
    ) {
        self.protocolVersion = protocolVersion
        self.replica = replica
        self.schemaVersion = schemaVersion
        self.cursor = cursor
        self.cursorEpoch = cursorEpoch
        self.clientTime = clientTime
        self.clientVersion = clientVersion
    }
}

/// The server's answer to Hello (Protocol §4.2): who it is, what it holds of the site, the
/// limits of the conversation, and what the registry says the site is and receives.
public struct Welcome: Sendable, Equatable {
    /// The protocol version the server speaks.
    public var protocolVersion: UInt32
    /// The server's replica id: a site checks it is the server it joined.
    public var server: ReplicaID
    /// The server's clock, for the record.
    public var serverTime: Timestamp
    /// Where the site stands: the stream's end, the site's counters the server holds, and
    /// whether the site's cursor is a point of this server's stream.
    public var position: SyncPosition
    /// The largest frame the server accepts, in bytes.
    public var maximumFrameBytes: Int
    /// The most change sets one Push may hold.
    public var maximumPushSets: Int
    /// The most changes the server sends for one Pull.
    public var maximumPullChanges: Int
    /// The site's department code, from the registry (`HR`).
    public var departmentCode: String
    /// The site's code, from the registry (`HR-LIS`).
    public var siteCode: String
    /// What the site receives, from the registry; `nil` from a server that does not say.
    public var scope: Scope.Kind?

    /// A Welcome.
    public init(
        protocolVersion: UInt32, server: ReplicaID, serverTime: Timestamp, position: SyncPosition,
        maximumFrameBytes: Int, maximumPushSets: Int, maximumPullChanges: Int, departmentCode: String,
        siteCode: String, scope: Scope.Kind?
    ) {
        self.protocolVersion = protocolVersion
        self.server = server
        self.serverTime = serverTime
        self.position = position
        self.maximumFrameBytes = maximumFrameBytes
        self.maximumPushSets = maximumPushSets
        self.maximumPullChanges = maximumPullChanges
        self.departmentCode = departmentCode
        self.siteCode = siteCode
        self.scope = scope
    }
}
