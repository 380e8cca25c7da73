import Foundation
import InternoModel
import InternoStore
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

/// What the site makes of each pushed set's answer (Protocol §4.4).
@Suite("Push answers")
struct PushAnswerTests {
    let sets = [1, 2].map { counter in
        ChangeSet([
            Change(
                dot: Dot(replica: ReplicaID(UUID()), counter: UInt64(counter)), kind: .request, recordID: UUID(),
                context: VersionVector(), fields: ["title": .text("T")], author: "ana@HR-LIS", at: .now())
        ])
    }

    func answer(_ counter: UInt64, _ status: Interno_V1_SetResult.Status) -> Interno_V1_SetResult {
        var answer = Interno_V1_SetResult()
        answer.firstCounter = counter
        answer.status = status
        return answer
    }

    @Test func aDeferredSetWaitsForTheDotTheServerNames() throws {
        let waitedFor = ReplicaID(UUID())
        var deferred = answer(2, .deferred)
        deferred.missingReplica = waitedFor.uuid.wire
        deferred.missingCounter = 7
        var result = Interno_V1_PushResult()
        result.results = [answer(1, .accepted), deferred]
        var report = SyncReport()
        let outcomes = try SyncConnection.outcomes(of: result, for: sets, report: &report)
        #expect(outcomes.map(\.firstCounter) == [1, 2])
        #expect(outcomes[0].outcome == .accepted)
        #expect(outcomes[1].outcome == .deferred(missing: Dot(replica: waitedFor, counter: 7)))
        #expect(report.accepted == 1 && report.deferred == 1)
    }

    /// A deferral without its 16-byte replica is malformed: not a wait for a made-up replica.
    @Test(arguments: [0, 15, 17])
    func aDeferredSetWithoutItsReplicaIsAProtocolError(length: Int) {
        var deferred = answer(1, .deferred)
        deferred.missingReplica = Data(repeating: 7, count: length)
        deferred.missingCounter = 3
        var result = Interno_V1_PushResult()
        result.results = [deferred, answer(2, .accepted)]
        var report = SyncReport()
        #expect(
            throws: ClientError.protocolError(
                "the server deferred a pushed set without naming, in 16 bytes, the replica it waits for")
        ) {
            try SyncConnection.outcomes(of: result, for: sets, report: &report)
        }
    }

    @Test func anAnswerForOtherSetsIsAProtocolError() {
        var result = Interno_V1_PushResult()
        result.results = [answer(2, .accepted), answer(1, .accepted)]
        var report = SyncReport()
        #expect(throws: ClientError.protocolError("the server's PushResult does not match the sets pushed")) {
            try SyncConnection.outcomes(of: result, for: sets, report: &report)
        }
    }
}
