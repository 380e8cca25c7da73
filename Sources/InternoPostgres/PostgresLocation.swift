import Foundation
import NIOSSL
import PostgresNIO

/// Where a central store on PostgreSQL lives, as an operator writes it:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE][&sslrootcert=PATH]`, the
/// two options meaning what they mean to `psql` and every libpq client (DESIGN §4.1).
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    /// How the connection is protected, as libpq's `sslmode`.
    public enum TLSMode: String, Sendable, CaseIterable {
        /// Plain TCP (a database on the same host or a private network).
        case disable
        /// TLS when the database offers it (the default), its certificate checked only if
        /// `sslrootcert` names the CA.
        case prefer
        /// TLS or nothing, its certificate checked only if `sslrootcert` names the CA.
        case require
        /// TLS, the certificate signed by the CA of `sslrootcert`, or without it by one the
        /// system trusts.
        case verifyCA = "verify-ca"
        /// As `verify-ca`, and the certificate names HOST.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// The PEM file of the CA that signs the database's certificate (`sslrootcert`).
    public var rootCertificate: String?

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
        var rootCertificate: String?
        let modes = TLSMode.allCases.map(\.rawValue).joined(separator: ", ")
        for item in components.queryItems ?? [] {
            switch (item.name, item.value) {
            case ("sslmode", let value?) where TLSMode(rawValue: value) != nil:
                tls = TLSMode(rawValue: value)!
            case ("sslrootcert", let path?) where !path.isEmpty:
                guard FileManager.default.isReadableFile(atPath: path) else {
                    throw .invalidLocation(
                        "sslrootcert=\(path): no such file can be read; give the PEM file of the CA that signs the database's certificate"
                    )
                }
                rootCertificate = path
            default:
                throw .invalidLocation(
                    "'\(item.name)=\(item.value ?? "")' in '\(Self.redacted(text))' is not understood; the options are sslmode (\(modes)) and sslrootcert=PATH"
                )
            }
        }
        if tls == .disable, rootCertificate != nil {
            throw .invalidLocation("sslrootcert is given but sslmode=disable turns TLS off: leave one of them out")
        }
        self.host = host
        self.port = port
        self.username = username
        self.password = components.password
        self.database = database
        self.tls = tls
        self.rootCertificate = rootCertificate
    }

    /// The URL without its password, as messages and logs name the database.
    public var description: String { "postgres://\(username)@\(host):\(port)/\(database)" }

    static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "…"
        return components.string ?? text
    }

    /// TLS as libpq does it: `prefer` and `require` encrypt without checking the certificate
    /// (a database's own self-signed one, as Debian's `ssl-cert` makes, is the common case)
    /// unless `sslrootcert` names a CA; `verify-ca` checks it was signed by that CA, or one the
    /// system trusts; `verify-full` also that it names HOST.
    var tlsConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch tls {
        case .disable, .prefer, .require:
            configuration.certificateVerification = rootCertificate == nil ? .none : .noHostnameVerification
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        if let rootCertificate { configuration.trustRoots = .file(rootCertificate) }
        return configuration
    }

    /// The configuration of one connection made directly, not from the pool.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch self.tls {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: tlsConfiguration))
            case .require, .verifyCA, .verifyFull: .require(try NIOSSLContext(configuration: tlsConfiguration))
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
            case .prefer: .prefer(tlsConfiguration)
            case .require, .verifyCA, .verifyFull: .require(tlsConfiguration)
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
