import Foundation
import NIOCore
import NIOSSL
import Testing

@testable import InternoServer

/// How a session's ending error is logged: a site hanging up is routine, not a server failure.
@Suite("Session endings")
struct SessionEndTests {
    struct DatabaseBroke: Error {}

    @Test func aSiteThatHangsUpIsPeerClosed() {
        let hangUps: [any Error] = [
            ChannelError.ioOnClosedChannel, ChannelError.eof, ChannelError.alreadyClosed,
            IOError(errnoCode: ECONNRESET, reason: "read"), IOError(errnoCode: EPIPE, reason: "write"),
            NIOSSLError.uncleanShutdown, NIOSSLError.handshakeFailed(.sslError([.eofDuringHandshake])),
            BoringSSLError.syscallError, NIOAsyncWriterError.alreadyFinished(),
        ]
        for error in hangUps { #expect(SessionEnd(error) == .peerClosed, "\(error)") }
    }

    @Test func aRefusedCertificateIsATLSNoticeAndAnythingElseAFailure() {
        #expect(SessionEnd(NIOSSLError.noCertificateToValidate) == .tlsRefused)
        #expect(SessionEnd(BoringSSLError.sslError([])) == .tlsRefused)
        #expect(SessionEnd(DatabaseBroke()) == .failure)
        #expect(SessionEnd(IOError(errnoCode: ENOSPC, reason: "write")) == .failure)
        #expect(SessionEnd(ChannelError.connectTimeout(.seconds(1))) == .failure)
    }
}
