import Foundation
import InternoModel
import InternoStore
import PostgresNIO

/// `interno verify` against a central store on PostgreSQL (DESIGN §3.10): the same digests as
/// the SQLite store gives, worked out from the log a site should hold, replayed.
extension PostgresServerStore {
    /// The digests of the records the site of `entry` should hold, from the id after `after`
    /// on, at most `limit` of them, in one snapshot; `nil` when `cursor` names no point of this
    /// server's stream.
    public func expectedDigests(
        after: UUID?, limit: Int, cursor: Int64, cursorEpoch: UInt64, unacknowledged: [ClosedRange<UInt64>],
        from entry: RegistryRow
    ) async throws -> ExpectedDigests? {
        let admitted = Self.admitted(by: try Pusher(entry), cursor: cursor, unacknowledged: unacknowledged)
        return try await transaction { connection -> ExpectedDigests? in
            guard try await Self.cursorIsKnown(cursor, epoch: cursorEpoch, connection) else { return nil }
            let start = after ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
            var ids: [UUID] = []
            // In id order, which for `uuid` is the byte order of the ids' text, as on SQLite.
            for try await id in try await connection.statement(
                """
                SELECT DISTINCT \(ChangeColumn.record) FROM change
                WHERE \(ChangeColumn.record) > \(start) AND \(unescaped: admitted)
                ORDER BY \(ChangeColumn.record) LIMIT \(Int64(limit) + 1)
                """, logger: Self.quiet
            ).decode(UUID.self) {
                ids.append(id)
            }
            let more = ids.count > limit
            ids.removeSubrange(min(limit, ids.count)...)
            let entries = try await PostgresCoding.entries(
                connection.statement(
                    """
                    SELECT \(unescaped: PostgresCoding.changeColumns) FROM change
                    WHERE \(ChangeColumn.record) = ANY(\(ids)) AND \(unescaped: admitted)
                    ORDER BY \(ChangeColumn.record), \(ChangeColumn.seq)
                    """, logger: Self.quiet))
            let byRecord = Dictionary(grouping: entries, by: \.change.recordID)
            return ExpectedDigests(
                records: ids.map { id in Self.digest(of: id, (byRecord[id] ?? []).map(\.outgoing)) },
                more: more)
        }
    }

    /// Every logged change the site of `entry` should hold of each of `ids`, for a repair: as
    /// many whole records, in the order asked, as fit in `maximumBytes` by `size` (always at
    /// least one); `nil` if `cursor` names no point of this server's stream.
    public func expectedLogs(
        of ids: [UUID], cursor: Int64, cursorEpoch: UInt64, unacknowledged: [ClosedRange<UInt64>],
        from entry: RegistryRow, maximumBytes: Int, size: @escaping @Sendable (ChangeSet) -> Int
    ) async throws -> [RecordLog]? {
        let admitted = Self.admitted(by: try Pusher(entry), cursor: cursor, unacknowledged: unacknowledged)
        return try await transaction { connection -> [RecordLog]? in
            guard try await Self.cursorIsKnown(cursor, epoch: cursorEpoch, connection) else { return nil }
            var logs: [RecordLog] = []
            var total = 0
            for id in ids {
                let entries = try await PostgresCoding.entries(
                    connection.statement(
                        """
                        SELECT \(unescaped: PostgresCoding.changeColumns) FROM change
                        WHERE \(ChangeColumn.record) = \(id) AND \(unescaped: admitted) ORDER BY \(ChangeColumn.seq)
                        """, logger: Self.quiet))
                let changes = entries.map { LoggedChange(change: $0.outgoing, set: $0.set) }
                let bytes = changes.reduce(0) { $0 + size(ChangeSet([$1.change])) }
                if !logs.isEmpty, total + bytes > maximumBytes { break }
                total += bytes
                logs.append(RecordLog(id: id, entries: changes))
            }
            return logs
        }
    }

    /// The SQL condition for the logged changes a site should hold (DESIGN §3.10): those its
    /// scope covers, logged up to its cursor or written by the site itself, except its own
    /// changes it has not had acknowledged. Only numbers and ids are written into it.
    static func admitted(by pusher: Pusher, cursor: Int64, unacknowledged: [ClosedRange<UInt64>]) -> String {
        let me = "'\(pusher.replica.uuid.text)'"
        var condition =
            "(\(ChangeColumn.seq) <= \(cursor) OR \(ChangeColumn.replica) = \(me)) AND \(inScope(pusher.scope))"
        if !unacknowledged.isEmpty {
            let ranges = unacknowledged.map { "\(ChangeColumn.counter) BETWEEN \($0.lowerBound) AND \($0.upperBound)" }
            condition += " AND NOT (\(ChangeColumn.replica) = \(me) AND (\(ranges.joined(separator: " OR "))))"
        }
        return condition
    }

    /// The digest of a record from the changes a site should hold of it, in stream order:
    /// state and shown parts from replaying them; 1 and 1, which no site matches, if they
    /// cannot be replayed.
    static func digest(of id: UUID, _ changes: [Change]) -> RecordDigest {
        let log = changes.reduce(UInt64(0)) { $0 &+ RecordDigest.entry($1) }
        guard let kind = changes.first?.kind else { return RecordDigest(id: id, log: 0, state: 0, shown: 0) }
        do throws(ApplyError) {
            let record = try RecordState.replay(kind: kind, id: id, changes: changes)
            return RecordDigest(
                id: id, log: log, state: RecordDigest.state(record), shown: StoredDigests.shown(of: record))
        } catch {
            return RecordDigest(id: id, log: log, state: 1, shown: 1)
        }
    }

    /// `true` if `cursor` names a point of this server's stream (DESIGN §3.9): 0, or a sequence
    /// number it logged in the epoch the site was told.
    static func cursorIsKnown(_ cursor: Int64, epoch: UInt64, _ connection: PostgresConnection) async throws -> Bool {
        guard cursor != 0 else { return true }
        guard cursor <= (try await latestSequence(connection)) else { return false }
        return try await Self.epoch(at: cursor, connection) == epoch
    }
}
