import Foundation
import GRDB
import InternoModel

/// What a ``Judge`` reads, from this database inside one write transaction (DESIGN §4).
///
/// Only the writer's thread reads the database. The prefetches run there; a judge that runs
/// beside the writer reads through a ``DatabaseGate``, which the writer serves.
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
    /// Requests by key, the key compared byte for byte as SQLite compares it, never by
    /// Swift's canonical equivalence (Protocol §7.3).
    private var requests: [KeyBytes: UUID?] = [:]

    /// The judge of the batch before this one, while that batch is written beside this one's
    /// judging (``ServerStore/receive(_:from:receivedAt:_:)``, DESIGN §4): what it decided
    /// stands over what this source read before it was written, until ``forgetAhead()``.
    private(set) var ahead: Judge<StoredState>?
    /// Set while this source's judge runs beside the writer: every read of the database goes
    /// through it, to run on the writer's thread once the batch ahead is written.
    var gate: DatabaseGate?

    init(_ db: Database, ahead: Judge<StoredState>? = nil) {
        self.db = db
        self.ahead = ahead
    }

    /// Lets go of the judge ahead once its batch is written and this source's judge is done:
    /// what is left to read (the states the written rows replace, a request's log for its
    /// timeline) comes from the database, which holds that batch now. A record this source
    /// holds is one that batch did not change: what it changed was read through it, never
    /// kept here. What only a judge reads goes too: the logged changes and request keys, some
    /// of which that batch changed after they were read.
    func forgetAhead() {
        ahead = nil
        logged.removeAll()
        requests.removeAll()
    }

    /// Runs `body` on the database: at once, or through ``gate`` while there is one.
    private func reading<T>(_ body: (Database) throws -> T) throws -> T {
        guard let gate else { return try body(db) }
        let db = self.db
        return try gate.run { try body(db) }
    }

    func record(_ id: UUID) throws -> RecordState? {
        if let decided = ahead?.decidedRecord(id) { return decided }
        if let known = records[id] { return known }
        let record = try reading { db in try RecordTable.load(id, db) }
        records[id] = record
        return record
    }

    func logged(_ dot: Dot) throws -> LoggedChange? {
        if let decided = ahead?.decidedLogged(dot) { return decided }
        if let known = logged[dot] { return known }
        let entry = try reading { db in
            try ChangeLog.entry(dot, db).map { LoggedChange(change: $0.change, set: $0.set) }
        }
        logged[dot] = entry
        return entry
    }

    /// Read from the database alone, never through ``ahead``: through ``gate`` it is read
    /// once the batch ahead is written, with that batch's changes.
    func log(ofRecord id: UUID) throws -> [Change] {
        try reading { db in try ChangeLog.entries(ofRecord: id, db).map(\.change) }
    }

    /// Read as ``log(ofRecord:)`` is: never kept, so nothing read before the batch ahead was
    /// written answers it (a site's Push makes no department anyway).
    func hasDepartment(code: String) throws -> Bool {
        try reading { db in
            try Bool.fetchOne(
                db.cachedStatement(
                    sql: "SELECT EXISTS (SELECT 1 FROM department WHERE \(DepartmentTable.Columns.code) = ?)"),
                arguments: [code])
                == true
        }
    }

    func request(withKey key: String) throws -> UUID? {
        if let decided = ahead?.decidedRequest(withKey: key) { return decided }
        if let known = requests[KeyBytes(key)] { return known }
        let id = try reading { db in try Self.storedRequest(withKey: key, db) }
        requests[KeyBytes(key)] = id
        return id
    }

    private static func storedRequest(withKey key: String, _ db: Database) throws -> UUID? {
        try String.fetchOne(db.cachedStatement(sql: RequestRow.idByKey), arguments: [key])
            .map { text in
                guard let id = UUID(text: text) else { throw StoreError.corrupt("request id \(text)") }
                return id
            }
    }

    /// Read as ``log(ofRecord:)`` is.
    func audiences(ofRecord id: UUID) throws -> [Audience] {
        try reading { db in try Audiences.ofRecord(id, db) }
    }

    /// The most ids one prefetching query names.
    private static let chunk = 256

    /// The prefetching queries, one per size, each built once: a chunk is padded with repeats
    /// of its last id to the smallest size that holds it, so SQLite looks up at most twice as
    /// many ids as were asked for (one size for every chunk made a batch of 77 records look up
    /// 256), and a site's single-edit writes (the CLI's, every warm round) build no SQL.
    private static let prefetchSizes = [32, 64, 128, chunk]
    private static let prefetchRecords = Dictionary(
        uniqueKeysWithValues: prefetchSizes.map { size in
            (
                size,
                "SELECT \(RecordTable.selection) FROM record WHERE \(RecordTable.Columns.id) IN (\(placeholders(size)))"
            )
        })
    private static let prefetchKeys = Dictionary(
        uniqueKeysWithValues: prefetchSizes.map { size in
            (
                size,
                """
                SELECT \(RequestRow.Columns.key), \(RequestRow.Columns.id) FROM request
                WHERE \(RequestRow.Columns.key) IN (\(placeholders(size))) ORDER BY \(RequestRow.Columns.id)
                """
            )
        })

    private static func placeholders(_ count: Int) -> String {
        repeatElement("?", count: count).joined(separator: ", ")
    }

    /// Runs `visit` on each row of the prefetching query `queries` gives for the size that
    /// holds `values`, each bound by `bind`, padded with repeats of the last.
    private func fetch<Value>(
        _ values: ArraySlice<Value>, from queries: [Int: String], binding bind: (inout Bindings, Value) throws -> Void,
        _ visit: (Cells) throws -> Void
    ) throws {
        let size = Self.prefetchSizes.first { $0 >= values.count } ?? Self.chunk
        var arguments = Bindings(try db.cachedStatement(sql: queries[size]!))
        for value in values { try bind(&arguments, value) }
        for _ in values.count..<size { try bind(&arguments, values.last!) }
        try arguments.forEachRow(visit)
    }

    /// Loads the states of `ids` (and learns which are absent) in chunks of ``chunk`` ids. A
    /// chunk of a few ids is read by key, one id at a time, through the cached statement of
    /// ``RecordTable/load(_:_:)``.
    func prefetch(records ids: some Sequence<UUID>) throws {
        var wanted: [UUID] = []
        var seen = Set<UUID>()
        for id in ids where records[id] == nil && ahead?.decidedRecord(id) == nil && seen.insert(id).inserted {
            wanted.append(id)
        }
        guard !wanted.isEmpty else { return }
        records.reserveCapacity(records.count + wanted.count)
        for start in stride(from: 0, to: wanted.count, by: Self.chunk) {
            let slice = wanted[start..<min(start + Self.chunk, wanted.count)]
            guard slice.count > Self.chunk / 16 else {
                for id in slice { records[id] = .some(try RecordTable.load(id, db)) }
                continue
            }
            for id in slice { records[id] = .some(nil) }
            // Each id is bound as its text made on the stack, not as a String made for it.
            try fetch(slice, from: Self.prefetchRecords, binding: { try $0.add($1) }) { cells in
                let record = try RecordTable.decode(cells)
                records[record.id] = record
            }
        }
    }

    /// Learns which of `keys` name a stored request, and which, in chunks of ``chunk``: each
    /// new request's key is checked against them.
    func prefetch(keys: some Sequence<String>) throws {
        var wanted: [String] = []
        var seen = Set<KeyBytes>()
        for key in keys where requests[KeyBytes(key)] == nil && seen.insert(KeyBytes(key)).inserted {
            wanted.append(key)
        }
        guard !wanted.isEmpty else { return }
        requests.reserveCapacity(requests.count + wanted.count)
        for start in stride(from: 0, to: wanted.count, by: Self.chunk) {
            let slice = wanted[start..<min(start + Self.chunk, wanted.count)]
            guard slice.count > Self.chunk / 16 else {
                for key in slice { requests[KeyBytes(key)] = .some(try Self.storedRequest(withKey: key, db)) }
                continue
            }
            for key in slice { requests[KeyBytes(key)] = .some(nil) }
            // In id order, the first id of a key is kept: the one `RequestRow.idByKey` reads.
            try fetch(slice, from: Self.prefetchKeys, binding: { try $0.add($1) }) { cells in
                guard let key = cells.string(0) else { throw StoreError.corrupt("a request key that is not text") }
                guard let id = cells.uuid(1) else {
                    throw StoreError.corrupt("request id \(cells.string(1) ?? "NULL")")
                }
                if case .some(nil) = requests[KeyBytes(key)] { requests[KeyBytes(key)] = .some(id) }
            }
        }
    }

    /// Loads the logged changes of `replica` with `counters` (and learns which are absent):
    /// one range read of the `(replica, counter)` index per run of consecutive counters.
    func prefetch(replica: ReplicaID, counters: some Sequence<UInt64>) throws {
        let sorted = Set(counters).sorted()
        guard var low = sorted.first else { return }
        logged.reserveCapacity(logged.count + sorted.count)
        for counter in sorted { logged[Dot(replica: replica, counter: counter)] = .some(nil) }
        let statement = try db.cachedStatement(sql: ChangeLog.ofReplica)
        var high = low
        for counter in sorted.dropFirst() + [UInt64.max] {
            if counter == high + 1 {
                high = counter
                continue
            }
            try statement.forEachRow(arguments: [replica.description, Int64(low), Int64(high)]) { cells in
                let entry = try ChangeLog.decode(cells)
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
        _ db: Database, expecting changes: Int = 0, prefetch: (StoredState) throws -> Void = { _ in },
        _ body: (Judge<StoredState>) throws -> T
    ) throws -> T {
        let state = StoredState(db)
        try prefetch(state)
        let judge = Judge(state, expecting: changes)
        let result = try judged(body(judge))
        try write(judge, db)
        release(judge)
        return result
    }

    /// What a judge's `body` returned, with what a judge threw as the store's error.
    static func judged<T>(_ body: @autoclosure () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as JudgeError {
            throw StoreError(error)
        }
    }

    /// Lets go of a written judge: a large batch's is freed beside the writer, not by it
    /// (BlockingWorkers.swift).
    static func release(_ judge: consuming Judge<StoredState>) {
        if judge.appendedCount >= RecordRows.handedOff { BlockingWorkers.shared.release(judge) }
    }

    /// Writes what `judge` decided: the log entries with their audiences, in order, then each
    /// changed record with its query row and timeline.
    ///
    /// The writer is the one stage of a Push that runs alone (DESIGN §4, §9): while it
    /// appends the log entries, another thread works out the records' rows (their encoded
    /// states and shown values, ``RecordRows``), which need nothing but the states the judge
    /// holds. A batch of a few records makes them itself: a thread's handoff would cost more.
    static func write(_ judge: Judge<StoredState>, _ db: Database) throws {
        // Before the log entries are appended: a timeline reads the stored log, and adds the
        // batch's changes to it.
        let records = try judged(judge.records())
        // What the judge read is what the table holds: nothing writes it in between.
        let previous = try records.map { record, _ in try judge.source.record(record.id) }
        let prepare: @Sendable () -> [RecordRows] = {
            zip(records, previous).map { changed, previous in
                RecordRows(changed.record, over: previous, timeline: changed.timeline)
            }
        }
        let rows = records.count < RecordRows.handedOff ? Prepared(now: prepare()) : Prepared(prepare)
        for entry in judge.appended {
            let seq = try ChangeLog.append(entry.change, set: entry.set, db)
            if let audience = entry.audience { try Audiences.record(seq, audience, db) }
        }
        let made = rows.take()
        for row in made { try RecordTable.save(row, db) }
        if records.count >= RecordRows.handedOff { BlockingWorkers.shared.release((records, previous, made)) }
    }
}

extension RecordRows {
    /// The fewest records whose rows ``ReplicaStore/write(_:_:)`` has another thread make.
    static let handedOff = 64
}

/// A judge handed to the thread that judges beside the writer: only that thread uses it until
/// the writer takes the outcomes (``ServerStore/receive(_:from:receivedAt:_:)``).
struct Handed: @unchecked Sendable {
    let judge: Judge<StoredState>

    init(_ judge: Judge<StoredState>) {
        self.judge = judge
    }
}

/// A value made on a thread of ``BlockingWorkers`` while the caller goes on, or made already.
final class Prepared<Value: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    /// Written once by the making thread before `done` is signalled; taken once, after waiting for it.
    private var made: Value?

    init(now value: Value) {
        made = value
        done.signal()
    }

    init(_ make: @escaping @Sendable () -> Value) {
        BlockingWorkers.shared.run { [self] in
            made = make()
            done.signal()
        }
    }

    /// The value, once made; it is not kept here, so whoever holds it last frees it.
    func take() -> Value {
        done.wait()
        defer { made = nil }
        return made!
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

extension Change {
    /// The key a request's change writes, which the judge checks against the stored requests.
    var requestKey: String? {
        kind == .request ? fields["key"]?.text : nil
    }
}
