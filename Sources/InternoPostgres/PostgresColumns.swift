import PostgresNIO

// How the PostgreSQL store spells SQL, as the SQLite store does through GRDB's `Column`
// (DESIGN §4): every column through its table's enum below, so that its snake-case name is
// written once (and in the migration that made it, which is never edited), and a statement
// reads `"SELECT \(ChangeColumn.seq) FROM change WHERE \(ChangeColumn.record) = \(id)"`.

/// A column of a table of the PostgreSQL store.
struct PostgresColumn: Sendable {
    let name: String

    init(_ name: String) { self.name = name }
}

extension PostgresQuery.StringInterpolation {
    /// A column's name, as SQL text: never a bound value.
    mutating func appendInterpolation(_ column: PostgresColumn) {
        appendInterpolation(unescaped: column.name)
    }
}

extension String.StringInterpolation {
    /// A column's name, for SQL built as text (conditions, `unsafeSQL`).
    mutating func appendInterpolation(_ column: PostgresColumn) {
        appendLiteral(column.name)
    }
}

extension Collection<PostgresColumn> {
    /// The columns' names as an SQL list, `seq, replica, counter`.
    var sql: String { map(\.name).joined(separator: ", ") }

    /// Each column set from the row an upsert would have inserted, `clock = excluded.clock`.
    var excludedAssignments: String { map { "\($0) = excluded.\($0)" }.joined(separator: ", ") }
}

/// The columns of `change`, the log.
enum ChangeColumn {
    static let seq = PostgresColumn("seq")
    static let replica = PostgresColumn("replica")
    static let counter = PostgresColumn("counter")
    static let setStart = PostgresColumn("set_start")
    static let setEnd = PostgresColumn("set_end")
    static let kind = PostgresColumn("kind")
    static let record = PostgresColumn("record")
    static let context = PostgresColumn("context")
    static let fields = PostgresColumn("fields")
    static let author = PostgresColumn("author")
    static let at = PostgresColumn("at")
    static let refusalCode = PostgresColumn("refusal_code")
    static let refusalReason = PostgresColumn("refusal_reason")
    static let requires = PostgresColumn("requires")

    /// Every column, in the order ``PostgresCoding/entries(_:)`` decodes them.
    static let all = [
        seq, replica, counter, setStart, setEnd, kind, record, context, fields, author, at, refusalCode,
        refusalReason, requires,
    ]
}

/// The columns of `audience`: who may receive each logged change (DESIGN §6.1).
enum AudienceColumn {
    static let department = PostgresColumn("department")
    static let seq = PostgresColumn("seq")
}

/// The columns of `record`, the record states.
enum RecordColumn {
    static let id = PostgresColumn("id")
    static let kind = PostgresColumn("kind")
    static let clock = PostgresColumn("clock")
    static let fields = PostgresColumn("fields")
    static let present = PostgresColumn("present")
    static let conflicted = PostgresColumn("conflicted")

    /// What a record state is read with, in the order its decoders read them.
    static let state = [id, kind, clock, fields]

    /// Every column, in the order a record state is written.
    static let all = [id, kind, clock, fields, present, conflicted]
}

/// The columns of `department_code` and `request_key`: the values the judge's uniqueness
/// checks read, by record.
enum UniqueValueColumn {
    static let id = PostgresColumn("id")
    static let code = PostgresColumn("code")
    static let key = PostgresColumn("key")
}

/// The columns of `stream_epoch` (DESIGN §3.9).
enum StreamEpochColumn {
    static let firstSeq = PostgresColumn("first_seq")
    static let epoch = PostgresColumn("epoch")
}

/// The columns of `server_identity`, its one row.
enum ServerIdentityColumn {
    static let singleton = PostgresColumn("singleton")
    static let replica = PostgresColumn("replica")
    static let counter = PostgresColumn("counter")

    /// Every column, in the order the row is written.
    static let all = [singleton, replica, counter]
}

/// The columns of `replica_registry`.
enum RegistryColumn {
    static let replica = PostgresColumn("replica")
    static let department = PostgresColumn("department")
    static let departmentCode = PostgresColumn("department_code")
    static let site = PostgresColumn("site")
    static let code = PostgresColumn("code")
    static let fingerprint = PostgresColumn("fingerprint")
    static let revoked = PostgresColumn("revoked")
    static let enrolledAt = PostgresColumn("enrolled_at")
    static let lastSeenAt = PostgresColumn("last_seen_at")
    static let scope = PostgresColumn("scope")

    /// What an entry is read with, in the order ``PostgresServerStore/registry(_:where:_:)`` decodes.
    static let read = [replica, department, departmentCode, site, fingerprint, revoked, enrolledAt, lastSeenAt, scope]

    /// What an entry is written with.
    static let written = [
        replica, department, departmentCode, site, code, fingerprint, revoked, enrolledAt, lastSeenAt, scope,
    ]
}

/// The column of `schema_migration`.
enum SchemaMigrationColumn {
    static let name = PostgresColumn("name")
    static let appliedAt = PostgresColumn("applied_at")
}
