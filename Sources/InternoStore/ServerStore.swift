import Foundation
import GRDB
import InternoModel

/// The server's merged state (DESIGN §4): what every replica keeps (``ReplicaStore``), and what
/// only the server keeps: the registry of enrolled sites, the epochs of its stream, the judging
/// of each Push, and the stream as each site's scope receives it.
public struct ServerStore: ReplicaStore {
    public static let role = ReplicaRole.server
    /// The database, for tests and tools only (`@_spi(Database) import InternoStore`): every
    /// product reads and writes through the store's methods (DESIGN §4).
    @_spi(Database) public let writer: any DatabaseWriter
    /// The Pushes waiting for the writer, committed in groups (``receiveInGroup(_:from:)``).
    let pushGroups = PushGroups()

    /// Wraps `writer` and brings its schema up to date.
    ///
    /// - Throws: ``StoreError/wrongRole(_:)`` if the database is the other role's.
    public init(writer: any DatabaseWriter) throws {
        try Self.prepare(writer)
        self.writer = writer
    }

    /// Gives an empty database its identity: the server's.
    public func initialize(replica: ReplicaID) throws {
        try initialize(replica: replica, department: nil, code: nil)
    }
}
