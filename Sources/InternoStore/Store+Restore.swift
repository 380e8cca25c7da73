import Foundation
import GRDB
import InternoModel

private typealias Log = ChangeLog.Columns

/// What a site learned from Welcome and did about it before pushing (DESIGN §3.9).
public struct WelcomeSummary: Equatable, Sendable {
    /// Own change sets put back in the outbox: the server holds none or only part of them.
    public var requeued = 0
    /// The site's cursor named no point of the server's stream: it pulls from the start.
    public var cursorReset = false
    /// The server holds counters of this site's that its outbox uses too, or counters above
    /// the site's own: pull before pushing, so that what clashes with what the server holds
    /// (a reused counter or request key) is set aside and renumbered first.
    public var pullFirst = false
}

/// A request of this site's that got a new key when its change set was renumbered.
public struct RenumberedRequest: Codable, Equatable, Sendable {
    /// The key it had here.
    public var from: String
    /// The key it has now, everywhere.
    public var to: String
}

extension SiteStore {
    /// Acts on what Welcome says of this site (DESIGN §3.9), in one transaction, before anything
    /// is pushed:
    /// - the counter moves past every counter of this site the server holds, so no new write
    ///   reuses one (a site restored from a backup that wrote since does not know them);
    /// - if the cursor names no point of the server's stream (the server was restored), it goes
    ///   back to 0: pulling everything again is safe, since applying is idempotent;
    /// - every own change set that is neither queued nor refused here, and that the server
    ///   does not hold whole, is queued again (the server lost it);
    /// - if a queued set uses counters the server holds, or the server holds counters above
    ///   this site's own, the site will pull first.
    public func prepare(heldCounters held: [ClosedRange<UInt64>], cursorReset: Bool) throws -> WelcomeSummary {
        try writer.write { db in
            let replica = try Self.replicaRow(db)
            var summary = WelcomeSummary()
            // A queued set the server holds a counter of (the wire keeps counters below 2^63).
            func isHeld(_ set: ClosedRange<Int64>) -> Bool {
                held.contains { Int64($0.lowerBound) <= set.upperBound && set.lowerBound <= Int64($0.upperBound) }
            }
            let highest = Int64(held.last?.upperBound ?? 0)
            if highest > replica.counter {
                try ReplicaRow.saveCounter(highest, db)
            }
            if cursorReset, replica.cursor > 0 {
                try ReplicaRow.resetCursor(db)
                summary.cursorReset = true
            }
            // Only the gaps between what the server holds are read: normally one range from 1,
            // so this costs an index seek, not a scan of everything the site ever wrote.
            var gaps: [(Int64, Int64)] = []
            var next: Int64 = 1
            for range in held {
                if Int64(range.lowerBound) > next { gaps.append((next, Int64(range.lowerBound) - 1)) }
                next = max(next, Int64(range.upperBound) + 1)
            }
            gaps.append((next, Int64.max))
            var requeued: Set<Int64> = []
            for (first, last) in gaps {
                let sets = try Row.fetchAll(
                    db.cachedStatement(
                        sql: """
                            SELECT DISTINCT \(Log.setStart), \(Log.setEnd) FROM change
                            WHERE \(Log.replica) = ? AND \(Log.counter) BETWEEN ? AND ? AND \(Log.refusalCode) IS NULL
                              AND NOT EXISTS (
                                SELECT 1 FROM outbox WHERE outbox.\(OutboxRow.Columns.firstCounter) = change.\(Log.setStart))
                            """), arguments: [replica.replicaID, first, last])
                for row in sets where requeued.insert(row[0]).inserted {
                    try OutboxRow(
                        firstCounter: row[0], lastCounter: row[1], status: .pending,
                        refusalCode: nil, refusalReason: nil, createdAt: Timestamp.now().millisecondsSince1970
                    ).insert(db)
                    summary.requeued += 1
                }
            }
            let queued = try OutboxRow.queuedCounters(db)
            let stashed = try Int.fetchOne(db.cachedStatement(sql: StashTable.count)) ?? 0
            // The server holding counters above this site's own means the site was restored
            // from a copy: what it wrote since may reuse a request key that the server holds
            // under a counter the site never used (an earlier heal renumbered it), so it pulls
            // its own later writes back, and steps aside where they clash, before pushing.
            summary.pullFirst =
                stashed > 0 || highest > replica.counter
                || queued.contains(where: isHeld)
            return summary
        }
    }

