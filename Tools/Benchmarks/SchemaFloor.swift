import Foundation
import GRDB
import InternoModel
@_spi(Database) import InternoStore

/// What SQLite takes to write the rows Interno's schema keeps for each change, with nothing
/// of Interno's code in the timed loop: the floor under a push or a pull through today's
/// tables, beside the raw insert of one row per record (DESIGN §9). Both bind each value
/// through SQLite's C API (``Bindings``), as the store's writes do, not through GRDB's
/// arguments, whose plumbing had been a large part of both.
///
/// Each new request is two rows, as a site's pull writes it: its log entry and its query
/// row, which holds its record state (`v10-request-states-in-rows`), in tables made by
/// Interno's own migrations, so with every index the migrations give them (today the log by
/// record and by dot, the requests by key and by submission time). `audience` adds the
/// server's two audience rows (customer and provider department) per change, as a Push
/// writes them. The bytes of every cell (encoded fields, clock, siblings, timeline) are made
/// before the clock starts, from the same model types the store encodes with; one
/// transaction, WAL, `synchronous = FULL`, in a store opened as the stores open theirs, so
/// that its checkpoints run beside its writer as theirs do (DESIGN §4).
///
/// Then `editRounds` rounds of `changed` edits, each round one transaction over the same
/// file: the floor under a warm round. Each edit is what a warm round's title edit writes
/// through today's tables, as a difference (DESIGN §4): its log entry (its own set, as the
/// benchmark's edits are), with `audience` its two audience rows, and one `UPDATE` of its
/// request row's `title`, `updatedAt`, clock and siblings. The records are picked at random
/// among all of them, as the warm rounds pick them, and the bytes are made before each
/// round's clock starts. What a Push writes once per round (the pusher's registry row, its
/// answer) is left out: this is the part that grows with the edits.
enum SchemaFloor {
    static func insert(
        _ count: Int, path: String, audience: Bool, editRounds: Int = 0, changed: Int = 500
    ) throws -> (insert: Spent, rounds: [Double]) {
        // Opened as a site's database, it is migrated and has no identity yet, so it keeps
        // every table of both roles (`v5-roles`), the server's `audience` among them.
        let store = try SiteStore.open(path: path)
        let replica = ReplicaID(UUID())
        let customer = UUID.timeOrdered()
        let provider = UUID.timeOrdered()
        let at = Timestamp(millisecondsSince1970: 1_795_426_200_000)
        var rows: [Row] = []
        rows.reserveCapacity(count)
        var ids: [UUID] = []
        ids.reserveCapacity(count)
        // The change that created request `index`, whose id is `id`.
        func created(_ index: Int, _ id: UUID) -> Change {
            let fields: [FieldName: FieldValue] = [
                "customer": .id(customer), "provider": .id(provider), "title": .text("Request number \(index)"),
                "priority": .text("normal"), "state": .text("submitted"), "key": .text("HR-LIS-\(index + 1)"),
            ]
            return Change(
                dot: Dot(replica: replica, counter: UInt64(index + 1)), kind: .request, recordID: id,
                context: VersionVector(), fields: fields, author: "bench@HR-LIS", at: at)
        }
        for index in 0..<count {
            let id = UUID.timeOrdered()
            ids.append(id)
            let logged = created(index, id)
            let key = "HR-LIS-\(index + 1)"
            let title = "Request number \(index)"
            var state = RecordState(kind: .request, id: id)
            try state.apply(logged)
            let cells = encoded(logged, state)
            rows.append(
                Row(
                    id: id.text, key: key, title: title, counter: Int64(index + 1),
                    set: Int64(index / 100 * 100 + 1), context: cells.context, fields: cells.fields,
                    clock: cells.clock, siblings: cells.siblings, timeline: RequestTimeline(log: [logged])?.encoded))
        }
        let replicaText = replica.description
        let customerText = customer.text
        let providerText = provider.text
        let time = at.millisecondsSince1970
        let start = Spent.now()
        try store.writer.write { db in
            let logStatement = try db.makeStatement(sql: logInsert)
            let requestStatement = try db.makeStatement(
                sql: """
                    INSERT INTO request (id, key, customer, provider, title, priority, state, createdAt, updatedAt,
                        conflicted, submittedAt, timeline, clock, fields, stateConflicted)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            let audienceStatement = try db.makeStatement(sql: audienceInsert)
            let departments = [customer.text, provider.text].sorted()
            for row in rows {
                try log(
                    row.counter, set: row.set...(row.set + 99), record: row.id, context: row.context,
                    fields: row.fields,
                    by: replicaText, at: time, heardBy: audience ? departments : [], logStatement, audienceStatement, db
                )
                var shown = Bindings(requestStatement)
                try shown.add(row.id)
                try shown.add(row.key)
                try shown.add(customerText)
                try shown.add(providerText)
                try shown.add(row.title)
                try shown.add("normal")
                try shown.add("submitted")
                try shown.add(time)
                try shown.add(time)
                try shown.add(false)
                try shown.add(time)
                try shown.add(bytes: row.timeline)
                try shown.add(bytes: row.clock)
                try shown.add(bytes: row.siblings)
                try shown.add(false)
                try shown.execute()
            }
        }
        let inserted = Spent.now() - start
        var rounds: [Double] = []
        var counter = UInt64(count)
        var edited: [Int: RecordState] = [:]
        let departments = [customerText, providerText].sorted()
        for round in 0..<editRounds {
            let editedAt = Timestamp(millisecondsSince1970: time + Int64(round + 1) * 60_000)
            let title = "Edited in round \(round)"
            var edits: [Edited] = []
            edits.reserveCapacity(changed)
            for index in ids.indices.shuffled().prefix(changed) {
                counter += 1
                // The state of a record not edited yet is made again from the change that made
                // it: keeping every record's state would weigh on the peak memory measured later.
                var state = edited[index] ?? RecordState(kind: .request, id: ids[index])
                if edited[index] == nil { try state.apply(created(index, ids[index])) }
                let change = Change(
                    dot: Dot(replica: replica, counter: counter), kind: .request, recordID: state.id,
                    context: state.clock, fields: ["title": .text(title)], author: "bench@HR-LIS", at: editedAt)
                try state.apply(change)
                edited[index] = state
                let cells = encoded(change, state)
                edits.append(
                    Edited(
                        id: rows[index].id, counter: Int64(counter), context: cells.context, fields: cells.fields,
                        clock: cells.clock, siblings: cells.siblings))
            }
            let editTime = editedAt.millisecondsSince1970
            let roundStart = Date()
            try store.writer.write { db in
                let logStatement = try db.cachedStatement(sql: logInsert)
                let audienceStatement = try db.cachedStatement(sql: audienceInsert)
                let requestStatement = try db.cachedStatement(
                    sql: "UPDATE request SET title = ?, updatedAt = ?, clock = ?, fields = ? WHERE id = ?")
                for edit in edits {
                    try log(
                        edit.counter, set: edit.counter...edit.counter, record: edit.id, context: edit.context,
                        fields: edit.fields, by: replicaText, at: editTime, heardBy: audience ? departments : [],
                        logStatement, audienceStatement, db)
                    var shown = Bindings(requestStatement)
                    try shown.add(title)
                    try shown.add(editTime)
                    try shown.add(bytes: edit.clock)
                    try shown.add(bytes: edit.siblings)
                    try shown.add(edit.id)
                    try shown.execute()
                }
            }
            rounds.append(Date().timeIntervalSince(roundStart))
        }
        return (inserted, rounds)
    }

    /// The cells `change` writes, in the encodings the store writes them with: its context and
    /// fields in the log, and `state`, its record after it, as the record's clock and siblings.
    private static func encoded(_ change: Change, _ state: RecordState) -> (
        context: [UInt8], fields: [UInt8], clock: [UInt8], siblings: [UInt8]
    ) {
        var context = BinaryWriter()
        context.write(clock: change.context)
        var fields = BinaryWriter()
        fields.write(fields: change.fields)
        var clock = BinaryWriter()
        clock.write(clock: state.clock)
        var siblings = BinaryWriter()
        siblings.write(siblings: state.fields)
        return (context.bytes, fields.bytes, clock.bytes, siblings.bytes)
    }

    private static let logInsert = """
        INSERT INTO change (replica, counter, setStart, setEnd, kind, record, context, fields, author, at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    private static let audienceInsert = "INSERT INTO audience (department, seq) VALUES (?, ?)"

    /// Writes the log entry of request `record`'s change `counter` of `replica`, in `set`, and
    /// an audience row for each of `departments`: an audience row names its change's seq,
    /// known only once the change is in, so its two arguments are made here, as the store
    /// makes them.
    private static func log(
        _ counter: Int64, set: ClosedRange<Int64>, record: String, context: [UInt8], fields: [UInt8],
        by replica: String, at time: Int64, heardBy departments: [String], _ logStatement: Statement,
        _ audienceStatement: Statement, _ db: Database
    ) throws {
        var log = Bindings(logStatement)
        try log.add(replica)
        try log.add(counter)
        try log.add(set.lowerBound)
        try log.add(set.upperBound)
        try log.add("request")
        try log.add(record)
        try log.add(bytes: context)
        try log.add(bytes: fields)
        try log.add("bench@HR-LIS")
        try log.add(time)
        try log.execute()
        let seq = db.lastInsertedRowID
        for department in departments {
            var heard = Bindings(audienceStatement)
            try heard.add(department)
            try heard.add(seq)
            try heard.execute()
        }
    }

    /// What one edit of a warm round writes, made before the round's clock starts.
    private struct Edited {
        let id: String
        let counter: Int64
        let context: [UInt8]
        let fields: [UInt8]
        let clock: [UInt8]
        let siblings: [UInt8]
    }

    /// What differs between one new request's rows, made before the clock starts, so the timed
    /// loop only binds it.
    private struct Row {
        let id: String
        let key: String
        let title: String
        let counter: Int64
        let set: Int64
        let context: [UInt8]
        let fields: [UInt8]
        let clock: [UInt8]
        let siblings: [UInt8]
        let timeline: [UInt8]?
    }
}
