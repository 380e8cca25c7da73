import Foundation
import NIOSSL
import PostgresNIO

/// Where a central store on PostgreSQL lives, as an operator writes it:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]`.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    /// How the connection is protected.
    public enum TLSMode: String, Sendable {
        /// Plain TCP (a database on the same host or a private network).
        case disable
        /// TLS when the database offers it.
        case prefer
        /// TLS or nothing.
        case require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    /// Parses `text`; the error says what is wrong and what a good one looks like.
    public init(url text: String) throws(PostgresStoreError) {
        let example = "postgres://USER@HOST:5432/DATABASE"
        guard let components = URLComponents(string: text),
            let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme)
        else {
            throw .invalidLocation("'\(Self.redacted(text))' is not a PostgreSQL URL; write it as \(example)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw .invalidLocation("'\(Self.redacted(text))' names no host; write it as \(example)")
        }
        guard let username = components.user, !username.isEmpty else {
            throw .invalidLocation("'\(Self.redacted(text))' names no user; write it as \(example)")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw .invalidLocation("'\(Self.redacted(text))' names no database; write it as \(example)")
        }
        let port = components.port ?? 5432
        guard (1...65_535).contains(port) else {
            throw .invalidLocation("port \(port) in '\(Self.redacted(text))' is not 1 to 65535")
        }
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode", let value = item.value, let mode = TLSMode(rawValue: value) else {
                throw .invalidLocation(
                    "'\(item.name)=\(item.value ?? "")' in '\(Self.redacted(text))' is not understood; the only option is sslmode=disable, prefer or require"
                )
            }
            tls = mode
        }
        self.host = host
        self.port = port
        self.username = username
        self.password = components.password
        self.database = database
        self.tls = tls
    }

    /// The URL without its password, as messages and logs name the database.
    public var description: String { "postgres://\(username)@\(host):\(port)/\(database)" }

    static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "…"
        return components.string ?? text
    }

    /// The configuration of one connection made directly, not from the pool.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch self.tls {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }

    var configuration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch self.tls {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }
}

/// What went wrong with a central store on PostgreSQL, said so an operator can act on it.
public enum PostgresStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The `--database` URL cannot be used.
    case invalidLocation(String)
    /// The database cannot be reached or refused a statement.
    case unavailable(String)
    /// The database holds something this release cannot read.
    case corrupt(String)
    /// The database holds no server yet (`interno-server init --database ...` makes one).
    case notInitialized(String)
    /// The database holds a server already.
    case alreadyInitialized(String)

    public var description: String {
        switch self {
        case .invalidLocation(let message): "--database: \(message)"
        case .unavailable(let message): message
        case .corrupt(let message): "the central database is damaged: \(message)"
        case .notInitialized(let location):
            "\(location) holds no Interno server: create one with `interno-server init --database \(location)`"
        case .alreadyInitialized(let location): "\(location) holds an Interno server already"
        }
    }
}
