import Foundation
import InternoModel
import PostgresNIO

extension PostgresServerStore {
    // MARK: The stream

    /// The server's stream after `cursor` as a site with `scope` receives it (DESIGN §6.1): up
    /// to about `limit` changes (more only to finish a set), in whole change sets whose `size`
    /// adds up to at most `maximumBytes` (always at least one set). Read in one snapshot. The
    /// `own` sets the site names are paged like the others, then left out (Protocol §5.4).
    public func changes(
        after cursor: Int64, limit: Int, scope: Scope = .all, leavingOut own: OwnSets? = nil,
        maximumBytes: Int = .max, size: @escaping @Sendable (ChangeSet) -> Int = { _ in 0 }
    ) async throws -> ChangeBatch {
        try await transaction { connection in
            let limit = max(limit, 1)
            var entries = try await Self.entries(after: cursor, limit: limit, scope: scope, connection)
            let exhausted = entries.count < limit
            // Never split a change set: its changes are contiguous in the log, so the rest of
            // the last one lies within as many sequence numbers as it has counters left.
            if let last = entries.last, last.change.dot.counter < last.set.upperBound {
                let span = Int64(last.set.upperBound - last.change.dot.counter)
                entries += try await PostgresCoding.entries(
                    connection.statement(
                        """
                        SELECT \(unescaped: PostgresCoding.changeColumns) FROM change
                        WHERE \(ChangeColumn.seq) > \(last.seq) AND \(ChangeColumn.seq) <= \(last.seq + span)
                          AND \(ChangeColumn.replica) = \(last.change.dot.replica.uuid)
                          AND \(ChangeColumn.setStart) = \(Int64(last.set.lowerBound))
                          AND \(unescaped: Self.inScope(scope))
                        ORDER BY \(ChangeColumn.seq)
                        """, logger: Self.quiet))
            }
            let (sets, cut) = ChangeBatch.page(
                of: ChangeBatch.changeSets(of: entries), maximumBytes: maximumBytes, size: size)
            let handed = sets.map(\.set).filter { set in !(own?.covers(set) ?? false) }
            if exhausted && !cut {
                // Everything in scope up to the end of the stream is in this batch.
                let next = max(cursor, try await Self.latestSequence(connection))
                return ChangeBatch(
                    sets: handed, nextCursor: next, more: false,
                    cursorEpoch: try await Self.epoch(at: next, connection))
            }
            let next = sets.last?.lastSeq ?? cursor
            var more = false
            for try await exists in try await connection.statement(
                "SELECT EXISTS (SELECT 1 FROM change WHERE \(ChangeColumn.seq) > \(next) AND \(unescaped: Self.inScope(scope)))",
                logger: Self.quiet
            ).decode(Bool.self) {
                more = exists
            }
            return ChangeBatch(
                sets: handed, nextCursor: next, more: more,
                cursorEpoch: try await Self.epoch(at: next, connection))
        }
    }

    /// The SQL condition on `change.seq` for what `scope` receives: a department's site gets
    /// the changes whose audience is its department or everyone.
    static func inScope(_ scope: Scope) -> String {
        guard case .department(let department) = scope else { return "true" }
        // A UUID's text is hex digits and dashes only: nothing to escape.
        return """
            \(ChangeColumn.seq) IN (
                SELECT \(AudienceColumn.seq) FROM audience
                WHERE \(AudienceColumn.department) IN ('\(department.text)', '\(PostgresCoding.everyone)'))
            """
    }

    static func entries(after cursor: Int64, limit: Int, scope: Scope, _ connection: PostgresConnection) async throws
        -> [StreamEntry]
    {
        try await PostgresCoding.entries(
            connection.statement(
                """
                SELECT \(unescaped: PostgresCoding.changeColumns) FROM change
                WHERE \(ChangeColumn.seq) > \(cursor) AND \(unescaped: inScope(scope))
                ORDER BY \(ChangeColumn.seq) LIMIT \(Int64(limit))
                """, logger: quiet))
    }

