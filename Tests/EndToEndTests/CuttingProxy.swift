import NIOCore
import NIOPosix

/// A TCP proxy on 127.0.0.1 that forwards bytes to a target and cuts the connection after a
/// given number of bytes in one direction: a network that breaks at any byte, TLS included.
struct CuttingProxy: Sendable {
    enum Direction: Sendable {
        /// Bytes from the site to the server (a push being sent).
        case toServer
        /// Bytes from the server to the site (a pull being received).
        case toClient
    }

    let port: Int
    private let listener: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
    private let task: Task<Void, any Error>

    /// Starts a proxy to `127.0.0.1:target` that cuts after `cutAfter` bytes going `direction`.
    static func start(target: Int, cutAfter: Int, direction: Direction) async throws -> CuttingProxy {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let task = Task {
            try await withThrowingDiscardingTaskGroup { group in
                try await listener.executeThenClose { connections in
                    for try await client in connections {
                        group.addTask {
                            try? await relay(client, target: target, cutAfter: cutAfter, direction: direction)
                        }
                    }
                }
            }
        }
        return CuttingProxy(port: listener.channel.localAddress!.port!, listener: listener, task: task)
    }

    private static func relay(
        _ client: NIOAsyncChannel<ByteBuffer, ByteBuffer>, target: Int, cutAfter: Int, direction: Direction
    ) async throws {
        let server = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: target) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await client.executeThenClose { clientIn, clientOut in
            try await server.executeThenClose { serverIn, serverOut in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await pump(clientIn, serverOut, budget: direction == .toServer ? cutAfter : .max)
                    }
                    group.addTask {
                        try await pump(serverIn, clientOut, budget: direction == .toClient ? cutAfter : .max)
                    }
                    // The first direction to end (cut, or closed) ends the whole connection.
                    _ = try await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    private static func pump(
        _ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        budget: Int
    ) async throws {
        var left = budget
        for try await var buffer in inbound {
            if buffer.readableBytes >= left {
                if left > 0 { try await outbound.write(buffer.readSlice(length: left)!) }
                return
            }
            left -= buffer.readableBytes
            try await outbound.write(buffer)
        }
    }

    func stop() async {
        try? await listener.channel.close()
        task.cancel()
        _ = await task.result
    }
}
