import Foundation
import InternoModel
import InternoStore
import InternoWire

/// A site's home directory (`--home`, `INTERNO_HOME`, or `~/.interno`).
///
/// ```
/// HOME/site.json        server address, identities, codes
/// HOME/replica.sqlite   the site's replica
/// HOME/ca.pem  HOME/client.pem  HOME/client-key.pem (0600)
/// ```
public struct SiteHome: Sendable {
    /// What `join` fixed for this site.
    public struct Settings: Codable, Equatable, Sendable {
        /// The server's host name or address.
        public var host: String
        /// The server's port.
        public var port: Int
        /// The server's replica id.
        public var serverID: String
        /// This site's replica id.
        public var replicaID: String
        /// The id of this site's department record.
        public var departmentID: String
        /// The department's code.
        public var departmentCode: String
        /// The site's code.
        public var site: String
        /// The replica code, `HR-LIS`.
        public var code: String
    }

    /// The directory.
    public let url: URL

    /// The home at `path`.
    public init(path: String) {
        url = URL(fileURLWithPath: path, isDirectory: true)
    }

    /// The home named by `--home`, else `INTERNO_HOME`, else `~/.interno`.
    public static func resolve(_ option: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> SiteHome
    {
        if let option, !option.isEmpty { return SiteHome(path: option) }
        if let variable = environment["INTERNO_HOME"], !variable.isEmpty { return SiteHome(path: variable) }
        let home = environment["HOME"] ?? FileManager.default.homeDirectoryForCurrentUser.path
        return SiteHome(path: (home as NSString).appendingPathComponent(".interno"))
    }

    func file(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Makes this home a site of the server that issued `bundle`; refuses a home already joined.
    ///
    /// The departments the bundle carries are applied as a pulled batch is, without moving the
    /// cursor (DESIGN §6.2): the site can raise requests and propose standards before it can
    /// reach the server, and its first sync receives them again and finds them already had.
    public func join(_ bundle: EnrollmentBundle) throws -> Settings {
        let fileManager = FileManager.default
        guard !fileManager.fileExists(atPath: file("site.json")),
            !fileManager.fileExists(atPath: file("replica.sqlite"))
        else { throw ClientError.alreadyJoined(url.path) }
        guard let replica = ReplicaID(uuidString: bundle.replicaID),
            let department = UUID(text: bundle.departmentID)
        else { throw ClientError.invalidInput("the bundle's replica or department id is not a UUID") }
        let directory: [ChangeSet]
        do { directory = try bundle.directoryChangeSets() } catch {
            throw ClientError.invalidInput("the bundle is damaged: \(error)")
        }
        try fileManager.createDirectory(at: url, withIntermediateDirectories: true)
        try SecureFile.write(Data(bundle.caCertificate.utf8), to: file("ca.pem"), mode: 0o644)
        try SecureFile.write(Data(bundle.clientCertificate.utf8), to: file("client.pem"), mode: 0o644)
        try SecureFile.write(Data(bundle.clientKey.utf8), to: file("client-key.pem"), mode: 0o600)
        let store = try SiteStore.open(path: file("replica.sqlite"), concurrentReads: false)
        try store.initialize(replica: replica, department: department, code: bundle.code)
        do { try store.applyCarried(directory) } catch {
            // Leave no half-made site behind, so the home can be joined with a sound bundle.
            for suffix in ["", "-wal", "-shm"] { try? fileManager.removeItem(atPath: file("replica.sqlite") + suffix) }
            throw ClientError.invalidInput("the bundle's directory cannot be applied: \(error)")
        }
        let settings = Settings(
            host: bundle.host, port: bundle.port, serverID: bundle.serverID, replicaID: bundle.replicaID,
            departmentID: bundle.departmentID, departmentCode: bundle.departmentCode, site: bundle.site,
            code: bundle.code)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try SecureFile.write(try encoder.encode(settings), to: file("site.json"), mode: 0o644)
        return settings
    }

    /// The settings, or ``ClientError/notJoined(_:)``.
    public func settings() throws -> Settings {
        guard let data = FileManager.default.contents(atPath: file("site.json")) else {
            throw ClientError.notJoined(url.path)
        }
        do { return try JSONDecoder().decode(Settings.self, from: data) } catch {
            throw ClientError.storage("\(file("site.json")) is damaged: \(error)")
        }
    }

    /// The replica database.
    public func store() throws -> SiteStore {
        _ = try settings()
        return try SiteStore.open(path: file("replica.sqlite"), concurrentReads: false)
    }

    /// The PEM texts TLS needs: CA, client certificate, client key.
    func tlsMaterial() throws -> (ca: String, certificate: String, key: String) {
        func read(_ name: String) throws -> String {
            guard let data = FileManager.default.contents(atPath: file(name)) else {
                throw ClientError.identity("\(file(name)) is missing: join again with a new bundle")
            }
            return String(decoding: data, as: UTF8.self)
        }
        return (try read("ca.pem"), try read("client.pem"), try read("client-key.pem"))
    }
}
