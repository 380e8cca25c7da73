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
    private var keys: [String: UUID?] = [:]
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
        guard let id = keys[key] else { throw Missing.requestKey(key) }
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
        let rows = try await connection.query(
            "SELECT id, kind, clock, fields FROM record WHERE id = ANY(\(wanted))", logger: PostgresServerStore.quiet)
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
            let rows = try await connection.query(
                "SELECT \(unescaped: PostgresCoding.changeColumns) FROM change WHERE replica = \(replica.uuid) AND counter = ANY(\(counters))",
                logger: PostgresServerStore.quiet)
            for entry in try await PostgresCoding.entries(rows) {
                logged[entry.change.dot] = LoggedChange(change: entry.change, set: entry.set)
            }
        }
    }

    /// Loads what `missing` names.
    func load(_ missing: Missing, _ connection: PostgresConnection) async throws {
        let quiet = PostgresServerStore.quiet
        switch missing {
        case .record(let id):
            try await load(records: [id], connection)
        case .logged(let dot):
            try await load(dots: [dot], connection)
        case .log(let id):
            let rows = try await connection.query(
                "SELECT \(unescaped: PostgresCoding.changeColumns) FROM change WHERE record = \(id) ORDER BY seq",
                logger: quiet)
            logs[id] = try await PostgresCoding.entries(rows).map(\.change)
        case .departmentCode(let code):
            let rows = try await connection.query(
                "SELECT EXISTS (SELECT 1 FROM department_code WHERE code = \(code))", logger: quiet)
            for try await exists in rows.decode(Bool.self) { codes[code] = exists }
        case .requestKey(let key):
            let rows = try await connection.query(
                "SELECT id FROM request_key WHERE key = \(key) LIMIT 1", logger: quiet)
            keys[key] = .some(nil)
            for try await id in rows.decode(UUID.self) { keys[key] = id }
        case .audiences(let id):
            let rows = try await connection.query(
                """
                SELECT change.seq, audience.department FROM change JOIN audience ON audience.seq = change.seq
                WHERE change.record = \(id) ORDER BY change.seq
                """, logger: quiet)
            var bySeq: [(Int64, Audience)] = []
            for try await (seq, department) in rows.decode((Int64, String).self) {
                let audience: Audience
                if department == PostgresCoding.everyone {
                    audience = .everyone
                } else {
                    guard let id = UUID(text: department) else {
                        throw PostgresStoreError.corrupt("audience \(department) of change \(seq)")
                    }
                    audience = .departments([id])
                }
                if let last = bySeq.last, last.0 == seq {
                    if case .departments(let held) = last.1, case .departments(let more) = audience {
                        bySeq[bySeq.count - 1].1 = .departments(held.union(more))
                    } else {
                        bySeq[bySeq.count - 1].1 = .everyone
                    }
                } else {
                    bySeq.append((seq, audience))
                }
            }
            audiences[id] = bySeq.map(\.1)
        }
    }
}
