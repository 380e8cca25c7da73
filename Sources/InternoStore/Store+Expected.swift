import Foundation
import GRDB
import InternoModel

private typealias Log = ChangeLog.Columns
private typealias AudienceColumns = Audiences.Columns

/// The digests of the records a site should hold, one page of them (Protocol/README.md, 5.9).
public struct ExpectedDigests: Equatable, Sendable {
    /// In id order.
    public var records: [RecordDigest]
    /// Records follow the last one: the page ends there.
    public var more: Bool

    /// A page.
    public init(records: [RecordDigest], more: Bool) {
        self.records = records
        self.more = more
    }
}

/// Which of the server's logged changes a site should hold (DESIGN §3.10): those its scope
/// covers, logged up to its cursor or written by the site itself, except its own changes it
/// has not had acknowledged. Exactly what the site has received, plus what it wrote.
struct Expectation {
    let scope: Scope
    let site: ReplicaID
    let cursor: Int64
    let unacknowledged: CounterRanges

    /// `true` if the site should hold the change logged at `seq` as `(replica, counter)`.
    func admits(seq: Int64, replica: String, counter: UInt64, _ db: Database) throws -> Bool {
        let own = replica == site.description
        guard seq <= cursor || own else { return false }
        if own, unacknowledged.contains(counter) { return false }
        guard case .department(let department) = scope else { return true }
        return try Bool.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT EXISTS (
                        SELECT 1 FROM audience WHERE \(AudienceColumns.department) IN (?, ?) AND \(AudienceColumns.seq) = ?)
                    """),
            arguments: [department.text, Audiences.everyone, seq]) ?? false
    }
}

extension ServerStore {
    /// The digests of the records the site of `entry` should hold (DESIGN §3.10), from the id
    /// after `after` on, at most `limit` of them, in one read snapshot, off the caller's
    /// thread; `nil` when `cursor` names no point of this server's stream. The site's scope
    /// and replica come from its registry entry, never from the request.
    public func expectedDigests(
        after: UUID?, limit: Int, cursor: Int64, cursorEpoch: UInt64, unacknowledged: [ClosedRange<UInt64>],
        from entry: RegistryRow
    ) async throws -> ExpectedDigests? {
        let pusher = try Pusher(entry)
        return try await writer.read { db in
            try Self.expectedDigests(
                after: after, limit: limit, cursor: cursor, cursorEpoch: cursorEpoch, unacknowledged: unacknowledged,
                from: pusher, db)
        }
    }

    static func expectedDigests(
        after: UUID?, limit: Int, cursor: Int64, cursorEpoch: UInt64, unacknowledged: [ClosedRange<UInt64>],
        from pusher: Pusher, _ db: Database
    ) throws -> ExpectedDigests? {
        guard try cursorIsKnown(cursor, epoch: cursorEpoch, db) else { return nil }
        let expectation = Expectation(
            scope: pusher.scope, site: pusher.replica, cursor: cursor, unacknowledged: CounterRanges(unacknowledged))
        let start = after.map(RecordKey.init)

        // 1. The log part of every record the site should hold after `after`. A record of
        //    which the server logged more than that (changes after the cursor, voids the site
        //    never receives) is *replayed*: its stored state is not the one the site should
        //    have. Sorted arrays searched by id, not dictionaries: hashing ids costs more.
        var entries: [(key: RecordKey, hash: UInt64)] = []
        var beyond: [RecordKey] = []
        var scratch = DigestHasher()
        let me = RecordKey(pusher.replica.uuid)
        func admit(_ cells: Cells, _ key: RecordKey) {
            if cells.key(1) == me, expectation.unacknowledged.contains(UInt64(bitPattern: cells.integer(2))) {
                beyond.append(key)
            } else {
                entries.append((key, StoredDigests.entry(cells, using: &scratch)))
            }
        }
        switch pusher.scope {
        case .all:
            // Every change is in scope: one pass over the log, in its own order.
            try StoredDigests.scan(db, "SELECT \(StoredDigests.entryColumns()), \(Log.seq) FROM change") { cells in
                guard let key = cells.key(0), start.map({ $0 < key }) ?? true else { return }
                if cells.integer(9) <= cursor || cells.key(1) == me {
                    admit(cells, key)
                } else {
                    beyond.append(key)
                }
            }
        case .department(let department):
            // What the scope covers, through the audience index (DESIGN §6.1).
            try StoredDigests.scan(
                db,
                """
                SELECT \(StoredDigests.entryColumns(of: "c"))
                FROM audience a JOIN change c ON c.\(Log.seq) = a.\(AudienceColumns.seq)
                WHERE a.\(AudienceColumns.department) IN (?, ?) AND (c.\(Log.seq) <= ? OR c.\(Log.replica) = ?)
                """,
                arguments: [
                    department.text, Audiences.everyone, cursor, pusher.replica.description,
                ]
            ) { cells in
                guard let key = cells.key(0), start.map({ $0 < key }) ?? true else { return }
                admit(cells, key)
            }
            // The rest of those records' changes: logged after the cursor (by others), or
            // outside the audience. Accepted changes of a record all have its parties as their
            // audience (parties never change, DESIGN §6.1), so only voids can be outside it.
            try StoredDigests.scan(
                db, "SELECT \(Log.record) FROM change WHERE \(Log.seq) > ? AND \(Log.replica) != ?",
                arguments: [cursor, pusher.replica.description]
            ) { cells in
                if let key = cells.key(0) { beyond.append(key) }
            }
            try StoredDigests.scan(
                db,
                """
                SELECT c.\(Log.record) FROM change c
                WHERE c.\(Log.refusalCode) IS NOT NULL AND (c.\(Log.seq) <= ? OR c.\(Log.replica) = ?) AND NOT EXISTS (
                    SELECT 1 FROM audience a
                    WHERE a.\(AudienceColumns.seq) = c.\(Log.seq) AND a.\(AudienceColumns.department) IN (?, ?))
                """,
                arguments: [cursor, pusher.replica.description, department.text, Audiences.everyone]
            ) { cells in
                if let key = cells.key(0) { beyond.append(key) }
            }
        }
        entries.sort { $0.key < $1.key }
        var expected: [Expected] = []
        for (key, hash) in entries {
            if expected.last?.key == key {
                expected[expected.count - 1].log &+= hash
            } else {
                expected.append(Expected(key: key, log: hash))
            }
        }
        let more = expected.count > limit
        expected.removeSubrange(min(limit, expected.count)...)
        guard let last = expected.last?.key else { return ExpectedDigests(records: [], more: false) }
        func find(_ key: RecordKey) -> Int? {
            var (low, high) = (0, expected.count)
            while low < high {
                let middle = (low + high) / 2
                if expected[middle].key < key { low = middle + 1 } else { high = middle }
            }
            return low < expected.count && expected[low].key == key ? low : nil
        }
        for key in beyond {
            if let index = find(key) { expected[index].replayed = true }
        }

        // 2. The state and shown parts, from the server's own rows where they are the ones the
        //    site should have, read table by table in the page's range of ids; the others
        //    replayed.
        let bounds: StatementArguments = [after?.text ?? "", last.uuid.text]
        try StoredDigests.scan(
            db,
            """
            SELECT \(StoredDigests.stateColumns) FROM record
            WHERE \(RecordTable.Columns.id) > ? AND \(RecordTable.Columns.id) <= ?
            """, arguments: bounds
        ) { cells in
            guard let key = cells.key(0), let index = find(key), !expected[index].replayed else { return }
            expected[index].state = StoredDigests.state(cells, using: &scratch)
        }
        for kind in RecordKind.allCases {
            try StoredDigests.scan(
                db, StoredDigests.shownQuery(kind) + " WHERE \(Projection.id) > ? AND \(Projection.id) <= ?",
                arguments: bounds
            ) { cells in
                guard let key = cells.key(0), let index = find(key), !expected[index].replayed else { return }
                let shown = StoredDigests.shown(cells, kind: kind, using: &scratch)
                expected[index].shown = StoredDigests.adding(shown, to: expected[index].shown)
            }
        }
        for index in expected.indices where expected[index].replayed {
            (expected[index].state, expected[index].shown) = try replayedState(
                of: expected[index].key.uuid, expectation, db)
        }
        return ExpectedDigests(
            records: expected.map { RecordDigest(id: $0.key.uuid, log: $0.log, state: $0.state, shown: $0.shown) },
            more: more)
    }

    /// What the server works out of one record a site should hold.
    private struct Expected {
        let key: RecordKey
        var log: UInt64
        var state: UInt64 = 0
        var shown: UInt64 = 0
        /// The server logged more of it than the site should hold: replay what it should.
        var replayed = false

        init(key: RecordKey, log: UInt64) {
            self.key = key
            self.log = log
        }
    }

    /// The state and shown parts of record `id` as the site should have them, from replaying
    /// just the changes it should hold; 1 and 1, which no site matches, if they cannot be
    /// replayed.
    static func replayedState(of id: UUID, _ expectation: Expectation, _ db: Database) throws
        -> (state: UInt64, shown: UInt64)
    {
        let entries = try expectedLog(of: id, expectation, db)
        guard let first = entries.first else { return (0, 0) }
        let kind = try RecordTable.load(id, db)?.kind ?? first.change.kind
        do throws(ApplyError) {
            let record = try RecordState.replay(kind: kind, id: id, changes: entries.map(\.change))
            return (RecordDigest.state(record), StoredDigests.shown(of: record))
        } catch {
            return (1, 1)
        }
    }

    /// The logged changes of record `id` the site should hold, in stream order, voids as every
    /// site receives them.
    static func expectedLog(of id: UUID, _ expectation: Expectation, _ db: Database) throws -> [ChangeLog.Entry] {
        try ChangeLog.entries(ofRecord: id, db).filter { entry in
            try expectation.admits(
                seq: entry.seq, replica: entry.change.dot.replica.description, counter: entry.change.dot.counter, db)
        }.map { entry in
            var outgoing = entry
            outgoing.change = entry.outgoing
            return outgoing
        }
    }

    /// `true` if `cursor` names a point of this server's stream (DESIGN §3.9), as Welcome judges it.
    static func cursorIsKnown(_ cursor: Int64, epoch: UInt64, _ db: Database) throws -> Bool {
        try cursor == 0 || (cursor <= latestSequence(db) && Self.epoch(at: cursor, db) == epoch)
    }

    /// Every logged change a site should hold of each of `ids` (DESIGN §3.10), for a repair:
    /// as many whole records, in the order asked, as fit in `maximumBytes` by `size` (always at
    /// least one); `nil` if `cursor` names no point of this server's stream.
    public func expectedLogs(
        of ids: [UUID], cursor: Int64, cursorEpoch: UInt64, unacknowledged: [ClosedRange<UInt64>] = [],
        from entry: RegistryRow, maximumBytes: Int = .max, size: @escaping @Sendable (ChangeSet) -> Int = { _ in 0 }
    ) async throws -> [RecordLog]? {
        let pusher = try Pusher(entry)
        return try await writer.read { db -> [RecordLog]? in
            guard try Self.cursorIsKnown(cursor, epoch: cursorEpoch, db) else { return nil }
            let expectation = Expectation(
                scope: pusher.scope, site: pusher.replica, cursor: cursor,
                unacknowledged: CounterRanges(unacknowledged))
            var logs: [RecordLog] = []
            var total = 0
            for id in ids {
                let entries = try Self.expectedLog(of: id, expectation, db)
                let bytes = entries.reduce(0) { $0 + size(ChangeSet([$1.change])) }
                if !logs.isEmpty, total + bytes > maximumBytes { break }
                total += bytes
                logs.append(RecordLog(id: id, entries: entries.map { LoggedChange(change: $0.change, set: $0.set) }))
            }
            return logs
        }
    }
}
