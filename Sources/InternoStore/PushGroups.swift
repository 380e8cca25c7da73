import Foundation
import GRDB
import InternoModel

/// Group commit for the server's Pushes (DESIGN §4): Pushes that arrive while the writer is
/// busy are judged together in its next transaction, each under a savepoint of its own, and
/// committed with one fsync; each is answered only after the commit that holds its sets.
///
/// Every Push must be durable before it is acknowledged (`synchronous = FULL`), and the
/// writer is one connection: one transaction per Push makes every Push wait for the fsyncs of
/// all those queued before it, so on a disk whose fsync takes milliseconds the writer, not
/// the CPU, bounds how many sites a server serves. A group costs one fsync whatever its size.
///
/// Nothing waits to form a group: a Push that finds the writer idle is committed alone at
/// once; only those that arrive while a transaction runs wait for it, as they would anyway,
/// and then go together.
final class PushGroups: @unchecked Sendable {
    /// One Push waiting for its group.
    struct Job {
        let sets: [ChangeSet]
        let pusher: Pusher
        let receivedAt: Timestamp
        let answer: @Sendable (Result<[PushOutcome], any Error>) -> Void
    }

    /// How many changes a group takes before it leaves the rest for the next one (it always
    /// takes at least one Push): a group's transaction holds the writer, and a Push queued
    /// behind a large group waits for all of it.
    static let changesPerGroup = 4_000

    /// What the groups did so far, for tests: nothing logs or prints it yet.
    struct Counts: Equatable, Sendable {
        /// Transactions committed (or failed) for groups.
        var groups = 0
        /// Pushes judged in them.
        var pushes = 0
        /// The most Pushes one group held.
        var largest = 0
    }

    private let lock = NSLock()
    private var waiting: [Job] = []
    private var committing = false
    private var counted = Counts()

    /// What the groups did so far.
    var counts: Counts {
        lock.lock()
        defer { lock.unlock() }
        return counted
    }

    /// Pushes waiting for the writer now, for tests.
    var waitingCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return waiting.count
    }

    /// Queues `job`; if no group is being committed, a thread of ``BlockingWorkers`` starts
    /// committing groups with `commit` until none waits.
    func submit(_ job: Job, commit: @escaping @Sendable ([Job]) -> Void) {
        lock.lock()
        waiting.append(job)
        let start = !committing
        committing = true
        lock.unlock()
        guard start else { return }
        BlockingWorkers.shared.run { [self] in
            while let group = next() { commit(group) }
        }
    }

    /// The next group: the oldest waiting Pushes, up to ``changesPerGroup`` changes; `nil`
    /// (and nobody committing) when none waits.
    private func next() -> [Job]? {
        lock.lock()
        defer { lock.unlock() }
        guard !waiting.isEmpty else {
            committing = false
            return nil
        }
        var taken = 0
        var changes = 0
        for job in waiting {
            if taken > 0, changes + job.sets.changeCount > Self.changesPerGroup { break }
            taken += 1
            changes += job.sets.changeCount
        }
        let group = Array(waiting.prefix(taken))
        waiting.removeFirst(taken)
        counted.groups += 1
        counted.pushes += taken
        counted.largest = max(counted.largest, taken)
        return group
    }
}

extension Collection<ChangeSet> {
    /// How many changes the sets hold.
    var changeCount: Int { reduce(0) { $0 + $1.changes.count } }
}

extension ServerStore {
    /// The server's handling of one Push from an async caller (a sync session), with group
    /// commit (``PushGroups``): judged as ``receive(_:from:receivedAt:)`` judges it, in a
    /// transaction it may share with other Pushes that waited for the writer with it, each
    /// under its own savepoint. The outcomes are returned once that transaction is committed
    /// with `synchronous = FULL`, never before.
    ///
    /// A database error while judging this Push rolls back its savepoint and fails this Push
    /// alone; the others of its group are committed. A commit that fails fails every Push of
    /// the group, and none of their sets is kept: each site pushes them again.
    public func receiveInGroup(_ sets: [ChangeSet], from pusher: Pusher) async throws -> [PushOutcome] {
        let receivedAt = Timestamp.now()
        return try await withCheckedThrowingContinuation { continuation in
            let job = PushGroups.Job(
                sets: sets, pusher: pusher, receivedAt: receivedAt, answer: { continuation.resume(with: $0) })
            pushGroups.submit(job) { group in commit(group) }
        }
    }

    /// What the groups of ``receiveInGroup(_:from:)`` did in this store so far, for tests.
    var pushGroupCounts: PushGroups.Counts { pushGroups.counts }

    /// Pushes waiting for the writer now, for tests.
    var pushesWaiting: Int { pushGroups.waitingCount }

    /// Judges `group` in one transaction, each Push under a savepoint, commits, then answers
    /// every Push.
    private func commit(_ group: [PushGroups.Job]) {
        var results: [Result<[PushOutcome], any Error>] = []
        results.reserveCapacity(group.count)
        // Whether SQLite rolled the whole transaction back while a Push was judged, rather
        // than the COMMIT failing at the end.
        var rolledBackMidway = false
        do {
            try writer.write { db in
                for job in group {
                    // An error SQLite answers by rolling back the whole transaction (a full
                    // disk, an I/O error) leaves none to judge the rest in: they fail with it,
                    // unjudged, rather than commit one by one outside the group.
                    guard db.isInsideTransaction else {
                        results.append(
                            .failure(
                                StoreError.io(
                                    "the transaction of this Push's commit group was rolled back by an earlier error in another Push; nothing of it was kept: the site sends it again at its next sync"
                                )))
                        continue
                    }
                    var outcomes: [PushOutcome] = []
                    do {
                        try db.inSavepoint {
                            outcomes = try Self.receive(job.sets, from: job.pusher, receivedAt: job.receivedAt, db)
                            return .commit
                        }
                        results.append(.success(outcomes))
                    } catch {
                        results.append(.failure(error))
                        if !db.isInsideTransaction { rolledBackMidway = true }
                    }
                }
            }
        } catch {
            // Nothing of the group was kept: every Push fails, those judged well too. A Push
            // that had failed already keeps its own error, the cause (a full disk met while
            // judging it), not the commit's echo of it. When SQLite rolled the transaction
            // back while one was judged, those judged well before it are told that a later
            // error undid them, not SQLite's "transaction was aborted", and never what that
            // error was: it may name another department's records. Otherwise the COMMIT itself
            // failed, and its error is the answer of every Push judged well.
            results = group.indices.map { index in
                if index < results.count, case .failure = results[index] { return results[index] }
                guard rolledBackMidway else { return .failure(error) }
                return .failure(
                    StoreError.io(
                        "this Push was judged, but the transaction of its commit group was rolled back by a later error in another Push; nothing of it was kept: the site sends it again at its next sync"
                    ))
            }
        }
        for (job, result) in zip(group, results) { job.answer(result) }
    }
}
