import Foundation
import InternoModel
import InternoStore

/// What `interno-server init` writes into its data directory, and how the other commands find it.
///
/// ```
/// DIR/server.json      name, port, server replica id
/// DIR/server.sqlite    the merged state (with -wal and -shm beside it)
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

    /// Creates a server: a CA, a certificate for `name`, the database with the server's identity.
    /// Refuses to touch a directory that already holds a server.
    public func initialize(name: String, port: Int) throws -> Settings {
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
        let store = try ServerStore.open(path: databasePath)
        try store.initialize(replica: id)
        let settings = Settings(name: name, port: port, serverID: id.description)
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
        _ = try settings()
        let store = try ServerStore.open(path: databasePath)
        try store.beginEpoch()
        return store
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
