import Foundation
import InternoClient
import InternoModel
@_spi(Database) import InternoStore
import InternoWire
import NIOCore
import Testing

@testable import InternoServer

/// A pull with `more` sends the next `Pull` before it applies the batch it holds (Protocol
/// §5.4, cursor rules 2–5; DESIGN §5), so the server prepares the next batch while the site
/// writes this one; a push of several Pushes sends the next before the last one's answer
/// (§5.3). What the pull's must not change: a batch that cannot be applied keeps nothing,
/// and the site says why, not that the connection broke. Servers with this server's identity,
/// written here frame by frame over real TLS, send one batch that cannot be applied, or hold
/// each `PushResult` back until the next `Push` is in.
@Suite("Pipelined pull and push, end to end", .serialized)
struct PipelinedPullTests {
    /// What the scripted server saw: the cursor of each `Pull`, and what it saw and did, in order.
    actor Seen {
        var pulls: [Int64] = []
        var events: [String] = []
        func pulled(_ cursor: Int64) { pulls.append(cursor) }
        func happened(_ event: String) { events.append(event) }
    }

    /// A scripted server with the deployment's identity, and the counters of `hr` that the
    /// deployment's server holds, for its `Welcome`.
    func scriptedServer(
        for hr: SiteCLI, in deployment: Deployment
    ) async throws -> (server: ScriptedServer, held: [ClosedRange<UInt64>]) {
        let replica = try hr.site().store.replica()
        let held = try await deployment.store.syncPosition(of: replica.id, cursor: 0, cursorEpoch: 0).heldCounters
        let configuration = try ServerConfiguration(
            directory: deployment.data, store: deployment.store, host: "127.0.0.1", port: 0)
        return (try await ScriptedServer(configuration), held)
    }

    /// A scripted server for `hr` that answers only the first `Pull`, with one batch that
    /// cannot be applied (a change whose record id has three bytes) and `more`, and records
    /// the cursor of every `Pull`. The site is pointed at it.
    func badBatchServer(
        for hr: SiteCLI, in deployment: Deployment
    ) async throws -> (seen: Seen, served: Task<Void, any Error>) {
        let (scripted, held) = try await scriptedServer(for: hr, in: deployment)
        let seen = Seen()
        let served = scripted.serveOne { frames, outbound in
            guard let first = try await frames.next(),
                case .hello(let hello) = try Interno_V1_Frame(body: first).body
            else { return }
            try await outbound.write(
                scripted.welcome(held: held, serverSequence: hello.cursor + 10).serializedBuffer())
            // Every Pull is recorded; only the first is answered.
            while let request = try await frames.next() {
                guard case .pull(let pull) = try Interno_V1_Frame(body: request).body else { return }
                await seen.pulled(pull.cursor)
                guard await seen.pulls.count == 1 else { continue }
                var change = Interno_V1_Change()
                change.counter = 1
                change.kind = "request"
                change.recordID = Data([1, 2, 3])
                change.author = "someone@IT-OPO"
                change.atMs = 1_795_426_200_000
                var set = Interno_V1_ChangeSet()
                set.replica = UUID().wire
                set.changes = [change]
                var changes = Interno_V1_Changes()
                changes.sets = [set]
                changes.nextCursor = pull.cursor + 5
                changes.more = true
                changes.cursorEpoch = hello.cursorEpoch
                var answer = Interno_V1_Frame()
                answer.body = .changes(changes)
                try await outbound.write(answer.serializedBuffer())
            }
        }
        try hr.setServerPort(scripted.port)
        return (seen, served)
    }

