import Foundation
import InternoModel
import PostgresNIO

/// What a ``Judge`` reads of the central database on PostgreSQL, held in memory for one batch.
///
/// The judge is synchronous and pure (DESIGN §4); PostgreSQL is reached asynchronously. So the
/// store loads what a batch names in a few set-based queries first, and a read the batch
/// needs beyond that throws ``Missing``: the store loads it and judges the batch again from
/// the start with a fresh judge. Judging writes nothing, so starting again is safe, and the
/// second pass finds everything the first one asked for.
final class PostgresSnapshot: JudgingSource {
    /// A read the snapshot does not hold yet.
    enum Missing: Error, Hashable {
        case record(UUID)
        case logged(Dot)
        case log(UUID)
        case departmentCode(String)
        case requestKey(String)
        case audiences(UUID)
    }

    private var records: [UUID: RecordState?] = [:]
    private var logged: [Dot: LoggedChange?] = [:]
    private var logs: [UUID: [Change]] = [:]
    private var codes: [String: Bool] = [:]
    /// Keyed by bytes, as PostgreSQL compares text (``KeyBytes``).
    private var keys: [KeyBytes: UUID?] = [:]
    private var audiences: [UUID: [Audience]] = [:]

    func record(_ id: UUID) throws -> RecordState? {
        guard let record = records[id] else { throw Missing.record(id) }
        return record
    }

    func logged(_ dot: Dot) throws -> LoggedChange? {
        guard let entry = logged[dot] else { throw Missing.logged(dot) }
        return entry
    }

    func log(ofRecord id: UUID) throws -> [Change] {
        guard let log = logs[id] else { throw Missing.log(id) }
        return log
    }

    func hasDepartment(code: String) throws -> Bool {
        guard let known = codes[code] else { throw Missing.departmentCode(code) }
        return known
    }

    func request(withKey key: String) throws -> UUID? {
        guard let id = keys[KeyBytes(key)] else { throw Missing.requestKey(key) }
        return id
    }

    func audiences(ofRecord id: UUID) throws -> [Audience] {
        guard let audiences = audiences[id] else { throw Missing.audiences(id) }
        return audiences
    }

    // MARK: Loading

    /// Loads the states of `ids` (and learns which are absent) in one query.
    func load(records ids: some Sequence<UUID>, _ connection: PostgresConnection) async throws {
        let wanted = Array(Set(ids.filter { records[$0] == nil }))
        guard !wanted.isEmpty else { return }
        for id in wanted { records[id] = .some(nil) }
        let rows = try await connection.statement(
            "SELECT \(unescaped: RecordColumn.state.sql) FROM record WHERE \(RecordColumn.id) = ANY(\(wanted))",
            logger: PostgresServerStore.quiet)
        for try await (id, kind, clock, fields) in rows.decode((UUID, String, Data, Data).self) {
            records[id] = try PostgresCoding.record(id: id, kind: kind, clock: clock, fields: fields)
        }
    }

    /// Loads the logged changes with `dots` (and learns which are absent) in one query per replica.
    func load(dots: some Sequence<Dot>, _ connection: PostgresConnection) async throws {
        let wanted = Dictionary(grouping: Set(dots.filter { logged[$0] == nil }), by: \.replica)
        for (replica, dots) in wanted {
            for dot in dots { logged[dot] = .some(nil) }
            let counters = dots.map { Int64($0.counter) }
            let rows = try await connection.statement(
                """
                SELECT \(unescaped: PostgresCoding.changeColumns) FROM change
                WHERE \(ChangeColumn.replica) = \(replica.uuid) AND \(ChangeColumn.counter) = ANY(\(counters))
                """,
                logger: PostgresServerStore.quiet)
            for entry in try await PostgresCoding.entries(rows) {
                logged[entry.change.dot] = LoggedChange(change: entry.change, set: entry.set)
            }
        }
    }

