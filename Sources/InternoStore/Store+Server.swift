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
    /// Refused: recorded as void for whoever may see its records, and kept visible on the site
    /// with the reason. `kept` lists the counters of the set that the server had already
    /// accepted, from an earlier push of them in another set: they stand, and the site keeps
    /// them (DESIGN §3.9). Normally empty.
    case refused(Refusal, kept: [UInt64] = [])
}

/// One page of the server's stream: whole change sets in server order.
public struct ChangeBatch: Equatable, Sendable {
    /// The change sets, never split.
    public var sets: [ChangeSet]
    /// The sequence number to pull after next time.
    public var nextCursor: Int64
    /// `true` if more changes follow.
    public var more: Bool
    /// The epoch of the stream `nextCursor` belongs to (DESIGN §3.9); 0 at the start.
    public var cursorEpoch: UInt64

    /// A batch of `sets` ending at `nextCursor`, in the stream epoch `cursorEpoch`.
    public init(sets: [ChangeSet], nextCursor: Int64, more: Bool, cursorEpoch: UInt64 = 0) {
        self.sets = sets
        self.nextCursor = nextCursor
        self.more = more
        self.cursorEpoch = cursorEpoch
    }
}

/// Where a site stands with the server, as Welcome tells it (DESIGN §3.9).
public struct SyncPosition: Equatable, Sendable {
    /// The stream's latest sequence number.
    public var latestSequence: Int64
    /// Every counter of the site's that the server holds, applied or void, as ranges.
    public var heldCounters: [ClosedRange<UInt64>]
    /// `false` when the site's cursor names no point of this server's stream: it must pull
    /// again from the start.
    public var cursorValid: Bool

    /// A position.
    public init(latestSequence: Int64, heldCounters: [ClosedRange<UInt64>], cursorValid: Bool) {
        self.latestSequence = latestSequence
        self.heldCounters = heldCounters
        self.cursorValid = cursorValid
    }

    /// The highest counter of the site's that the server holds (0 if none).
    public var highestCounter: UInt64 { heldCounters.last?.upperBound ?? 0 }
}

/// The site a Push comes from, as the server's registry knows it: what it may write and see
/// comes from here, never from anything the site claims (DESIGN §6).
public struct Pusher: Sendable, Equatable {
    /// The site's replica: every dot it pushes must be its own.
    public var replica: ReplicaID
    /// Its department: it writes with this department's permissions.
    public var department: UUID
    /// Its replica code, the prefix of its request keys (`HR-LIS`).
    public var code: String
    /// Its department's code (`HR`), as refusals name the writer.
    public var departmentCode: String
    /// What it may see (DESIGN §6.1).
    public var scope: Scope

    /// The pusher an enrolled site's registry entry describes.
    public init(_ entry: RegistryRow) throws {
        guard let replica = ReplicaID(uuidString: entry.replicaID), let department = UUID(text: entry.department)
        else { throw StoreError.corrupt("registry entry \(entry.replicaID)") }
        self.replica = replica
        self.department = department
        self.code = entry.code
        self.departmentCode = entry.departmentCode
        self.scope = entry.scope == .all ? .all : .department(department)
    }

    /// The writer its changes are judged as.
    public var writer: Writer { .department(department) }
}

extension Store {
    /// The server's handling of one pushed change set from an enrolled site (DESIGN §3.4, §5, §6):
    /// accepted, duplicate, deferred, or refused. A refusal is recorded as voids that every
    /// replica that may see the record receives; a refused set pushed again gets the same answer.
    public func receive(_ set: ChangeSet, from pusher: RegistryRow, receivedAt: Timestamp = .now()) throws
        -> PushOutcome
    {
        try receive([set], from: pusher, receivedAt: receivedAt)[0]
    }

    /// The server's handling of one Push: every set judged on its own, all committed in one
    /// transaction (synchronous = FULL) before the outcomes are returned to be acknowledged.
    /// `receivedAt` is the server's clock, which bounds how late a change may be dated.
    public func receive(_ sets: [ChangeSet], from entry: RegistryRow, receivedAt: Timestamp = .now()) throws
        -> [PushOutcome]
    {
        let pusher = try Pusher(entry)
        return try writer.write { db in
            try sets.map { set in try Self.receive(set, from: pusher, receivedAt: receivedAt, db) }
        }
    }

    /// `receive(_:from:)` on an async context: the database work runs on GRDB's queue, not on
    /// the caller's thread, so a session never blocks the cooperative pool.
    public func receiveAsync(_ sets: [ChangeSet], from entry: RegistryRow) async throws -> [PushOutcome] {
        let pusher = try Pusher(entry)
        let receivedAt = Timestamp.now()
        return try await writer.write { db in
            try sets.map { set in try Self.receive(set, from: pusher, receivedAt: receivedAt, db) }
        }
    }

