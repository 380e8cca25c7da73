import CInternoSQLite
import Foundation

/// Threads that run a store's blocking calls for async callers (``ReplicaStore/background(_:)``).
///
/// A call never waits for a thread: if none is idle, a new one starts, as a thread per call
/// did before. Calls queued behind others that wait for the writer or an fsync would wait
/// with them, and on dispatch's few workers that stalled the server (DESIGN §4). What changes
/// is that a thread whose call is done waits `idleLifetime` for the next call before it ends:
/// a server or a site that syncs reuses a few threads instead of starting one per call, and
/// starting one (its stack, its Foundation `Thread`, the kernel's bookkeeping) was 2–3% of the
/// simulated sites' CPU in the 200-site profile. A quiet process ends up with no thread here.
final class BlockingWorkers: @unchecked Sendable {
    /// The workers every store of this process shares.
    static let shared = BlockingWorkers()

    /// How long an idle thread waits for a call before it ends.
    let idleLifetime: TimeInterval

    /// Guards everything below; idle threads wait on it.
    private let condition = NSCondition()
    /// Calls not yet taken by a thread, oldest first from `next`.
    private var calls: [@Sendable () -> Void] = []
    private var next = 0
    /// Threads waiting for a call: each takes one when it wakes, whatever woke it.
    private var idle = 0
    /// Threads alive, running a call or idle.
    private var threads = 0
    /// Guards `lastTrim`.
    private let trimming = NSLock()
    /// When ``release(_:)`` last trimmed the allocator's arenas (`DispatchTime` nanoseconds).
    private var lastTrim: UInt64 = 0

    init(idleLifetime: TimeInterval = 10) {
        self.idleLifetime = idleLifetime
    }

    /// Runs `call` on a thread of these workers, an idle one if there is one, a new one if not.
    func run(_ call: @escaping @Sendable () -> Void) {
        condition.lock()
        calls.append(call)
        let waiting = calls.count - next
        // Every idle thread takes one call; a call beyond them gets a thread of its own.
        let start = waiting > idle
        if start {
            threads += 1
        } else {
            condition.signal()
        }
        condition.unlock()
        if start {
            let thread = Thread { [self] in work() }
            thread.name = "interno-store"
            thread.start()
        }
    }

    /// Threads alive and idle now, for tests.
    var counts: (threads: Int, idle: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (threads, idle)
    }

    /// A thread's life: takes calls until none comes for `idleLifetime`.
    private func work() {
        condition.lock()
        while true {
            if let call = take() {
                condition.unlock()
                call()
                condition.lock()
                continue
            }
            idle += 1
            let deadline = Date(timeIntervalSinceNow: idleLifetime)
            var expired = false
            while next == calls.count, !expired {
                expired = !condition.wait(until: deadline)
            }
            idle -= 1
            if next == calls.count {
                threads -= 1
                condition.unlock()
                return
            }
        }
    }

    /// The oldest call not yet taken, if any; the queue's storage is reset once drained.
    /// Called with the lock held.
    private func take() -> (@Sendable () -> Void)? {
        guard next < calls.count else { return nil }
        let call = calls[next]
        next += 1
        if next == calls.count {
            calls.removeAll(keepingCapacity: true)
            next = 0
        }
        return call
    }
}

extension BlockingWorkers {
    /// Lets go of `value` on one of these threads, not the caller's: what a large batch's
    /// judge held (its tables, every record state it read or made, the rows it wrote) is freed
    /// beside the writer instead of by it. Freeing them took a twelfth of the server's writer
    /// in a profile of a 100 000-change push, the one stage of a Push that runs alone (DESIGN
    /// §9). The caller keeps no other reference, or the last one to go frees it after all.
    func release(_ value: consuming Any) {
        let held = Held(value)
        run { [self] in
            held.value = nil
            trimIfDue()
        }
    }

    /// Hands the memory freed since the last trim back to the system, at most every
    /// ``trimInterval``: what a batch held was made on the threads that judged it, each with
    /// its own arena of glibc's allocator, and arenas keep what is freed in them. Without
    /// this, the benchmark's peak after a million pushed and pulled changes stood 46–74 MB over
    /// the one after 100 000 (DESIGN §9); `malloc_trim` returns the free pages of every arena.
    private func trimIfDue() {
        let now = DispatchTime.now().uptimeNanoseconds
        trimming.lock()
        let due = now >= lastTrim + Self.trimInterval
        if due { lastTrim = now }
        trimming.unlock()
        if due { interno_release_free_memory() }
    }

    /// The least time between two trims, in nanoseconds.
    private static let trimInterval: UInt64 = 250_000_000

    /// What ``release(_:)`` hands over: `value` is only ever set to `nil`, by the one thread
    /// that runs the call.
    private final class Held: @unchecked Sendable {
        var value: Any?

        init(_ value: consuming Any) {
            self.value = value
        }
    }
}
