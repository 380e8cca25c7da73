import Foundation
import GRDB
import InternoModel

/// What a site holds, digested for `interno verify` (DESIGN §3.10), read in one snapshot.
public struct SiteDigests: Sendable {
    /// What the server needs to say what the site should hold: its cursor and its outbox.
    public struct Position: Equatable, Sendable {
        /// The site's cursor.
        public var cursor: Int64
        /// The epoch of `cursor` (DESIGN §3.9).
        public var cursorEpoch: UInt64
        /// The counters of the site's own change sets in its outbox (pending, deferred or
        /// refused): not acknowledged, so left out of the log part on both sides.
        public var unacknowledged: [ClosedRange<UInt64>]
    }

    /// Where the site stood when its records were digested.
    public var position: Position
    /// Every record the site holds (a log entry, a record state or a query-table row of it),
    /// in id order.
    public var records: [RecordDigest]
    /// Pending records whose state or shown values do not follow from this site's own log,
    /// with the parts that do not (`state`, `shown`): the server cannot check them (it lacks
    /// the pending changes), so the site does.
    public var inconsistent: [UUID: [String]]
    /// Ids in the site's tables that are not record ids at all (not a UUID in lowercase):
    /// nothing the server sent; a repair deletes them.
    public var malformed: [String]
}

/// What a repair did to one record.
public enum RepairOutcome: Equatable, Sendable {
    /// The record's log is now the server's, with `kept` own changes not yet acknowledged.
    case repaired(kept: Int)
    /// Nothing was changed: why.
    case failed(String)
}

extension SiteStore {
    /// Digests every record this site holds (DESIGN §3.10): the part of its log the server
    /// knows (everything but its own outbox), its record states and its query-table rows, read
    /// straight from the stored bytes. Records with own changes in the outbox are *pending*:
    /// their digest covers the log alone, and the site checks here that their state and shown
    /// values follow from their log.
    public func digests() throws -> SiteDigests {
        try read { db in try Self.digests(db) }
    }

    /// Where this site stands for `interno verify`: its cursor and its outbox's counters.
    public func verifyPosition() throws -> SiteDigests.Position {
        try read { db in try Self.verifyPosition(db) }
    }

    static func verifyPosition(_ db: Database) throws -> SiteDigests.Position {
        let replica = try replicaRow(db)
        return SiteDigests.Position(
            cursor: replica.cursor, cursorEpoch: replica.cursorEpochValue,
            unacknowledged: CounterRanges(
                try OutboxRow.fetchAll(db).map { UInt64($0.firstCounter)...UInt64($0.lastCounter) }
            ).ranges)
    }

