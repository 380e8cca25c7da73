import Foundation
import InternoModel
import InternoPostgres
import InternoStore

/// What a running server and its administration commands need of the central store, on
/// whichever database holds it (DESIGN §4.1): the SQLite file in the data directory
/// (``ServerStore``, the default) or PostgreSQL (``PostgresServerStore``, `--database`). Both
/// judge with the same ``Judge``: only reading and writing differ.
public protocol CentralStore: Sendable {
    /// The registry entry whose certificate has `fingerprint`, noting it was seen now.
    func connect(fingerprint: String, at time: Timestamp) async throws -> RegistryRow?
    /// What Welcome tells a site (DESIGN §3.9).
    func syncPosition(of replica: ReplicaID, cursor: Int64, cursorEpoch: UInt64) async throws -> SyncPosition
    /// One Push, judged and committed before the outcomes are returned.
    func receive(_ sets: [ChangeSet], from pusher: Pusher) async throws -> [PushOutcome]
    /// The stream after `cursor` as `scope` receives it, without the `own` sets the site names
    /// (Protocol §5.4).
    func changes(
        after cursor: Int64, limit: Int, scope: Scope, leavingOut own: OwnSets?, maximumBytes: Int,
        size: @escaping @Sendable (ChangeSet) -> Int
    ) async throws -> ChangeBatch
    /// The digests of the records the site of `entry` should hold (DESIGN §3.10).
    func expectedDigests(
        after: UUID?, limit: Int, cursor: Int64, cursorEpoch: UInt64, unacknowledged: [ClosedRange<UInt64>],
        from entry: RegistryRow
    ) async throws -> ExpectedDigests?
    /// Every logged change the site of `entry` should hold of each of `ids`, for a repair.
    func expectedLogs(
        of ids: [UUID], cursor: Int64, cursorEpoch: UInt64, unacknowledged: [ClosedRange<UInt64>],
        from entry: RegistryRow, maximumBytes: Int, size: @escaping @Sendable (ChangeSet) -> Int
    ) async throws -> [RecordLog]?

    /// The server's own write (a department).
    func write(_ edits: [Edit], author: String) async throws
    /// The existing records of `kind`, in id order.
    func records(of kind: RecordKind) async throws -> [RecordState]
    /// Adds an enrolled site.
    func register(_ entry: RegistryRow) async throws
    /// Every enrolled site, by code.
    func registry() async throws -> [RegistryRow]
    /// Revokes a site.
    func revoke(_ replica: ReplicaID) async throws
    /// The directory an enrolment bundle carries (DESIGN §6.2).
    func directory() async throws -> [ChangeSet]
    /// Starts a new epoch of the stream (DESIGN §3.9): every process that serves does first.
    func beginEpoch() async throws
}

extension CentralStore {
    /// The id of the department with `code`, if there is one.
    func departmentID(code: String) async throws -> UUID? {
        try await records(of: .department).first { $0.value(of: "code") == .text(code) }?.id
    }
}

/// The SQLite store (``ServerStore``) as the central store: its synchronous methods run on a
/// thread of their own (``ReplicaStore/background(_:)``), never on the caller's.
public struct SQLiteCentralStore: CentralStore {
    /// The store.
    public let store: ServerStore

    /// `store` as the central store.
    public init(_ store: ServerStore) {
        self.store = store
    }

    public func connect(fingerprint: String, at time: Timestamp) async throws -> RegistryRow? {
        try await store.connect(fingerprint: fingerprint, at: time)
    }

    public func syncPosition(of replica: ReplicaID, cursor: Int64, cursorEpoch: UInt64) async throws -> SyncPosition {
        try await store.syncPosition(of: replica, cursor: cursor, cursorEpoch: cursorEpoch)
    }

    public func receive(_ sets: [ChangeSet], from pusher: Pusher) async throws -> [PushOutcome] {
        // Group commit: Pushes that wait for the writer together share its next commit (DESIGN §4).
        try await store.receiveInGroup(sets, from: pusher)
    }

    public func changes(
        after cursor: Int64, limit: Int, scope: Scope, leavingOut own: OwnSets?, maximumBytes: Int,
        size: @escaping @Sendable (ChangeSet) -> Int
    ) async throws -> ChangeBatch {
        try await store.background { store in
            try store.changes(
                after: cursor, limit: limit, scope: scope, leavingOut: own, maximumBytes: maximumBytes, size: size)
        }
    }

    public func expectedDigests(
        after: UUID?, limit: Int, cursor: Int64, cursorEpoch: UInt64, unacknowledged: [ClosedRange<UInt64>],
        from entry: RegistryRow
    ) async throws -> ExpectedDigests? {
        try await store.expectedDigests(
            after: after, limit: limit, cursor: cursor, cursorEpoch: cursorEpoch, unacknowledged: unacknowledged,
            from: entry)
    }

    public func expectedLogs(
        of ids: [UUID], cursor: Int64, cursorEpoch: UInt64, unacknowledged: [ClosedRange<UInt64>],
        from entry: RegistryRow, maximumBytes: Int, size: @escaping @Sendable (ChangeSet) -> Int
    ) async throws -> [RecordLog]? {
        try await store.expectedLogs(
            of: ids, cursor: cursor, cursorEpoch: cursorEpoch, unacknowledged: unacknowledged, from: entry,
            maximumBytes: maximumBytes, size: size)
    }

    public func write(_ edits: [Edit], author: String) async throws {
        _ = try await store.background { store in try store.write(edits, author: author).changes.count }
    }

    public func records(of kind: RecordKind) async throws -> [RecordState] {
        try await store.background { store in try store.records(of: kind) }
    }

    public func register(_ entry: RegistryRow) async throws {
        try await store.background { store in try store.register(entry) }
    }

    public func registry() async throws -> [RegistryRow] {
        try await store.background { store in try store.registry() }
    }

    public func revoke(_ replica: ReplicaID) async throws {
        try await store.background { store in try store.revoke(replica) }
    }

    public func directory() async throws -> [ChangeSet] {
        try await store.background { store in try store.directory() }
    }

    public func beginEpoch() async throws {
        try await store.background { store in try store.beginEpoch() }
    }
}

extension PostgresServerStore: CentralStore {
    public func receive(_ sets: [ChangeSet], from pusher: Pusher) async throws -> [PushOutcome] {
        try await receive(sets, from: pusher, receivedAt: .now())
    }

    public func write(_ edits: [Edit], author: String) async throws {
        _ = try await write(edits, author: author, at: .now())
    }
}
