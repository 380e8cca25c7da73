import Foundation
import InternoModel
import InternoWire
import NIOCore
import Testing

@testable import InternoServer

/// A session's requests are read and decoded by a task of their own, one ahead of the one
/// served (DESIGN §5). What the session relies on: the requests in order, a `Push`'s sets
/// already converted, a frame that does not decode handed over as its error after everything
/// before it, and a reading that ends when the session does, whatever it was waiting for.
@Suite("A session's request reader", .timeLimit(.minutes(1)))
struct RequestReaderTests {
    func framed(_ body: Interno_V1_Frame.OneOf_Body) -> ByteBuffer {
        var frame = Interno_V1_Frame()
        frame.body = body
        return frame.serializedBuffer()
    }

    var pushOfOneSet: ByteBuffer {
        let change = Change(
            dot: Dot(replica: ReplicaID(UUID()), counter: 1), kind: .request, recordID: UUID(),
            context: VersionVector(), fields: ["title": .text("Laptop")], author: "ana@HR-LIS", at: .now())
        var push = Interno_V1_Push()
        push.sets = [Interno_V1_ChangeSet(ChangeSet([change]))]
        return framed(.push(push))
    }

    @Test func requestsComeInOrderAndABadFrameEndsTheReadingAfterThem() async throws {
        let (reader, source, reading) = started()
        source.yield(framed(.hello(Interno_V1_Hello())))
        source.yield(pushOfOneSet)
        source.yield(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF]))
        source.yield(framed(.pull(Interno_V1_Pull())))
        let hello = try #require(await reader.next())
        #expect(try hello.get().frame.messageName == "Hello")
        // The Push is read and decoded before the session asks for it.
        #expect(await readyAhead(reader))
        let push = try #require(await reader.next())
        #expect(try push.get().frame.messageName == "Push")
        #expect(try push.get().sets?.get().map(\.changes.count) == [1])
        let bad = try #require(await reader.next())
        #expect(throws: WireError.self) { try bad.get() }
        // Nothing after the bad frame is read: the session closes with its error.
        #expect(await reader.next() == nil)
        await reading.value
    }

    @Test func aPushWhoseSetsDoNotConvertCarriesItsErrorAndTheReadingGoesOn() async throws {
        let (reader, source, reading) = started()
        var set = Interno_V1_ChangeSet()
        set.replica = Data([1, 2, 3])
        var push = Interno_V1_Push()
        push.sets = [set]
        source.yield(framed(.push(push)))
        source.yield(framed(.pull(Interno_V1_Pull())))
        source.finish()
        let request = try #require(try await reader.next()?.get())
        #expect(throws: WireError.self) { try request.sets?.get() }
        #expect(try await reader.next()?.get().frame.messageName == "Pull")
        #expect(await reader.next() == nil)
        await reading.value
    }

    @Test func aPushOfTooManySetsCarriesBatchTooLarge() async throws {
        let (reader, source, reading) = started()
        var push = Interno_V1_Push()
        push.sets = Array(repeating: Interno_V1_ChangeSet(), count: WireLimits.maximumPushSets + 1)
        source.yield(framed(.push(push)))
        source.finish()
        let request = try #require(try await reader.next()?.get())
        #expect {
            try request.sets?.get()
        } throws: { error in
            (error as? WireError)?.code == .batchTooLarge
        }
        #expect(await reader.next() == nil)
        await reading.value
    }

    @Test func finishingEndsAReaderThatWaitsToHandOverAndKeepsWhatWasReady() async throws {
        let (reader, source, reading) = started()
        source.yield(framed(.hello(Interno_V1_Hello())))
        source.yield(pushOfOneSet)
        // The reader has the Hello ready and waits for it to be taken; the session ends.
        #expect(await readyAhead(reader))
        reader.finish()
        await reading.value
        #expect(try await reader.next()?.get().frame.messageName == "Hello")
        #expect(await reader.next() == nil)
    }

    @Test func cancellingEndsAReaderThatWaitsForTheNextFrame() async throws {
        let (reader, _, reading) = started()
        reading.cancel()
        await reading.value
        #expect(await reader.next() == nil)
    }

    @Test func cancellingEndsAReaderThatWaitsToHandOver() async throws {
        let (reader, source, reading) = started()
        source.yield(framed(.hello(Interno_V1_Hello())))
        #expect(await readyAhead(reader))
        reading.cancel()
        await reading.value
    }

    /// A reader reading a stream the test feeds through `source`, in a task of its own.
    func started() -> (
        reader: RequestReader, source: NIOAsyncChannelInboundStream<ByteBuffer>.TestSource, reading: Task<Void, Never>
    ) {
        let (inbound, source) = NIOAsyncChannelInboundStream<ByteBuffer>.makeTestingStream()
        let reader = RequestReader()
        return (reader, source, Task { await reader.read(inbound) })
    }

    /// Waits, a bounded while, for `reader` to hold a request read ahead.
    func readyAhead(_ reader: RequestReader) async -> Bool {
        for _ in 0..<100_000 where !reader.holdsOneReady { await Task.yield() }
        return reader.holdsOneReady
    }
}
