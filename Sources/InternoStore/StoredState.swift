import Foundation
import GRDB
import InternoModel

/// What a ``Judge`` reads, from this database inside one write transaction (DESIGN §4).
///
/// Every answer is kept: the judge asks again about the same records (a department on every
/// request, a record on every change of it), and the batch's own writes live in the judge, not
/// here, so nothing kept goes stale before the transaction writes. A batch names what it will
/// need in ``prefetch(records:)`` and ``prefetch(replica:counters:)``: a few set-based queries
/// instead of one lookup per change.
final class StoredState: JudgingSource {
    private let db: Database
    private var records: [UUID: RecordState?] = [:]
    private var logged: [Dot: LoggedChange?] = [:]

    init(_ db: Database) {
        self.db = db
    }

    func record(_ id: UUID) throws -> RecordState? {
        if let known = records[id] { return known }
        let record = try RecordTable.load(id, db)
        records[id] = record
        return record
    }

    func logged(_ dot: Dot) throws -> LoggedChange? {
        if let known = logged[dot] { return known }
        let entry = try ChangeLog.entry(dot, db).map { LoggedChange(change: $0.change, set: $0.set) }
        logged[dot] = entry
        return entry
    }

    func log(ofRecord id: UUID) throws -> [Change] {
        try ChangeLog.entries(ofRecord: id, db).map(\.change)
    }

    func hasDepartment(code: String) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(
                sql: "SELECT EXISTS (SELECT 1 FROM department WHERE \(DepartmentTable.Columns.code) = ?)"),
            arguments: [code])
            == true
    }

    func request(withKey key: String) throws -> UUID? {
        try String.fetchOne(db.cachedStatement(sql: RequestRow.idByKey), arguments: [key])
            .map { text in
                guard let id = UUID(text: text) else { throw StoreError.corrupt("request id \(text)") }
                return id
            }
    }

    func audiences(ofRecord id: UUID) throws -> [Audience] {
        try Audiences.ofRecord(id, db)
    }

    /// How many ids one prefetching query names: one cached statement, the last chunk padded
    /// with repeats of its last id.
    private static let chunk = 256

    /// The prefetching query, built once: with ``chunk`` placeholders it is a long string, and
    /// a site's single-edit writes (the CLI's, every warm round) prefetch on every call.
    private static let prefetchRecords =
        "SELECT \(RecordTable.selection) FROM record WHERE \(RecordTable.Columns.id) IN (\(repeatElement("?", count: chunk).joined(separator: ", ")))"

    /// Loads the states of `ids` (and learns which are absent) in chunks of ``chunk`` ids. A
    /// chunk of a few ids is read by key, one id at a time: padding it to ``chunk`` would make
    /// SQLite look up the same id hundreds of times.
    func prefetch(records ids: some Sequence<UUID>) throws {
        var wanted: [UUID] = []
        var seen = Set<UUID>()
        for id in ids where records[id] == nil && seen.insert(id).inserted { wanted.append(id) }
        guard !wanted.isEmpty else { return }
        for start in stride(from: 0, to: wanted.count, by: Self.chunk) {
            let slice = wanted[start..<min(start + Self.chunk, wanted.count)]
            guard slice.count > Self.chunk / 16 else {
                for id in slice { records[id] = .some(try RecordTable.load(id, db)) }
                continue
            }
            for id in slice { records[id] = .some(nil) }
            // Existentials, not `[DatabaseValue]`: GRDB turns a sequence of concrete values into
            // arguments through a key path, generic and unspecialised (as `Projection` notes).
            var arguments: [(any DatabaseValueConvertible)?] = []
            arguments.reserveCapacity(Self.chunk)
            for id in slice { arguments.append(id.text) }
            arguments += repeatElement(arguments.last!, count: Self.chunk - arguments.count)
            let rows = try Row.fetchCursor(
                db.cachedStatement(sql: Self.prefetchRecords), arguments: StatementArguments(arguments))
            while let row = try rows.next() {
                let record = try RecordTable.decode(row)
                records[record.id] = record
            }
        }
    }

    /// Loads the logged changes of `replica` with `counters` (and learns which are absent):
    /// one range read of the `(replica, counter)` index per run of consecutive counters.
    func prefetch(replica: ReplicaID, counters: some Sequence<UInt64>) throws {
        let sorted = Set(counters).sorted()
        guard var low = sorted.first else { return }
        for counter in sorted { logged[Dot(replica: replica, counter: counter)] = .some(nil) }
        let statement = try db.cachedStatement(sql: ChangeLog.ofReplica)
        var high = low
        for counter in sorted.dropFirst() + [UInt64.max] {
            if counter == high + 1 {
                high = counter
                continue
            }
            let rows = try Row.fetchCursor(
                statement, arguments: [replica.description, Int64(low), Int64(high)])
            while let row = try rows.next() {
                let entry = try ChangeLog.decode(row)
                logged[entry.change.dot] = LoggedChange(change: entry.change, set: entry.set)
            }
            (low, high) = (counter, counter)
        }
    }
}

extension ReplicaStore {
    /// Runs `body` with a judge over `db`, then writes what it decided: the log entries with
    /// their audiences, in order, then each changed record with its query row and timeline.
    /// A refusal or a gap the judge throws becomes the store's error, and nothing is written.
    static func judging<T>(
        _ db: Database, prefetch: (StoredState) throws -> Void = { _ in },
        _ body: (Judge<StoredState>) throws -> T
    ) throws -> T {
        let state = StoredState(db)
        try prefetch(state)
        let judge = Judge(state)
        let result: T
        do {
            result = try body(judge)
        } catch let error as JudgeError {
            throw StoreError(error)
        }
        try write(judge, db)
        return result
    }

    /// Writes what `judge` decided: the log entries with their audiences, in order, then each
    /// changed record with its query row and timeline.
    static func write(_ judge: Judge<StoredState>, _ db: Database) throws {
        for entry in judge.appended {
            let seq = try ChangeLog.append(entry.change, set: entry.set, db)
            if let audience = entry.audience { try Audiences.record(seq, audience, db) }
        }
        let records: [(record: RecordState, timeline: RequestTimeline?)]
        do { records = try judge.records() } catch let error as JudgeError { throw StoreError(error) }
        for (record, timeline) in records {
            // What the judge read is what the table holds: nothing writes it in between.
            try RecordTable.save(record, over: try judge.source.record(record.id), timeline: timeline, db)
        }
    }
}

extension StoreError {
    /// The store's form of what a judge threw.
    init(_ error: JudgeError) {
        switch error {
        case .refused(let refusal): self = .refused(refusal)
        case .outOfOrder(let error): self = .outOfOrder(error)
        case .unknownParties(let kind, let id): self = .corrupt("the parties of \(kind.rawValue) \(id) cannot be told")
        }
    }
}
