import Foundation
import GRDB
import InternoModel

private typealias Log = ChangeLog.Columns
private typealias Outbox = OutboxRow.Columns

/// What applying a pulled batch did on a site.
public struct PullSummary: Equatable, Sendable {
    /// Changes new to this site, now applied.
    public var applied = 0
    /// Changes this site already had (its own, or a repeat): nothing changed.
    public var alreadyHad = 0
    /// This site's own changes that the server refused, learned from their voids.
    public var refusals: [Dot] = []
    /// Own changes were set aside: the server holds their counters with other content
    /// (DESIGN §3.9); ``Store/restoreSetAside()`` brings them back renumbered.
    public var setAside = false
    /// How many of this site's change sets wait set aside after the batch, this batch's and
    /// any before: ``Store/restoreSetAside()`` has them to renumber.
    public var setAsideSets = 0
    /// The batch also recorded the end of a complete sync
    /// (``SiteStore/applyPulled(_:completingSyncWith:)``).
    public var completedSync = false

    /// An empty summary.
    public init() {}
}

/// A local change set not yet acknowledged, with its changes.
public struct OutboxEntry: Equatable, Sendable {
    /// The outbox row: status and, if refused, why.
    public var row: OutboxRow
    /// The changes, as logged locally.
    public var changeSet: ChangeSet
}

extension SiteStore {
    /// The change sets to push, in counter order: pending and deferred ones, at most `limit`,
    /// starting after the set that ends at counter `after`.
    public func pendingChangeSets(after: UInt64 = 0, limit: Int = .max) throws -> [ChangeSet] {
        try outbox(statuses: [.pending, .deferred], after: after, limit: limit).map(\.changeSet)
    }

    /// The change sets one `Push` takes after the set that ends at counter `after`, in counter
    /// order: pending and deferred ones, at most `limit` sets and at most `maximumChanges`
    /// changes in all, but always the first set, however large. `more` says whether sets wait
    /// after them. Only the sets kept are read with their changes: a site whose outbox holds
    /// sets of a hundred changes no longer reads `limit` of them (200 000 changes) to send
    /// the tens of thousands one frame holds (DESIGN §5).
    public func pushPage(after: UInt64, limit: Int, maximumChanges: Int) throws -> (sets: [ChangeSet], more: Bool) {
        try read { db in
            let rows = try Self.outboxRows(
                statuses: [.pending, .deferred], after: after, limit: limit == .max ? .max : limit + 1, db)
            var kept = 0
            var changes = 0
            for row in rows.prefix(limit) {
                let size = Int(row.lastCounter - row.firstCounter + 1)
                if kept > 0, changes + size > maximumChanges { break }
                kept += 1
                changes += size
            }
            return (try Self.entries(rows.prefix(kept), db).map(\.changeSet), rows.count > kept)
        }
    }

    /// How many change sets wait to be pushed (pending or deferred), read without their changes.
    public func pendingChangeSetCount() throws -> Int {
        try read { db in
            try Int.fetchOne(
                db.cachedStatement(sql: "SELECT COUNT(*) FROM outbox WHERE \(Outbox.status) IN (?, ?)"),
                arguments: [OutboxRow.Status.pending.rawValue, OutboxRow.Status.deferred.rawValue]) ?? 0
        }
    }

    /// The outbox, in counter order, with every change set's changes.
    public func outbox(
        statuses: Set<OutboxRow.Status> = [.pending, .deferred, .refused], after: UInt64 = 0, limit: Int = .max
    ) throws -> [OutboxEntry] {
        try read { db in
            try Self.entries(try Self.outboxRows(statuses: statuses, after: after, limit: limit, db)[...], db)
        }
    }

    /// The outbox rows of `statuses` after the set that ends at counter `after`, in counter
    /// order, at most `limit`, without their changes.
    private static func outboxRows(
        statuses: Set<OutboxRow.Status>, after: UInt64, limit: Int, _ db: Database
    ) throws -> [OutboxRow] {
        // Read on every push: a cached statement (one per set of statuses), not a query
        // built each time.
        let wanted = statuses.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")
        return try OutboxRow.fetchAll(
            db.cachedStatement(
                sql:
                    """
                    SELECT * FROM outbox WHERE \(Outbox.firstCounter) > ? AND \(Outbox.status) IN (\(wanted))
                    ORDER BY \(Outbox.firstCounter) LIMIT ?
                    """
            ), arguments: [Int64(after), limit == .max ? -1 : limit])
    }