    static func digests(_ db: Database) throws -> SiteDigests {
        let position = try verifyPosition(db)
        let me = RecordKey(try replicaRow(db).id.uuid)
        let outbox = CounterRanges(position.unacknowledged)
        // Each table once, in its own order, into arrays that are then sorted and merged
        // by id: a scan reads each page once where lookups by id would read them at random,
        // and sorting costs less than hashing every id into a dictionary.
        var logs: [(key: RecordKey, hash: UInt64, pending: Bool)] = []
        var states: [(key: RecordKey, hash: UInt64, kind: RecordKind?)] = []
        var shown: [(key: RecordKey, hash: UInt64)] = []
        var malformed: Set<String> = []
        var scratch = DigestHasher()
        try StoredDigests.scan(db, "SELECT \(StoredDigests.entryColumns()) FROM change") { cells in
            guard let key = cells.key(0) else {
                malformed.insert(cells.text(0))
                return
            }
            if cells.key(1) == me, outbox.contains(UInt64(bitPattern: cells.integer(2))) {
                logs.append((key, 0, true))
            } else {
                logs.append((key, StoredDigests.entry(cells, using: &scratch), false))
            }
        }
        try StoredDigests.scan(db, "SELECT \(StoredDigests.stateColumns) FROM record") { cells in
            guard let key = cells.key(0) else {
                malformed.insert(cells.text(0))
                return
            }
            states.append((key, StoredDigests.state(cells, using: &scratch), RecordKind(rawValue: cells.text(1))))
        }
        for kind in RecordKind.allCases {
            try StoredDigests.scan(db, StoredDigests.shownQuery(kind)) { cells in
                guard let key = cells.key(0) else {
                    malformed.insert(cells.text(0))
                    return
                }
                shown.append((key, StoredDigests.shown(cells, kind: kind, using: &scratch)))
            }
        }
        logs.sort { $0.key < $1.key }
        states.sort { $0.key < $1.key }
        shown.sort { $0.key < $1.key }

        var digests = SiteDigests(
            position: position, records: [], inconsistent: [:], malformed: malformed.sorted())
        var (l, s, v) = (0, 0, 0)
        while true {
            let next = [
                l < logs.count ? logs[l].key : nil, s < states.count ? states[s].key : nil,
                v < shown.count ? shown[v].key : nil,
            ].compactMap { $0 }.min()
            guard let key = next else { break }
            var part = Parts()
            while l < logs.count, logs[l].key == key {
                if logs[l].pending { part.pending = true } else { part.log &+= logs[l].hash }
                l += 1
            }
            while s < states.count, states[s].key == key {
                part.state = StoredDigests.adding(states[s].hash, to: part.state)
                part.kind = states[s].kind
                s += 1
            }
            while v < shown.count, shown[v].key == key {
                part.shown = StoredDigests.adding(shown[v].hash, to: part.shown)
                v += 1
            }
            let id = key.uuid
            if part.pending {
                let wrong = try Self.partsNotFollowingFromLog(
                    id, kind: part.kind, state: part.state, shown: part.shown, db)
                if !wrong.isEmpty { digests.inconsistent[id] = wrong }
            }
            digests.records.append(
                RecordDigest(id: id, log: part.log, state: part.state, shown: part.shown, pending: part.pending))
        }
        return digests
    }

    /// What a site holds of one record, as ``digests()`` gathers it.
    private struct Parts {
        var log: UInt64 = 0
        var state: UInt64 = 0
        var shown: UInt64 = 0
        var pending = false
        var kind: RecordKind?
    }

    /// The parts of record `id` (`state`, `shown`) whose stored hash is not what replaying its
    /// whole log here gives; empty when both are. The check of a pending record, which the
    /// server cannot make. A log that cannot be read or replayed fails both.
    static func partsNotFollowingFromLog(
        _ id: UUID, kind: RecordKind?, state: UInt64, shown: UInt64, _ db: Database
    ) throws -> [String] {
        let entries: [ChangeLog.Entry]
        do { entries = try ChangeLog.entries(ofRecord: id, db) } catch StoreError.corrupt { return ["state", "shown"] }
        guard let first = entries.first else {
            return [("state", state != 0), ("shown", shown != 0)].filter(\.1).map(\.0)
        }
        let replayed: RecordState
        do throws(ApplyError) {
            replayed = try RecordState.replay(
                kind: kind ?? first.change.kind, id: id,
                changes: entries.map(\.change))
        } catch {
            return ["state", "shown"]
        }
        return [
            ("state", RecordDigest.state(replayed) != state), ("shown", StoredDigests.shown(of: replayed) != shown),
        ].filter(\.1).map(\.0)
    }

