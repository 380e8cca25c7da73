import Foundation
import InternoModel
import InternoStore
import InternoWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import ServiceLifecycle

/// One site's connection: Hello, then any number of Push, Pull, Verify and Fetch requests
/// (Protocol/README.md).
///
/// Every failure stays inside this task: it is answered with an `Error` frame where the
/// connection still allows it, logged, and the connection is closed. Other sessions and the
/// accept loop never see it.
struct SyncSession {
    let connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    let configuration: ServerConfiguration
    let logger: Logger

    /// The identity the certificate and Hello established.
    struct Peer {
        var entry: RegistryRow
        var replica: ReplicaID
        /// What it may write and see, from its registry entry.
        var pusher: Pusher
    }

    func run() async {
        let phase = SessionPhase()
        let channel = connection.channel
        await withGracefulShutdownHandler {
            do {
                try await connection.executeThenClose { inbound, outbound in
                    // The requests are read and decoded by a task of their own, one ahead of
                    // the one served (``RequestReader``), which ends with the session.
                    let requests = RequestReader()
                    await withTaskGroup(of: Void.self) { group in
                        group.addTask { await requests.read(inbound) }
                        await serve(requests, outbound, phase)
                        requests.finish()
                        group.cancelAll()
                    }
                }
            } catch {
                logger.debug("connection closed uncleanly", metadata: ["error": "\(error)"])
            }
        } onGracefulShutdown: {
            // An idle session says so and closes now; a busy one finishes its request first.
            if phase.shutDown() {
                channel.writeAndFlush(Self.shuttingDown).whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }

    /// The conversation, and how it ends: every failure is answered where the connection
    /// still allows it, and logged.
    private func serve(
        _ requests: RequestReader, _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, _ phase: SessionPhase
    ) async {
        do {
            try await converse(requests, outbound, phase)
        } catch let error as WireError {
            logger.notice(
                "closing the connection", metadata: ["error": "\(error)", "code": "\(error.code)"])
            await answer(Interno_V1_Frame.error(error.code, error.description), outbound)
        } catch {
            switch SessionEnd(error) {
            case .peerClosed:
                // Sites close early all the time (interrupted, offline, killed): not a failure.
                logger.debug("the site closed the connection", metadata: ["error": "\(error)"])
            case .tlsRefused:
                logger.notice("TLS failed", metadata: ["error": "\(error)"])
            case .failure:
                logger.error("session failed", metadata: ["error": "\(error)"])
                await answer(
                    Interno_V1_Frame.error(.internalError, "the server failed: \(error); retry later"),
                    outbound)
            }
        }
    }

    /// Sends a last `Error` frame, unless the connection is already closed: a frame written to
    /// a closed channel only fails again.
    private func answer(_ frame: Interno_V1_Frame, _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async {
        guard connection.channel.isActive else { return }
        try? await outbound.write(frame.serializedBuffer())
    }

    private func converse(
        _ requests: RequestReader, _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, _ phase: SessionPhase
    ) async throws {
        guard let first = try await requests.next()?.get() else { return }
        let hello = first.frame
        guard case .hello(let message) = hello.body else {
            throw WireError.remote(.unexpectedMessage, "the first message must be Hello, not \(hello.messageName)")
        }
        let start = ContinuousClock.now
        let peer = try await identify(message)
        try await outbound.write(try await welcome(peer, hello: message).serializedBuffer())
        var logger = self.logger
        logger[metadataKey: "site"] = "\(peer.entry.code)"
        // With how long the store took to let the site in and say where it stands: the first
        // place a stall of the store shows (DESIGN §9).
        logger.info(
            "site connected",
            metadata: [
                "replica": "\(peer.replica)", "cursor": "\(message.cursor)", "ms": "\(Self.milliseconds(since: start))",
            ])

        while true {
            guard phase.beginWaiting() else { return try await outbound.write(Self.shuttingDown) }
            guard let item = await requests.next() else { return }
            guard phase.beginRequest() else { return try await outbound.write(Self.shuttingDown) }
            let request = try item.get()
            // A Push: its sets as the reader converted them (``ReadRequest``), or why they could not be.
            if let sets = request.sets {
                try await outbound.write(try await handle(sets: sets, from: peer, logger: logger).serializedBuffer())
                continue
            }
            let frame = request.frame
            switch frame.body {
            case .pull(let pull):
                try await outbound.write(try await handle(pull, from: peer, logger: logger).serializedBuffer())
            case .verify(let verify):
                try await outbound.write(try await handle(verify, from: peer, logger: logger).serializedBuffer())
            case .fetch(let fetch):
                try await outbound.write(try await handle(fetch, from: peer).serializedBuffer())
            default:
                throw WireError.remote(
                    .unexpectedMessage,
                    "after Welcome a site sends Push, Pull, Verify or Fetch, not \(frame.messageName)")
            }
        }
    }

    /// The milliseconds since `start`, to one decimal, for a log line.
    static func milliseconds(since start: ContinuousClock.Instant) -> String {
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        return String(format: "%.1f", Double(seconds) * 1000 + Double(attoseconds) / 1e15)
    }

    /// What a site hears when the server stops between its requests (error 11).
    static var shuttingDown: ByteBuffer {
        Interno_V1_Frame.error(.shuttingDown, "the server is shutting down: sync again in a moment")
            .serializedBuffer()
    }

    /// Finds the replica by its certificate's fingerprint, and checks Hello against it.
    private func identify(_ hello: Interno_V1_Hello) async throws -> Peer {
        guard hello.protocolVersion == WireLimits.protocolVersion else {
            throw WireError.remote(
                .unsupportedProtocolVersion,
                "this server speaks protocol version \(WireLimits.protocolVersion), not \(hello.protocolVersion): upgrade the older side"
            )
        }
        let peerCertificate: NIOSSLCertificate?
        do {
            peerCertificate = try await connection.channel.nioSSL_peerCertificate().get()
        } catch  where !connection.channel.isActive {
            // The site hung up after Hello, and the TLS handler went with the pipeline.
            throw ChannelError.ioOnClosedChannel
        }
        guard let certificate = peerCertificate else {
            throw WireError.remote(.unknownReplica, "no client certificate was presented")
        }
        let fingerprint = Fingerprint.of(der: try certificate.toDERBytes())
        guard let entry = try await configuration.store.connect(fingerprint: fingerprint, at: .now()) else {
            throw WireError.remote(
                .unknownReplica,
                "this certificate is not enrolled on this server: ask the administrator for a new bundle (`interno-server enroll`)"
            )
        }
        guard !entry.revoked else {
            throw WireError.remote(
                .revoked, "site \(entry.code) was revoked on this server: ask the administrator to enrol it again")
        }
        let claimed = try hello.model().replica
        guard let replica = ReplicaID(uuidString: entry.replicaID), replica == claimed else {
            throw WireError.remote(
                .identityMismatch,
                "Hello names replica \(claimed) but the certificate belongs to \(entry.replicaID)"
            )
        }
        guard hello.schemaVersion == Schema.version else {
            throw WireError.remote(
                .schemaMismatch,
                "this server uses schema version \(Schema.version), the site \(hello.schemaVersion): upgrade the older side"
            )
        }
        return Peer(entry: entry, replica: replica, pusher: try Pusher(entry))
    }

    private func welcome(_ peer: Peer, hello: Interno_V1_Hello) async throws -> Interno_V1_Frame {
        let position = try await configuration.store.syncPosition(
            of: peer.replica, cursor: max(0, hello.cursor), cursorEpoch: hello.cursorEpoch)
        let welcome = Welcome(
            protocolVersion: WireLimits.protocolVersion, server: configuration.serverID, serverTime: .now(),
            position: position, maximumFrameBytes: configuration.maximumFrameBytes,
            maximumPushSets: WireLimits.maximumPushSets, maximumPullChanges: WireLimits.maximumPullChanges,
            departmentCode: peer.entry.departmentCode, siteCode: peer.entry.code, scope: peer.pusher.scope.kind)
        var frame = Interno_V1_Frame()
        frame.body = .welcome(Interno_V1_Welcome(welcome))
        return frame
    }

    /// Judges a Push, whose sets the reader converted ahead (or found too many or malformed:
    /// then that error, in the Push's turn), and answers it.
    private func handle(
        sets: Result<[ChangeSet], any Error>, from peer: Peer, logger: Logger
    ) async throws -> Interno_V1_Frame {
        let sets = try sets.get()
        let start = ContinuousClock.now
        let outcomes = try await configuration.store.receive(sets, from: peer.pusher)
        let elapsed = Self.milliseconds(since: start)
        var result = Interno_V1_PushResult()
        result.results = zip(sets, outcomes).map { set, outcome in Interno_V1_SetResult(set.firstCounter, outcome) }
        let refused = outcomes.filter { if case .refused = $0 { true } else { false } }.count
        logger.info("push", metadata: ["sets": "\(sets.count)", "refused": "\(refused)", "ms": "\(elapsed)"])
        var frame = Interno_V1_Frame()
        frame.body = .pushResult(result)
        return frame
    }

    private func handle(_ pull: Interno_V1_Pull, from peer: Peer, logger: Logger) async throws -> Interno_V1_Frame {
        let limit =
            pull.limit == 0 ? WireLimits.maximumPullChanges : min(Int(pull.limit), WireLimits.maximumPullChanges)
        guard pull.cursor >= 0 else { throw WireError.malformed("a negative cursor") }
        // Only what the site's scope covers (DESIGN §6.1), in whole sets, within three quarters
        // of the frame limit by their estimated size, so the Changes frame never exceeds what
        // the site accepts however large the changes are.
        let (cursor, scope, maximumBytes) = (pull.cursor, peer.pusher.scope, configuration.maximumFrameBytes / 4 * 3)
        // The site's own sets that it names (those accepted in this sync) are not sent back (Protocol §5.4).
        guard pull.ownSets.count <= OwnSets.maximumRanges else {
            throw WireError.malformed(
                "a Pull names at most \(OwnSets.maximumRanges) ranges of own sets, not \(pull.ownSets.count)")
        }
        let own =
            pull.ownSets.isEmpty ? nil : OwnSets(of: peer.pusher.replica, try pull.ownSets.map { try $0.model() })
        let start = ContinuousClock.now
        let batch = try await configuration.store.changes(
            after: cursor, limit: limit, scope: scope, leavingOut: own, maximumBytes: maximumBytes,
            size: { $0.estimatedWireSize })
        logger.debug(
            "pull",
            metadata: [
                "sets": "\(batch.sets.count)", "next": "\(batch.nextCursor)",
                "ms": "\(Self.milliseconds(since: start))",
            ])
        var changes = Interno_V1_Changes()
        changes.sets = batch.sets.map(Interno_V1_ChangeSet.init)
        changes.nextCursor = batch.nextCursor
        changes.more = batch.more
        changes.cursorEpoch = batch.cursorEpoch
        var frame = Interno_V1_Frame()
        frame.body = .changes(changes)
        return frame
    }
}

extension Interno_V1_SetResult {
    init(_ firstCounter: UInt64, _ outcome: PushOutcome) {
        self.init()
        self.firstCounter = firstCounter
        switch outcome {
        case .accepted: status = .accepted
        case .duplicate: status = .duplicate
        case .deferred(let missing):
            status = .deferred
            missingReplica = missing.replica.uuid.wire
            missingCounter = missing.counter
        case .refused(let refusal, let kept):
            status = .refused
            self.refusal = Interno_V1_Refusal(refusal)
            keptCounters = kept
        }
    }
}

/// Whether a session is waiting for a request or serving one, so that a graceful shutdown
/// closes idle connections at once and lets a request in flight finish first.
final class SessionPhase: Sendable {
    private enum Phase { case waiting, busy, closing }
    private let phase = NIOLockedValueBox(Phase.waiting)

    /// Marks the session waiting; `false` if it should close instead.
    func beginWaiting() -> Bool {
        phase.withLockedValue { phase in
            if phase == .closing { return false }
            phase = .waiting
            return true
        }
    }

    /// Marks a request in flight; `false` if the session is closing.
    func beginRequest() -> Bool {
        phase.withLockedValue { phase in
            if phase == .closing { return false }
            phase = .busy
            return true
        }
    }

    /// Asks the session to close; `true` if it is idle and the caller should close it now.
    func shutDown() -> Bool {
        phase.withLockedValue { phase in
            defer { phase = .closing }
            return phase == .waiting
        }
    }
}