    /// Sets aside this site's change set holding `counter`, and every later one of its outbox:
    /// the server holds `counter` with other content, so they leave the log and the records
    /// they touched are rebuilt without them, until ``restoreSetAside()`` brings them back
    /// under new counters once the server's changes are in (DESIGN §3.9).
    static func setAside(fromSetOf counter: UInt64, _ replica: ReplicaRow, _ db: Database) throws {
        guard let entry = try ChangeLog.entry(Dot(replica: replica.id, counter: counter), db) else { return }
        let start = Int64(entry.set.lowerBound)
        var sets = try OutboxRow.filter(OutboxRow.Columns.lastCounter >= start).order(OutboxRow.Columns.firstCounter)
            .fetchAll(db)
        if !sets.contains(where: { $0.firstCounter == start }) {
            sets.insert(
                OutboxRow(
                    firstCounter: start, lastCounter: Int64(entry.set.upperBound), status: .pending, refusalCode: nil,
                    refusalReason: nil, createdAt: Timestamp.now().millisecondsSince1970), at: 0)
        }
        var touched: Set<String> = []
        for set in sets {
            touched.formUnion(
                try ChangeLog.records(
                    ofReplica: replica.replicaID, from: set.firstCounter, through: set.lastCounter, db))
            try db.executeCached(
                sql: StashTable.setAside,
                arguments: [
                    set.firstCounter, set.lastCounter, set.status.rawValue, set.createdAt, replica.replicaID,
                    set.firstCounter, set.lastCounter,
                ])
            try ChangeLog.delete(ofReplica: replica.replicaID, from: set.firstCounter, through: set.lastCounter, db)
            try OutboxRow.delete(firstCounter: set.firstCounter, db)
        }
        for record in touched {
            guard let id = UUID(text: record) else { throw StoreError.corrupt("record id \(record)") }
            try RecordTable.rebuild(id, db)
        }
    }