    /// Replaces what this site holds of each record with the server's `logs` (DESIGN §3.10), in
    /// one transaction, each record on its own: its log becomes the server's changes, in
    /// stream order, followed by the site's own changes not yet acknowledged, which are kept
    /// as they are; its state and query row are rebuilt from that log. A record whose log
    /// comes back empty, and that has no own pending change, is deleted, with
    /// `secure_delete` on, as records outside the site's scope are (DESIGN §6.1).
    ///
    /// A record whose new log cannot be replayed (a pending change that builds on something
    /// this site has not pulled) is left as it was, and its outcome says why.
    public func repair(_ logs: [RecordLog], malformed: [String] = []) throws -> [RepairOutcome] {
        try writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA secure_delete = ON")
            defer { try? db.execute(sql: "PRAGMA secure_delete = OFF") }
            var outcomes: [RepairOutcome] = []
            try db.inTransaction {
                var replica = try Self.replicaRow(db)
                let outbox = CounterRanges(
                    try OutboxRow.fetchAll(db).map { UInt64($0.firstCounter)...UInt64($0.lastCounter) })
                for text in malformed { try Self.deleteEverything(of: text, db) }
                for log in logs {
                    var outcome = RepairOutcome.failed("not repaired")
                    try db.inSavepoint {
                        do {
                            outcome = .repaired(kept: try Self.replace(log, replica: &replica, outbox: outbox, db))
                            return .commit
                        } catch StoreError.outOfOrder(let error) {
                            outcome = .failed(
                                "its changes not yet sent build on something this site has not pulled (\(error)): run `interno sync`, then verify again"
                            )
                        } catch StoreError.corrupt(let what) {
                            outcome = .failed("its changes not yet sent cannot be read (\(what))")
                        }
                        return .rollback
                    }
                    outcomes.append(outcome)
                }
                try ReplicaRow.saveCounters(of: replica, db)
                return .commit
            }
            return outcomes
        }
    }

    /// Replaces the log, state and query row of one record; returns how many own pending
    /// changes were kept.
    private static func replace(
        _ log: RecordLog, replica: inout ReplicaRow, outbox: CounterRanges, _ db: Database
    ) throws -> Int {
        let id = log.id.text
        let me = replica.id
        // What stays: own changes the server has not acknowledged, exactly as they are (the
        // outbox pushes them from the log), and own voids, which keep the refused content.
        var kept: [ChangeLog.Entry] = []
        var ownVoids: [Dot: ChangeLog.Entry] = [:]
        let local = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT \(ChangeLog.columns) FROM change
                    WHERE \(ChangeLog.Columns.record) = ? AND \(ChangeLog.Columns.replica) = ?
                    """),
            arguments: [id, me.description])
        for row in local {
            let counter = UInt64(bitPattern: Int64.fromDatabaseValue(row[2]) ?? 0)
            if outbox.contains(counter) {
                kept.append(try ChangeLog.decode(row))
            } else if let entry = try? ChangeLog.decode(row), entry.change.isVoid {
                ownVoids[entry.change.dot] = entry
            }
        }
        kept.sort { $0.change.dot.counter < $1.change.dot.counter }
        let keptDots = Set(kept.map(\.change.dot))
        try deleteEverything(of: id, db)

        var changes: [Change] = []
        for entry in log.entries where !keptDots.contains(entry.change.dot) {
            var change = entry.change
            if change.isVoid, let mine = ownVoids[change.dot], change.stands(forVoidOf: mine.change) {
                change = mine.change
            }
            try ChangeLog.append(change, set: entry.set, db)
            changes.append(change)
            guard change.dot.replica == me else { continue }
            // As a pull would: never reuse a counter or a request number the server has.
            replica.counter = max(replica.counter, Int64(change.dot.counter))
            if change.kind == .request, let code = replica.code, let key = change.fields["key"]?.text,
                let number = requestNumber(key, code: code)
            {
                replica.nextRequestNumber = max(replica.nextRequestNumber, number + 1)
            }
        }
        for entry in kept {
            try ChangeLog.append(entry.change, set: entry.set, db)
            changes.append(entry.change)
        }
        guard let first = changes.first else { return 0 }
        let record: RecordState
        do throws(ApplyError) {
            record = try RecordState.replay(kind: first.kind, id: log.id, changes: changes)
        } catch {
            throw StoreError.outOfOrder(error)
        }
        try RecordTable.save(record, timeline: first.kind == .request ? RequestTimeline(log: changes) : nil, db)
        return kept.count
    }

    /// Deletes every row of record `id`: its log entries, its state and its query row.
    private static func deleteEverything(of id: String, _ db: Database) throws {
        try ChangeLog.delete(ofRecord: id, db)
        try RecordTable.delete(id, db)
        for kind in RecordKind.allCases {
            try Projection.delete(id, kind: kind, db)
        }
    }
}