    /// Judges one pushed set as a whole (DESIGN §3.4, §3.9). Its changes may be new to the
    /// server, held already with the same content (an answer was lost, or the set was pushed
    /// before in other bounds), or held with other content (a counter reused: a site restored
    /// from a backup that has not healed). Whatever the mix, the set is never half applied,
    /// and every dot of the pusher's it names ends up held, applied or void, unless the set is
    /// deferred: so no later change that names one waits forever.
    static func receive(_ set: ChangeSet, from pusher: Pusher, receivedAt: Timestamp, _ db: Database) throws
        -> PushOutcome
    {
        let range = set.firstCounter...set.lastCounter
        if let stranger = set.changes.first(where: { $0.dot.replica != pusher.replica }) {
            // Nothing is recorded: voiding another replica's dots would take its counters.
            return .refused(
                Refusal(
                    .malformed,
                    "change \(stranger.dot) was written by another replica; a site pushes only its own changes"))
        }
        let held = try set.changes.map { try ChangeLog.entry($0.dot, db) }
        let fresh = zip(set.changes, held).filter { $0.1 == nil }.map(\.0)
        // The counters of this set the server holds as accepted changes of this very content.
        let kept = zip(set.changes, held).compactMap { change, entry -> UInt64? in
            guard let entry, entry.change.refusal == nil, entry.change.hasSameContent(as: change) else { return nil }
            return change.dot.counter
        }
        if let (change, _) = zip(set.changes, held).first(where: { change, entry in
            entry.map { !$0.change.hasSameContent(as: change) } ?? false
        }) {
            let refusal = Refusal(
                .malformed,
                "change \(change.dot) was already received with other content; a counter must never be reused")
            try recordVoids(of: fresh, set: range, refusal, from: pusher, db)
            return .refused(refusal, kept: kept)
        }
        if let refusal = held.lazy.compactMap({ $0?.change.refusal }).first {
            // A refused set pushed again gets the same answer, whole.
            try recordVoids(of: fresh, set: range, refusal, from: pusher, db)
            return .refused(refusal, kept: kept)
        }
        guard !fresh.isEmpty else { return .duplicate }
        // What the server does not hold yet is judged as the rest of the set: the held part
        // is already applied, exactly as written.
        var outcome = PushOutcome.accepted
        try db.inSavepoint {
            do {
                try stage(ChangeSet(fresh), set: range, from: pusher, receivedAt: receivedAt, db)
                return .commit
            } catch StoreError.refused(let refusal) {
                outcome = .refused(refusal, kept: kept)
            } catch StoreError.outOfOrder(.causalityGap(_, let missing)) {
                outcome = .deferred(missing: missing)
            }
            return .rollback
        }
        if case .refused(let refusal, _) = outcome {
            // The refusal is recorded as voids (DESIGN §3.4); the refused content is kept in the
            // log so a repeat push can be recognised.
            try recordVoids(of: fresh, set: range, refusal, from: pusher, db)
        }
        return outcome
    }

    /// Logs `changes` as voids with `refusal`, each for whoever may see its record
    /// (``voidAudience(of:from:_:)``); a change whose record the pusher may not see leaves no trace.
    static func recordVoids(
        of changes: [Change], set range: ClosedRange<UInt64>, _ refusal: Refusal, from pusher: Pusher,
        _ db: Database
    ) throws {
        for change in changes {
            guard let audience = try voidAudience(of: change, from: pusher, db) else { continue }
            var void = change
            void.refusal = refusal
            let record = try loadRecord(change.recordID, db) ?? RecordState(kind: change.kind, id: change.recordID)
            try ingest(void, set: range, into: record, audience: .given(audience), db)
        }
    }

    /// Who receives the void of a refused `change` (DESIGN §6.1): whoever may see its record.
    /// A refused creation of a request or standard goes to the pusher's department only (no
    /// one else knows the record); one of a comment or feedback to the parties of its request.
    /// `nil` when the pusher may not see the record or the request it names, or when the change
    /// edits a record the server never had: then nothing is recorded, since no change the
    /// pusher can ever have accepted depends on it.
    static func voidAudience(of change: Change, from pusher: Pusher, _ db: Database) throws -> Audience? {
        let lookup = Lookups(db)
        let current = try loadRecord(change.recordID, db)
        if let current, current.exists {
            guard let audience = Schema.audience(of: current, lookup: lookup.any), pusher.scope.covers(audience)
            else { return nil }
            return audience
        }
        switch Schema.partyRule(of: change.kind) {
        case .everyone, .departments:
            let creates = Schema.partyFields(of: change.kind).contains { change.fields[$0] != nil }
            guard creates || current != nil else { return nil }
            return .departments([pusher.department])
        case .sameAs:
            guard let audience = Schema.audience(of: change.kind, value: { change.fields[$0] }, lookup: lookup.any),
                pusher.scope.covers(audience)
            else { return nil }
            try lookup.rethrow()
            return audience
        }
    }