    /// Brings back what ``setAside(fromSetOf:_:_:)`` moved out, once the server's changes are
    /// in, in one transaction. A set the server turned out to hold with this very content was
    /// only waiting for a lost answer: it is done. Every other set takes new counters above
    /// everything the server holds of this site.
    ///
    /// Renumbering is safe because no one else ever saw these changes: the server holds other
    /// content under their counters, so it never accepted them, and no site received them.
    /// Their contexts keep what their writer had seen: an own dot among them takes its new
    /// number; but on a record that also has the server's own changes from the lost stretch
    /// (written here before the backup was restored, and never seen by these), the own entry
    /// goes back to what preceded that stretch, so those changes stay concurrent, a conflict
    /// for a person rather than a write silently lost. A new request whose key the server
    /// already has (the restored site reused its number) takes the site's next number.
    ///
    /// - Returns: the requests whose keys changed.
    public func restoreSetAside() throws -> [RenumberedRequest] {
        try writer.write { db in
            let stashed = try Row.fetchAll(db, sql: StashTable.stashed)
            guard !stashed.isEmpty else { return [] }
            var replica = try Self.replicaRow(db)
            let me = replica.id
            let entries = try stashed.map { row -> (entry: ChangeLog.Entry, status: String, createdAt: Int64) in
                (
                    try ChangeLog.decode(row), row[StashTable.Columns.outboxStatus],
                    row[StashTable.Columns.outboxCreatedAt]
                )
            }
            let before = entries[0].entry.change.dot.counter - 1
            // Each stashed change's number from now on: that of its twin when the server holds
            // the same write already (under its own number, or renumbered by an earlier heal
            // before this copy was restored), a new one above everything otherwise.
            var numbers: [UInt64: UInt64] = [:]
            var twinned: Set<UInt64> = []
            var taken: Set<UInt64> = []
            for (entry, _, _) in entries {
                if let twin = try Self.twin(of: entry.change, after: before, except: taken, db) {
                    numbers[entry.change.dot.counter] = twin.dot.counter
                    twinned.insert(entry.change.dot.counter)
                    taken.insert(twin.dot.counter)
                }
            }
            for (entry, _, _) in entries where !twinned.contains(entry.change.dot.counter) {
                replica.counter += 1
                numbers[entry.change.dot.counter] = UInt64(replica.counter)
            }
            // Read before anything comes back renumbered: which records the server kept own
            // changes of from after the copy was taken.
            let stretched = try Set(entries.map(\.entry.change.recordID)).filter { id in
                try Self.hasLostStretch(id, after: before, me, db)
            }
            var renamed: [RenumberedRequest] = []
            let sets = Dictionary(grouping: entries, by: { $0.entry.set.lowerBound }).sorted { $0.key < $1.key }
            for (_, members) in sets {
                let changes = members.map(\.entry.change).filter { !twinned.contains($0.dot.counter) }
                guard let firstChange = changes.first, let lastChange = changes.last else { continue }
                let range = numbers[firstChange.dot.counter]!...numbers[lastChange.dot.counter]!
                let refusal = members[0].entry.change.refusal
                // A set refused only because its counters were taken is pushed again renumbered.
                let stillRefused = members[0].status == OutboxRow.Status.refused.rawValue && refusal?.code != .malformed
                try Self.judging(db) { judge in
                    for change in changes {
                        var renumbered = change
                        renumbered.dot = Dot(replica: me, counter: numbers[change.dot.counter]!)
                        renumbered.refusal = nil
                        var context = change.context.counters
                        if let own = context[me], own > before {
                            context[me] = Self.ownContext(
                                of: change, seenUpTo: own, after: before, numbers: numbers,
                                stashed: entries.map(\.entry.change),
                                lostStretch: stretched.contains(change.recordID))
                        }
                        renumbered.context = VersionVector(context)
                        // What it required of its own stashed changes (a comment on a request it
                        // raised since the restore) follows their numbers.
                        renumbered.requires = change.requires.map { dot in
                            guard dot.replica == me, let number = numbers[dot.counter] else { return dot }
                            return Dot(replica: me, counter: number)
                        }.sorted()
                        if change.kind == .request, let key = change.fields["key"]?.text, let code = replica.code {
                            if try judge.hasRequest(key: key) {
                                let fresh = "\(code)-\(replica.nextRequestNumber)"
                                replica.nextRequestNumber += 1
                                renumbered.fields["key"] = .text(fresh)
                                renamed.append(RenumberedRequest(from: key, to: fresh))
                            } else if let number = Self.requestNumber(key, code: code) {
                                replica.nextRequestNumber = max(replica.nextRequestNumber, number + 1)
                            }
                        }
                        try judge.take(renumbered, set: range)
                    }
                }
                try OutboxRow(
                    firstCounter: Int64(range.lowerBound), lastCounter: Int64(range.upperBound),
                    status: stillRefused ? .refused : .pending,
                    refusalCode: stillRefused ? refusal?.code.rawValue : nil,
                    refusalReason: stillRefused ? refusal?.message : nil, createdAt: members[0].createdAt
                ).insert(db)
                if stillRefused, let refusal {
                    try Self.markRefused(firstCounter: range.lowerBound, refusal, db)
                }
            }
            try db.executeCached(sql: StashTable.deleteAll)
            try ReplicaRow.saveCounters(of: replica, db)
            return renamed
        }
    }

