import Foundation
import GRDB
import InternoModel

/// A department site's replica (DESIGN §4): what every replica keeps (``ReplicaStore``), and
/// what only a site keeps: its outbox of change sets waiting for the server's answer, its
/// cursor in the server's stream, its scope, and the stash of sets set aside after a restore.
public struct SiteStore: ReplicaStore {
    public static let role = ReplicaRole.site
    /// The database, for tests and tools only (`@_spi(Database) import InternoStore`): every
    /// product reads and writes through the store's methods (DESIGN §4).
    @_spi(Database) public let writer: any DatabaseWriter

    /// Wraps `writer` and brings its schema up to date.
    ///
    /// - Throws: ``StoreError/wrongRole(_:)`` if the database is the other role's.
    public init(writer: any DatabaseWriter) throws {
        try Self.prepare(writer)
        self.writer = writer
    }

    /// Gives an empty database its identity: a site of `department` with `code`.
    public func initialize(replica: ReplicaID, department: UUID, code: String) throws {
        try initialize(replica: replica, department: department, code: code as String?)
    }
}
