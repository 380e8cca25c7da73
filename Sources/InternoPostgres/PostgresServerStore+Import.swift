import Foundation
import InternoModel
import InternoStore
import PostgresNIO

extension PostgresServerStore {
    /// What a migration copied.
    public struct ImportSummary: Equatable, Sendable {
        public var changes = 0
        public var records = 0
        public var sites = 0
    }

    /// Copies a server's SQLite store into this database, which must hold no server yet, in
    /// one transaction (DESIGN §4.1): its identity, the log with its sequence numbers and
    /// audiences, the stream's epochs, the record states and the registry. Sequence numbers
    /// and epochs are kept, so every site's cursor still names the same point of the stream,
    /// and sites carry on without enrolling again, pulling only what is new. The source must
    /// not change meanwhile: if its stream moved, nothing is kept and the error says why.
    public func importServer(from source: ServerStore, pageSize: Int = 2_000) async throws -> ImportSummary {
        let header = try source.exportHeader()
        // One transaction however long the copy takes: it must be all or nothing.
        return try await transaction(.append, unlimited: true) { connection in
            if try await Self.identity(connection) != nil {
                throw PostgresStoreError.alreadyInitialized(location.description)
            }
            var summary = ImportSummary()
            try await connection.statement(
                """
                INSERT INTO server_identity (\(unescaped: ServerIdentityColumn.all.sql))
                VALUES (1, \(header.replica.uuid), \(header.counter))
                """,
                logger: Self.quiet)
            for (firstSeq, epoch) in header.epochs {
                try await connection.statement(
                    """
                    INSERT INTO stream_epoch (\(StreamEpochColumn.firstSeq), \(StreamEpochColumn.epoch))
                    VALUES (\(firstSeq), \(epoch))
                    """, logger: Self.quiet)
            }
            for entry in header.registry {
                try await Self.insert(entry, connection)
                summary.sites += 1
            }
            var seq: Int64 = 0
            while true {
                let page = try source.exportLog(after: seq, limit: pageSize)
                guard let last = page.last else { break }
                try await Self.insert(page.map { ($0.entry, $0.audience) }, connection)
                summary.changes += page.count
                seq = last.entry.seq
            }
            var after: UUID?
            while true {
                let page = try source.exportRecords(after: after, limit: pageSize)
                guard let last = page.last else { break }
                try await Self.save(page, connection)
                summary.records += page.count
                after = last.id
            }
            guard try source.exportHeader().latestSequence == header.latestSequence else {
                throw PostgresStoreError.unavailable(
                    "the SQLite server logged changes while it was copied, so nothing was kept: stop `interno-server run` on it, then migrate again"
                )
            }
            return summary
        }
    }
}
