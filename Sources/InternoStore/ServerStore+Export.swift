import Foundation
import GRDB
import InternoModel

private typealias Log = ChangeLog.Columns
private typealias AudienceColumns = Audiences.Columns

/// What `interno-server migrate` copies from a server's SQLite file into another store
/// (DESIGN §4.1), read page by page: the server must be stopped while it runs.
extension ServerStore {
    /// What a server is, besides its log and records.
    public struct ExportHeader: Sendable {
        /// The server's replica id.
        public var replica: ReplicaID
        /// The last counter the server used for its own writes.
        public var counter: Int64
        /// The stream's epochs: the first sequence number of each, and its id.
        public var epochs: [(firstSeq: Int64, epoch: Int64)]
        /// Every enrolled site.
        public var registry: [RegistryRow]
        /// The stream's latest sequence number, to check that nothing was logged meanwhile.
        public var latestSequence: Int64
    }

    /// One logged change and the departments that receive it (`*`: every site).
    public struct ExportedChange: Sendable {
        public var entry: StreamEntry
        public var audience: [String]
    }

    /// The server's identity, epochs, registry and latest sequence number.
    public func exportHeader() throws -> ExportHeader {
        try read { db in
            let replica = try Self.replicaRow(db)
            let epochs = try Row.fetchAll(
                db,
                sql:
                    "SELECT \(StreamEpochTable.all.sql) FROM stream_epoch ORDER BY \(StreamEpochTable.Columns.firstSeq)"
            ).map {
                (firstSeq: $0[0] as Int64, epoch: $0[1] as Int64)
            }
            return ExportHeader(
                replica: replica.id, counter: replica.counter, epochs: epochs,
                registry: try RegistryRow.order(RegistryRow.Columns.code).fetchAll(db),
                latestSequence: try Self.latestSequence(db))
        }
    }

    /// Up to `limit` logged changes after `seq`, in stream order, with their audiences.
    public func exportLog(after seq: Int64, limit: Int) throws -> [ExportedChange] {
        try read { db in
            let entries = try Row.fetchAll(
                db, sql: "SELECT \(ChangeLog.columns) FROM change WHERE \(Log.seq) > ? ORDER BY \(Log.seq) LIMIT ?",
                arguments: [seq, limit]
            ).map(ChangeLog.decode)
            guard let first = entries.first, let last = entries.last else { return [] }
            var audiences: [Int64: [String]] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT \([AudienceColumns.seq, AudienceColumns.department].sql) FROM audience
                    WHERE \(AudienceColumns.seq) BETWEEN ? AND ?
                    ORDER BY \(AudienceColumns.seq), \(AudienceColumns.department)
                    """,
                arguments: [first.seq, last.seq])
            {
                audiences[row[0], default: []].append(row[1])
            }
            return entries.map { ExportedChange(entry: $0, audience: audiences[$0.seq] ?? []) }
        }
    }

    /// Up to `limit` record states after the id `after` (all of them, existing or not), in id order.
    public func exportRecords(after id: UUID?, limit: Int) throws -> [RecordState] {
        try read { db in
            try Row.fetchAll(db, sql: RecordTable.inIDOrder, arguments: [id?.text ?? "", limit])
                .map(RecordTable.decode)
        }
    }
}
