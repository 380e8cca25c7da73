import NIOCore
import NIOTLS

/// A step of the connection that took longer than its limit (``SyncTimeouts``).
enum ConnectionTimeout: Error, Equatable {
    /// The TLS handshake did not complete in time.
    case handshake(Duration)
    /// The answer to a request (`Hello`, `Push`, `Pull`) did not arrive whole in time.
    case answer(to: String, after: Duration)
}

/// Enforces the handshake and per-request limits of a client connection: when one runs out it
/// fails the connection with a ``ConnectionTimeout`` and closes the socket at once.
///
/// It sits first in the pipeline, below TLS, so that its close skips the TLS shutdown: a
/// close_notify to a stopped server would wait for an answer that never comes. The handshake
/// limit runs from the connection being open until ``HandshakeWatcher`` (above TLS) reports
/// completion; the request limit runs between ``arm(_:for:)`` and ``disarm()``, which the
/// conversation calls on the event loop. Either one that runs out ends the connection.
final class ConnectionDeadline: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    private let handshakeLimit: Duration
    private var context: ChannelHandlerContext?
    private var handshake: Scheduled<Void>?
    private var request: Scheduled<Void>?

    init(handshake: Duration) {
        handshakeLimit = handshake
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { startHandshakeClock(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelAll()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        startHandshakeClock(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelAll()
        context.fireChannelInactive()
    }

    /// The handshake completed: its limit no longer applies.
    func handshakeCompleted() {
        handshake?.cancel()
        handshake = nil
    }

    /// Starts the limit of one request and its answer.
    func arm(_ limit: Duration, for request: String) {
        self.request?.cancel()
        guard let context else { return }
        self.request = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(limit)) {
            self.expire(.answer(to: request, after: limit))
        }
    }

    /// The answer arrived.
    func disarm() {
        request?.cancel()
        request = nil
    }

    private func startHandshakeClock(_ context: ChannelHandlerContext) {
        guard handshake == nil else { return }
        let limit = handshakeLimit
        handshake = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(limit)) {
            self.expire(.handshake(limit))
        }
    }

    private func expire(_ timeout: ConnectionTimeout) {
        guard let context else { return }
        cancelAll()
        // The error first, so that it is what the conversation reads, then the socket.
        context.fireErrorCaught(timeout)
        context.close(promise: nil)
    }

    private func cancelAll() {
        handshake?.cancel()
        handshake = nil
        request?.cancel()
        request = nil
    }
}

/// Tells ``ConnectionDeadline`` when the TLS handshake has completed; it sits above TLS, where
/// NIOSSL reports it.
final class HandshakeWatcher: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    private let deadline: ConnectionDeadline

    init(_ deadline: ConnectionDeadline) {
        self.deadline = deadline
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event { deadline.handshakeCompleted() }
        context.fireUserInboundEventTriggered(event)
    }
}
