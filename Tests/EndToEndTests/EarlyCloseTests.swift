import Foundation
import InternoModel
import InternoWire
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Testing

/// Sites hang up early all the time (interrupted, offline, killed): the server logs it quietly,
/// writes nothing to the closed connection, and keeps serving.
@Suite("Sites that close early", .serialized)
struct EarlyCloseTests {
    /// How a site hangs up.
    enum HangUp: CaseIterable {
        /// A clean TLS close: close_notify, then FIN.
        case closeNotify
        /// The socket closed under TLS: FIN without close_notify (an unclean TLS shutdown).
        case fin
        /// The socket reset: RST (SO_LINGER 0).
        case reset
    }

    /// Connects with the site's real certificate, sends its Hello and hangs up at once.
    func helloAndHangUp(_ site: SiteCLI, port: Int, _ hangUp: HangUp) async throws {
        var hello = Interno_V1_Hello()
        hello.protocolVersion = WireLimits.protocolVersion
        hello.replicaID = UUID(uuidString: try site.site().settings.replicaID)!.wire
        hello.schemaVersion = Schema.version
        var frame = Interno_V1_Frame()
        frame.body = .hello(hello)
        let connection = try await RawConnection.connect(port: port, home: site.home)
        let channel = connection.channel.channel
        try await connection.channel.executeThenClose { _, _ in
            // Written straight to the channel, to know when it has left: after the handshake.
            try await channel.writeAndFlush(ByteBuffer(bytes: RawConnection.framed(frame))).get()
            switch hangUp {
            case .closeNotify:
                return  // executeThenClose closes through TLS
            case .fin, .reset:
                if hangUp == .reset {
                    let socket = try #require(channel as? any SocketOptionProvider)
                    try await socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
                }
                // Closing below TLS skips its close_notify.
                try await channel.eventLoop.submit {
                    try channel.pipeline.syncOperations.context(handlerType: NIOSSLClientHandler.self)
                        .close(promise: nil)
                }.get()
            }
        }
    }

    @Test(arguments: Central.all)
    func sitesThatHangUpAfterHelloAreNotErrorsAndTheServerKeepsServing(central: Central) async throws {
        let lines = CapturingLogHandler.Lines()
        var logger = Logger(label: "e2e-server") { _ in CapturingLogHandler(lines) }
        logger.logLevel = .debug
        try await Deployment.with(central, logger: logger) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            for _ in 0..<20 {
                for hangUp in HangUp.allCases { try await helloAndHangUp(hr, port: deployment.port, hangUp) }
            }
            // A normal sync still works.
            try await hr.ok("request", "new", "--to", "IT", "--title", "After 60 hang-ups")
            try await hr.sync()
            #expect(try await deployment.store.requestKeys().count == 1)
        }
        // The server has stopped, so every session has ended and logged what it had to.
        let errors = lines.all.filter { $0.level >= .error }
        #expect(errors.isEmpty, "logged at error level: \(errors.map { "\($0.message) \($0.metadata)" })")
        let quiet = lines.all.filter { $0.message == "the site closed the connection" }
        #expect(!quiet.isEmpty, "no early close was seen: the test did not exercise it")
        #expect(quiet.allSatisfy { $0.level == .debug })
    }
}
