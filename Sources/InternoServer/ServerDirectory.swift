import Foundation
import InternoModel
import InternoPostgres
import InternoStore

/// What `interno-server init` writes into its data directory, and how the other commands find it.
///
/// ```
/// DIR/server.json      name, port, server replica id, where the merged state is
/// DIR/server.sqlite    the merged state (with -wal and -shm beside it), unless it is on
///                      PostgreSQL (`--database`)
/// DIR/ca.pem           the CA certificate          DIR/ca-key.pem       its key (0600)
/// DIR/server.pem       the server certificate      DIR/server-key.pem   its key (0600)
/// ```
public struct ServerDirectory: Sendable {
    /// The settings `init` fixed.
    public struct Settings: Codable, Equatable, Sendable {
        /// The host name or address sites connect to.
        public var name: String
        /// The port sites connect to, and the default listening port.
        public var port: Int
        /// The server's replica id.
        public var serverID: String
        /// `postgres` when the merged state is on PostgreSQL (its URL, which may hold a
        /// password, is given to each command, never written here); absent for the SQLite file.
        public var database: String?

        /// `true` if the merged state is on PostgreSQL.
        public var usesPostgres: Bool { database == "postgres" }
    }

    /// The directory.
    public let url: URL

    /// The directory at `path`.
    public init(path: String) {
        url = URL(fileURLWithPath: path, isDirectory: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// The database file.
    public var databasePath: String { file("server.sqlite").path }

    /// Creates a server: a CA, a certificate for `name`, the database with the server's identity
    /// (the SQLite file here, or `postgres`, which must hold no server yet). Refuses to touch a
    /// directory that already holds a server.
    public func initialize(name: String, port: Int, postgres: PostgresServerStore? = nil) async throws -> Settings {
        let fileManager = FileManager.default
        guard !fileManager.fileExists(atPath: file("server.json").path),
            !fileManager.fileExists(atPath: databasePath)
        else {
            throw ServerError.alreadyInitialized(url.path)
        }
        guard (1...65_535).contains(port) else { throw ServerError.invalidArgument("port \(port) is not 1 to 65535") }
        guard !name.isEmpty, !name.contains(where: \.isWhitespace) else {
            throw ServerError.invalidArgument("'\(name)' is not a host name or address")
        }
        try fileManager.createDirectory(at: url, withIntermediateDirectories: true)
        let authority = try CertificateAuthority.create(name: name)
        let server = try authority.issueServerCertificate(host: name)
        try write(try authority.certificate.serializeAsPEM().pemString, to: "ca.pem", secret: false)
        try write(authority.privateKeyPEM, to: "ca-key.pem", secret: true)
        try write(try server.certificatePEM(), to: "server.pem", secret: false)
        try write(server.privateKeyPEM, to: "server-key.pem", secret: true)
        let id = ReplicaID.random()
        if let postgres {
            try await postgres.initialize(replica: id)
        } else {
            let store = try ServerStore.open(path: databasePath)
            try store.initialize(replica: id)
        }
        let settings = Settings(
            name: name, port: port, serverID: id.description, database: postgres == nil ? nil : "postgres")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try write(String(decoding: try encoder.encode(settings), as: UTF8.self), to: "server.json", secret: false)
        return settings
    }

    /// The settings, or an error saying to run `init`.
    public func settings() throws -> Settings {
        guard let data = FileManager.default.contents(atPath: file("server.json").path) else {
            throw ServerError.notInitialized(url.path)
        }
        do {
            return try JSONDecoder().decode(Settings.self, from: data)
        } catch {
            throw ServerError.invalidArgument("\(file("server.json").path) is damaged: \(error)")
        }
    }

    /// The database, opened, in a new epoch of the stream: whatever this process logs is told
    /// apart from what a restored copy of the database once logged (DESIGN §3.9).
    public func store() throws -> ServerStore {
        let settings = try settings()
        guard !settings.usesPostgres else { throw ServerError.invalidArgument(Self.needsDatabase) }
        let store = try ServerStore.open(path: databasePath)
        try store.beginEpoch()
        return store
    }

    static let needsDatabase =
        "this server keeps its data in PostgreSQL: give --database postgres://USER@HOST:PORT/DB or set INTERNO_DATABASE"

    /// Runs `body` with the central store: on PostgreSQL at `database` (migrated, connected for
    /// as long as `body` runs) or the SQLite file here, as `init` chose; in a new epoch of the
    /// stream either way. A URL given to a server whose data is in its SQLite file, or none to
    /// one on PostgreSQL, is an error that says so; so is a database that holds another server.
    public func withStore<T: Sendable>(
        database: PostgresLocation?, _ body: @Sendable (any CentralStore) async throws -> T
    ) async throws -> T {
        let settings = try settings()
        guard settings.usesPostgres else {
            guard database == nil else {
                throw ServerError.invalidArgument(
                    "this server keeps its data in \(databasePath), not PostgreSQL: leave out --database and INTERNO_DATABASE"
                )
            }
            return try await body(SQLiteCentralStore(try store()))
        }
        guard let database else { throw ServerError.invalidArgument(Self.needsDatabase) }
        return try await PostgresServerStore.with(database) { store in
            let id = try await store.serverID()
            guard id.description == settings.serverID else {
                throw ServerError.invalidArgument(
                    "\(database) holds server \(id), but \(url.path) is server \(settings.serverID): check --database")
            }
            try await store.beginEpoch()
            return try await body(store)
        }
    }

    /// Copies this server's SQLite store into `postgres`, which must hold no server yet, and
    /// from then on keeps its data there (`server.json` says so; `server.sqlite` is left as it
    /// was, for the operator to keep or delete). The server must be stopped: the copy fails,
    /// keeping nothing, if its log moves meanwhile (DESIGN §4.1).
    public func migrate(to postgres: PostgresServerStore) async throws -> PostgresServerStore.ImportSummary {
        var settings = try settings()
        guard !settings.usesPostgres else {
            throw ServerError.invalidArgument("this server keeps its data in PostgreSQL already")
        }
        // Opened without starting an epoch: the copy must not change the file it copies.
        let source = try ServerStore.open(path: databasePath)
        let summary = try await postgres.importServer(from: source)
        settings.database = "postgres"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let path = file("server.json").path
        try SecureFile.write(try encoder.encode(settings), to: path + ".new", mode: 0o644)
        guard rename(path + ".new", path) == 0 else {
            throw ServerError.io("cannot replace \(path): \(String(cString: strerror(errno)))")
        }
        return summary
    }

    /// The certificate authority, loaded.
    public func authority() throws -> CertificateAuthority {
        try CertificateAuthority(certificatePEM: try read("ca.pem"), privateKeyPEM: try read("ca-key.pem"))
    }

    /// The PEM texts the listener needs: server certificate, its key, the CA.
    func tlsMaterial() throws -> (certificate: String, key: String, ca: String) {
        (try read("server.pem"), try read("server-key.pem"), try read("ca.pem"))
    }

    func read(_ name: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: file(name).path) else {
            throw ServerError.notInitialized(url.path)
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Writes `text`; a secret is created with mode 0600 before any byte is written.
    func write(_ text: String, to name: String, secret: Bool) throws {
        try SecureFile.write(Data(text.utf8), to: file(name).path, mode: secret ? 0o600 : 0o644)
    }
}
