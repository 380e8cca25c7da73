import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL server the tests use: `INTERNO_TEST_POSTGRES`, a URL that `Tools/test`
/// sets after starting a throwaway server (`Tools/postgres`). Each test gets a database of
/// its own, made empty from the server's template.
public enum TestPostgres {
    /// The server's URL, if the tests were given one.
    public static let serverURL = ProcessInfo.processInfo.environment["INTERNO_TEST_POSTGRES"]

    /// `true` if the PostgreSQL tests can run. Without a server they are skipped with this
    /// message, unless `INTERNO_REQUIRE_POSTGRES` is set (`Tools/test` sets it, and so CI),
    /// in which case they run and fail: never silently skipped there.
    public static var isAvailable: Bool {
        serverURL != nil || ProcessInfo.processInfo.environment["INTERNO_REQUIRE_POSTGRES"] != nil
    }

    /// Why the PostgreSQL tests did not run.
    public static let howToRun =
        "PostgreSQL tests need a server: run the suite with Tools/test (it starts a throwaway one), or set INTERNO_TEST_POSTGRES=postgres://USER@HOST:PORT/DB"

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