    @Test func theNextPullGoesOutBeforeTheBatchIsAppliedAndABadBatchKeepsNothing() async throws {
        try await Deployment.with(.sqlite) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            _ = try await hr.ok("request", "new", "--to", "IT", "--title", "Laptop")
            try await hr.sync()
            let replica = try hr.site().store.replica()
            let (seen, server) = try await badBatchServer(for: hr, in: deployment)
            let before = hr.databaseBytes()
            let result = try await hr.run(["sync"])
            _ = await server.result
            #expect(result.status == ExitStatus.protocolError)
            #expect(result.stderr.contains("the server sent a malformed change set"), "\(result.stderr)")
            #expect(!result.stderr.contains("closed the connection"), "\(result.stderr)")
            // The second Pull, from the batch's next cursor, came before the site gave up on
            // the batch: sent before it was applied.
            #expect(await seen.pulls == [replica.cursor, replica.cursor + 5])
            // Nothing of the batch was kept, and the cursor did not move.
            #expect(hr.databaseBytes() == before)
            #expect(try hr.site().store.replica().cursor == replica.cursor)
        }
    }

    /// After the failed batch, that second `Pull` is still unanswered: a program that keeps
    /// the connection (``SyncEngine/withConnection(_:)``) and syncs on it again is told the
    /// connection failed, at once, and nothing more is sent; it never reads a late answer
    /// as the answer to a new request.
    @Test func aConnectionWhoseExchangeFailedRefusesTheNextOneAtOnce() async throws {
        try await Deployment.with(.sqlite) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            try await hr.sync()
            let replica = try hr.site().store.replica()
            let (seen, server) = try await badBatchServer(for: hr, in: deployment)
            let engine = try SyncEngine(home: SiteHome(path: hr.home))
            let again: ClientError? = try await engine.withConnection { connection in
                await #expect(throws: ClientError.self) { try await connection.sync() }
                do {
                    _ = try await connection.sync()
                    return nil
                } catch let error as ClientError {
                    return error
                }
            }
            server.cancel()
            guard case .connectionLost(let message) = again else {
                Issue.record("the second sync on the failed connection answered \(String(describing: again))")
                return
            }
            #expect(message.contains("an earlier request on this connection"), "\(message)")
            #expect(message.contains("malformed change set"), "\(message)")
            #expect(await seen.pulls == [replica.cursor, replica.cursor + 5])
        }
    }

    /// A queue that takes several Pushes sends each next `Push` before it reads the last
    /// one's answer (Protocol §5.3), so the server reads it while it judges the last. This
    /// scripted server answers a `Push` only once the next one has arrived: a site that waited
    /// for each answer first would wait out its request limit instead.
    @Test func theNextPushGoesOutBeforeTheLastOnesAnswerAndEveryAnswerIsRecorded() async throws {
        try await Deployment.with(.sqlite) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            try await hr.sync()
            for index in 1...5 { try await hr.ok("request", "new", "--to", "IT", "--title", "Request \(index)") }
            let queued = try hr.site().store.pendingChangeSets()
            try #require(queued.count == 5)
            let (scripted, held) = try await scriptedServer(for: hr, in: deployment)
            let events = Seen()
            let served = scripted.serveOne { frames, outbound in
                guard let first = try await frames.next(),
                    case .hello(let hello) = try Interno_V1_Frame(body: first).body
                else { return }
                // Two sets per Push: the five queued sets go in three.
                var welcome = scripted.welcome(held: held, serverSequence: hello.cursor)
                if case .welcome(var message) = welcome.body {
                    message.maxPushSets = 2
                    welcome.body = .welcome(message)
                }
                try await outbound.write(welcome.serializedBuffer())
                var unanswered: [Interno_V1_Push] = []
                var received = 0
                while let request = try await frames.next() {
                    let frame = try Interno_V1_Frame(body: request)
                    switch frame.body {
                    case .push(let push):
                        await events.happened("Push of \(push.sets.count)")
                        unanswered.append(push)
                        received += push.sets.count
                        // The oldest is answered once the next is here, or once all have come.
                        while unanswered.count == 2 || (received == queued.count && !unanswered.isEmpty) {
                            var result = Interno_V1_PushResult()
                            result.results = unanswered.removeFirst().sets.map {
                                Interno_V1_SetResult($0.changes.first?.counter ?? 0, .accepted)
                            }
                            var answer = Interno_V1_Frame()
                            answer.body = .pushResult(result)
                            try await outbound.write(answer.serializedBuffer())
                            await events.happened("PushResult")
                        }
                    case .pull(let pull):
                        await events.happened("Pull")
                        var changes = Interno_V1_Changes()
                        changes.nextCursor = pull.cursor
                        changes.cursorEpoch = hello.cursorEpoch
                        var answer = Interno_V1_Frame()
                        answer.body = .changes(changes)
                        try await outbound.write(answer.serializedBuffer())
                    default:
                        await events.happened(frame.messageName)
                        return
                    }
                }
            }
            try hr.setServerPort(scripted.port)
            // A short request limit: a site that waited for each answer would fail in 5 s.
            let result = try await hr.run(["sync", "--timeout", "5"])
            served.cancel()
            #expect(result.status == 0, "\(result.stderr)")
            #expect(
                await events.events == [
                    "Push of 2", "Push of 2", "PushResult", "Push of 1", "PushResult", "PushResult", "Pull",
                ])
            // Every answer was recorded: each accepted set left the outbox.
            #expect(try hr.site().store.pendingChangeSets().isEmpty)
            #expect(try hr.site().store.outbox().isEmpty)
        }
    }
}