    /// `rows` with their changes, in their order.
    private static func entries(_ rows: ArraySlice<OutboxRow>, _ db: Database) throws -> [OutboxEntry] {
        let replica = try replicaRow(db)
        var entries: [OutboxEntry] = []
        entries.reserveCapacity(rows.count)
        var start = rows.startIndex
        while start < rows.endIndex {
            // Sets whose counters follow on from each other (nearly always all of them): their
            // changes in one query, not one query per set.
            var end = start + 1
            while end < rows.endIndex, rows[end].firstCounter == rows[end - 1].lastCounter + 1 { end += 1 }
            let logged = try db.cachedStatement(sql: ChangeLog.ofReplica).decodeAll(
                arguments: [replica.replicaID, rows[start].firstCounter, rows[end - 1].lastCounter],
                ChangeLog.decode)
            var next = logged.startIndex
            for row in rows[start..<end] {
                var changes: [Change] = []
                while next < logged.endIndex, Int64(logged[next].change.dot.counter) <= row.lastCounter {
                    // A refused set is pushed as it was written, not as its void.
                    var change = logged[next].change
                    change.refusal = nil
                    changes.append(change)
                    next += 1
                }
                guard !changes.isEmpty else {
                    throw StoreError.corrupt("outbox entry \(row.firstCounter) has no changes in the log")
                }
                entries.append(OutboxEntry(row: row, changeSet: ChangeSet(changes)))
            }
            start = end
        }
        return entries
    }

    /// Records the server's answers to one Push in one transaction: accepted and duplicate sets
    /// leave the outbox, deferred ones stay for the next sync, refused ones are rolled back
    /// here and stay visible with their reason.
    public func recordPushResults(_ results: [(firstCounter: UInt64, outcome: PushOutcome)]) throws {
        try writer.write { db in
            for (firstCounter, outcome) in results {
                switch outcome {
                case .accepted, .duplicate:
                    try OutboxRow.delete(firstCounter: Int64(firstCounter), db)
                case .deferred:
                    try db.executeCached(
                        sql: """
                            UPDATE outbox SET \(Outbox.status) = ? WHERE \(Outbox.firstCounter) = ? AND \(Outbox.status) = ?
                            """,
                        arguments: [
                            OutboxRow.Status.deferred.rawValue, Int64(firstCounter), OutboxRow.Status.pending.rawValue,
                        ])
                case .refused(let refusal, let kept):
                    try Self.markRefused(firstCounter: firstCounter, refusal, keeping: kept, db)
                }
            }
        }
    }

    /// The server refused the set: its changes become void here too, the records they touched
    /// are rebuilt from the log without them, and the set stays visible with `refusal` (§3.4).
    public func markRefused(firstCounter: UInt64, _ refusal: Refusal) throws {
        try writer.write { db in try Self.markRefused(firstCounter: firstCounter, refusal, db) }
    }

    /// `kept` are counters of the set that the server holds as accepted (DESIGN §3.9): they
    /// stay applied here too.
    static func markRefused(firstCounter: UInt64, _ refusal: Refusal, keeping kept: [UInt64] = [], _ db: Database)
        throws
    {
        let replica = try replicaRow(db)
        guard
            let row = try OutboxRow.fetchOne(db, key: Int64(firstCounter))
                ?? Row.fetchOne(
                    db,
                    sql: """
                        SELECT \(Log.setStart), \(Log.setEnd) FROM change WHERE \(Log.replica) = ? AND \(Log.counter) = ?
                        """,
                    arguments: [replica.replicaID, Int64(firstCounter)]
                ).map({
                    OutboxRow(
                        firstCounter: $0[0], lastCounter: $0[1], status: .refused,
                        refusalCode: nil, refusalReason: nil, createdAt: Timestamp.now().millisecondsSince1970)
                })
        else { throw StoreError.notFound("local change set \(firstCounter)") }
        try db.executeCached(
            sql: """
                UPDATE change SET \([Log.refusalCode, Log.refusalReason].assignments)
                WHERE \(Log.replica) = ? AND \(Log.counter) BETWEEN ? AND ? AND \(Log.refusalCode) IS NULL
                """,
            arguments: [refusal.code.rawValue, refusal.message, replica.replicaID, row.firstCounter, row.lastCounter])
        for counter in kept where (row.firstCounter...row.lastCounter).contains(Int64(counter)) {
            try db.executeCached(
                sql: """
                    UPDATE change SET \(Log.refusalCode) = NULL, \(Log.refusalReason) = NULL
                    WHERE \(Log.replica) = ? AND \(Log.counter) = ?
                    """,
                arguments: [replica.replicaID, Int64(counter)])
        }
        var refused = row
        refused.status = .refused
        refused.refusalCode = refusal.code.rawValue
        refused.refusalReason = refusal.message
        try refused.save(db)
        let records = try ChangeLog.records(
            ofReplica: replica.replicaID, from: row.firstCounter, through: row.lastCounter, db)
        for record in records {
            guard let id = UUID(text: record) else { continue }
            try RecordTable.rebuild(id, db)
        }
    }

