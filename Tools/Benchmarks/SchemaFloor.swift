import Foundation
import GRDB
import InternoModel
@_spi(Database) import InternoStore

/// What SQLite takes to write the rows Interno's schema keeps for each change, with nothing
/// of Interno's code in the timed loop: the floor under a push or a pull through today's
/// tables, beside the raw insert of one row per record (DESIGN §9). Both bind through GRDB's
/// prepared statements, as the raw insert does.
///
/// Each new request is three rows, as a site's pull writes it: its log entry, its record
/// state and its query row, in tables made by Interno's own migrations, so with every index
/// the migrations give them (today the log by record and by dot, the records by kind, the
/// requests by key and by submission time). `audience` adds the server's two audience rows
/// (customer and provider department) per change, as a Push writes them. The bytes of every
/// cell (encoded fields, clock, siblings, timeline) are made before the clock starts, from
/// the same model types the store encodes with; one transaction, WAL, `synchronous = FULL`.
enum SchemaFloor {
    static func insert(_ count: Int, path: String, audience: Bool) throws -> Spent {
        // Opened as a site's database, it is migrated and has no identity yet, so it keeps
        // every table of both roles (`v5-roles`), the server's `audience` among them.
        let store = try SiteStore.open(path: path)
        let replica = ReplicaID(UUID())
        let customer = UUID.timeOrdered()
        let provider = UUID.timeOrdered()
        let at = Timestamp(millisecondsSince1970: 1_795_426_200_000)
        var change: [StatementArguments] = []
        var record: [StatementArguments] = []
        var request: [StatementArguments] = []
        change.reserveCapacity(count)
        record.reserveCapacity(count)
        request.reserveCapacity(count)
        for index in 0..<count {
            let id = UUID.timeOrdered()
            let key = "HR-LIS-\(index + 1)"
            let title = "Request number \(index)"
            let fields: [FieldName: FieldValue] = [
                "customer": .id(customer), "provider": .id(provider), "title": .text(title),
                "priority": .text("normal"), "state": .text("submitted"), "key": .text(key),
            ]
            let logged = Change(
                dot: Dot(replica: replica, counter: UInt64(index + 1)), kind: .request, recordID: id,
                context: VersionVector(), fields: fields, author: "bench@HR-LIS", at: at)
            var state = RecordState(kind: .request, id: id)
            try state.apply(logged)
            var context = BinaryWriter()
            context.write(clock: logged.context)
            var encodedFields = BinaryWriter()
            encodedFields.write(fields: fields)
            var clock = BinaryWriter()
            clock.write(clock: state.clock)
            var siblings = BinaryWriter()
            siblings.write(siblings: state.fields)
            let set = Int64(index / 100 * 100 + 1)
            change.append(
                cells([
                    replica.description, Int64(index + 1), set, set + 99, "request", id.text, Data(context.bytes),
                    Data(encodedFields.bytes), "bench@HR-LIS", at.millisecondsSince1970,
                ]))
            record.append(cells([id.text, "request", Data(clock.bytes), Data(siblings.bytes), true, false]))
            let timeline = RequestTimeline(log: [logged]).map { Data($0.encoded) }
            request.append(
                cells([
                    id.text, key, customer.text, provider.text, title, "normal", "submitted",
                    at.millisecondsSince1970, at.millisecondsSince1970, false, at.millisecondsSince1970, timeline,
                ]))
        }
        let start = Spent.now()
        try store.writer.write { db in
            let logStatement = try db.makeStatement(
                sql: """
                    INSERT INTO change (replica, counter, setStart, setEnd, kind, record, context, fields, author, at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            let recordStatement = try db.makeStatement(
                sql: "INSERT INTO record (id, kind, clock, fields, present, conflicted) VALUES (?, ?, ?, ?, ?, ?)")
            let requestStatement = try db.makeStatement(
                sql: """
                    INSERT INTO request (id, key, customer, provider, title, priority, state, createdAt, updatedAt,
                        conflicted, submittedAt, timeline)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            let audienceStatement = try db.makeStatement(sql: "INSERT INTO audience (department, seq) VALUES (?, ?)")
            let departments = [customer.text, provider.text].sorted()
            // An audience row names its change's seq, known only once the change is in: its
            // two arguments are made here, as the store makes them.
            for index in 0..<count {
                try logStatement.execute(arguments: change[index])
                if audience {
                    let seq = db.lastInsertedRowID
                    for department in departments {
                        try audienceStatement.execute(arguments: [department, seq])
                    }
                }
                try recordStatement.execute(arguments: record[index])
                try requestStatement.execute(arguments: request[index])
            }
        }
        return Spent.now() - start
    }

    /// A row's arguments, made before the clock starts, so the timed loop only binds them
    /// (GRDB's conversion of an array of values into arguments is generic, and not specialised
    /// across modules: made in the loop, it was over half of the floor's time).
    private static func cells(_ values: [(any DatabaseValueConvertible)?]) -> StatementArguments {
        StatementArguments(values)
    }
}
