import Foundation
import GRDB
import InternoModel

/// What the server made of one pushed change set (DESIGN §5).
public enum PushOutcome: Equatable, Sendable {
    /// Applied and logged; the site may drop it from its outbox.
    case accepted
    /// Already held, with the same content; the site may drop it from its outbox.
    case duplicate
    /// A change it depends on is missing here; it stays in the site's outbox for the next sync.
    case deferred(missing: Dot)
    /// Refused: recorded as void for everyone, and kept visible on the site with the reason.
    case refused(Refusal)
}

/// One page of the server's stream: whole change sets in server order.
public struct ChangeBatch: Equatable, Sendable {
    /// The change sets, never split.
    public var sets: [ChangeSet]
    /// The sequence number to pull after next time.
    public var nextCursor: Int64
    /// `true` if more changes follow.
    public var more: Bool

    /// A batch of `sets` ending at `nextCursor`.
    public init(sets: [ChangeSet], nextCursor: Int64, more: Bool) {
        self.sets = sets
        self.nextCursor = nextCursor
        self.more = more
    }
}

extension Store {
    /// Applies a change set checked as `writer`, all or nothing.
    ///
    /// Every change is checked against what its writer had seen (the view at its context),
    /// against the schema and the database's rules. Any refusal or causality gap throws and
    /// leaves the database exactly as it was.
    public func apply(_ set: ChangeSet, as writer: Writer, pusherCode: String?) throws {
        try self.writer.write { db in try Self.stage(set, as: writer, pusherCode: pusherCode, db) }
    }

    /// The server's handling of one pushed change set from an enrolled site (DESIGN §3.4, §5, §6):
    /// accepted, duplicate, deferred, or refused. A refusal is recorded as voids that every
    /// replica receives; a refused set pushed again gets the same answer.
    public func receive(_ set: ChangeSet, from pusher: RegistryRow) throws -> PushOutcome {
        try receive([set], from: pusher)[0]
    }

    /// The server's handling of one Push: every set judged on its own, all committed in one
    /// transaction (synchronous = FULL) before the outcomes are returned to be acknowledged.
    public func receive(_ sets: [ChangeSet], from pusher: RegistryRow) throws -> [PushOutcome] {
        guard let pusherID = ReplicaID(uuidString: pusher.replicaID),
            let department = UUID(uuidString: pusher.department)
        else { throw StoreError.corrupt("registry entry \(pusher.replicaID)") }
        return try writer.write { db in
            try sets.map { set in
                try Self.receive(set, pusherID: pusherID, writer: .department(department), code: pusher.code, db)
            }
        }
    }

    /// `receive(_:from:)` on an async context: the database work runs on GRDB's queue, not on
    /// the caller's thread, so a session never blocks the cooperative pool.
    public func receiveAsync(_ sets: [ChangeSet], from pusher: RegistryRow) async throws -> [PushOutcome] {
        guard let pusherID = ReplicaID(uuidString: pusher.replicaID),
            let department = UUID(uuidString: pusher.department)
        else { throw StoreError.corrupt("registry entry \(pusher.replicaID)") }
        return try await writer.write { db in
            try sets.map { set in
                try Self.receive(set, pusherID: pusherID, writer: .department(department), code: pusher.code, db)
            }
        }
    }

    static func receive(_ set: ChangeSet, pusherID: ReplicaID, writer: Writer, code: String, _ db: Database) throws
        -> PushOutcome
    {
        if let stranger = set.changes.first(where: { $0.dot.replica != pusherID }) {
            return .refused(
                Refusal(
                    .malformed,
                    "change \(stranger.dot) was written by another replica; a site pushes only its own changes"
                ))
        }
        let held = try set.changes.map { try ChangeLog.entry($0.dot, db) }
        if held.allSatisfy({ $0 != nil }) {
            for (entry, change) in zip(held, set.changes) where !entry!.change.hasSameContent(as: change) {
                return .refused(
                    Refusal(
                        .malformed,
                        "change \(change.dot) was already received with other content; a counter must never be reused"))
            }
            if let refusal = held[0]!.change.refusal { return .refused(refusal) }
            return .duplicate
        }
        if held.contains(where: { $0 != nil }) {
            return .refused(Refusal(.malformed, "part of this change set was already received in another set"))
        }
        var outcome = PushOutcome.accepted
        try db.inSavepoint {
            do {
                try stage(set, as: writer, pusherCode: code, db)
                return .commit
            } catch StoreError.refused(let refusal) {
                outcome = .refused(refusal)
            } catch StoreError.outOfOrder(.causalityGap(_, let missing)) {
                outcome = .deferred(missing: missing)
            }
            return .rollback
        }
        if case .refused(let refusal) = outcome {
            // The refusal is recorded as voids that every replica receives (DESIGN §3.4); the
            // refused content is kept in the log so a repeat push can be recognised.
            let range = set.firstCounter...set.lastCounter
            for change in set.changes {
                var void = change
                void.refusal = refusal
                let record = try loadRecord(change.recordID, db) ?? RecordState(kind: change.kind, id: change.recordID)
                try ingest(void, set: range, into: record, db)
            }
        }
        return outcome
    }