    /// A person is done with a refused change set: it leaves the outbox. Its log entries stay,
    /// void, so history still shows what was tried and why it was refused.
    public func discardRefused(firstCounter: UInt64) throws {
        try writer.write { db in
            try db.executeCached(
                sql: "DELETE FROM outbox WHERE \(Outbox.firstCounter) = ? AND \(Outbox.status) = ?",
                arguments: [Int64(firstCounter), OutboxRow.Status.refused.rawValue])
            if db.changesCount == 0 { throw StoreError.notFound("refused change set \(firstCounter)") }
        }
    }

    /// Applies a batch pulled from the server and moves the cursor, in one transaction, so a
    /// broken connection loses nothing and repeats nothing (DESIGN §5).
    ///
    /// A change already here is skipped; a void of this site's own change marks it refused
    /// and rebuilds its records; a change ahead of its causal context throws
    /// ``StoreError/outOfOrder(_:)`` and nothing of the batch is applied.
    ///
    /// With `epoch`, the batch is a sync's last, and its transaction also records the end of
    /// that sync with the server whose identity is `epoch` (as ``markSynced(at:serverEpoch:)``),
    /// unless own change sets wait set aside: they are renumbered and pushed first, so the
    /// sync is not complete yet. One commit, and on a disk one fsync, fewer per sync.
    @discardableResult
    public func applyPulled(_ batch: ChangeBatch, completingSyncWith epoch: String? = nil) throws -> PullSummary {
        try writer.write { db in
            var replica = try Self.replicaRow(db)
            var summary = try Self.apply(pulled: batch.sets, to: &replica, db)
            try ReplicaRow.savePull(cursor: batch.nextCursor, epoch: batch.cursorEpoch, counters: replica, db)
            summary.setAsideSets = try Int.fetchOne(db.cachedStatement(sql: StashTable.setCount)) ?? 0
            if let epoch, summary.setAsideSets == 0 {
                try ReplicaRow.saveSync(at: .now(), serverEpoch: epoch, db)
                summary.completedSync = true
            }
            return summary
        }
    }

    /// Applies change sets the server logged that reached this site another way than a pull
    /// (the directory an enrolment bundle carries, DESIGN §6.2), through the same path as a
    /// pulled batch, in one transaction, but leaves the cursor where it is: the next pull
    /// receives them again and finds them already had.
    @discardableResult
    public func applyCarried(_ sets: [ChangeSet]) throws -> PullSummary {
        try writer.write { db in
            var replica = try Self.replicaRow(db)
            let summary = try Self.apply(pulled: sets, to: &replica, db)
            try ReplicaRow.saveCounters(of: replica, db)
            return summary
        }
    }

