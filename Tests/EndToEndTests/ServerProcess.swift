import Foundation
import InternoPostgres
import InternoServer
import InternoStore
import InternoTestSupport
import InternoWire
import Testing

/// The real `interno-server` binary serving a data directory on a free loopback port, its log
/// in a file (a pipe nobody drains would block it). Tests stop it with signals; whatever
/// happens, ``stop()`` (also on deinit) resumes and kills it, so no process outlives a test.
final class ServerProcess {
    let process = Process()
    let logPath: String
    private(set) var port = 0

    var pid: pid_t { process.processIdentifier }

    /// What the server has logged so far.
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Starts `interno-server run` on `data`, listening on `listen`, and returns once it listens.
    init(
        data: ServerDirectory, log logPath: String, listen: String = "127.0.0.1:0", environment: [String: String] = [:]
    ) async throws {
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = try Executable("interno-server").url
        process.arguments = ["run", "--data", data.url.path, "--listen", listen, "--log-level", "info"]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Generous: the suite runs CPU-heavy simulations beside this on a 2-core machine. The
        // log is read once more after the deadline: while those simulations hold the
        // cooperative threads this task may wake only after it, with the server long listening.
        let deadline = ContinuousClock.now + .seconds(90)
        while true {
            // The `listening` line's address: an earlier line may name the database's.
            if let line = log.split(separator: "\n").first(where: { $0.contains("listening") }),
                let range = line.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression),
                let port = Int(line[range].split(separator: ":").last!)
            {
                self.port = port
                return
            }
            guard ContinuousClock.now < deadline, process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        stop()
        throw ServerError.cannotListen("interno-server did not start: \(log)")
    }

    /// Waits until `text` occurs in the log after its first `offset` characters; `false` if it
    /// did not within `limit`.
    func waitForLog(_ text: String, after offset: Int, within limit: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while true {
            if log.dropFirst(offset).contains(text) { return true }
            // Read once more after the deadline, for a task that woke late (see `init`).
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Sends `signal` (SIGSTOP, SIGCONT, SIGKILL) to the server.
    func send(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Kills the server, stopped or not, and reaps it.
    func stop() {
        guard process.isRunning else { return }
        kill(pid, SIGCONT)
        kill(pid, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// A server directory with departments HR and IT, its data in `central` (the SQLite file, or
/// a new PostgreSQL database), served by the real binary, and sites that join it with the real
/// `interno`.
struct BinaryDeployment {
    let directory: TemporaryDirectory
    let data: ServerDirectory
    /// The PostgreSQL database's URL, if the server keeps its data there.
    let database: String?

    /// What every `interno-server` command needs to find the data: `INTERNO_DATABASE`, on
    /// PostgreSQL.
    var environment: [String: String] { database.map { ["INTERNO_DATABASE": $0] } ?? [:] }

    init(_ central: Central = .sqlite) async throws {
        try await self.init(database: central == .postgres ? try await TestPostgres.newDatabase() : nil)
    }

    /// A deployment whose server keeps its data in the empty PostgreSQL database at `database`,
    /// or in its SQLite file if `nil`.
    init(database: String?) async throws {
        directory = try TemporaryDirectory()
        let data = ServerDirectory(path: directory.path("server"))
        self.data = data
        self.database = database
        if let database {
            try await PostgresServerStore.with(try PostgresLocation(url: database)) { store in
                _ = try await data.initialize(name: "localhost", port: 7443, postgres: store)
            }
        } else {
            _ = try await data.initialize(name: "localhost", port: 7443)
        }
        try await withCentral { store in
            let administration = ServerAdministration(directory: data, store: store)
            try await administration.addDepartment(code: "HR", name: "Human Resources")
            try await administration.addDepartment(code: "IT", name: "Information Technology")
        }
    }

    /// Runs `body` with the server's store, opened as `interno-server` opens it (which starts
    /// a new epoch of the stream, as a restart does).
    func withCentral<T: Sendable>(_ body: @Sendable (any CentralStore) async throws -> T) async throws -> T {
        try await data.withStore(database: try database.map { try PostgresLocation(url: $0) }, body)
    }

    /// Starts the server binary on this directory; call again after a kill.
    func start() async throws -> ServerProcess {
        try await ServerProcess(
            data: data, log: directory.path("server-\(UUID().uuidString).log"), environment: environment)
    }

    /// Enrols a site and joins it to `server` with the real binary.
    func join(_ department: String, _ site: String, user: String, server: ServerProcess) async throws -> SiteCLI {
        let data = data
        var bundle = try await withCentral { store in
            try await ServerAdministration(directory: data, store: store).enroll(department: department, site: site)
        }
        bundle.port = server.port
        let path = directory.path("\(department)-\(site).bundle")
        try SecureFile.write(try bundle.encoded(), to: path, mode: 0o600)
        let cli = SiteCLI(home: directory.path("site-\(department)-\(site)"), user: user)
        try await cli.ok("join", path)
        return cli
    }

    /// The operator's backup of the server's database to `path`, taken while it may serve:
    /// `interno-server backup`, or `pg_dump -Fc` on PostgreSQL (the README's commands).
    func backup(to path: String) async throws { try await Deployment.backup(data, database, to: path) }

    /// Puts the backup at `path` in place of the server's database, which no server serves:
    /// a copy of the SQLite file, or `pg_restore --clean` on PostgreSQL.
    func restore(from path: String) async throws { try await Deployment.restore(data, database, from: path) }
}