    /// Checks and applies every change of `set` in `db`'s transaction; throws on the first problem.
    static func stage(_ set: ChangeSet, as writer: Writer, pusherCode: String?, _ db: Database) throws {
        let range = set.firstCounter...set.lastCounter
        for change in set.changes {
            let current = try loadRecord(change.recordID, db) ?? RecordState(kind: change.kind, id: change.recordID)
            guard current.kind == change.kind else {
                throw StoreError.refused(
                    Refusal(
                        .malformed,
                        "record \(change.recordID) is a \(current.kind.rawValue), not a \(change.kind.rawValue)"))
            }
            if current.clock.covers(change.dot) {
                throw StoreError.refused(
                    Refusal(.malformed, "change \(change.dot) reuses a counter the server already has for this record"))
            }
            if let missing = current.clock.firstMissing(of: change.context) {
                if let elsewhere = try ChangeLog.entry(missing, db), elsewhere.change.recordID != change.recordID {
                    throw StoreError.refused(
                        Refusal(
                            .malformed,
                            "the context of change \(change.dot) names \(missing), a change of another record"))
                }
                throw StoreError.outOfOrder(.causalityGap(change: change.dot, missing: missing))
            }
            let seen = try view(of: change, current: current, db)
            try check(change, by: writer, seen: seen, pusherCode: pusherCode, db)
            try ingest(change, set: range, into: current, db)
        }
    }

    /// The record as the writer of `change` saw it: the replay of the log its context covers.
    static func view(of change: Change, current: RecordState, _ db: Database) throws -> RecordState {
        if change.context == current.clock { return current }
        if change.context.isEmpty { return RecordState(kind: change.kind, id: change.recordID) }
        let log = try ChangeLog.entries(ofRecord: change.recordID, db).map(\.change)
        do {
            return try RecordState.view(kind: change.kind, id: change.recordID, log: log, at: change.context)
        } catch {
            throw StoreError.outOfOrder(error)
        }
    }

    /// The server's stream after `cursor`: up to about `limit` changes, in whole change sets.
    public func changes(
        after cursor: Int64, limit: Int, maximumBytes: Int = .max, size: (ChangeSet) -> Int = { _ in 0 }
    ) throws -> ChangeBatch {
        try writer.read { db in
            try Self.changes(after: cursor, limit: limit, maximumBytes: maximumBytes, size: size, db)
        }
    }

