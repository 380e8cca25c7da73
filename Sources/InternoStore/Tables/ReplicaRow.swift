import Foundation
import GRDB
import InternoModel

/// The one row of table `replica`: this database's identity, counter and sync position.
public struct ReplicaRow: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "replica"

    /// Always 1: the table has one row.
    var singleton: Int = 1
    /// The replica id, lowercase UUID text.
    public var replicaID: String
    /// `site` or `server`.
    public var role: ReplicaRole
    /// The department of a site (its department record id); `nil` on the server.
    public var department: String?
    /// The site's code, `HR-LIS`: the prefix of its request keys. `nil` on the server.
    public var code: String?
    /// The last counter this replica used for a write.
    public var counter: Int64
    /// The last server sequence number pulled (sites).
    public var cursor: Int64
    /// The server's identity as the site last saw it (sites).
    public var serverEpoch: String?
    /// The next local number for a request key (sites).
    public var nextRequestNumber: Int64
    /// When the last complete sync ended (sites).
    public var lastSyncAt: Int64?
    /// What the server says this site receives; `nil` until a server has said (sites).
    public var scope: Scope.Kind?
    /// The stream epoch of `cursor`, as the server gave it (sites; DESIGN §3.9), as stored.
    var cursorEpoch: Int64 = 0

    /// The stream epoch of `cursor`, as the wire carries it.
    public var cursorEpochValue: UInt64 { UInt64(bitPattern: cursorEpoch) }

    /// The replica id as a typed value.
    public var id: ReplicaID { ReplicaID(uuidString: replicaID)! }

    /// How this replica writes: a site as its department, the server as the administrator.
    public var writer: Writer {
        if role == .site, let department, let id = UUID(text: department) { return .department(id) }
        return .admin
    }
}
