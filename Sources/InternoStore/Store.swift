import Foundation
import GRDB
import InternoModel

/// What a site's replica and the server's merged state share (DESIGN §4): one SQLite
/// database with the change log, the record states and the query tables, written through the
/// one local write path and the ``Judge``. ``SiteStore`` adds what only a site keeps (its
/// outbox, cursor, scope and stash), ``ServerStore`` what only the server keeps (the registry,
/// the stream's epochs, a Push's judging, the stream as each site receives it).
///
/// The change log is the source of truth; record states and query tables are projections of
/// it, kept in the same transaction and rebuildable from it. Every method that writes does
/// so in one transaction: it either happens whole or leaves the database as it was.
public protocol ReplicaStore: Sendable {
    /// Which of the two this store is: fixed by its type, never looked up at run time.
    static var role: ReplicaRole { get }
    /// The database: a WAL `DatabasePool` or one connection on disk, or a `DatabaseQueue` in
    /// memory for tests. Not part of the store's public interface: the products go through
    /// the store's methods, and only tests and tools import it, with `@_spi(Database)`.
    @_spi(Database) var writer: any DatabaseWriter { get }
    /// Wraps `writer` and brings its schema up to date, refusing the other role's database:
    /// each store calls ``prepare(_:)`` before it keeps the writer.
    init(writer: any DatabaseWriter) throws
}

extension ReplicaStore {
    /// Opens (creating if needed) the database file at `path`, in WAL mode, and migrates it:
    /// a pool with concurrent readers, or one connection (`concurrentReads: false`).
    ///
    /// A site's process opens one connection, not a pool: GRDB's pool writes (creates and
    /// drops a table) on every open whose WAL is empty, so a site command that is refused
    /// would still change the file's bytes. One connection writes only when something is
    /// written (DESIGN §6.1).
    ///
    /// - Throws: ``StoreError/wrongRole(_:)`` for the database of the other role.
    public static func open(path: String, concurrentReads: Bool = true) throws -> Self {
        guard !concurrentReads else {
            let pool = try DatabasePool(path: path, configuration: configuration())
            // GRDB sets its writer to `synchronous = NORMAL` when it turns WAL on, after
            // `prepareDatabase`: a commit acknowledged to a site could then be lost in a power
            // cut (DESIGN §3.8). The writer is one connection for the pool's life.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            // The writer judges; its checkpoints run beside it (BackgroundCheckpoints.swift).
            try BackgroundCheckpoints.install(on: pool)
            return try Self(writer: pool)
        }
        let queue = try DatabaseQueue(path: path, configuration: configuration())
        // WAL mode is kept in the file: set it once, when the file is new.
        if try queue.read({ db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }) != "wal" {
            try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
        }
        // Its checkpoints run beside it too (BackgroundCheckpoints.swift).
        try BackgroundCheckpoints.install(on: queue)
        return try Self(writer: queue)
    }

    /// A fresh database in memory, for tests and tools.
    public static func inMemory() throws -> Self {
        try Self(writer: DatabaseQueue(configuration: configuration()))
    }

    /// Brings `writer`'s schema up to date and checks that the database is of this role (or
    /// has no identity yet).
    ///
    /// - Throws: ``StoreError/wrongRole(_:)`` if the database is the other role's: a site's
    ///   replica is never served, and the server's state never synced as a site.
    static func prepare(_ writer: any DatabaseWriter) throws {
        try StoreSchema.migrator.migrate(writer)
        let role = try writer.read { db in
            try String.fetchOne(db, sql: "SELECT \(ReplicaRow.Columns.role) FROM replica")
        }
        if let role, role != Self.role.rawValue {
            throw StoreError.wrongRole(
                "this database is a \(role)'s, not a \(Self.role.rawValue)'s: check the path you gave")
        }
    }

    private static func configuration() -> Configuration {
        // Before the first database of the process opens (SQLiteSettings.swift).
        SQLiteSettings.apply()
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            // A change acknowledged to anyone must survive a crash or a power cut (DESIGN §3.8).
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        return configuration
    }

    // MARK: Reads

