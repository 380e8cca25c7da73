import Foundation
import GRDB
import InternoModel

private typealias Log = ChangeLog.Columns
private typealias Epoch = StreamEpochTable.Columns
private typealias Registry = RegistryRow.Columns

extension Pusher {
    /// The pusher an enrolled site's registry entry describes.
    public init(_ entry: RegistryRow) throws {
        guard let replica = ReplicaID(uuidString: entry.replicaID), let department = UUID(text: entry.department)
        else { throw StoreError.corrupt("registry entry \(entry.replicaID)") }
        self.init(
            replica: replica, department: department, code: entry.code, departmentCode: entry.departmentCode,
            scope: entry.scope == .all ? .all : .department(department))
    }
}

extension ServerStore {
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
        try receive(sets, from: try Pusher(entry), receivedAt: receivedAt)
    }

    /// ``receive(_:from:receivedAt:)`` for the site `pusher` describes.
    public func receive(_ sets: [ChangeSet], from pusher: Pusher, receivedAt: Timestamp) throws -> [PushOutcome] {
        try writer.write { db in try Self.receive(sets, from: pusher, receivedAt: receivedAt, db) }
    }

    /// Judges a Push in batches of whole sets (DESIGN §4, §5), in `db`'s transaction: what a
    /// batch's sets name is read in a few set-based queries (the pusher's logged counters, the
    /// records written and the records their references name), every set is judged in memory
    /// on its own by the ``Judge``, and what it decided is written.
    ///
    /// A Push of several batches is a pipeline: while the writer writes one batch's rows,
    /// another thread judges the next, over a ``StoredState`` that reads what the batch ahead
    /// decided before what the database held (``StoredState/ahead``), and whose other reads
    /// wait for the writer (``DatabaseGate``). The outcomes are those of the batches judged
    /// one after the other, each written before the next is read.
    static func receive(_ sets: [ChangeSet], from pusher: Pusher, receivedAt: Timestamp, _ db: Database) throws
        -> [PushOutcome]
    {
        let batches = Self.batches(of: sets)
        guard batches.count > 1 else {
            return try judging(db, expecting: sets.changeCount) { state in
                try prefetch(sets, from: pusher, state)
            } _: { judge in
                try sets.map { set in try judge.push(set, from: pusher, receivedAt: receivedAt) }
            }
        }
        var outcomes: [PushOutcome] = []
        // The batch judged last, not yet written.
        var ahead: Judge<StoredState>?
        for batch in batches {
            let state = StoredState(db, ahead: ahead)
            // Before the batch ahead is written: what it changes, its judge answers.
            try prefetch(batch, from: pusher, state)
            let judge = Judge(state, expecting: batch.changeCount)
            let decided: [PushOutcome]
            if let written = ahead {
                // Held by `written` alone, and by this source until it forgets it, so that the
                // thread `release` hands it to frees it, not the writer.
                ahead = nil
                let gate = DatabaseGate()
                state.gate = gate
                let handed = Handed(judge)
                let judging = Prepared { () -> Result<[PushOutcome], any Error> in
                    defer { gate.finish() }
                    return Result {
                        try judged(
                            batch.map { set in try handed.judge.push(set, from: pusher, receivedAt: receivedAt) })
                    }
                }
                do {
                    try write(written, db)
                } catch {
                    gate.fail(error)
                    _ = judging.take()
                    throw error
                }
                gate.serve()
                state.gate = nil
                decided = try judging.take().get()
                // The batch ahead is written: this batch's source reads it from the database
                // now, and nothing holds its judge any more.
                state.forgetAhead()
                release(written)
            } else {
                decided = try judged(
                    batch.map { set in try judge.push(set, from: pusher, receivedAt: receivedAt) })
            }
            outcomes += decided
            ahead = judge
        }
        if let last = ahead {
            ahead = nil
            try write(last, db)
            release(last)
        }
        return outcomes
    }

    /// Loads what `sets` name into `state`: the pusher's counters, the records written and
    /// those their references name, the keys of the requests they create.
    private static func prefetch(
        _ sets: some Collection<ChangeSet>, from pusher: Pusher, _ state: StoredState
    ) throws {
        try state.prefetch(
            replica: pusher.replica,
            counters: sets.lazy.flatMap(\.changes).filter { $0.dot.replica == pusher.replica }.map(\.dot.counter))
        try state.prefetch(
            records: sets.lazy.flatMap(\.changes).flatMap { change in
                [change.recordID] + change.fields.values.compactMap(\.id)
            })
        try state.prefetch(keys: sets.lazy.flatMap(\.changes).compactMap(\.requestKey))
    }

    /// The batches ``receive(_:from:receivedAt:_:)`` judges `sets` in: the first of at most
    /// ``firstBatchChanges`` changes, each after it of at most 8/5 of the one before, up to
    /// ``batchChanges``.
    static func batches(of sets: [ChangeSet]) -> [ArraySlice<ChangeSet>] {
        ChangeSet.batches(of: sets, limit: batchChanges, first: firstBatchChanges)
    }

    /// The most changes the first batch of a Push holds. It is judged by the writer, with
    /// nothing to write beside it; each batch after it is judged while the one before is
    /// written. A Push of more than this many changes is a pipeline, and the smaller its
    /// first batch, the less of its judging the writer does alone.
    static let firstBatchChanges = 500

    /// The most changes one judge holds in memory: a Push of more is judged in several
    /// batches, each written before the next is read, all in the Push's one transaction, so
    /// the server's memory does not grow with the size of a Push (DESIGN §4).
    static let batchChanges = 2_000

    /// Applies a change set checked as `writer`, all or nothing: every change is checked against
    /// what its writer had seen, the schema and the database's rules. Any refusal or causality
    /// gap throws and leaves the database exactly as it was.
    public func apply(_ set: ChangeSet, as writer: Writer, pusherCode: String?) throws {
        let receivedAt = Timestamp.now()
        try self.writer.write { db in
            try Self.judging(db) { judge in
                try judge.apply(set, as: writer, pusherCode: pusherCode, receivedAt: receivedAt)
            }
        }
    }

    /// The server's stream after `cursor` as a site with `scope` receives it: up to about
    /// `limit` changes, in whole change sets, leaving out the `own` sets the site names.
    public func changes(
        after cursor: Int64, limit: Int, scope: Scope = .all, leavingOut own: OwnSets? = nil,
        maximumBytes: Int = .max, size: (ChangeSet) -> Int = { _ in 0 }
    ) throws -> ChangeBatch {
        try read { db in
            try Self.changes(
                after: cursor, limit: limit, scope: scope, leavingOut: own, maximumBytes: maximumBytes, size: size, db)
        }
    }

    /// The changes after `cursor` that `scope` covers (DESIGN §6.1): at most `limit` changes
    /// (more only to finish a set), and whole sets whose `size` adds up to at most
    /// `maximumBytes` (always at least one set, so a reader is never stuck behind a large one).
    ///
    /// The cursor is the server's sequence: when nothing more is in scope, `nextCursor` is the
    /// end of the stream, so a site whose department has nothing new still moves on, and
    /// `more` is never true for changes the site will not receive.
    ///
    /// The `own` sets the site names are read and paged like any others, so the cursor moves
    /// as it would with them, then left out of the batch (Protocol §5.4).
    static func changes(
        after cursor: Int64, limit: Int, scope: Scope, leavingOut own: OwnSets? = nil, maximumBytes: Int = .max,
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
        let (sets, cut) = ChangeBatch.page(
            of: ChangeBatch.changeSets(of: entries), maximumBytes: maximumBytes, size: size)
        let handed = sets.map(\.set).filter { set in !(own?.covers(set) ?? false) }
        if exhausted && !cut {
            // Everything in scope up to the end of the stream is in this batch.
            let next = max(cursor, try latestSequence(db))
            return ChangeBatch(sets: handed, nextCursor: next, more: false, cursorEpoch: try epoch(at: next, db))
        }
        let next = sets.last?.lastSeq ?? cursor
        return ChangeBatch(
            sets: handed, nextCursor: next, more: try stream.hasEntries(after: next, db),
            cursorEpoch: try epoch(at: next, db))
    }

    /// The directory as every site receives it: the changes whose audience is everyone (the
    /// department records, DESIGN §6.1), in stream order and in their change sets, exactly as a
    /// pull hands them out. An enrolment bundle carries it, so a site joined offline knows the
    /// departments (DESIGN §6.2).
    public func directory() throws -> [ChangeSet] {
        try read { db in ChangeBatch.changeSets(of: try Stream.directory(db)).map(\.set) }
    }

    /// The highest counter of `replica` that this database holds (0 if none).
    public func highestCounter(of replica: ReplicaID) throws -> UInt64 {
        try read { db in try Self.highestCounter(of: replica, db) }
    }

    /// Every counter of `replica` that this database holds, applied or void, as ranges.
    public func heldCounters(of replica: ReplicaID) throws -> [ClosedRange<UInt64>] {
        try read { db in try Self.heldCounters(of: replica, db) }
    }

    /// The server's latest sequence number.
    public func latestSequence() throws -> Int64 {
        try read { db in try Self.latestSequence(db) }
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
                    INSERT OR REPLACE INTO stream_epoch (\(StreamEpochTable.all.sql))
                    VALUES ((SELECT COALESCE(MAX(\(Log.seq)), 0) + 1 FROM change), ?)
                    """, arguments: [epoch])
        }
    }

    /// The epoch the change at `seq` was logged in; 0 for the start of the stream, and for
    /// changes logged before epochs existed.
    static func epoch(at seq: Int64, _ db: Database) throws -> UInt64 {
        guard seq > 0 else { return 0 }
        let epoch = try Int64.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT \(Epoch.epoch) FROM stream_epoch WHERE \(Epoch.firstSeq) <= ?
                    ORDER BY \(Epoch.firstSeq) DESC LIMIT 1
                    """),
            arguments: [seq])
        return UInt64(bitPattern: epoch ?? 0)
    }

    /// The counters of `replica` that the log holds, applied or void, as ranges in order.
    static func heldCounters(of replica: ReplicaID, _ db: Database) throws -> [ClosedRange<UInt64>] {
        // Nearly always one range from 1: counting over the (replica, counter) index says so.
        let summary = try Row.fetchOne(
            db.cachedStatement(
                sql: "SELECT COUNT(*), MIN(\(Log.counter)), MAX(\(Log.counter)) FROM change WHERE \(Log.replica) = ?"),
            arguments: [replica.description])
        guard let summary, let count = summary[0] as Int64?, count > 0 else { return [] }
        let low: Int64 = summary[1]
        let high: Int64 = summary[2]
        if high - low + 1 == count { return [UInt64(low)...UInt64(high)] }
        // Gaps and islands: within one island, counter minus its rank is constant.
        return try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT MIN(\(Log.counter)), MAX(\(Log.counter)) FROM (
                        SELECT \(Log.counter), \(Log.counter) - ROW_NUMBER() OVER (ORDER BY \(Log.counter)) AS island
                        FROM change WHERE \(Log.replica) = ?)
                    GROUP BY island ORDER BY 1
                    """), arguments: [replica.description]
        ).map { row in UInt64(row[0] as Int64)...UInt64(row[1] as Int64) }
    }

    static func highestCounter(of replica: ReplicaID, _ db: Database) throws -> UInt64 {
        UInt64(
            try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT MAX(\(Log.counter)) FROM change WHERE \(Log.replica) = ?"),
                arguments: [replica.description]) ?? 0)
    }

    static func latestSequence(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(\(Log.seq)) FROM change")) ?? 0
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
        try read { db in try Self.registryEntry(fingerprint: fingerprint, db) }
    }

    /// The registry entry whose certificate has `fingerprint`, noting it was seen now, to within
    /// a minute (``RegistryRow/lastSeenResolution``); a revoked site's attempts do not count.
    /// Off the caller's thread.
    public func connect(fingerprint: String, at time: Timestamp) async throws -> RegistryRow? {
        // Read on a reader: most connections find their site seen within the last minute and
        // write nothing, so they neither wait for the writer nor cost a commit.
        guard var entry = try await writer.read({ db in try Self.registryEntry(fingerprint: fingerprint, db) }) else {
            return nil
        }
        // Last seen means last let in: a revoked site's attempts do not count.
        guard !entry.revoked, entry.needsSeen(at: time) else { return entry }
        let replica = entry.replicaID
        let recorded = try await writer.write { db in
            try db.executeCached(
                sql: """
                    UPDATE replica_registry SET \(Registry.lastSeenAt) = ?
                    WHERE \(Registry.replicaID) = ? AND NOT \(Registry.revoked)
                    """,
                arguments: [time.millisecondsSince1970, replica])
            return db.changesCount > 0
        }
        // Revoked between the read and the write: the caller decides on the entry as it now
        // stands, never on the one read before the revocation.
        guard recorded else {
            return try await writer.read { db in try Self.registryEntry(fingerprint: fingerprint, db) }
        }
        entry.lastSeenAt = time.millisecondsSince1970
        return entry
    }

    static func registryEntry(fingerprint: String, _ db: Database) throws -> RegistryRow? {
        // Every connection reads it: one cached statement per connection, not a query built,
        // parsed and authorized each time.
        try RegistryRow.fetchOne(db.cachedStatement(sql: byFingerprint), arguments: [fingerprint])
    }

    private static let byFingerprint =
        "SELECT * FROM \(RegistryRow.databaseTableName) WHERE \(RegistryRow.Columns.fingerprint) = ?"

    /// Every enrolled site, by code.
    public func registry() throws -> [RegistryRow] {
        try read { db in try RegistryRow.order(RegistryRow.Columns.code).fetchAll(db) }
    }

    /// Revokes a site: its certificate is refused from now on. Its changes stay.
    public func revoke(_ replica: ReplicaID) throws {
        try writer.write { db in
            try db.executeCached(
                sql: "UPDATE replica_registry SET \(Registry.revoked) = 1 WHERE \(Registry.replicaID) = ?",
                arguments: [replica.description])
            if db.changesCount == 0 { throw StoreError.notFound("replica \(replica)") }
        }
    }
}
