import Foundation
import InternoWire
import NIOCore
import NIOPosix
import NIOSSL

/// A TLS connection to the server that carries requests and their answers, in order.
struct ServerConnection {
    /// Where to connect.
    let host: String
    let port: Int
    /// The name the server's certificate must carry: the host in the site's bundle, also when
    /// the site connects elsewhere (`interno sync --server`: another instance, a server that
    /// moved).
    var name: String
    let sslContext: NIOSSLContext
    /// How long each step may take.
    var timeouts = SyncTimeouts.standard

    /// `host:port`, as messages name the server (an IPv6 address in brackets).
    var server: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The client's TLS: 1.3 only, the server's CA as the only root, the site's certificate.
    static func context(caPEM: String, certificatePEM: String, keyPEM: String) throws -> NIOSSLContext {
        do {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv13
            configuration.maximumTLSVersion = .tlsv13
            configuration.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(caPEM.utf8), format: .pem)])
            configuration.certificateChain = [
                .certificate(try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem))
            ]
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem))
            configuration.certificateVerification = .fullVerification
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ClientError.identity(
                "this site's certificates cannot be loaded (\(error)): join again with a new bundle")
        }
    }

    /// An open channel and the limits that watch it.
    private typealias Connected = (NIOAsyncChannel<ByteBuffer, ByteBuffer>, NIOLoopBound<ConnectionDeadline>)

    /// Connects and runs `body` with a conversation that sends a frame and returns the answer.
    ///
    /// Every wait has a limit (``SyncTimeouts``): connecting, the TLS handshake, and each
    /// request with its answer. Running into one is `ClientError.unreachable` or
    /// `.connectionLost` (exit 69), never a wait without end.
    func withConversation<Result: Sendable>(_ body: (Conversation) async throws -> Result) async throws -> Result {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        let deadline: NIOLoopBound<ConnectionDeadline>
        do {
            let isAddress = name.contains(":") || name.split(separator: ".").allSatisfy { UInt8($0) != nil }
            let hostname = isAddress ? nil : name
            let sslContext = self.sslContext
            let handshakeLimit = timeouts.handshake
            let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(TimeAmount(timeouts.connect))
            let initialize: @Sendable (Channel) -> EventLoopFuture<Connected> = { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    // First, below TLS: a limit that runs out closes the socket itself.
                    let deadline = ConnectionDeadline(handshake: handshakeLimit)
                    try pipeline.addHandler(deadline)
                    try pipeline.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: hostname))
                    try pipeline.addHandler(HandshakeWatcher(deadline))
                    try pipeline.addHandler(ByteToMessageHandler(FrameDecoder()))
                    try pipeline.addHandler(MessageToByteHandler(FrameEncoder()))
                    return (
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel),
                        NIOLoopBound(deadline, eventLoop: channel.eventLoop)
                    )
                }
            }
            // An address needs no resolver (a thread hop and Happy Eyeballs for one answer it
            // knows); only a name that is not an address is looked up.
            if let address = try? SocketAddress(ipAddress: host, port: port) {
                (channel, deadline) = try await bootstrap.connect(to: address, channelInitializer: initialize)
            } else {
                (channel, deadline) = try await bootstrap.connect(
                    host: host, port: port, channelInitializer: initialize)
            }
        } catch ChannelError.connectTimeout(_) {
            throw ClientError.unreachable(
                "could not connect to the server at \(server) within \(timeouts.connect.shownInSeconds): check that interno-server runs there and that the network is up; everything applied so far is kept and your changes go with the next sync"
            )
        } catch {
            throw ClientError.unreachable(
                "cannot reach the server at \(server) (\(error)): check that interno-server runs there and that the network is up; your changes are kept and go with the next sync"
            )
        }
        return try await channel.executeThenClose { inbound, outbound in
            try await body(
                Conversation(
                    server: server, requestLimit: timeouts.request, deadline: deadline,
                    frames: inbound.makeAsyncIterator(), outbound: outbound))
        }
    }

    /// Requests and their answers, in order, over an open connection: one request at a time,
    /// or the next sent while the site still works on the last answer
    /// (``exchange(_:meanwhile:)``). Used by one task only.
    final class Conversation {
        /// `host:port`, as messages name the server.
        let server: String
        private let requestLimit: Duration
        private let deadline: NIOLoopBound<ConnectionDeadline>
        private var frames: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
        /// Why an exchange failed, once one has: a request may then be left unanswered or an
        /// answer unread (a site that sends ahead, ``exchange(_:meanwhile:)``), so no later
        /// answer could be told apart from it, and every later exchange fails at once.
        private var failed: String?
        /// The names of the requests sent and not yet answered, oldest first.
        private var awaiting: [String] = []

        init(
            server: String, requestLimit: Duration, deadline: NIOLoopBound<ConnectionDeadline>,
            frames: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
            outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
        ) {
            self.server = server
            self.requestLimit = requestLimit
            self.deadline = deadline
            self.frames = frames
            self.outbound = outbound
        }

        /// Sends `request` and returns the server's answer; an `Error` frame is thrown as a client error.
        ///
        /// The write and the wait for the answer each have the request limit: a server that
        /// stops reading or answering is given up on, not waited for.
        /// A request that servers older than this client do not know passes `olderServer`: what
        /// to say when the server answers it `MALFORMED_FRAME`, as an older one does (an unknown
        /// message is a frame with no message, Protocol/README.md, 9).
        func exchange(_ request: Interno_V1_Frame, olderServer: String? = nil) async throws -> Interno_V1_Frame {
            try await send(Outgoing(request))
            return try await guarded { try await read(olderServer: olderServer) }
        }

        /// A request in its bytes, serialized before its turn: a site that prepares its next
        /// request while the server works on the last one (``exchange(_:meanwhile:)``) does
        /// the encoding then too.
        struct Outgoing {
            let bytes: ByteBuffer
            /// The message's name, for the request limit's error.
            let name: String

            init(_ frame: Interno_V1_Frame) {
                bytes = frame.serializedBuffer()
                name = frame.messageName
            }
        }

        /// Sends `request`, runs `meanwhile` while the server works on it, then returns the
        /// server's answer and what `meanwhile` returned: the site's own work that does not
        /// need this answer (applying the last pulled batch once the next `Pull` is out;
        /// recording the last `PushResult` and preparing and sending the next `Push`), done
        /// while the server reads, judges or sends instead of after.
        func exchange<Value>(
            _ request: Outgoing, meanwhile: () async throws -> Value
        ) async throws -> (answer: Interno_V1_Frame, meanwhile: Value) {
            try await send(request)
            return try await answer(meanwhile: meanwhile)
        }

        /// Sends `request` without waiting for its answer, which ``answer(meanwhile:)`` reads
        /// in turn: the answers come in the order of the requests (Protocol §5.3). The write
        /// has the request limit.
        func send(_ request: Outgoing) async throws {
            try await guarded {
                let deadline = self.deadline
                let (limit, name) = (requestLimit, request.name)
                deadline.eventLoop.execute { deadline.value.arm(limit, for: name) }
                defer { deadline.eventLoop.execute { deadline.value.disarm() } }
                try await translatingErrors {
                    do {
                        try await outbound.write(request.bytes)
                    } catch {
                        // A connection closed under the write (by a failed TLS handshake, a
                        // limit that ran out, or a server that answered an earlier request
                        // with an error and closed) leaves its reason on the inbound side.
                        if let reason = await closingReason() { throw reason }
                        throw error
                    }
                }
                awaiting.append(request.name)
            }
        }

        /// Runs `meanwhile`, then returns the answer to the oldest request sent and not yet
        /// answered, with what `meanwhile` returned. The request limit covers the wait for the
        /// answer once `meanwhile` is done; not `meanwhile` itself, which is this site's own
        /// work. An error `meanwhile` throws is thrown as it is, and the answer, if it came, is
        /// not read.
        func answer<Value>(
            meanwhile: () async throws -> Value
        ) async throws -> (answer: Interno_V1_Frame, meanwhile: Value) {
            try await guarded {
                let value = try await meanwhile()
                return (try await read(olderServer: nil), value)
            }
        }

        /// Runs `body`, failed at once on a connection where an exchange failed before; a
        /// failure of `body` fails the connection.
        private func guarded<Value>(_ body: () async throws -> Value) async throws -> Value {
            if let failed {
                throw ClientError.connectionLost(
                    "an earlier request on this connection to \(server) failed (\(failed)), so its answers can no longer be matched to requests: open a new connection (`interno sync` does); everything applied so far is kept"
                )
            }
            do {
                return try await body()
            } catch {
                failed = failed ?? "\(error)"
                throw error
            }
        }

        /// Reads the answer to the oldest request awaiting one, under the request limit.
        private func read(olderServer: String?) async throws -> Interno_V1_Frame {
            guard !awaiting.isEmpty else { preconditionFailure("an answer read with no request awaiting one") }
            let deadline = self.deadline
            let (limit, name) = (requestLimit, awaiting.removeFirst())
            deadline.eventLoop.execute { deadline.value.arm(limit, for: name) }
            defer { deadline.eventLoop.execute { deadline.value.disarm() } }
            return try await translatingErrors {
                guard let buffer = try await frames.next() else {
                    throw ClientError.connectionLost(
                        "the server at \(server) closed the connection; everything applied so far is kept: run `interno sync` again"
                    )
                }
                let answer = try Interno_V1_Frame(body: buffer)
                if case .error(let error) = answer.body {
                    if let olderServer, error.code == WireError.Code.malformedFrame.rawValue {
                        throw ClientError.protocolError("\(olderServer) (it answered: \(error.message))")
                    }
                    throw ServerConnection.translate(error)
                }
                return answer
            }
        }

        /// Runs `body`, a step of an exchange, and gives what it throws as the client's error.
        private func translatingErrors<Value>(_ body: () async throws -> Value) async throws -> Value {
            do {
                return try await body()
            } catch let error as ClientError {
                throw error
            } catch let error as WireError {
                throw ClientError.protocolError(
                    "the server at \(server) sent something this client cannot read: \(error)")
            } catch {
                throw ServerConnection.translate(error, server: server)
            }
        }

        /// The error that closed the connection, read from the inbound side; `nil` if it ended
        /// without one.
        private func closingReason() async -> (any Error)? {
            do {
                // Answers still in flight are passed over (what they answered stays queued,
                // to be sent again); an `Error` frame is the server's own reason.
                while let buffer = try await frames.next() {
                    if case .error(let error) = try? Interno_V1_Frame(body: buffer).body {
                        return ServerConnection.translate(error)
                    }
                }
                return nil
            } catch {
                return error
            }
        }
    }

    static func translate(_ error: Interno_V1_Error) -> ClientError {
        let message = "the server refused: \(error.message)"
        switch WireError.Code(rawValue: error.code) {
        case .unknownReplica, .revoked, .identityMismatch: return .identity(message)
        case .internalError, .shuttingDown: return .serverUnavailable(message)
        default: return .protocolError(message)
        }
    }
}
