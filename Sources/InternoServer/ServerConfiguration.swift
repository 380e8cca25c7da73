import InternoModel
import InternoStore
import InternoWire
import NIOCore
import NIOSSL

/// What a running server needs: where to listen, its database, its TLS identity, its limits.
public struct ServerConfiguration: Sendable {
    /// The address to bind, e.g. `0.0.0.0` or `127.0.0.1`.
    public var host: String
    /// The port to bind; 0 picks a free one (tests read it back from `onListening`).
    public var port: Int
    /// The merged state.
    public var store: any CentralStore
    /// The server's replica id.
    public var serverID: ReplicaID
    /// TLS 1.3 with client certificates from the server's CA.
    var sslContext: NIOSSLContext
    /// The largest frame body accepted.
    public var maximumFrameBytes = WireLimits.maximumFrameBytes
    /// Called once the listener is bound, with its real address.
    public var onListening: @Sendable (SocketAddress) -> Void = { _ in }

    /// The configuration of the server in `directory` with its data in the directory's SQLite
    /// file, listening on `host:port` (default: the port fixed at `init`, all interfaces).
    public init(directory: ServerDirectory, host: String = "0.0.0.0", port: Int? = nil) throws {
        try self.init(directory: directory, store: SQLiteCentralStore(try directory.store()), host: host, port: port)
    }

    /// The configuration of the server in `directory` with its data in `store` (DESIGN §4.1).
    public init(directory: ServerDirectory, store: any CentralStore, host: String = "0.0.0.0", port: Int? = nil)
        throws
    {
        let settings = try directory.settings()
        let material = try directory.tlsMaterial()
        self.host = host
        self.port = port ?? settings.port
        self.store = store
        guard let id = ReplicaID(uuidString: settings.serverID) else {
            throw ServerError.invalidArgument("server.json has an invalid server id")
        }
        self.serverID = id
        self.sslContext = try TLSSetup.serverContext(
            certificatePEM: material.certificate, keyPEM: material.key, caPEM: material.ca)
    }
}
