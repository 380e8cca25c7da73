import Foundation
import InternoClient
import InternoModel
import InternoPostgres
import InternoServer
import InternoStore
import InternoTestSupport
import InternoWire
import Logging
import Testing

/// Where a deployment's server keeps its merged state (DESIGN §4.1): tests that take it as an
/// argument run on both.
enum Central: String, Sendable, CustomTestStringConvertible {
    /// The SQLite file in the data directory.
    case sqlite
    /// A new database on the test PostgreSQL server (`Tools/postgres start` starts one).
    case postgres

    var testDescription: String { rawValue }

    /// Both, or SQLite alone when the run has no PostgreSQL (plain `swift test`; the
    /// PostgreSQL suites then say how to run them, and `.ci/run` never leaves it out).
    static let all: [Central] = TestPostgres.isAvailable ? [.sqlite, .postgres] : [.sqlite]
}

/// A temporary directory, removed when the value goes away unless `INTERNO_KEEP_FILES` is set
/// (to read the databases of a failed trial).
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("interno-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    deinit {
        guard ProcessInfo.processInfo.environment["INTERNO_KEEP_FILES"] == nil else { return }
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A real server on 127.0.0.1 (port chosen by the OS) with departments HR, IT and FAC, its CA
/// and certificates made at test time, and sites that join it with the real `interno` binary.
struct Deployment: Sendable {
    let directory: TemporaryDirectory
    let data: ServerDirectory
    let store: any CentralStore
    /// The PostgreSQL database's URL, if the server keeps its data there.
    let database: String?
    let port: Int
    let task: Task<Void, any Error>
    /// Keeps the PostgreSQL store's connections open for the deployment's life.
    let storeTask: Task<Void, Never>?

    var administration: ServerAdministration { ServerAdministration(directory: data, store: store) }

    /// Runs `body` against a fresh deployment whose server keeps its data in `central`, and
    /// stops the server afterwards, whatever happens.
    static func with<T: Sendable>(
        _ central: Central = .sqlite, logger: Logger? = nil, _ body: (Deployment) async throws -> T
    ) async throws -> T {
        let deployment = try await start(central, logger: logger)
        do {
            let result = try await body(deployment)
            await deployment.stop()
            return result
        } catch {
            await deployment.stop()
            throw error
        }
    }

    /// Starts the server with its data in `central`, logging to `logger` (default: warnings
    /// and worse, to stderr).
    static func start(_ central: Central = .sqlite, logger: Logger? = nil) async throws -> Deployment {
        let directory = try TemporaryDirectory()
        let data = ServerDirectory(path: directory.path("server"))
        let store: any CentralStore
        var storeTask: Task<Void, Never>?
        var database: String?
        switch central {
        case .sqlite:
            _ = try await data.initialize(name: "localhost", port: 7443)
            store = SQLiteCentralStore(try data.store())
        case .postgres:
            let url = try await TestPostgres.newDatabase()
            database = url
            let postgres = PostgresServerStore(try PostgresLocation(url: url))
            storeTask = Task { await postgres.run() }
            try await postgres.migrate()
            _ = try await data.initialize(name: "localhost", port: 7443, postgres: postgres)
            try await postgres.beginEpoch()
            store = postgres
        }
        let administration = ServerAdministration(directory: data, store: store)
        for (code, name) in [("HR", "Human Resources"), ("IT", "Information Technology"), ("FAC", "Facilities")] {
            try await administration.addDepartment(code: code, name: name, timeZone: "Europe/Lisbon")
        }
        return try await launch(
            directory: directory, data: data, store: store, database: database, storeTask: storeTask, logger: logger)
    }

    /// Starts a server on the data directory `data`, as it is (its SQLite file, unless
    /// `store` is given).
    static func launch(
        directory: TemporaryDirectory, data: ServerDirectory, store: (any CentralStore)? = nil,
        database: String? = nil, storeTask: Task<Void, Never>? = nil, logger: Logger? = nil
    ) async throws -> Deployment {
        let store = try store ?? SQLiteCentralStore(try data.store())
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var configuration = try ServerConfiguration(directory: data, store: store, host: "127.0.0.1", port: 0)
        configuration.onListening = { address in
            continuation.yield(address.port ?? 0)
            continuation.finish()
        }
        var defaultLogger = Logger(label: "e2e-server")
        defaultLogger.logLevel = .warning
        let server = InternoServer(configuration: configuration, logger: logger ?? defaultLogger)
        let task = Task { try await server.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            storeTask?.cancel()
            throw ServerError.cannotListen("the test server did not start")
        }
        return Deployment(
            directory: directory, data: data, store: store, database: database, port: port, task: task,
            storeTask: storeTask)
    }

    func stop() async {
        task.cancel()
        _ = await task.result
        storeTask?.cancel()
        _ = await storeTask?.value
    }

    /// The operator's backup of the server's database, taken while it serves, as the README
    /// says: `interno-server backup` of the SQLite file, or `pg_dump -Fc` of the PostgreSQL
    /// database.
    func backup(to path: String) async throws { try await Self.backup(data, database, to: path) }

    /// The backup of the server in `data`, its database at `database` if on PostgreSQL.
    static func backup(_ data: ServerDirectory, _ database: String?, to path: String) async throws {
        let result =
            if let database {
                try await Executable.system("pg_dump").run(["-Fc", "--file", path, database])
            } else {
                try await Executable("interno-server").run(["backup", "--data", data.url.path, "--out", path])
            }
        #expect(result.status == 0, "the backup failed: \(result.stderr)")
    }

    /// Stops the server, puts the backup `backup` in place of its database (a copy of the
    /// SQLite file, or `pg_restore --clean` into the PostgreSQL database, as the README says),
    /// and starts it again on a new port that `sites` are told: a server restored from a backup.
    func restored(from backup: String, sites: [SiteCLI]) async throws -> Deployment {
        await stop()
        try await Self.restore(data, database, from: backup)
        let restarted: Deployment
        if let database {
            let postgres = PostgresServerStore(try PostgresLocation(url: database))
            let storeTask = Task { await postgres.run() }
            try await postgres.migrate()
            try await postgres.beginEpoch()
            restarted = try await Deployment.launch(
                directory: directory, data: data, store: postgres, database: database, storeTask: storeTask)
        } else {
            restarted = try await Deployment.launch(directory: directory, data: data)
        }
        for site in sites { try site.setServerPort(restarted.port) }
        return restarted
    }

    /// Puts the backup at `path` in place of the database of the server in `data`, which no
    /// process serves: a copy of the SQLite file, or, with the PostgreSQL database at
    /// `database`, the README's `pg_restore --clean` of the `pg_dump -Fc` file.
    static func restore(_ data: ServerDirectory, _ database: String?, from path: String) async throws {
        if let database {
            let result = try await Executable.system("pg_restore").run([
                "--clean", "--if-exists", "--single-transaction", "--dbname", database, path,
            ])
            #expect(result.status == 0, "pg_restore failed: \(result.stderr)")
        } else {
            let file = data.databasePath
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) }
            try FileManager.default.copyItem(atPath: path, toPath: file)
        }
    }

    /// What the server's database holds, as bytes to search: the SQLite file and its WAL, or
    /// everything in the PostgreSQL database as `pg_dump` prints it (`bytea` in hex).
    func databaseBytes() async throws -> Data {
        if let database {
            let dump = try await Executable.system("pg_dump").run([database])
            #expect(dump.status == 0, "\(dump.stderr)")
            return Data(dump.stdout.utf8)
        }
        return ["", "-wal"].compactMap { FileManager.default.contents(atPath: data.databasePath + $0) }.reduce(
            Data(), +)
    }

    /// The server's latest sequence number, whichever store it is on.
    func latestSequence() async throws -> Int64 { try await store.latestSequence() }

    /// Enrols a site and joins it with the real binary; the bundle points at the test port.
    func join(_ department: String, _ site: String, user: String, scope: Scope.Kind = .department) async throws
        -> SiteCLI
    {
        var bundle = try await administration.enroll(department: department, site: site, scope: scope)
        bundle.port = port
        let bundlePath = directory.path("\(department)-\(site).bundle")
        try SecureFile.write(try bundle.encoded(), to: bundlePath, mode: 0o600)
        let cli = SiteCLI(home: directory.path("site-\(department)-\(site)"), user: user)
        let result = try await cli.run(["join", bundlePath])
        #expect(result.status == 0, "join failed: \(result.stderr)")
        return cli
    }
}