    /// Checks and applies every change of `set` pushed by `pusher`, logged as members of the
    /// change set spanning counters `range`, in `db`'s transaction; throws on the first problem.
    static func stage(
        _ set: ChangeSet, set range: ClosedRange<UInt64>, from pusher: Pusher, receivedAt: Timestamp, _ db: Database
    ) throws {
        for change in set.changes {
            let current = try loadRecord(change.recordID, db) ?? RecordState(kind: change.kind, id: change.recordID)
            let lookup = Lookups(db, scope: pusher.scope)
            // A record outside the pusher's scope is, to it, a record that does not exist: the
            // same refusal, before any check that could tell the two apart (DESIGN §6.1).
            if current.exists, lookup.visible(current) == false {
                try lookup.rethrow()
                throw StoreError.refused(Schema.noSuchRecord(change.kind, change.recordID, for: pusher.departmentCode))
            }
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
                    guard current.exists else {
                        throw StoreError.refused(
                            Schema.noSuchRecord(change.kind, change.recordID, for: pusher.departmentCode))
                    }
                    throw StoreError.refused(
                        Refusal(
                            .malformed,
                            "the context of change \(change.dot) names \(missing), a change of another record"))
                }
                throw StoreError.outOfOrder(.causalityGap(change: change.dot, missing: missing))
            }
            // What it was written against in other records: until the server holds it all (a
            // server restored from a backup gets it back from its writer), it waits (§3.3).
            for dot in change.requires where try ChangeLog.entry(dot, db) == nil {
                throw StoreError.outOfOrder(.causalityGap(change: change.dot, missing: dot))
            }
            // Fixed fields, the parties among them, never change once the record exists, not
            // even through a write that had seen nothing of it: a second creation may only
            // repeat them (two sites of one department rating a request offline).
            if current.exists {
                let spec = Schema.spec(change.kind)
                for field in spec.fields where field.fixed {
                    guard let written = change.fields[field.name], written != current.value(of: field.name)
                    else { continue }
                    throw StoreError.refused(
                        Refusal(
                            .immutable,
                            "the \(field.label) of this \(change.kind.rawValue) is fixed once it exists and cannot be written again with another value"
                        ))
                }
            }
            let seen = try view(of: change, current: current, db)
            try check(
                change, by: pusher.writer, seen: seen, pusherCode: pusher.code, scope: pusher.scope,
                receivedAt: receivedAt, db)
            if !current.exists, !current.clock.isEmpty {
                try checkReuse(ofRefusedRecord: change, db)
            }
            try ingest(change, set: range, into: current, audience: .derived, db)
        }
    }

    /// A record id whose earlier writes were all refused may be created again only if every
    /// site that will see the record also received those voids: otherwise a later change whose
    /// context names them would wait forever where they never arrive. Feedback, whose id is
    /// derived from its request and side, passes (its voids went to the request's parties);
    /// requests and standards take a new id.
    static func checkReuse(ofRefusedRecord change: Change, _ db: Database) throws {
        let lookup = Lookups(db)
        let audience = Schema.audience(of: change.kind, value: { change.fields[$0] }, lookup: lookup.any)
        try lookup.rethrow()
        for earlier in try Audiences.ofRecord(change.recordID, db) {
            switch (earlier, audience) {
            case (.everyone, _):
                continue
            case (.departments(let reached), .departments(let needed)) where needed.isSubset(of: reached):
                continue
            default:
                throw StoreError.refused(
                    Refusal(
                        .duplicate,
                        "the id \(change.recordID.text) was taken by a refused write; a new \(change.kind.rawValue) takes a new id"
                    ))
            }
        }
    }

    /// Applies a change set checked as `writer`, all or nothing: every change is checked against
    /// what its writer had seen, the schema and the database's rules. Any refusal or causality
    /// gap throws and leaves the database exactly as it was.
    public func apply(_ set: ChangeSet, as writer: Writer, pusherCode: String?) throws {
        let receivedAt = Timestamp.now()
        try self.writer.write { db in
            let range = set.firstCounter...set.lastCounter
            for change in set.changes {
                let current =
                    try Self.loadRecord(change.recordID, db) ?? RecordState(kind: change.kind, id: change.recordID)
                if let missing = current.clock.firstMissing(of: change.context) {
                    throw StoreError.outOfOrder(.causalityGap(change: change.dot, missing: missing))
                }
                let seen = try Self.view(of: change, current: current, db)
                try Self.check(
                    change, by: writer, seen: seen, pusherCode: pusherCode, scope: .all, receivedAt: receivedAt, db)
                try Self.ingest(change, set: range, into: current, audience: .derived, db)
            }
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

    /// The server's stream after `cursor` as a site with `scope` receives it: up to about
    /// `limit` changes, in whole change sets.
    public func changes(
        after cursor: Int64, limit: Int, scope: Scope = .all, maximumBytes: Int = .max,
        size: (ChangeSet) -> Int = { _ in 0 }
    ) throws -> ChangeBatch {
        try writer.read { db in
            try Self.changes(after: cursor, limit: limit, scope: scope, maximumBytes: maximumBytes, size: size, db)
        }
    }

    /// `changes(after:limit:scope:)` on an async context, off the caller's thread.
    public func changesAsync(
        after cursor: Int64, limit: Int, scope: Scope, maximumBytes: Int = .max,
        size: @escaping @Sendable (ChangeSet) -> Int = { _ in 0 }
    ) async throws -> ChangeBatch {
        try await writer.read { db in
            try Self.changes(after: cursor, limit: limit, scope: scope, maximumBytes: maximumBytes, size: size, db)
        }
    }

    /// The changes after `cursor` that `scope` covers (DESIGN §6.1): at most `limit` changes
    /// (more only to finish a set), and whole sets whose `size` adds up to at most
    /// `maximumBytes` (always at least one set, so a reader is never stuck behind a large one).
    ///
    /// The cursor is the server's sequence: when nothing more is in scope, `nextCursor` is the
    /// end of the stream, so a site whose department has nothing new still moves on, and
    /// `more` is never true for changes the site will not receive.
    static func changes(
        after cursor: Int64, limit: Int, scope: Scope, maximumBytes: Int = .max,
        size: (ChangeSet) -> Int = { _ in 0 }, _ db: Database
    ) throws -> ChangeBatch {
        let limit = max(limit, 1)
        let stream = Stream(scope: scope)
        var entries = try stream.entries(after: cursor, limit: limit, db)
        let exhausted = entries.count < limit
        // Never split a change set: its changes are contiguous in the log, so the rest of the
        // last one lies within as many sequence numbers as it has counters left.
        if let last = entries.last, last.change.dot.counter < last.set.upperBound {
            entries += try stream.rest(ofSetOf: last, db)
        }
        var sets = changeSets(of: entries)
        var total = 0
        var kept = 0
        for (set, _) in sets {
            let bytes = size(set)
            guard kept == 0 || total + bytes <= maximumBytes else { break }
            total += bytes
            kept += 1
        }
        let cut = kept < sets.count
        sets.removeSubrange(kept...)
        if exhausted && !cut {
            // Everything in scope up to the end of the stream is in this batch.
            let next = max(cursor, try latestSequence(db))
            return ChangeBatch(
                sets: sets.map(\.set), nextCursor: next, more: false, cursorEpoch: try epoch(at: next, db))
        }
        let next = sets.last?.lastSeq ?? cursor
        return ChangeBatch(
            sets: sets.map(\.set), nextCursor: next, more: try stream.hasEntries(after: next, db),
            cursorEpoch: try epoch(at: next, db))
    }

    /// The directory as every site receives it: the changes whose audience is everyone (the
    /// department records, DESIGN §6.1), in stream order and in their change sets, exactly as a
    /// pull hands them out. An enrolment bundle carries it, so a site joined offline knows the
    /// departments (DESIGN §6.2).
    public func directory() throws -> [ChangeSet] {
        try writer.read { db in Self.changeSets(of: try Stream.directory(db)).map(\.set) }
    }

    /// `entries`, in stream order, as the change sets they belong to, each with the sequence
    /// number of its last change: the form in which the server hands out its stream.
    static func changeSets(of entries: [ChangeLog.Entry]) -> [(set: ChangeSet, lastSeq: Int64)] {
        var sets: [(set: ChangeSet, lastSeq: Int64)] = []
        var current: [Change] = []
        var currentSet: (ReplicaID, ClosedRange<UInt64>)?
        var lastSeq: Int64 = 0
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
        return sets
    }

    /// The highest counter of `replica` that this database holds (0 if none).
    public func highestCounter(of replica: ReplicaID) throws -> UInt64 {
        try writer.read { db in try Self.highestCounter(of: replica, db) }
    }

    /// Every counter of `replica` that this database holds, applied or void, as ranges.
    public func heldCounters(of replica: ReplicaID) throws -> [ClosedRange<UInt64>] {
        try writer.read { db in try Self.heldCounters(of: replica, db) }
    }

    /// The server's latest sequence number.
    public func latestSequence() throws -> Int64 {
        try writer.read { db in try Self.latestSequence(db) }
    }

    /// What Welcome tells a site (DESIGN §3.9), read in one snapshot, off the caller's thread:
    /// the stream's end, every counter of the site's that the server holds, and whether the
    /// site's cursor names a point of this server's stream.
    public func syncPosition(of replica: ReplicaID, cursor: Int64, cursorEpoch: UInt64) async throws -> SyncPosition {
        try await writer.read { db in try Self.syncPosition(of: replica, cursor: cursor, cursorEpoch: cursorEpoch, db) }
    }

    static func syncPosition(of replica: ReplicaID, cursor: Int64, cursorEpoch: UInt64, _ db: Database) throws
        -> SyncPosition
    {
        let latest = try latestSequence(db)
        // A cursor past the end, or whose change was logged in another epoch, belongs to a
        // stream this server no longer has: it was restored from a backup, then logged anew.
        let known = try cursor == 0 || (cursor <= latest && epoch(at: cursor, db) == cursorEpoch)
        return SyncPosition(latestSequence: latest, heldCounters: try heldCounters(of: replica, db), cursorValid: known)
    }

    /// Starts a new epoch of the stream at its next sequence number. Every process that opens a
    /// server's database calls it first, so what a restored server logs anew never passes for
    /// what a site pulled before the restore (DESIGN §3.9).
    public func beginEpoch() throws {
        try writer.write { db in
            var epoch: Int64 = 0
            while epoch == 0 { epoch = Int64.random(in: .min ... .max) }
            try db.executeCached(
                sql: """
                    INSERT OR REPLACE INTO stream_epoch (firstSeq, epoch)
                    VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM change), ?)
                    """, arguments: [epoch])
        }
    }

    /// The epoch the change at `seq` was logged in; 0 for the start of the stream, and for
    /// changes logged before epochs existed.
    static func epoch(at seq: Int64, _ db: Database) throws -> UInt64 {
        guard seq > 0 else { return 0 }
        let epoch = try Int64.fetchOne(
            db.cachedStatement(
                sql: "SELECT epoch FROM stream_epoch WHERE firstSeq <= ? ORDER BY firstSeq DESC LIMIT 1"),
            arguments: [seq])
        return UInt64(bitPattern: epoch ?? 0)
    }

    /// The counters of `replica` that the log holds, applied or void, as ranges in order.
    static func heldCounters(of replica: ReplicaID, _ db: Database) throws -> [ClosedRange<UInt64>] {
        // Nearly always one range from 1: counting over the (replica, counter) index says so.
        let summary = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT COUNT(*), MIN(counter), MAX(counter) FROM change WHERE replica = ?"),
            arguments: [replica.description])
        guard let summary, let count = summary[0] as Int64?, count > 0 else { return [] }
        let low: Int64 = summary[1]
        let high: Int64 = summary[2]
        if high - low + 1 == count { return [UInt64(low)...UInt64(high)] }
        // Gaps and islands: within one island, counter minus its rank is constant.
        return try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT MIN(counter), MAX(counter) FROM (
                        SELECT counter, counter - ROW_NUMBER() OVER (ORDER BY counter) AS island
                        FROM change WHERE replica = ?)
                    GROUP BY island ORDER BY 1
                    """), arguments: [replica.description]
        ).map { row in UInt64(row[0] as Int64)...UInt64(row[1] as Int64) }
    }

    static func highestCounter(of replica: ReplicaID, _ db: Database) throws -> UInt64 {
        UInt64(
            try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT MAX(counter) FROM change WHERE replica = ?"),
                arguments: [replica.description]) ?? 0)
    }

    static func latestSequence(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(seq) FROM change")) ?? 0
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
            try db.executeCached(
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
            try db.executeCached(
                sql: "UPDATE replica_registry SET revoked = 1 WHERE replicaID = ?", arguments: [replica.description])
            if db.changesCount == 0 { throw StoreError.notFound("replica \(replica)") }
        }
    }
}
