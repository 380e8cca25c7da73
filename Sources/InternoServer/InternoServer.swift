import InternoWire
import Logging
import NIOCore
import NIOExtras
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The central server: a TLS listener whose sessions sync sites with the merged state.
///
/// A swift-service-lifecycle `Service`: run it in a `ServiceGroup` that shuts it down
/// gracefully on SIGTERM and SIGINT. On shutdown it stops accepting, closes idle sessions, and
/// lets requests in flight finish.
public struct InternoServer: Service {
    /// The configuration.
    public let configuration: ServerConfiguration
    private let logger: Logger

    /// A server with `configuration`, logging to `logger`.
    public init(configuration: ServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Binds, serves until shut down or cancelled, then returns.
    public func run() async throws {
        let configuration = self.configuration
        let listener: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
        do {
            listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 256)
                .bind(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(NIOSSLServerHandler(context: configuration.sslContext))
                        // A peer that says nothing for five minutes is dropped.
                        try pipeline.addHandler(IdleStateHandler(readTimeout: .minutes(5)))
                        try pipeline.addHandler(IdleConnectionCloser())
                        try pipeline.addHandler(
                            ByteToMessageHandler(FrameDecoder(maximumFrameBytes: configuration.maximumFrameBytes)))
                        try pipeline.addHandler(MessageToByteHandler(FrameEncoder()))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw ServerError.cannotListen(
                "cannot listen on \(configuration.host):\(configuration.port): \(error); is another server running there?"
            )
        }
        if let address = listener.channel.localAddress {
            logger.info("listening", metadata: ["address": "\(address)"])
            configuration.onListening(address)
        }
        try await withGracefulShutdownHandler {
            // One child task per connection; a session's failure ends only that task.
            try await withThrowingDiscardingTaskGroup { group in
                try await listener.executeThenClose { connections in
                    for try await connection in connections {
                        var logger = self.logger
                        logger[metadataKey: "peer"] = "\(connection.channel.remoteAddress?.description ?? "?")"
                        group.addTask {
                            await SyncSession(connection: connection, configuration: configuration, logger: logger)
                                .run()
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            listener.channel.close(promise: nil)
        }
        logger.info("stopped")
    }
}

/// Closes a connection when `IdleStateHandler` reports that nothing was read for too long.
final class IdleConnectionCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