    /// Runs `body` in one read transaction: a snapshot, consistent whatever writes around it.
    ///
    /// On a pool, one of its readers. On one connection (a site), a deferred transaction on
    /// it, not GRDB's `DatabaseQueue.read`: that makes the connection read-only for the body
    /// with `PRAGMA query_only`, and SQLite expires every prepared statement of a connection
    /// whenever such a flag changes. The next write then compiled again every statement it
    /// ran (the log's insert, the record's update, the query rows'): 16% of the sites' CPU
    /// in the many-sites benchmark, where a sync reads between its writes. A body that writes
    /// anyway is rolled back and reported, never committed.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        guard let queue = writer as? DatabaseQueue else { return try writer.read(body) }
        return try queue.writeWithoutTransaction { db in
            var result: T?
            let changes = db.totalChangesCount
            try db.inTransaction(.deferred) {
                result = try body(db)
                return db.totalChangesCount == changes ? .commit : .rollback
            }
            guard let result, db.totalChangesCount == changes else {
                throw StoreError.io("internal error: a read of the database tried to write; nothing was written")
            }
            return result
        }
    }

    // MARK: Async callers

    /// Runs `body` with this store on a thread of its own, never on the caller's: the store's
    /// methods are synchronous and may wait for the writer and for a commit's fsync
    /// (`synchronous = FULL`), which must not hold one of the cooperative pool's few threads.
    /// Async code (a sync session on the server, a site's sync engine) calls the synchronous
    /// methods through here, so none of them needs an async twin (DESIGN §4).
    ///
    /// A thread of ``BlockingWorkers``, an idle one or a new one, never a dispatch queue:
    /// GRDB runs its own work on dispatch's global pool, which on Linux keeps about one worker
    /// per core, so calls that block there wait for work queued behind them. With 200 sites
    /// syncing at once that stalled the server for seconds at a time (TLS handshakes timed
    /// out). No call waits for another to free a thread; a thread that is done waits a while
    /// for the next call instead of ending, so a sync's handful of calls start no thread.
    public func background<T: Sendable>(_ body: @escaping @Sendable (Self) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            BlockingWorkers.shared.run {
                continuation.resume(with: Result { try body(self) })
            }
        }
    }

    // MARK: Backup

    /// Writes a consistent copy of the database to `path`, a new file made with mode 0600,
    /// while the database stays in use: `VACUUM INTO` reads one snapshot, without a
    /// transaction that would hold writers back. Refuses a path that already exists.
    public func backup(to path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw StoreError.io("\(path) exists already: a backup never overwrites a file; choose another --out")
        }
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        else { throw StoreError.io("cannot create \(path): check that its directory exists and can be written") }
        do {
            try writer.unsafeRead { db in try db.execute(sql: "VACUUM INTO ?", arguments: [path]) }
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
    }

    // MARK: Identity

    /// Gives an empty database its identity, of this store's role.
    func initialize(replica: ReplicaID, department: UUID?, code: String?) throws {
        try writer.write { db in
            if let existing = try ReplicaRow.fetchOne(db) { throw StoreError.alreadyInitialized(existing.id) }
            try ReplicaRow(
                replicaID: replica.description, role: Self.role, department: department?.text,
                code: code, counter: 0, cursor: 0, serverEpoch: nil, nextRequestNumber: 1, lastSyncAt: nil, scope: nil
            ).insert(db)
            try StoreSchema.dropTables(notKeptBy: Self.role, db)
        }
    }

    /// This database's identity and sync position.
    public func replica() throws -> ReplicaRow {
        try read { db in try Self.replicaRow(db) }
    }

    static func replicaRow(_ db: Database) throws -> ReplicaRow {
        // Read on every operation: one cached statement, not a query built each time.
        guard let row = try Row.fetchOne(db.cachedStatement(sql: ReplicaRow.select)) else {
            throw StoreError.notInitialized
        }
        return try ReplicaRow(selected: row)
    }

    // MARK: Records

    /// The state of one record, or `nil` if nothing of it has been seen.
    public func record(_ id: UUID) throws -> RecordState? {
        try read { db in try RecordTable.load(id, db) }
    }

    /// The state of every record of `kind` that exists, in id order.
    public func records(of kind: RecordKind) throws -> [RecordState] {
        try read { db in
            let rows = try Row.fetchAll(db.cachedStatement(sql: RecordTable.existing(of: kind)))
            return try rows.map(RecordTable.decode)
        }
    }
}

extension Database {
    /// Runs one SQL statement through the statement cache: prepared once per connection, not
    /// parsed and authorized again on every call, which costs more than running it.
    func executeCached(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
