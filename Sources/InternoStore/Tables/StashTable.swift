import GRDB

/// The `stash` table (sites): the own change sets a restored site set aside until the
/// server's changes are in (DESIGN §3.9). A stashed change keeps every column of its log row
/// but `seq`, and its set's outbox status and creation time.
enum StashTable {
    /// The columns of `stash` that the log does not have.
    enum Columns {
        /// The outbox status of the change's set when it was set aside.
        static let outboxStatus = Column("outboxStatus")
        /// When the change's set was queued (milliseconds since 1970).
        static let outboxCreatedAt = Column("outboxCreatedAt")
    }

    /// The log's columns a stashed change keeps: all but `seq`, in the log's order.
    static let logged = ChangeLog.all.dropFirst()

    /// Moves the log rows of one own set into the stash. Arguments: the set's first and last
    /// counters (its span as the outbox knew it), its outbox status and creation time, then the
    /// site's replica id and the counters to move.
    static let setAside = """
        INSERT INTO stash (\(logged.sql), \([Columns.outboxStatus, Columns.outboxCreatedAt].sql))
        SELECT \(logged.map { [ChangeLog.Columns.setStart.name, ChangeLog.Columns.setEnd.name].contains($0.name) ? "?" : $0.name }.joined(separator: ", ")), ?, ?
        FROM change WHERE \(ChangeLog.Columns.replica) = ? AND \(ChangeLog.Columns.counter) BETWEEN ? AND ?
        """

    /// Every stashed change, in counter order, as a log row that ``ChangeLog/decode(_:)``
    /// reads (with `seq` 0), followed by ``Columns``.
    static let stashed = """
        SELECT 0 AS \(ChangeLog.Columns.seq), \(logged.sql), \([Columns.outboxStatus, Columns.outboxCreatedAt].sql)
        FROM stash ORDER BY \(ChangeLog.Columns.counter)
        """

    /// How many changes are stashed.
    static let count = "SELECT COUNT(*) FROM stash"

    /// How many change sets are stashed.
    static let setCount = "SELECT COUNT(DISTINCT \(ChangeLog.Columns.setStart)) FROM stash"

    /// Empties the stash.
    static let deleteAll = "DELETE FROM stash"
}