/// What the tests read of a server's merged state, through the calls the server makes itself,
/// so that they read either store the same way.
extension CentralStore {
    /// The latest sequence number.
    func latestSequence() async throws -> Int64 {
        try await syncPosition(of: .random(), cursor: 0, cursorEpoch: 0).latestSequence
    }

    /// The keys of every request.
    func requestKeys() async throws -> Set<String> {
        Set(
            try await records(of: .request).compactMap {
                if case .text(let key) = $0.value(of: "key") { key } else { nil }
            })
    }

    /// The id of the department with `code`.
    func department(_ code: String) async throws -> UUID {
        try #require(try await records(of: .department).first { $0.value(of: "code") == .text(code) }?.id)
    }

    /// The whole stream, every scope's changes, in order.
    func stream() async throws -> [ChangeSet] {
        var sets: [ChangeSet] = []
        var cursor: Int64 = 0
        while true {
            let batch = try await changes(
                after: cursor, limit: 10_000, scope: .all, leavingOut: nil, maximumBytes: .max, size: { _ in 0 })
            sets += batch.sets
            cursor = batch.nextCursor
            if !batch.more { return sets }
        }
    }
}

extension Data {
    /// The bytes in lower-case hex, as PostgreSQL prints a `bytea`.
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}

/// One site, driven through the real `interno` executable.
struct SiteCLI: Sendable {
    let home: String
    let user: String

