import Foundation
import InternoModel
import InternoStore
import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// The server's merged state on PostgreSQL (DESIGN §4.1): the log, the record states, the
/// audiences and epochs of the stream, the registry and the server's identity, for
/// organisations that run several `interno-server` instances against one database.
///
/// What becomes of a write is decided by the same ``Judge`` as on SQLite: this store only
/// reads what a batch names, hands it to the judge, and writes what it decided.
///
/// **One stream, nothing missed.** A site pulls by sequence number and moves its cursor past
/// what it received. If two instances could commit Pushes concurrently, a Push that took
/// sequence 100 could commit after another's 101 became visible, and a site that pulled 101
/// would never see 100 (the hazard of commanded/eventstore#3 and akka-persistence-jdbc#96).
/// So every transaction that appends to the log first takes one transaction-scoped advisory
/// lock (``streamLock``) and numbers its changes after the highest committed one: commits of
/// the stream are serialised across instances, and a sequence number is visible only once
/// every lower one is. A Push on SQLite is serialised by its one writer in the same way, so
/// this costs no concurrency the embedded store had; reads (pulls, Welcome) never take it.
public final class PostgresServerStore: Sendable {
    /// Where the database is.
    public let location: PostgresLocation
    let client: PostgresClient
    /// Runs before each append to the stream commits, the lock held: tests hold a commit open
    /// with it, to show that no site misses a change another instance commits meanwhile.
    let beforeAppendCommits: (@Sendable () async -> Void)?

