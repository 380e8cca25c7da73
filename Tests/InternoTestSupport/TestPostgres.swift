import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL server the tests use: `INTERNO_TEST_POSTGRES`, a URL that `eval "$(Tools/postgres start)"`
/// sets after starting a throwaway server (`.ci/run` does so). Each test gets a database of
/// its own, made empty from the server's template.
public enum TestPostgres {
    /// The server's URL, if the tests were given one.
    public static let serverURL = ProcessInfo.processInfo.environment["INTERNO_TEST_POSTGRES"]

    /// The PEM file of the CA that signs the test server's certificate
    /// (`INTERNO_TEST_POSTGRES_CA`, which `Tools/postgres start` sets).
    public static let certificateAuthority = ProcessInfo.processInfo.environment["INTERNO_TEST_POSTGRES_CA"]

    /// `true` if the PostgreSQL tests can run. Without a server they are skipped with this
    /// message, unless `INTERNO_REQUIRE_POSTGRES` is set (`.ci/run` sets it),
    /// in which case they run and fail: never silently skipped there.
    public static var isAvailable: Bool {
        serverURL != nil || ProcessInfo.processInfo.environment["INTERNO_REQUIRE_POSTGRES"] != nil
    }

    /// Why the PostgreSQL tests did not run.
    public static let howToRun =
        "PostgreSQL tests need a server: run eval \"$(Tools/postgres start)\" first (it starts a throwaway one and sets INTERNO_TEST_POSTGRES), or set INTERNO_TEST_POSTGRES=postgres://USER@HOST:PORT/DB"

    /// A new, empty database on the test server; its URL.
    public static func newDatabase() async throws -> String {
        guard let serverURL, var components = URLComponents(string: serverURL) else {
            throw TestPostgresError(message: howToRun)
        }
        let name = "interno_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        let configuration = PostgresConnection.Configuration(
            host: components.host ?? "127.0.0.1", port: components.port ?? 5432,
            username: components.user ?? "postgres",
            password: components.password, database: String(components.path.drop { $0 == "/" }), tls: .disable)
        let connection = try await PostgresConnection.connect(
            configuration: configuration, id: 1, logger: Logger(label: "interno.tests"))
        do {
            try await connection.query(
                PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Logger(label: "interno.tests"))
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
        components.path = "/\(name)"
        return components.string!
    }
}

/// The PostgreSQL tests could not reach their server.
public struct TestPostgresError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// A PostgreSQL server of a test's own (`Tools/postgres`), for a test that stops and starts
/// it: the shared test server must stay up for every other test.
public final class OwnPostgres: Sendable {
    /// Its URL, to the `postgres` database.
    public let url: String
    let directory: String

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Tools/postgres").path

    /// Starts one.
    public init() async throws {
        let output = try await Self.run(["start"])
        var values: [String: String] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("export ") {
            let pair = line.dropFirst("export ".count).split(separator: "=", maxSplits: 1)
            if pair.count == 2 { values[String(pair[0])] = String(pair[1]) }
        }
        guard let url = values["INTERNO_TEST_POSTGRES"], let directory = values["INTERNO_TEST_POSTGRES_DIR"] else {
            throw TestPostgresError(message: "Tools/postgres start printed no server: \(output)")
        }
        self.url = url
        self.directory = directory
    }

    /// Stops the server, keeping its data: the database goes down.
    public func pause() async throws { _ = try await Self.run(["pause", directory]) }

    /// Starts it again, on the same port.
    public func resume() async throws { _ = try await Self.run(["resume", directory]) }

    /// Freezes the server's processes: it stops answering, its connections left open.
    public func freeze() async throws { _ = try await Self.run(["freeze", directory]) }

    /// Lets a frozen server go on.
    public func thaw() async throws { _ = try await Self.run(["thaw", directory]) }

    /// Stops the server and deletes its data.
    public func stop() async throws { _ = try await Self.run(["stop", directory]) }

    /// Runs the script on a thread of its own (waiting for a process must not hold one of the
    /// cooperative threads) and returns what it printed.
    @discardableResult
    static func run(_ arguments: [String]) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try runBlocking(arguments) }) }.start()
        }
    }

    /// Runs the script. Its output goes through files, not pipes: the database server it
    /// starts lives on and would hold a pipe open.
    static func runBlocking(_ arguments: [String]) throws -> String {
        let folder = FileManager.default.temporaryDirectory
        let outPath = folder.appendingPathComponent("interno-postgres-\(UUID().uuidString).out")
        let errPath = folder.appendingPathComponent("interno-postgres-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: outPath.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outPath)
            try? FileManager.default.removeItem(at: errPath)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script] + arguments
        process.standardOutput = try FileHandle(forWritingTo: outPath)
        process.standardError = try FileHandle(forWritingTo: errPath)
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: (try? Data(contentsOf: outPath)) ?? Data(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            let errors = String(decoding: (try? Data(contentsOf: errPath)) ?? Data(), as: UTF8.self)
            throw TestPostgresError(message: "Tools/postgres \(arguments.joined(separator: " ")) failed: \(errors)")
        }
        return output
    }
}
