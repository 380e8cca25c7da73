import Foundation
import GRDB
import InternoModel

/// A row of table `replica_registry` (server): an enrolled site, bound to its certificate.
///
/// The server decides what a replica may write from this row, never from what the client
/// claims (DESIGN §6).
public struct RegistryRow: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "replica_registry"

    /// The columns of `replica_registry`.
    public enum Columns {
        static let replicaID = Column(CodingKeys.replicaID)
        static let department = Column(CodingKeys.department)
        static let departmentCode = Column(CodingKeys.departmentCode)
        static let site = Column(CodingKeys.site)
        static let code = Column(CodingKeys.code)
        static let fingerprint = Column(CodingKeys.fingerprint)
        static let revoked = Column(CodingKeys.revoked)
        static let enrolledAt = Column(CodingKeys.enrolledAt)
        static let lastSeenAt = Column(CodingKeys.lastSeenAt)
        static let scope = Column(CodingKeys.scope)
    }

    /// The site's replica id, lowercase UUID text.
    public var replicaID: String
    /// The department record id of the site's department.
    public var department: String
    /// The department's code, `HR`.
    public var departmentCode: String
    /// The site's own code, `LIS`.
    public var site: String
    /// The replica code, `HR-LIS`: unique, the prefix of the site's request keys.
    public var code: String
    /// SHA-256 of the client certificate (DER), lowercase hex.
    public var fingerprint: String
    /// Revoked replicas are refused at the handshake.
    public var revoked: Bool
    /// When the site was enrolled (milliseconds since 1970).
    public var enrolledAt: Int64
    /// When the site last connected, if ever, to within ``lastSeenResolution``.
    public var lastSeenAt: Int64?
    /// What it receives: its department's records, or everything (DESIGN §6.1). Fixed at enrolment.
    public var scope: Scope.Kind

    /// How stale `lastSeenAt` may be, in milliseconds: a connection within a minute of the
    /// one recorded is not written down again. A site that syncs every few seconds would
    /// otherwise cost the server a commit, with its fsync, on every connection, queued on the
    /// one writer beside the Pushes (DESIGN §4).
    public static let lastSeenResolution: Int64 = 60_000

    /// `true` if a connection at `time` should be recorded as the last one seen: never seen,
    /// or last seen more than ``lastSeenResolution`` earlier (or later: a clock set back).
    public func needsSeen(at time: Timestamp) -> Bool {
        guard let lastSeenAt else { return true }
        return abs(time.millisecondsSince1970 - lastSeenAt) >= Self.lastSeenResolution
    }

    /// A new registry entry, not revoked and never seen.
    public init(
        replicaID: String, department: String, departmentCode: String, site: String, fingerprint: String,
        enrolledAt: Int64, scope: Scope.Kind = .department
    ) {
        self.replicaID = replicaID
        self.department = department
        self.departmentCode = departmentCode
        self.site = site
        self.code = "\(departmentCode)-\(site)"
        self.fingerprint = fingerprint
        self.revoked = false
        self.enrolledAt = enrolledAt
        self.lastSeenAt = nil
        self.scope = scope
    }
}
