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
/// writes this one. What that must not change: a batch that cannot be applied keeps nothing,
/// and the site says why, not that the connection broke. A server with this server's identity,
/// written here frame by frame over real TLS, sends one batch that cannot be applied.
@Suite("Pipelined pull, end to end", .serialized)
struct PipelinedPullTests {
    /// What the scripted server saw: the cursor of each `Pull`, in order.
    actor Seen {
        var pulls: [Int64] = []
        func pulled(_ cursor: Int64) { pulls.append(cursor) }
    }

    /// A scripted server for `hr` that answers only the first `Pull`, with one batch that
    /// cannot be applied (a change whose record id has three bytes) and `more`, and records
    /// the cursor of every `Pull`. The site is pointed at it.
    func badBatchServer(
        for hr: SiteCLI, in deployment: Deployment
    ) async throws -> (seen: Seen, served: Task<Void, any Error>) {
        let replica = try hr.site().store.replica()
        let held = try await deployment.store.syncPosition(of: replica.id, cursor: 0, cursorEpoch: 0).heldCounters
        let configuration = try ServerConfiguration(
            directory: deployment.data, store: deployment.store, host: "127.0.0.1", port: 0)
        let scripted = try await ScriptedServer(configuration)
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
}