    @discardableResult
    func run(_ arguments: [String]) async throws -> Executable.Result {
        try await Executable("interno").run(arguments + ["--home", home], environment: ["INTERNO_USER": user])
    }

    /// Runs a command that must succeed and returns its stdout.
    @discardableResult
    func ok(_ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let result = try await run(arguments)
        #expect(
            result.status == 0, "interno \(arguments.joined(separator: " ")) failed: \(result.stderr)",
            sourceLocation: sourceLocation)
        return result.stdout
    }

    /// Runs a command with `--json` and decodes its output.
    func json<T: Decodable>(_ type: T.Type, _ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation)
        async throws -> T
    {
        let result = try await run(arguments + ["--json"])
        #expect(
            result.status == 0, "interno \(arguments.joined(separator: " ")) failed: \(result.stderr)",
            sourceLocation: sourceLocation)
        return try JSONDecoder().decode(T.self, from: Data(result.stdout.utf8))
    }

    func sync(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try await ok("sync", sourceLocation: sourceLocation)
    }

    /// The site opened in process, for reading its database directly.
    func site() throws -> Site { try Site(home: SiteHome(path: home), user: user) }

    /// The tests' Laptops standard, proposed by this site (IT's) to `customer` (HR's site, of
    /// department `code`): 4 hours to acknowledge, 2 days to deliver, CSAT 80, compliance 90.
    /// Both sync and the customer signs it: agreed at the customer now, here after both sync.
    func proposeLaptops(to customer: SiteCLI, code: String = "HR") async throws -> StandardView {
        let proposed = try await json(
            StandardView.self, "standard", "propose", "--customer", code, "--service", "Laptops", "--ack", "4h",
            "--deliver", "2d", "--csat", "80", "--compliance", "90")
        try await sync()
        try await customer.sync()
        try await customer.ok("standard", "sign", proposed.ref)
        return proposed
    }

    /// Puts the database copy `backup` in place of the site's database: a site restored from
    /// a backup.
    func restore(from backup: String) throws {
        let database = (home as NSString).appendingPathComponent("replica.sqlite")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
        try FileManager.default.copyItem(atPath: backup, toPath: database)
    }

    /// The bytes of the site's database file and of its WAL, if there is one.
    func databaseBytes() -> Data {
        ["replica.sqlite", "replica.sqlite-wal"].compactMap {
            FileManager.default.contents(atPath: (home as NSString).appendingPathComponent($0))
        }.reduce(Data(), +)
    }

    /// Points the site at another port (a proxy), as if the network path changed.
    func setServerPort(_ port: Int) throws {
        let path = (home as NSString).appendingPathComponent("site.json")
        var settings = try JSONDecoder().decode(
            SiteHome.Settings.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        settings.port = port
        try JSONEncoder().encode(settings).write(to: URL(fileURLWithPath: path))
    }
}

extension Site {
    /// Queues `sets` change sets of `size` new requests each, from this site's department to
    /// the department `code`, straight through the store: keyed `DEPT-SITE-1`, `-2`, … in
    /// order, titled "Request SET.INDEX". A queue of large sets, as the CLI never writes one.
    func queueRequests(sets: Int, of size: Int, to code: String) throws {
        let customer = try #require(UUID(uuidString: settings.departmentID))
        let provider = try store.departmentID(code: code)
        for set in 0..<sets {
            let edits = (0..<size).map { index in
                Edit(
                    .request, UUID(),
                    [
                        "customer": .id(customer), "provider": .id(provider), "title": .text("Request \(set).\(index)"),
                        "priority": .text("normal"), "state": .text("submitted"),
                        "key": .text("\(settings.code)-\(set * size + index + 1)"),
                    ])
            }
            try store.write(edits, author: author)
        }
    }
}
