import Foundation
import InternoWire
import NIOCore
import NIOSSL
import Testing

@testable import InternoClient

/// What `interno sync` makes of limits and failures: 69 to retry, 70 only for identity.
@Suite("Sync limits and failures")
struct SyncFailureTests {
    @Test func timeoutTakesAPositiveNumberOfSecondsForEveryStep() throws {
        #expect(
            SyncTimeouts.standard == SyncTimeouts(connect: .seconds(10), handshake: .seconds(15), request: .seconds(60))
        )
        #expect(try SyncTimeouts(seconds: "2") == SyncTimeouts(every: .seconds(2)))
        #expect(try SyncTimeouts(seconds: "2.5").request == .milliseconds(2_500))
        #expect(try SyncTimeouts(seconds: "86400").connect == .seconds(86_400))
        for text in ["0", "-1", "abc", "", "2s", "nan", "inf", "1e300", "86401"] {
            #expect(throws: ClientError.self, "--timeout \(text)") { try SyncTimeouts(seconds: text) }
        }
        #expect(Duration.seconds(60).shownInSeconds == "60 s")
        #expect(Duration.milliseconds(2_500).shownInSeconds == "2.5 s")
    }

    @Test func aBrokenConnectionIs69AndNamesTheServer() {
        let broken: [any Error] = [
            NIOSSLError.uncleanShutdown,
            NIOSSLError.handshakeFailed(.sslError([.eofDuringHandshake])),
            BoringSSLError.syscallError,
            IOError(errnoCode: ECONNRESET, reason: "read(descriptor:pointer:size:)"),
            ChannelError.ioOnClosedChannel,
            ChannelError.eof,
        ]
        for error in broken {
            let translated = ServerConnection.translate(error, server: "localhost:7443")
            #expect(translated.exitCode == ExitStatus.unreachable, "\(error): \(translated)")
            #expect(translated.description.contains("localhost:7443"))
            #expect(translated.description.contains("everything applied so far is kept"))
        }
    }

    @Test func aTimeoutIs69AndSaysWhatTimedOut() {
        let handshake = ServerConnection.translate(ConnectionTimeout.handshake(.seconds(15)), server: "hq:7443")
        #expect(handshake.exitCode == ExitStatus.unreachable)
        #expect(handshake.description.contains("the server at hq:7443"))
        #expect(handshake.description.contains("TLS handshake within 15 s (timed out)"))
        let answer = ServerConnection.translate(
            ConnectionTimeout.answer(to: "Pull", after: .seconds(60)), server: "hq:7443")
        #expect(answer.exitCode == ExitStatus.unreachable)
        #expect(answer.description.contains("did not answer Pull within 60 s (timed out)"))
        #expect(answer.description.contains("everything applied so far is kept"))
    }

    @Test func certificateFailuresAreIdentityFailures() {
        for error: any Error in [
            NIOSSLError.unableToValidateCertificate, NIOSSLError.noCertificateToValidate,
            NIOSSLExtraError.failedToValidateHostname,
        ] {
            #expect(ServerConnection.translate(error, server: "hq:7443").exitCode == ExitStatus.identity, "\(error)")
        }
    }

    @Test(arguments: [
        (WireError.Code.unknownReplica, ExitStatus.identity), (.revoked, ExitStatus.identity),
        (.identityMismatch, ExitStatus.identity), (.internalError, ExitStatus.unreachable),
        (.shuttingDown, ExitStatus.unreachable), (.malformedFrame, ExitStatus.protocolError),
    ])
    func theServersErrorCodesMapToExitCodes(code: WireError.Code, exit: Int32) {
        var error = Interno_V1_Error()
        error.code = code.rawValue
        error.message = "no"
        #expect(ServerConnection.translate(error).exitCode == exit)
    }
}
