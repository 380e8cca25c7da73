import Foundation
import InternoClient
import InternoModel
import InternoWire
import NIOCore
import NIOPosix
import NIOSSL

/// A TLS connection with a site's real certificate that sends whatever bytes a test wants and
/// collects every frame the server sends back until it closes: a misbehaving client.
struct RawConnection {
    let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>

    /// Connects as the site whose home is `home`.
    static func connect(port: Int, home: String) async throws -> RawConnection {
        let file = { (name: String) in (home as NSString).appendingPathComponent(name) }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(file("ca.pem")))
        configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(file("client.pem")).map { .certificate($0) }
        configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: file("client-key.pem"), format: .pem))
        let context = try NIOSSLContext(configuration: configuration)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return RawConnection(channel: channel)
    }

    /// A frame as it travels: length, then the message.
    static func framed(_ frame: Interno_V1_Frame) -> [UInt8] {
        let body = Array(buffer: frame.serializedBuffer())
        return withUnsafeBytes(of: UInt32(body.count).bigEndian, Array.init) + body
    }

    /// Sends `chunks` in order, then reads frames until the server closes, or until `expected`
    /// frames arrived; returns them.
    func exchange(_ chunks: [[UInt8]], expected: Int = .max) async throws -> [Interno_V1_Frame] {
        try await channel.executeThenClose { inbound, outbound in
            for chunk in chunks { try await outbound.write(ByteBuffer(bytes: chunk)) }
            var received = ByteBuffer()
            var frames: [Interno_V1_Frame] = []
            do {
                for try await var buffer in inbound {
                    received.writeBuffer(&buffer)
                    while let length = received.getInteger(at: received.readerIndex, as: UInt32.self),
                        received.readableBytes >= 4 + Int(length)
                    {
                        received.moveReaderIndex(forwardBy: 4)
                        frames.append(try Interno_V1_Frame(body: received.readSlice(length: Int(length))!))
                    }
                    if frames.count >= expected { break }
                }
            } catch is WireError {
                throw WireError.malformed("the server sent a frame that does not decode")
            } catch {
                // The server may close without a TLS close_notify after an error frame.
            }
            return frames
        }
    }

    /// Says Hello as `site`, with its real certificate, then pushes each of `sets` in a `Push`
    /// of its own; returns the server's answer to each set.
    static func push(_ sets: [ChangeSet], as site: SiteCLI, port: Int) async throws -> [Interno_V1_SetResult] {
        var hello = Interno_V1_Hello()
        hello.protocolVersion = WireLimits.protocolVersion
        hello.replicaID = try site.site().store.replica().id.uuid.wire
        hello.schemaVersion = Schema.version
        var frames = [Interno_V1_Frame()]
        frames[0].body = .hello(hello)
        for set in sets {
            var push = Interno_V1_Push()
            push.sets = [Interno_V1_ChangeSet(set)]
            var frame = Interno_V1_Frame()
            frame.body = .push(push)
            frames.append(frame)
        }
        let connection = try await connect(port: port, home: site.home)
        let answers = try await connection.exchange(frames.map(framed), expected: frames.count)
        return answers.compactMap { frame in
            if case .pushResult(let result) = frame.body { return result.results.first }
            return nil
        }
    }
}
