import GRDB

// How the store spells SQL: every column through its table's `Columns`, so that a column's
// name is written once, where its table is described, and a statement reads
// `"SELECT \(Columns.id) FROM record WHERE \(Columns.kind) = ?"`.

extension String.StringInterpolation {
    /// A column's name, as SQL spells it.
    mutating func appendInterpolation(_ column: Column) {
        appendLiteral(column.name)
    }
}

extension Collection<Column> {
    /// The columns' names as an SQL list, `id, kind, clock`.
    var sql: String { map(\.name).joined(separator: ", ") }

    /// One `?` per column, `?, ?, ?`.
    var placeholders: String { repeatElement("?", count: count).joined(separator: ", ") }

    /// Each column set from one `?`, `clock = ?, fields = ?`.
    var assignments: String { map { "\($0) = ?" }.joined(separator: ", ") }

    /// Each column set from the row an upsert would have inserted, `clock = excluded.clock`.
    var excludedAssignments: String { map { "\($0) = excluded.\($0)" }.joined(separator: ", ") }
}
