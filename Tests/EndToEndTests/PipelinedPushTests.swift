import Foundation
import InternoClient
import InternoModel
@_spi(Database) import InternoStore
import InternoWire
import NIOCore
import Testing

@testable import InternoServer

/// A queue that takes several Pushes sends each next `Push` before it reads the last one's
/// answer (Protocol §5.3; DESIGN §5), so the server reads it while it judges the last. A
/// server with this server's identity, written here frame by frame over real TLS, answers a
/// `Push` only once the next one has arrived: a site that waited for each answer first would
/// wait out its request limit instead.
@Suite("Pipelined push, end to end", .serialized)
struct PipelinedPushTests {
    /// What the scripted server saw and did, in order.
    actor Events {
        var list: [String] = []
        func add(_ event: String) { list.append(event) }
    }

    @Test func theNextPushGoesOutBeforeTheLastOnesAnswerAndEveryAnswerIsRecorded() async throws {
        try await Deployment.with(.sqlite) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            try await hr.sync()
            for index in 1...5 { try await hr.ok("request", "new", "--to", "IT", "--title", "Request \(index)") }
            let queued = try hr.site().store.pendingChangeSets()
            try #require(queued.count == 5)
            let replica = try hr.site().store.replica()
            let held = try await deployment.store.syncPosition(of: replica.id, cursor: 0, cursorEpoch: 0)
                .heldCounters
            let configuration = try ServerConfiguration(
                directory: deployment.data, store: deployment.store, host: "127.0.0.1", port: 0)
            let scripted = try await ScriptedServer(configuration)
            let events = Events()
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
                        await events.add("Push of \(push.sets.count)")
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
                            await events.add("PushResult")
                        }
                    case .pull(let pull):
                        await events.add("Pull")
                        var changes = Interno_V1_Changes()
                        changes.nextCursor = pull.cursor
                        changes.cursorEpoch = hello.cursorEpoch
                        var answer = Interno_V1_Frame()
                        answer.body = .changes(changes)
                        try await outbound.write(answer.serializedBuffer())
                    default:
                        await events.add(frame.messageName)
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
                await events.list == [
                    "Push of 2", "Push of 2", "PushResult", "Push of 1", "PushResult", "PushResult", "Pull",
                ])
            // Every answer was recorded: each accepted set left the outbox.
            #expect(try hr.site().store.pendingChangeSets().isEmpty)
            #expect(try hr.site().store.outbox().isEmpty)
        }
    }
}