    /// Loads what `missing` names, and the same read for every record `batch` touches: a
    /// batch of new requests asks for each one's key, so loading them all at the first ask
    /// judges the batch in a few rounds, not one round per change (each round judges the
    /// batch again from its start).
    func load(_ missing: Missing, for batch: [Change], _ connection: PostgresConnection) async throws {
        let quiet = PostgresServerStore.quiet
        let ids = Array(Set(batch.map(\.recordID)))
        switch missing {
        case .record(let id):
            try await load(records: [id], connection)
        case .logged(let dot):
            try await load(dots: [dot], connection)
        case .log(let id):
            let wanted = Array(Set(ids + [id]).filter { logs[$0] == nil })
            for id in wanted { logs[id] = [] }
            let rows = try await connection.statement(
                """
                SELECT \(unescaped: PostgresCoding.changeColumns) FROM change
                WHERE \(ChangeColumn.record) = ANY(\(wanted)::uuid[]) ORDER BY \(ChangeColumn.seq)
                """, logger: quiet)
            for entry in try await PostgresCoding.entries(rows) {
                logs[entry.change.recordID, default: []].append(entry.change)
            }
        case .departmentCode(let code):
            let wanted = Array(
                Set([code] + batch.filter { $0.kind == .department }.compactMap { $0.fields["code"]?.text }).filter {
                    codes[$0] == nil
                })
            for code in wanted { codes[code] = false }
            let rows = try await connection.statement(
                """
                SELECT DISTINCT \(UniqueValueColumn.code) FROM department_code
                WHERE \(UniqueValueColumn.code) = ANY(\(wanted)::text[])
                """, logger: quiet)
            for try await code in rows.decode(String.self) { codes[code] = true }
        case .requestKey(let key):
            let wanted = Set(
                ([key] + batch.filter { $0.kind == .request }.compactMap { $0.fields["key"]?.text }).map(KeyBytes.init)
            ).filter { keys[$0] == nil }
            for key in wanted { keys[key] = .some(nil) }
            let rows = try await connection.statement(
                """
                SELECT \(UniqueValueColumn.key), \(UniqueValueColumn.id) FROM request_key
                WHERE \(UniqueValueColumn.key) = ANY(\(wanted.map(\.text))::text[])
                """, logger: quiet)
            for try await (key, id) in rows.decode((String, UUID).self) { keys[KeyBytes(key)] = id }
        case .audiences(let id):
            let wanted = Array(Set(ids + [id]).filter { audiences[$0] == nil })
            let rows = try await connection.statement(
                """
                SELECT change.\(ChangeColumn.record), change.\(ChangeColumn.seq), audience.\(AudienceColumn.department)
                FROM change JOIN audience ON audience.\(AudienceColumn.seq) = change.\(ChangeColumn.seq)
                WHERE change.\(ChangeColumn.record) = ANY(\(wanted)::uuid[])
                ORDER BY change.\(ChangeColumn.record), change.\(ChangeColumn.seq)
                """, logger: quiet)
            var bySeq: [UUID: [(Int64, Audience)]] = [:]
            for try await (record, seq, department) in rows.decode((UUID, Int64, String).self) {
                let audience: Audience
                if department == PostgresCoding.everyone {
                    audience = .everyone
                } else {
                    guard let id = UUID(text: department) else {
                        throw PostgresStoreError.corrupt("audience \(department) of change \(seq)")
                    }
                    audience = .departments([id])
                }
                var list = bySeq[record] ?? []
                if let last = list.last, last.0 == seq {
                    if case .departments(let held) = last.1, case .departments(let more) = audience {
                        list[list.count - 1].1 = .departments(held.union(more))
                    } else {
                        list[list.count - 1].1 = .everyone
                    }
                } else {
                    list.append((seq, audience))
                }
                bySeq[record] = list
            }
            for id in wanted { audiences[id] = (bySeq[id] ?? []).map(\.1) }
        }
    }
}