    /// The own entry of a stashed change's context on its record, which covered this site's
    /// own writes up to `seenUpTo` (old numbers), the stashed ones above `after` among them.
    ///
    /// Without a *lost stretch* on the record (own writes the server kept from after the copy
    /// was taken), it is the highest number those stashed writes have now, so it still covers
    /// every own write it saw.
    ///
    /// With one, a version vector cannot say "saw 21 but not 13": covering its own stashed
    /// predecessors covers the stretch too, and the change is judged after it. So it covers
    /// them only when it depends on one: a predecessor took a lifecycle step (leaving it out
    /// would judge a step against a state without the step before it, and refuse it), or
    /// wrote a field this change writes (leaving it out would make the site conflict with
    /// itself). Then it covers the stretch as a resolution would. Otherwise it stays at
    /// `after`: concurrent with the stretch, a conflict where both wrote a field, never
    /// refused for a step the restored site never saw (DESIGN §3.9).
    static func ownContext(
        of change: Change, seenUpTo: UInt64, after: UInt64, numbers: [UInt64: UInt64], stashed: [Change],
        lostStretch: Bool
    ) -> UInt64 {
        let saw = stashed.filter {
            $0.recordID == change.recordID && $0.dot.counter > after && $0.dot.counter <= seenUpTo
        }
        let covering = saw.compactMap { numbers[$0.dot.counter] }.max() ?? after
        guard lostStretch else { return covering }
        let written = Set(change.fields.keys)
        let dependsOnOne = saw.contains { $0.fields["state"] != nil || !written.isDisjoint(with: $0.fields.keys) }
        return dependsOnOne ? covering : after
    }

    /// `true` if the log holds own changes of record `id` above `after` (the restored copy's
    /// counter): the server kept them from after the copy was taken, and they are back here.
    static func hasLostStretch(_ id: UUID, after: UInt64, _ me: ReplicaID, _ db: Database) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT EXISTS (
                        SELECT 1 FROM change WHERE \(Log.record) = ? AND \(Log.replica) = ? AND \(Log.counter) > ?)
                    """),
            arguments: [id.text, me.description, Int64(after)]) == true
    }

    /// The change of this replica's in the log that is the same write as `change`: the one with
    /// its dot and content, or, renumbered, one of the same record by the same person at the
    /// same instant with the same fields (a new request's key may have changed with it).
    ///
    /// Or the same lifecycle step taken again: a step this site took in the lost stretch (its
    /// own changes after `after`, the restored copy's counter, that the server kept), which
    /// the person, seeing the restored copy, took again. Both write the same fields and the
    /// same state, but for the stamps, which only the first may have had to write. The first
    /// stands, with its times, and the second is not pushed: pushed, it would be judged
    /// against a state the first had already moved on (DESIGN §3.9). A change of the log is
    /// the twin of one stashed change at most (`except` holds those taken).
    static func twin(of change: Change, after: UInt64, except taken: Set<UInt64>, _ db: Database) throws -> Change? {
        if let entry = try ChangeLog.entry(change.dot, db), entry.change.hasSameContent(as: change) {
            return entry.change
        }
        func essence(_ fields: [FieldName: FieldValue]) -> [FieldName: FieldValue] {
            change.kind == .request ? fields.filter { $0.key != "key" } : fields
        }
        let own = try ChangeLog.entries(ofRecord: change.recordID, db).map(\.change).filter { logged in
            logged.dot.replica == change.dot.replica && logged.refusal == nil && logged.kind == change.kind
                && !taken.contains(logged.dot.counter)
        }
        if let same = own.first(where: {
            $0.author == change.author && $0.at == change.at && essence($0.fields) == essence(change.fields)
        }) {
            return same
        }
        guard let state = change.fields["state"] else { return nil }
        // The stamps aside: taken again by another path (acknowledged, then declined, where
        // the first decline came straight from submitted), the step finds its first response
        // stamped already, and does not write it.
        let stamps = Schema.requestLifecycle.stampedFields
        let written = Set(change.fields.keys).subtracting(stamps)
        return own.first { logged in
            logged.dot.counter > after && logged.fields["state"] == state
                && Set(logged.fields.keys).subtracting(stamps) == written
        }
    }

    /// How many of this site's change sets are set aside, waiting to be renumbered.
    public func setAsideCount() throws -> Int {
        try read { db in try Int.fetchOne(db.cachedStatement(sql: StashTable.setCount)) ?? 0 }
    }

    /// The number of a request key of this site's (`42` of `HR-LIS-42`).
    static func requestNumber(_ key: String, code: String) -> Int64? {
        guard key.hasPrefix("\(code)-") else { return nil }
        return Int64(key.dropFirst(code.count + 1))
    }
}