    /// The advisory lock that serialises appends to the stream, across every instance.
    static let streamLock: Int64 = 0x696e_7465_726e_6f01
    /// The advisory lock that serialises migrations when several instances start together.
    static let migrationLock: Int64 = 0x696e_7465_726e_6f02
    /// A logger that drops everything: the store reports failures as errors, not log lines.
    public static let quiet = Logger(label: "interno.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A store on `location`; nothing is connected until ``run()`` runs.
    public convenience init(_ location: PostgresLocation, logger: Logger = PostgresServerStore.quiet) {
        self.init(location, logger: logger, beforeAppendCommits: nil)
    }

    init(
        _ location: PostgresLocation, logger: Logger, transactionLimit: Duration = .seconds(60),
        beforeAppendCommits: (@Sendable () async -> Void)?
    ) {
        self.location = location
        self.transactionLimit = transactionLimit
        client = PostgresClient(configuration: location.configuration, backgroundLogger: logger)
        self.beforeAppendCommits = beforeAppendCommits
    }

    /// Keeps the connection pool running until the task is cancelled.
    public func run() async {
        await client.run()
    }

    /// Runs `body` with a store on `location` that runs for as long as `body` does, migrated
    /// first: what a command that uses the database once does.
    public static func with<T: Sendable>(
        _ location: PostgresLocation, _ body: @Sendable (PostgresServerStore) async throws -> T
    ) async throws -> T {
        let store = PostgresServerStore(location)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await store.run()
                return nil
            }
            defer { group.cancelAll() }
            try await store.checkReachable()
            try await store.migrate()
            return try await body(store)
        }
    }

    /// Connects once, directly, so that a database that is down or refuses the URL's user is
    /// said at once, naming it, rather than after the connection pool's retries.
    public func checkReachable() async throws {
        do {
            let connection = try await PostgresConnection.connect(
                configuration: try location.connectionConfiguration(), id: 0, logger: Self.quiet)
            try await connection.close()
        } catch let error as PSQLError {
            throw PostgresStoreError.unavailable(describe(error))
        }
    }

    // MARK: Transactions

    /// What a transaction does, which decides how it begins.
    enum Access {
        /// Reads only: one `REPEATABLE READ` snapshot, no lock.
        case read
        /// Appends to the stream: takes ``streamLock`` first, then reads what is committed.
        case append
        /// Takes a lock of its own first (migrations): `READ COMMITTED`, so that once it has
        /// the lock it sees what the holder before it committed.
        case locking
        /// Writes a few rows outside the stream (the registry): `READ COMMITTED`, so that two
        /// sessions updating one row wait for each other instead of one failing, as under
        /// `REPEATABLE READ`, with "could not serialize access due to concurrent update".
        case write
    }

    /// Runs `body` in one transaction. Whatever goes wrong with the database (it cannot be
    /// reached, the connection broke, a statement was refused) ends the transaction with
    /// nothing kept, as ``PostgresStoreError/unavailable(_:)`` naming the database; the pool
    /// connects again for the next transaction, once the database is back.
    ///
    /// A transaction that has not ended ``transactionLimit`` after it got its connection is
    /// ended by closing the connection, unless it is `unlimited` (a migration).
    func transaction<T>(
        _ access: Access = .read, unlimited: Bool = false, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        do {
            return try await withConnection(limit: unlimited ? nil : transactionLimit) { connection in
                do {
                    try await connection.statement("BEGIN", logger: Self.quiet)
                    switch access {
                    case .read:
                        try await connection.statement(
                            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: Self.quiet)
                    case .append:
                        try await connection.statement(
                            "SELECT pg_advisory_xact_lock(\(Self.streamLock))", logger: Self.quiet)
                    case .locking, .write:
                        break
                    }
                    let result = try await body(connection)
                    if access == .append, let beforeAppendCommits { await beforeAppendCommits() }
                    try await connection.statement("COMMIT", logger: Self.quiet)
                    return result
                } catch {
                    _ = try? await connection.statement("ROLLBACK", logger: Self.quiet)
                    throw Failure.inTransaction(error)
                }
            }
        } catch Failure.inTransaction(let error) {
            if let error = error as? PSQLError, !Self.losesConnection(error) {
                throw PostgresStoreError.unavailable(describe(error))
            }
            if error is ConnectionClosed || error is PSQLError {
                throw PostgresStoreError.unavailable(
                    "lost the connection to the central database \(location) (it may have restarted): check that it runs"
                )
            }
            throw error
        } catch let error as PSQLError {
            throw PostgresStoreError.unavailable(describe(error))
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as PostgresStoreError {
            throw error
        } catch {
            // No connection could be had (the pool's own errors).
            throw PostgresStoreError.unavailable(
                "cannot reach the central database \(location) (\(error)): check that it runs and that the URL is right"
            )
        }
    }

    /// How long a transaction waits for a connection from the pool. While the database is down
    /// the pool keeps trying to connect, and a lease would wait for as long as that takes;
    /// bounded, the session fails with an error that names the database (and the site hears
    /// `INTERNAL`) before the site's own 60 s request limit. 30 s, not less: on a loaded host a
    /// new connection (TCP, TLS, authentication) can take many seconds, and a wait that gave
    /// up too soon would fail syncs that were only slow. `transactionLimit` bounds the rest.
    static let leaseTimeout: Duration = .seconds(30)

    /// How long a transaction may run once it has its connection. A database that stops
    /// answering with the connection left open (a network partition, a frozen host) leaves a
    /// statement waiting until TCP gives up, hours later, and postgres-nio has no statement
    /// timeout. So a transaction still running at this limit has its connection closed, which
    /// fails the statement, and ends as ``PostgresStoreError/unavailable(_:)``. No transaction
    /// of a sync comes near it (a Push of 2000 sets commits in about a second), and a site
    /// gives up its request after 60 s. 60 s; tests make it shorter.
    let transactionLimit: Duration

    /// Runs `body` with a connection from the pool, waiting at most `leaseTimeout` for one,
    /// and closing it if `body` runs longer than `limit` once it has it.
    ///
    /// The pool only lends a connection for the length of a closure, so a child task leases
    /// it and hands it over (``Handoff``), keeping the lease until `body` is done; a second
    /// child gives up the wait at the deadline, and a lease still pending then is cancelled;
    /// a third closes the connection at the limit.
    func withConnection<T>(limit: Duration?, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let handoff = Handoff()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [client] in
                do {
                    try await client.withConnection { connection in await handoff.lend(connection) }
                } catch {
                    handoff.settle(.failure(error))
                }
            }
            group.addTask { [location] in
                do {
                    try await Task.sleep(for: Self.leaseTimeout)
                } catch {
                    return
                }
                handoff.settle(
                    .failure(
                        PostgresStoreError.unavailable(
                            "cannot reach the central database \(location): no connection within \(Self.leaseTimeout); check that it runs and that the URL is right"
                        )))
            }
            defer {
                handoff.giveBack()
                group.cancelAll()
            }
            let connection = try await handoff.take()
            if let limit {
                group.addTask {
                    do {
                        try await Task.sleep(for: limit)
                    } catch {
                        return
                    }
                    if handoff.abandon() { try? await connection.close() }
                }
            }
            do {
                return try await body(connection)
            } catch  where handoff.isAbandoned {
                throw PostgresStoreError.unavailable(
                    "the central database \(location) did not answer within \(limit ?? .zero): check that it runs and can be reached"
                )
            }
        }
    }

    /// One connection, handed from the task that holds its lease to the one that uses it:
    /// whichever comes first of the connection, a failure or the deadline settles what the
    /// user gets; a connection that comes after a failure goes straight back to the pool.
    final class Handoff: Sendable {
        private struct State {
            var outcome: Result<PostgresConnection, any Error>?
            var taker: CheckedContinuation<PostgresConnection, any Error>?
            var lender: CheckedContinuation<Void, Never>?
            var returned = false
            var abandoned = false
        }
        private let state = NIOLockedValueBox(State())

        /// Settles the outcome, unless it is settled already; `false` then.
        @discardableResult
        func settle(_ outcome: Result<PostgresConnection, any Error>) -> Bool {
            let taker: CheckedContinuation<PostgresConnection, any Error>?? = state.withLockedValue { state in
                guard state.outcome == nil else { return .none }
                state.outcome = outcome
                defer { state.taker = nil }
                return .some(state.taker)
            }
            guard case .some(let waiting) = taker else { return false }
            waiting?.resume(with: outcome)
            return true
        }

        /// The connection, once leased, or the failure.
        func take() async throws -> PostgresConnection {
            try await withCheckedThrowingContinuation { continuation in
                let outcome = state.withLockedValue { state in
                    if state.outcome == nil { state.taker = continuation }
                    return state.outcome
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        }

        /// Offers `connection`, and waits until it is given back (at once, if the outcome was
        /// settled without it).
        func lend(_ connection: PostgresConnection) async {
            guard settle(.success(connection)) else { return }
            await withCheckedContinuation { continuation in
                let returned = state.withLockedValue { state in
                    if !state.returned { state.lender = continuation }
                    return state.returned
                }
                if returned { continuation.resume() }
            }
        }

        /// Marks the connection as abandoned, to be closed, unless it was given back: `true`
        /// if it is to be closed.
        func abandon() -> Bool {
            state.withLockedValue { state in
                guard !state.returned else { return false }
                state.abandoned = true
                return true
            }
        }

        /// `true` once the connection was abandoned at the limit.
        var isAbandoned: Bool { state.withLockedValue { $0.abandoned } }

        /// Gives the connection back, if it was lent.
        func giveBack() {
            let lender = state.withLockedValue { state in
                state.returned = true
                defer { state.lender = nil }
                return state.lender
            }
            lender?.resume()
        }
    }

    /// A statement was not sent: its connection had closed (the database went away).
    struct ConnectionClosed: Error {}

    /// Whether `error`, from a statement of a transaction that had its connection, says the
    /// connection went away under it: closed while the statement was in flight (the database
    /// stopping a moment after ``ConnectionClosed`` would have been thrown), or the session
    /// ended by the server as it shuts down (SQLSTATE 57P01, 57P02).
    static func losesConnection(_ error: PSQLError) -> Bool {
        if let state = error.serverInfo?[.sqlState] { return state == "57P01" || state == "57P02" }
        return [.serverClosedConnection, .uncleanShutdown, .connectionError].contains(error.code)
    }

    /// What went wrong inside a transaction, told apart from a connection that could not be had.
    private enum Failure: Error {
        case inTransaction(any Error)
    }

    /// What PostgreSQL said, with the database named.
    func describe(_ error: PSQLError) -> String {
        if let message = error.serverInfo?[.message] {
            return "the central database \(location) refused: \(message)"
        }
        let cause = error.underlying.map { "\($0)" } ?? error.code.description
        if cause.contains("CERTIFICATE_VERIFY_FAILED") {
            return
                "the central database \(location) offered a certificate that is not trusted (sslmode=\(location.tls.rawValue)): give the CA that signs it with sslrootcert=PATH in the URL"
        }
        if cause.contains("handshakeFailed") || cause.contains("sslUnsupported") {
            return
                "cannot set up TLS with the central database \(location) (\(cause)): check its ssl settings, or the URL's sslmode"
        }
        return "cannot reach the central database \(location) (\(cause)): check that it runs and that the URL is right"
    }

    // MARK: Migrations

    /// The schema, in named steps applied in order, each once (DESIGN §4.1). Several instances
    /// that start together wait for each other on ``migrationLock``: one applies, the others
    /// find it applied.
    static let migrations: [(name: String, sql: [String])] = [
        (
            "v1-initial",
            [
                """
                CREATE TABLE server_identity (
                    singleton integer PRIMARY KEY CHECK (singleton = 1),
                    replica uuid NOT NULL,
                    counter bigint NOT NULL DEFAULT 0
                )
                """,
                """
                CREATE TABLE change (
                    seq bigint PRIMARY KEY,
                    replica uuid NOT NULL,
                    counter bigint NOT NULL,
                    set_start bigint NOT NULL,
                    set_end bigint NOT NULL,
                    kind text NOT NULL,
                    record uuid NOT NULL,
                    context bytea NOT NULL,
                    fields bytea NOT NULL,
                    author text NOT NULL,
                    at bigint NOT NULL,
                    refusal_code integer,
                    refusal_reason text,
                    requires bytea,
                    UNIQUE (replica, counter)
                )
                """,
                "CREATE INDEX change_by_record ON change (record, seq)",
                """
                CREATE TABLE audience (
                    department text NOT NULL,
                    seq bigint NOT NULL,
                    PRIMARY KEY (department, seq)
                )
                """,
                """
                CREATE TABLE record (
                    id uuid PRIMARY KEY,
                    kind text NOT NULL,
                    clock bytea NOT NULL,
                    fields bytea NOT NULL,
                    present boolean NOT NULL,
                    conflicted boolean NOT NULL
                )
                """,
                "CREATE INDEX record_by_kind ON record (kind, id) WHERE present",
                // What the judge's uniqueness checks read: the codes of departments and the
                // keys of requests that exist.
                "CREATE TABLE department_code (id uuid PRIMARY KEY, code text NOT NULL)",
                "CREATE INDEX department_code_by_code ON department_code (code)",
                "CREATE TABLE request_key (id uuid PRIMARY KEY, key text NOT NULL)",
                "CREATE INDEX request_key_by_key ON request_key (key)",
                "CREATE TABLE stream_epoch (first_seq bigint PRIMARY KEY, epoch bigint NOT NULL)",
                """
                CREATE TABLE replica_registry (
                    replica uuid PRIMARY KEY,
                    department uuid NOT NULL,
                    department_code text NOT NULL,
                    site text NOT NULL,
                    code text NOT NULL UNIQUE,
                    fingerprint text NOT NULL UNIQUE,
                    revoked boolean NOT NULL DEFAULT false,
                    enrolled_at bigint NOT NULL,
                    last_seen_at bigint,
                    scope text NOT NULL
                )
                """,
            ]
        )
    ]

    /// Applies the migrations this database has not had, in one transaction.
    public func migrate() async throws {
        try await transaction(.locking) { connection in
            try await connection.statement("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: Self.quiet)
            try await connection.statement(
                "CREATE TABLE IF NOT EXISTS schema_migration (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                logger: Self.quiet)
            var applied: Set<String> = []
            for try await name in try await connection.statement(
                "SELECT \(SchemaMigrationColumn.name) FROM schema_migration", logger: Self.quiet
            )
            .decode(String.self) {
                applied.insert(name)
            }
            let known = Set(Self.migrations.map(\.name))
            if let unknown = applied.subtracting(known).sorted().first {
                throw PostgresStoreError.corrupt(
                    "it was migrated by a newer release (\(unknown)); run that release of interno-server")
            }
            for migration in Self.migrations where !applied.contains(migration.name) {
                for statement in migration.sql {
                    try await connection.statement(PostgresQuery(unsafeSQL: statement), logger: Self.quiet)
                }
                try await connection.statement(
                    "INSERT INTO schema_migration (\(SchemaMigrationColumn.name)) VALUES (\(migration.name))",
                    logger: Self.quiet)
            }
        }
    }

    /// The names of the migrations applied, in the order they were.
    public func appliedMigrations() async throws -> [String] {
        try await transaction { connection in
            var names: [String] = []
            for try await name in try await connection.statement(
                """
                SELECT \(SchemaMigrationColumn.name) FROM schema_migration
                ORDER BY \(SchemaMigrationColumn.appliedAt), \(SchemaMigrationColumn.name)
                """, logger: Self.quiet
            ).decode(String.self) {
                names.append(name)
            }
            return names
        }
    }

    // MARK: Identity

    /// Gives an empty database its identity: the server's replica id.
    public func initialize(replica: ReplicaID) async throws {
        try await transaction(.append) { connection in
            if try await Self.identity(connection) != nil {
                throw PostgresStoreError.alreadyInitialized(location.description)
            }
            try await connection.statement(
                "INSERT INTO server_identity (\(unescaped: ServerIdentityColumn.all.sql)) VALUES (1, \(replica.uuid), 0)",
                logger: Self.quiet)
        }
    }

    /// The server's replica id.
    public func serverID() async throws -> ReplicaID {
        try await transaction { connection in
            guard let identity = try await Self.identity(connection) else {
                throw PostgresStoreError.notInitialized(location.description)
            }
            return identity.replica
        }
    }

    /// How this store's connections are protected: the TLS version (`TLSv1.3`), or `none`,
    /// as the database reports it for the connection that asks (`pg_stat_ssl`).
    public func connectionSecurity() async throws -> String {
        try await transaction { connection in
            let rows = try await connection.statement(
                "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: Self.quiet)
            for try await (ssl, version) in rows.decode((Bool, String?).self) where ssl {
                return version ?? "TLS"
            }
            return "none"
        }
    }

    /// The database server's durability settings, as `name=value, ...`: what a benchmark's
    /// commit figures depend on (`fsync`, `synchronous_commit`).
    public func durabilitySettings() async throws -> String {
        try await transaction { connection in
            let rows = try await connection.statement(
                "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit') ORDER BY name",
                logger: Self.quiet)
            var settings: [String] = []
            for try await (name, setting) in rows.decode((String, String).self) {
                settings.append("\(name)=\(setting)")
            }
            return settings.joined(separator: ", ")
        }
    }

    static func identity(_ connection: PostgresConnection) async throws -> (replica: ReplicaID, counter: Int64)? {
        let rows = try await connection.statement(
            "SELECT \(ServerIdentityColumn.replica), \(ServerIdentityColumn.counter) FROM server_identity",
            logger: quiet)
        for try await (replica, counter) in rows.decode((UUID, Int64).self) { return (ReplicaID(replica), counter) }
        return nil
    }

    /// Starts a new epoch of the stream at its next sequence number (DESIGN §3.9): every
    /// instance calls it when it starts, so what a database restored from a dump logs anew
    /// never passes for what a site pulled before.
    public func beginEpoch() async throws {
        try await transaction(.append) { connection in
            var epoch: Int64 = 0
            while epoch == 0 { epoch = Int64.random(in: .min ... .max) }
            try await connection.statement(
                """
                INSERT INTO stream_epoch (\(StreamEpochColumn.firstSeq), \(StreamEpochColumn.epoch))
                VALUES ((SELECT COALESCE(MAX(\(ChangeColumn.seq)), 0) + 1 FROM change), \(epoch))
                ON CONFLICT (\(StreamEpochColumn.firstSeq))
                DO UPDATE SET \(StreamEpochColumn.epoch) = excluded.\(StreamEpochColumn.epoch)
                """, logger: Self.quiet)
        }
    }

    // MARK: Judging and writing

    /// Judges a batch with a fresh judge over `snapshot`, loading what it turns out to need
    /// and judging again until nothing is missing, then writes what it decided.
    func judging<T>(
        _ snapshot: PostgresSnapshot, batch: [Change], _ connection: PostgresConnection,
        _ body: (Judge<PostgresSnapshot>) throws -> T
    ) async throws -> T {
        while true {
            let judge = Judge(snapshot)
            do {
                let result = try body(judge)
                let records = try judge.records().map(\.record)
                try await write(judge.appended, records, connection)
                return result
            } catch let missing as PostgresSnapshot.Missing {
                try await snapshot.load(missing, for: batch, connection)
            }
        }
    }

    /// Appends `entries` to the log after its highest sequence number (the caller holds
    /// ``streamLock``), with their audiences, and stores `records` with what the uniqueness
    /// checks read.
    func write(
        _ entries: [Judge<PostgresSnapshot>.Entry], _ records: [RecordState], _ connection: PostgresConnection
    ) async throws {
        var seq: Int64 = 0
        if !entries.isEmpty {
            for try await latest in try await connection.statement(
                "SELECT COALESCE(MAX(\(ChangeColumn.seq)), 0) FROM change", logger: Self.quiet
            ).decode(Int64.self) {
                seq = latest
            }
        }
        try await Self.insert(
            entries.map { entry in
                seq += 1
                return (StreamEntry(seq: seq, change: entry.change, set: entry.set), Self.departments(entry.audience))
            }, connection)
        try await Self.save(records, connection)
    }

    /// The audience column's values for a change: none, everyone (`*`), or department ids.
    static func departments(_ audience: Audience?) -> [String] {
        switch audience {
        case nil: []
        case .everyone: [PostgresCoding.everyone]
        case .departments(let ids): ids.map(\.text).sorted()
        }
    }

    /// Appends logged changes under their sequence numbers, with the departments each goes
    /// to, a few statements per thousand changes: every column travels as one array, and
    /// `unnest` makes the rows (an optional column by a value it never holds: -1, empty).
    static func insert(_ rows: [(entry: StreamEntry, audience: [String])], _ connection: PostgresConnection)
        async throws
    {
        for chunk in stride(from: 0, to: rows.count, by: 1_000).map({ rows[$0..<min($0 + 1_000, rows.count)] }) {
            let changes = chunk.map(\.entry.change)
            let seqs = chunk.map(\.entry.seq)
            let replicas = changes.map(\.dot.replica.uuid)
            let counters = changes.map { Int64($0.dot.counter) }
            let starts = chunk.map { Int64($0.entry.set.lowerBound) }
            let ends = chunk.map { Int64($0.entry.set.upperBound) }
            let kinds = changes.map(\.kind.rawValue)
            let records = changes.map(\.recordID)
            let contexts = changes.map { ByteBuffer(bytes: PostgresCoding.bytes($0.context)) }
            let fields = changes.map { ByteBuffer(bytes: PostgresCoding.bytes($0.fields)) }
            let authors = changes.map(\.author)
            let times = changes.map(\.at.millisecondsSince1970)
            let codes = changes.map { $0.refusal.map { Int32($0.code.rawValue) } ?? -1 }
            let reasons = changes.map { $0.refusal?.message ?? "" }
            let requires = changes.map { ByteBuffer(bytes: PostgresCoding.bytes(requires: $0.requires) ?? Data()) }
            try await connection.statement(
                """
                INSERT INTO change (\(unescaped: ChangeColumn.all.sql))
                SELECT \(unescaped: ChangeColumn.all.dropLast(3).sql),
                    NULLIF(code, -1), CASE WHEN code = -1 THEN NULL ELSE reason END, NULLIF(\(ChangeColumn.requires), ''::bytea)
                FROM unnest(\(seqs)::bigint[], \(replicas)::uuid[], \(counters)::bigint[], \(starts)::bigint[],
                    \(ends)::bigint[], \(kinds)::text[], \(records)::uuid[], \(contexts)::bytea[], \(fields)::bytea[],
                    \(authors)::text[], \(times)::bigint[], \(codes)::integer[], \(reasons)::text[],
                    \(requires)::bytea[])
                    AS row(\(unescaped: ChangeColumn.all.dropLast(3).sql), code, reason, \(ChangeColumn.requires))
                """, logger: quiet)
            let audience = chunk.flatMap { row in row.audience.map { ($0, row.entry.seq) } }
            if !audience.isEmpty {
                try await connection.statement(
                    """
                    INSERT INTO audience (\(AudienceColumn.department), \(AudienceColumn.seq))
                    SELECT * FROM unnest(\(audience.map(\.0))::text[], \(audience.map(\.1))::bigint[])
                    """, logger: quiet)
            }
        }
    }

    /// Stores record states, with what the judge's uniqueness checks read of them (department
    /// codes, request keys), a few statements per thousand records.
    static func save(_ records: [RecordState], _ connection: PostgresConnection) async throws {
        for chunk in stride(from: 0, to: records.count, by: 1_000).map({
            records[$0..<min($0 + 1_000, records.count)]
        }) {
            try await connection.statement(
                """
                INSERT INTO record (\(unescaped: RecordColumn.all.sql))
                SELECT * FROM unnest(\(chunk.map(\.id))::uuid[], \(chunk.map(\.kind.rawValue))::text[],
                    \(chunk.map { ByteBuffer(bytes: PostgresCoding.bytes($0.clock)) })::bytea[],
                    \(chunk.map { ByteBuffer(bytes: PostgresCoding.bytes(siblings: $0.fields)) })::bytea[],
                    \(chunk.map(\.exists))::boolean[], \(chunk.map(\.isConflicted))::boolean[])
                ON CONFLICT (\(RecordColumn.id)) DO UPDATE SET \(unescaped: RecordColumn.all.dropFirst(2).excludedAssignments)
                """, logger: quiet)
            for (kind, table, column, field) in [
                (RecordKind.department, "department_code", UniqueValueColumn.code, "code"),
                (.request, "request_key", UniqueValueColumn.key, "key"),
            ] {
                let ofKind = chunk.filter { $0.kind == kind }
                guard !ofKind.isEmpty else { continue }
                let kept = ofKind.compactMap { record in
                    record.exists ? record.value(of: field)?.text.map { (record.id, $0) } : nil
                }
                try await connection.statement(
                    "DELETE FROM \(unescaped: table) WHERE \(UniqueValueColumn.id) = ANY(\(ofKind.map(\.id))::uuid[])",
                    logger: quiet)
                if !kept.isEmpty {
                    try await connection.statement(
                        """
                        INSERT INTO \(unescaped: table) (\(UniqueValueColumn.id), \(column))
                        SELECT * FROM unnest(\(kept.map(\.0))::uuid[], \(kept.map(\.1))::text[])
                        """, logger: quiet)
                }
            }
        }
    }

    /// The server's own write (a department added or edited by the administrator), judged as
    /// any write (DESIGN §3.3), logged for every site whose scope covers it.
    @discardableResult
    public func write(_ edits: [Edit], author: String, at: Timestamp = .now()) async throws -> ChangeSet {
        precondition(!edits.isEmpty, "a write has at least one edit")
        return try await transaction(.append) { connection in
            guard let identity = try await Self.identity(connection) else {
                throw PostgresStoreError.notInitialized(location.description)
            }
            let snapshot = PostgresSnapshot()
            try await snapshot.load(records: edits.map(\.recordID), connection)
            let first = UInt64(identity.counter) + 1
            let set = first...(first + UInt64(edits.count) - 1)
            let now = Timestamp.now()
            let changes = try await judging(snapshot, batch: [], connection) { judge in
                var counter = identity.counter
                return try edits.map { edit in
                    let seen = try judge.record(edit.recordID) ?? RecordState(kind: edit.kind, id: edit.recordID)
                    guard seen.kind == edit.kind else {
                        throw JudgeError.refused(
                            Refusal(
                                .malformed,
                                "record \(edit.recordID) is a \(seen.kind.rawValue), not a \(edit.kind.rawValue)"))
                    }
                    counter += 1
                    let change = Change(
                        dot: Dot(replica: identity.replica, counter: UInt64(counter)), kind: edit.kind,
                        recordID: edit.recordID, context: seen.exists ? seen.clock : VersionVector(),
                        fields: edit.fields, author: author, at: at,
                        requires: try judge.requirements(of: edit.kind, edit.fields))
                    try judge.write(
                        change, set: set, by: .admin, seen: seen, pusherCode: nil, receivedAt: now,
                        audience: .derived)
                    return change
                }
            }
            try await connection.statement(
                "UPDATE server_identity SET \(ServerIdentityColumn.counter) = \(Int64(set.upperBound))",
                logger: Self.quiet)
            return ChangeSet(changes)
        }
    }

    /// The server's handling of one Push (DESIGN §3.4, §5): every set judged on its own by the
    /// ``Judge``, all committed in one transaction before the outcomes are returned to be
    /// acknowledged. `receivedAt` is the server's clock.
    public func receive(_ sets: [ChangeSet], from pusher: Pusher, receivedAt: Timestamp) async throws
        -> [PushOutcome]
    {
        try await transaction(.append) { connection in
            var outcomes: [PushOutcome] = []
            for batch in ChangeSet.batches(of: sets) {
                let snapshot = PostgresSnapshot()
                let changes = batch.flatMap(\.changes)
                try await snapshot.load(dots: changes.map(\.dot), connection)
                try await snapshot.load(
                    records: changes.flatMap { [$0.recordID] + $0.fields.values.compactMap(\.id) }, connection)
                outcomes += try await judging(snapshot, batch: changes, connection) { judge in
                    try batch.map { set in try judge.push(set, from: pusher, receivedAt: receivedAt) }
                }
            }
            return outcomes
        }
    }

}

extension PostgresConnection {
    /// Runs `query`, or fails at once if this connection has closed. postgres-nio writes a
    /// statement to its channel without a promise for the write, so one written to a channel
    /// that is already closed (the database ended the session between two statements of a
    /// transaction, say while a Push was being judged) is dropped and its caller waits for
    /// ever. Checking first leaves only the moment between the check and the write.
    @discardableResult
    func statement(
        _ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line
    ) async throws -> PostgresRowSequence {
        guard !isClosed else { throw PostgresServerStore.ConnectionClosed() }
        return try await self.query(query, logger: logger, file: file, line: line)
    }
}