    /// The directory as every site receives it: the changes whose audience is everyone, in
    /// stream order and in their change sets. An enrolment bundle carries it (DESIGN §6.2).
    public func directory() async throws -> [ChangeSet] {
        try await transaction { connection in
            ChangeBatch.changeSets(
                of: try await PostgresCoding.entries(
                    connection.statement(
                        """
                        SELECT \(unescaped: PostgresCoding.changeColumns) FROM change
                        WHERE \(ChangeColumn.seq) IN (
                            SELECT \(AudienceColumn.seq) FROM audience
                            WHERE \(AudienceColumn.department) = \(PostgresCoding.everyone))
                        ORDER BY \(ChangeColumn.seq)
                        """, logger: Self.quiet))
            ).map(\.set)
        }
    }

    /// What Welcome tells a site (DESIGN §3.9), in one snapshot: the stream's end, every
    /// counter of the site's that the server holds, and whether the site's cursor names a
    /// point of this server's stream.
    public func syncPosition(of replica: ReplicaID, cursor: Int64, cursorEpoch: UInt64) async throws -> SyncPosition {
        try await transaction { connection in
            let latest = try await Self.latestSequence(connection)
            let known = try await Self.cursorIsKnown(cursor, epoch: cursorEpoch, connection)
            return SyncPosition(
                latestSequence: latest, heldCounters: try await Self.heldCounters(of: replica, connection),
                cursorValid: known)
        }
    }

    /// Every counter of `replica` that the log holds, applied or void, as ranges in order.
    public func heldCounters(of replica: ReplicaID) async throws -> [ClosedRange<UInt64>] {
        try await transaction { connection in try await Self.heldCounters(of: replica, connection) }
    }

    static func heldCounters(of replica: ReplicaID, _ connection: PostgresConnection) async throws
        -> [ClosedRange<UInt64>]
    {
        // Gaps and islands: within one island, counter minus its rank is constant.
        let rows = try await connection.statement(
            """
            SELECT MIN(\(ChangeColumn.counter)), MAX(\(ChangeColumn.counter)) FROM (
                SELECT \(ChangeColumn.counter),
                    \(ChangeColumn.counter) - ROW_NUMBER() OVER (ORDER BY \(ChangeColumn.counter)) AS island
                FROM change WHERE \(ChangeColumn.replica) = \(replica.uuid)) AS numbered
            GROUP BY island ORDER BY 1
            """, logger: quiet)
        var ranges: [ClosedRange<UInt64>] = []
        for try await (low, high) in rows.decode((Int64, Int64).self) { ranges.append(UInt64(low)...UInt64(high)) }
        return ranges
    }

    /// The server's latest sequence number.
    public func latestSequence() async throws -> Int64 {
        try await transaction { connection in try await Self.latestSequence(connection) }
    }

    static func latestSequence(_ connection: PostgresConnection) async throws -> Int64 {
        for try await latest in try await connection.statement(
            "SELECT COALESCE(MAX(\(ChangeColumn.seq)), 0) FROM change", logger: quiet
        ).decode(Int64.self) {
            return latest
        }
        return 0
    }

    /// The epoch the change at `seq` was logged in; 0 for the start of the stream.
    static func epoch(at seq: Int64, _ connection: PostgresConnection) async throws -> UInt64 {
        guard seq > 0 else { return 0 }
        for try await epoch in try await connection.statement(
            """
            SELECT \(StreamEpochColumn.epoch) FROM stream_epoch WHERE \(StreamEpochColumn.firstSeq) <= \(seq)
            ORDER BY \(StreamEpochColumn.firstSeq) DESC LIMIT 1
            """, logger: quiet
        ).decode(Int64.self) {
            return UInt64(bitPattern: epoch)
        }
        return 0
    }

    // MARK: Records

    /// The state of record `id`, if held.
    public func record(_ id: UUID) async throws -> RecordState? {
        try await transaction { connection in
            let snapshot = PostgresSnapshot()
            try await snapshot.load(records: [id], connection)
            return try snapshot.record(id)
        }
    }

    /// Every existing record of `kind`, in id order.
    public func records(of kind: RecordKind) async throws -> [RecordState] {
        try await transaction { connection in
            var records: [RecordState] = []
            for try await (id, kind, clock, fields) in try await connection.statement(
                """
                SELECT \(unescaped: RecordColumn.state.sql) FROM record
                WHERE \(RecordColumn.kind) = \(kind.rawValue) AND \(RecordColumn.present) ORDER BY \(RecordColumn.id)
                """,
                logger: Self.quiet
            ).decode((UUID, String, Data, Data).self) {
                records.append(try PostgresCoding.record(id: id, kind: kind, clock: clock, fields: fields))
            }
            return records
        }
    }
}
