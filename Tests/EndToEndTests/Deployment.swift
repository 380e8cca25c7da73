import Foundation
import InternoClient
import InternoModel
import InternoServer
import InternoStore
import InternoWire
import Logging
import Testing

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
    let port: Int
    let task: Task<Void, any Error>

    var administration: ServerAdministration { get throws { try ServerAdministration(directory: data) } }

    /// Runs `body` against a fresh deployment and stops the server afterwards, whatever happens.
    static func with<T: Sendable>(logger: Logger? = nil, _ body: (Deployment) async throws -> T) async throws -> T {
        let deployment = try await start(logger: logger)
        do {
            let result = try await body(deployment)
            await deployment.stop()
            return result
        } catch {
            await deployment.stop()
            throw error
        }
    }

    /// Starts the server, logging to `logger` (default: warnings and worse, to stderr).
    static func start(logger: Logger? = nil) async throws -> Deployment {
        let directory = try TemporaryDirectory()
        let data = ServerDirectory(path: directory.path("server"))
        _ = try data.initialize(name: "localhost", port: 7443)
        let administration = try ServerAdministration(directory: data)
        for (code, name) in [("HR", "Human Resources"), ("IT", "Information Technology"), ("FAC", "Facilities")] {
            try administration.addDepartment(code: code, name: name, timeZone: "Europe/Lisbon")
        }
        return try await launch(directory: directory, data: data, logger: logger)
    }

    /// Starts a server on the data directory `data`, as it is.
    static func launch(directory: TemporaryDirectory, data: ServerDirectory, logger: Logger? = nil) async throws
        -> Deployment
    {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var configuration = try ServerConfiguration(directory: data, host: "127.0.0.1", port: 0)
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
            throw ServerError.cannotListen("the test server did not start")
        }
        return Deployment(directory: directory, data: data, port: port, task: task)
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }

    /// Stops the server, puts the database copy `backup` in place of its database, and starts
    /// it again on a new port that `sites` are told: a server restored from a backup.
    func restored(from backup: String, sites: [SiteCLI]) async throws -> Deployment {
        await stop()
        let database = data.url.appendingPathComponent("server.sqlite").path
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
        try FileManager.default.copyItem(atPath: backup, toPath: database)
        let restarted = try await Deployment.launch(directory: directory, data: data)
        for site in sites { try site.setServerPort(restarted.port) }
        return restarted
    }

    /// Enrols a site and joins it with the real binary; the bundle points at the test port.
    func join(_ department: String, _ site: String, user: String, scope: Scope.Kind = .department) async throws
        -> SiteCLI
    {
        var bundle = try administration.enroll(department: department, site: site, scope: scope)
        bundle.port = port
        let bundlePath = directory.path("\(department)-\(site).bundle")
        try SecureFile.write(try bundle.encoded(), to: bundlePath, mode: 0o600)
        let cli = SiteCLI(home: directory.path("site-\(department)-\(site)"), user: user)
        let result = try await cli.run(["join", bundlePath])
        #expect(result.status == 0, "join failed: \(result.stderr)")
        return cli
    }
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
