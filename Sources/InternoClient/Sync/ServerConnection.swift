import Foundation
import InternoWire
import NIOCore
import NIOPosix
import NIOSSL

/// A TLS connection to the server that carries one request and its answer at a time.
struct ServerConnection {
    let host: String
    let port: Int
    let sslContext: NIOSSLContext

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

    /// Connects and runs `body` with a conversation that sends a frame and returns the answer.
    func withConversation<Result: Sendable>(_ body: (Conversation) async throws -> Result) async throws -> Result {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            let isAddress = host.contains(":") || host.split(separator: ".").allSatisfy { UInt8($0) != nil }
            let hostname = isAddress ? nil : host
            let sslContext = self.sslContext
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: hostname))
                        try pipeline.addHandler(ByteToMessageHandler(FrameDecoder()))
                        try pipeline.addHandler(MessageToByteHandler(FrameEncoder()))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw ClientError.unreachable(
                "cannot reach the server at \(host):\(port) (\(error)): check that interno-server runs there and that the network is up; your changes are kept and go with the next sync"
            )
        }
        return try await channel.executeThenClose { inbound, outbound in
            try await body(Conversation(frames: inbound.makeAsyncIterator(), outbound: outbound))
        }
    }

    /// One request and its answer at a time, over an open connection. Used by one task only.
    final class Conversation {
        private var frames: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

        init(
            frames: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
            outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
        ) {
            self.frames = frames
            self.outbound = outbound
        }

        /// Sends `request` and returns the server's answer; an `Error` frame is thrown as a client error.
        func exchange(_ request: Interno_V1_Frame) async throws -> Interno_V1_Frame {
            do {
                do {
                    try await outbound.write(request.serializedBuffer())
                } catch {
                    // A connection closed under the write (by a failed TLS handshake, say)
                    // leaves its reason on the inbound side: report that, not the write.
                    if let reason = await closingReason() { throw reason }
                    throw error
                }
                guard let buffer = try await frames.next() else {
                    throw ClientError.connectionLost(
                        "the server closed the connection; everything applied so far is kept: run `interno sync` again")
                }
                let answer = try Interno_V1_Frame(body: buffer)
                if case .error(let error) = answer.body { throw ServerConnection.translate(error) }
                return answer
            } catch let error as ClientError {
                throw error
            } catch let error as NIOSSLError {
                throw ServerConnection.translate(error)
            } catch let error as BoringSSLError {
                // TLS 1.3: the server's verdict on our certificate arrives as an alert after
                // the handshake, on the first read.
                throw ServerConnection.translate(error)
            } catch let error as WireError {
                throw ClientError.protocolError("the server sent something this client cannot read: \(error)")
            } catch {
                throw ClientError.connectionLost(
                    "the connection to the server broke (\(error)); everything applied so far is kept: run `interno sync` again"
                )
            }
        }

        /// The error that closed the connection, read from the inbound side; `nil` if it ended
        /// without one.
        private func closingReason() async -> (any Error)? {
            do {
                _ = try await frames.next()
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

    static func translate(_ error: any Error) -> ClientError {
        .identity(
            "the secure connection failed (\(error)): either the server did not accept this site's certificate (revoked or from another server), or the server's certificate is not from the CA in your bundle"
        )
    }
}