    /// The one path by which a site takes in the server's changes (Protocol §5.4, "Applying a
    /// pulled change"); `replica` comes back with the counter and next request number it learned.
    static func apply(pulled sets: [ChangeSet], to replica: inout ReplicaRow, _ db: Database) throws -> PullSummary {
        var summary = PullSummary()
        let me = replica.id
        // What the batch names, read in two set-based queries: its records, and which of this
        // site's own counters in it the log holds.
        func newJudge() throws -> Judge<StoredState> {
            let state = StoredState(db)
            try state.prefetch(records: sets.lazy.flatMap(\.changes).map(\.recordID))
            try state.prefetch(keys: sets.lazy.flatMap(\.changes).compactMap(\.requestKey))
            try state.prefetch(
                replica: me, counters: sets.lazy.flatMap(\.changes).filter { $0.dot.replica == me }.map(\.dot.counter))
            return Judge(state, expecting: sets.reduce(0) { $0 + $1.changes.count })
        }
        var judge = try newJudge()
        // A refusal or a step aside rewrites the log under the judge: what it took so far is
        // written first, and a fresh judge reads on from the database.
        func writeAndRead(_ body: () throws -> Void) throws {
            try write(judge, db)
            try body()
            judge = try newJudge()
        }
        do {
            for set in sets {
                let range = set.firstCounter...set.lastCounter
                for change in set.changes {
                    switch try judge.pulled(change, by: me) {
                    case .take:
                        break
                    case .alreadyHad:
                        summary.alreadyHad += 1
                        continue
                    case .knownRefusal:
                        continue
                    case .refusalOfOwn(let firstCounter, let refusal):
                        try writeAndRead { try Self.markRefused(firstCounter: firstCounter, refusal, db) }
                        summary.refusals.append(change.dot)
                        continue
                    case .stepAside(let counter):
                        try writeAndRead { try Self.setAside(fromSetOf: counter, replica, db) }
                        summary.setAside = true
                    }
                    if change.dot.replica == me, change.kind == .request, let code = replica.code,
                        let key = change.fields["key"]?.text, let number = Self.requestNumber(key, code: code)
                    {
                        // Never hand out again a request number the server already has.
                        replica.nextRequestNumber = max(replica.nextRequestNumber, number + 1)
                    }
                    guard try judge.take(change, set: range) else {
                        summary.alreadyHad += 1
                        continue
                    }
                    summary.applied += 1
                    // A site restored from a backup learns its own later writes back: never reuse their counters.
                    if change.dot.replica == me, Int64(change.dot.counter) > replica.counter {
                        replica.counter = Int64(change.dot.counter)
                    }
                }
            }
        } catch let error as JudgeError {
            throw StoreError(error)
        }
        try write(judge, db)
        return summary
    }

    /// Records the end of a complete sync with the server whose identity is `epoch`.
    public func markSynced(at time: Timestamp, serverEpoch epoch: String) throws {
        try writer.write { db in
            try ReplicaRow.saveSync(at: time, serverEpoch: epoch, db)
        }
    }
}

extension SiteStore {
    /// Writes one person's answer to a survey round (DESIGN §7.8), anonymously: the change's
    /// author is `site`, the site's code, never the person. In the same transaction the site
    /// remembers that `person` has answered `round`, in its `respondent` table, which is never
    /// logged or synced; a second answer from the same person is refused and nothing is written.
    @discardableResult
    public func answer(_ edit: Edit, round: UUID, site: String, person: String, at: Timestamp) throws -> ChangeSet {
        try writer.write { db in
            guard try !Self.hasAnswered(round: round, person: person, db) else {
                throw StoreError.refused(
                    Refusal(
                        .duplicate,
                        "\(person) has already answered this survey round at this site: each person answers once"))
            }
            try db.execute(
                sql: "INSERT INTO respondent (\(RespondentTable.all.sql)) VALUES (\(RespondentTable.all.placeholders))",
                arguments: [round.text, person])
            return try Self.write([edit], author: site, at: at, db)
        }
    }
}

extension SiteStore {
    /// `true` once `person` has answered `round` from this site (``answer(_:round:site:person:at:)``).
    public func hasAnswered(round: UUID, person: String) throws -> Bool {
        try read { db in try Self.hasAnswered(round: round, person: person, db) }
    }

    static func hasAnswered(round: UUID, person: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(
            db,
            sql: """
                SELECT EXISTS (
                    SELECT 1 FROM respondent WHERE \(RespondentTable.Columns.round) = ? AND \(RespondentTable.Columns.person) = ?)
                """,
            arguments: [round.text, person]) ?? false
    }

    /// How many answers to `round` this site holds, read through the `answer` query table's
    /// index, not by decoding every answer.
    public func answerCount(round: UUID) throws -> Int {
        try read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM answer WHERE \(AnswerTable.Columns.round) = ?", arguments: [round.text])
                ?? 0
        }
    }
}
