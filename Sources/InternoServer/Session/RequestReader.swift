import InternoModel
import InternoWire
import NIOConcurrencyHelpers
import NIOCore

/// A site's request as read from the connection: its frame, and for a `Push` (and only for
/// one) its change sets converted to the model, or why they cannot be (``sets(of:)``); `nil`
/// for any other request.
struct ReadRequest: Sendable {
    let frame: Interno_V1_Frame
    let sets: Result<[ChangeSet], any Error>?

    init(_ buffer: ByteBuffer) throws {
        frame = try Interno_V1_Frame(body: buffer)
        if case .push(let push) = frame.body {
            sets = Result { try Self.sets(of: push) }
        } else {
            sets = nil
        }
    }

    /// The sets of `push` in the model: at most ``WireLimits/maximumPushSets`` of them
    /// (`BATCH_TOO_LARGE` otherwise), each valid (Protocol §5.3).
    static func sets(of push: Interno_V1_Push) throws -> [ChangeSet] {
        guard push.sets.count <= WireLimits.maximumPushSets else {
            throw WireError.remote(
                .batchTooLarge, "a Push holds at most \(WireLimits.maximumPushSets) change sets, not \(push.sets.count)"
            )
        }
        return try push.sets.map { try $0.model() }
    }
}

/// A session's requests, read and decoded one ahead of the one being served (DESIGN §5): a
/// site that sends its next `Push` before the last one's answer (Protocol §5.3) has it parsed
/// and converted while the store judges the last, not after. The reading runs as a task of
/// its own (``read(_:)``); the session takes the requests in order (``next()``).
///
/// At most one request waits here: the reader reads no further until it is taken, so a site
/// that sends many ahead is held back by the connection, as before.
final class RequestReader: Sendable {
    /// A request, or the error that ends the reading (a frame that does not decode, a
    /// connection that failed), in the order they came.
    typealias Item = Result<ReadRequest, any Error>

    private struct State {
        /// The request read ahead, until it is taken.
        var ready: Item?
        /// The session, waiting for a request.
        var taker: CheckedContinuation<Item?, Never>?
        /// The reader, waiting for `ready` to be taken (`true`) or the reading finished (`false`).
        var putter: CheckedContinuation<Bool, Never>?
        /// No more requests come: the connection ended, or the session is done with it.
        var finished = false
    }

    private let state = NIOLockedValueBox(State())

    /// Reads `inbound` until it ends, fails, or the session finishes, handing each request
    /// over once the last is taken; a request that does not decode is handed over as its
    /// error, and ends the reading. Cancelled, it finishes the reading, even while it waits
    /// to hand a request over: the session is gone.
    func read(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>) async {
        await withTaskCancellationHandler {
            do {
                for try await buffer in inbound {
                    let item = Item { try ReadRequest(buffer) }
                    guard await put(item) else { break }
                    if case .failure = item { break }
                }
            } catch {
                _ = await put(.failure(error))
            }
            finish()
        } onCancel: {
            finish()
        }
    }

    /// The next request, or its error, in order; `nil` once the connection has ended.
    func next() async -> Item? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Item?, Never>) in
            let (answer, reader) = state.withLockedValue { state -> (Item??, CheckedContinuation<Bool, Never>?) in
                if let ready = state.ready {
                    state.ready = nil
                    defer { state.putter = nil }
                    return (.some(ready), state.putter)
                }
                if state.finished { return (.some(nil), nil) }
                state.taker = continuation
                return (nil, nil)
            }
            reader?.resume(returning: true)
            if let answer { continuation.resume(returning: answer) }
        }
    }

    /// `true` while a request read ahead waits to be taken (for tests).
    var holdsOneReady: Bool { state.withLockedValue { $0.ready != nil } }

    /// Ends the reading: the session is done, or the connection ended. A request waiting
    /// to be taken is still handed over to the session; the reader waits no longer.
    func finish() {
        let (taker, reader) = state.withLockedValue { state in
            state.finished = true
            defer { (state.taker, state.putter) = (nil, nil) }
            return (state.taker, state.putter)
        }
        taker?.resume(returning: nil)
        reader?.resume(returning: false)
    }

    /// Hands `item` to the session, at once if it waits, and returns once it is taken;
    /// `false` if the reading is finished, `item` dropped.
    private func put(_ item: Item) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let (taken, taker) = state.withLockedValue { state -> (Bool?, CheckedContinuation<Item?, Never>?) in
                if state.finished { return (false, nil) }
                if let taker = state.taker {
                    state.taker = nil
                    return (true, taker)
                }
                state.ready = item
                state.putter = continuation
                return (nil, nil)
            }
            taker?.resume(returning: item)
            if let taken { continuation.resume(returning: taken) }
        }
    }
}