    /// The changes after `cursor`: at most `limit` changes (more only to finish a set), and
    /// whole sets whose `size` adds up to at most `maximumBytes` (always at least one set, so
    /// a reader is never stuck behind a large one).
    static func changes(
        after cursor: Int64, limit: Int, maximumBytes: Int = .max, size: (ChangeSet) -> Int = { _ in 0 },
        _ db: Database
    ) throws -> ChangeBatch {
        var entries = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT \(ChangeLog.columns) FROM change WHERE seq > ? ORDER BY seq LIMIT ?"),
            arguments: [cursor, max(limit, 1)]
        ).map(ChangeLog.decode)
        // Never split a change set: its changes are contiguous in the log, so finish the last one.
        if let last = entries.last, last.change.dot.counter < last.set.upperBound {
            let missing = Int(last.set.upperBound - last.change.dot.counter)
            entries += try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT \(ChangeLog.columns) FROM change WHERE seq > ? ORDER BY seq LIMIT ?"),
                arguments: [last.seq, missing]
            ).map(ChangeLog.decode)
        }
        var sets: [(set: ChangeSet, lastSeq: Int64)] = []
        var current: [Change] = []
        var currentSet: (ReplicaID, ClosedRange<UInt64>)?
        var lastSeq = cursor
        for entry in entries {
            if let open = currentSet, open.0 != entry.change.dot.replica || open.1 != entry.set {
                sets.append((ChangeSet(current), lastSeq))
                current = []
            }
            current.append(ChangeLog.outgoing(entry))
            currentSet = (entry.change.dot.replica, entry.set)
            lastSeq = entry.seq
        }
        if !current.isEmpty { sets.append((ChangeSet(current), lastSeq)) }
        var total = 0
        var kept = 0
        for (set, _) in sets {
            let bytes = size(set)
            guard kept == 0 || total + bytes <= maximumBytes else { break }
            total += bytes
            kept += 1
        }
        sets.removeSubrange(kept...)
        let next = sets.last?.lastSeq ?? cursor
        let more =
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM change WHERE seq > ?)", arguments: [next])
            ?? false
        return ChangeBatch(sets: sets.map(\.set), nextCursor: next, more: more)
    }

    /// `changes(after:limit:)` on an async context, off the caller's thread.
    public func changesAsync(
        after cursor: Int64, limit: Int, maximumBytes: Int = .max,
        size: @escaping @Sendable (ChangeSet) -> Int = { _ in 0 }
    ) async throws -> ChangeBatch {
        try await writer.read { db in
            try Self.changes(after: cursor, limit: limit, maximumBytes: maximumBytes, size: size, db)
        }
    }

    /// The highest counter of `replica` that this database holds (0 if none).
    public func highestCounter(of replica: ReplicaID) throws -> UInt64 {
        try writer.read { db in try Self.highestCounter(of: replica, db) }
    }

    /// The server's latest sequence number.
    public func latestSequence() throws -> Int64 {
        try writer.read { db in try Self.latestSequence(db) }
    }

    /// The stream's latest sequence number, and the highest counter of `replica` held: what
    /// Welcome tells a site. Off the caller's thread.
    public func syncPosition(of replica: ReplicaID) async throws -> (latestSequence: Int64, highestCounter: UInt64) {
        try await writer.read { db in (try Self.latestSequence(db), try Self.highestCounter(of: replica, db)) }
    }

    static func highestCounter(of replica: ReplicaID, _ db: Database) throws -> UInt64 {
        UInt64(
            try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT MAX(counter) FROM change WHERE replica = ?"),
                arguments: [replica.description]) ?? 0)
    }

    static func latestSequence(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM change") ?? 0
    }

    // MARK: Registry

    /// Adds an enrolled site to the registry.
    public func register(_ entry: RegistryRow) throws {
        try writer.write { db in
            if try RegistryRow.filter(RegistryRow.Columns.code == entry.code).fetchCount(db) > 0 {
                throw StoreError.refused(Refusal(.duplicate, "a site with code \(entry.code) is already enrolled"))
            }
            try entry.insert(db)
        }
    }

    /// The registry entry whose certificate has `fingerprint`, revoked or not.
    public func registryEntry(fingerprint: String) throws -> RegistryRow? {
        try writer.read { db in try Self.registryEntry(fingerprint: fingerprint, db) }
    }

    /// The registry entry whose certificate has `fingerprint`, noting it was seen now. Off the caller's thread.
    public func connect(fingerprint: String, at time: Timestamp) async throws -> RegistryRow? {
        try await writer.write { db in
            guard let entry = try Self.registryEntry(fingerprint: fingerprint, db) else { return nil }
            // Last seen means last let in: a revoked site's attempts do not count.
            guard !entry.revoked else { return entry }
            try db.execute(
                sql: "UPDATE replica_registry SET lastSeenAt = ? WHERE replicaID = ?",
                arguments: [time.millisecondsSince1970, entry.replicaID])
            return entry
        }
    }

    static func registryEntry(fingerprint: String, _ db: Database) throws -> RegistryRow? {
        try RegistryRow.filter(RegistryRow.Columns.fingerprint == fingerprint).fetchOne(db)
    }

    /// Every enrolled site, by code.
    public func registry() throws -> [RegistryRow] {
        try writer.read { db in try RegistryRow.order(RegistryRow.Columns.code).fetchAll(db) }
    }

    /// Revokes a site: its certificate is refused from now on. Its changes stay.
    public func revoke(_ replica: ReplicaID) throws {
        try writer.write { db in
            try db.execute(
                sql: "UPDATE replica_registry SET revoked = 1 WHERE replicaID = ?", arguments: [replica.description])
            if db.changesCount == 0 { throw StoreError.notFound("replica \(replica)") }
        }
    }
}
