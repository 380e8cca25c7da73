import Foundation

/// The reads of a judge that runs beside the writer, run on the writer's thread
/// (``ServerStore/receive(_:from:receivedAt:_:)``, DESIGN §4).
///
/// A Push of several batches has the next batch judged on another thread while the writer
/// writes the last one's rows. The writer's connection is the only one that sees what the
/// Push wrote so far, and only one thread at a time may use it, so a read the judge needs (a
/// record no prefetch loaded, a record's log or audiences, a department's code) waits here
/// until the writer has written the batch ahead and ``serve()`` runs it. The judge is
/// one thread making one read at a time: at most one read waits.
///
/// If the writer fails, ``fail(_:)`` answers every read, waiting or to come, with its error,
/// so the judge ends and the writer can report the failure once it has.
final class DatabaseGate: @unchecked Sendable {
    private let condition = NSCondition()
    /// The read waiting for the writer, if any.
    private var waiting: (() -> Void)?
    /// How many reads the writer has run: a read is done when this passes its number.
    private var served = 0
    /// The judge is done: no more reads come.
    private var finished = false
    /// The writer failed with this: every read is answered with it.
    private var failure: (any Error)?

    /// Runs `body` on the writer's thread, once it serves, and returns what it returned:
    /// called by the judge's thread.
    func run<T>(_ body: () throws -> T) throws -> T {
        try withoutActuallyEscaping(body) { body in
            var result: Result<T, any Error>?
            let read = Unchecked { result = Result { try body() } }
            condition.lock()
            defer { condition.unlock() }
            if let failure { throw failure }
            let number = served
            waiting = read.value
            condition.broadcast()
            while served == number, failure == nil { condition.wait() }
            // Served: the writer ran it, and `served` moved, under the lock.
            if served > number, let result { return try result.get() }
            throw failure ?? StoreError.io("internal error: a read of the judge beside the writer was not run")
        }
    }

    /// Tells the writer that the judge is done: called by the judge's thread, whatever its end.
    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Runs the judge's reads on this, the writer's, thread until it is done.
    func serve() {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let read = waiting {
                waiting = nil
                condition.unlock()
                read()
                condition.lock()
                served += 1
                condition.broadcast()
                continue
            }
            if finished { return }
            condition.wait()
        }
    }

    /// Answers every read with `error` and waits until the judge is done: the writer failed,
    /// and nothing more of this transaction is read.
    func fail(_ error: any Error) {
        condition.lock()
        defer { condition.unlock() }
        failure = error
        waiting = nil
        condition.broadcast()
        while !finished { condition.wait() }
    }

    /// A closure handed to the writer's thread, which runs it while its caller waits.
    private struct Unchecked: @unchecked Sendable {
        let value: () -> Void
        init(_ value: @escaping () -> Void) { self.value = value }
    }
}
