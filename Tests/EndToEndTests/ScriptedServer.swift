import Foundation
import InternoModel
import InternoWire
import NIOCore
import NIOPosix
import NIOSSL

@testable import InternoServer

/// A listener with this server's TLS and framing whose conversations a test writes frame by
/// frame: a server that behaves as no release of `interno-server` does, to see what a site
/// makes of it. Real TLS with the deployment's certificates, on a free loopback port.
struct ScriptedServer {
    let configuration: ServerConfiguration
    let listener: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>

    var port: Int { listener.channel.localAddress?.port ?? 0 }

    init(_ configuration: ServerConfiguration) async throws {
        self.configuration = configuration
        listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(NIOSSLServerHandler(context: configuration.sslContext))
                    try pipeline.addHandler(ByteToMessageHandler(FrameDecoder()))
                    try pipeline.addHandler(MessageToByteHandler(FrameEncoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// A `Welcome` as this server gives it: its identity, the wire's limits, a site of
    /// department scope whose counters the server holds are `held`.
    func welcome(held: [ClosedRange<UInt64>], serverSequence: Int64 = 0) -> Interno_V1_Frame {
        var welcome = Interno_V1_Welcome()
        welcome.protocolVersion = WireLimits.protocolVersion
        welcome.serverID = configuration.serverID.uuid.wire
        welcome.serverSequence = serverSequence
        welcome.maxFrameBytes = UInt32(WireLimits.maximumFrameBytes)
        welcome.maxPushSets = UInt32(WireLimits.maximumPushSets)
        welcome.maxPullChanges = UInt32(WireLimits.maximumPullChanges)
        welcome.scope = .department
        welcome.heldCounters = held.map(Interno_V1_CounterRange.init)
        var frame = Interno_V1_Frame()
        frame.body = .welcome(welcome)
        return frame
    }

    /// Serves the first connection with `conversation`, then stops listening.
    func serveOne(
        _ conversation:
            @escaping @Sendable (
                inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, NIOAsyncChannelOutboundWriter<ByteBuffer>
            ) async throws -> Void
    ) -> Task<Void, any Error> {
        let listener = self.listener
        return Task {
            try await listener.executeThenClose { connections in
                for try await connection in connections {
                    try await connection.executeThenClose { frames, outbound in
                        var frames = frames.makeAsyncIterator()
                        try await conversation(&frames, outbound)
                    }
                    return
                }
            }
        }
    }
}
