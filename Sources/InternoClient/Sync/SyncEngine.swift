import Foundation
import InternoModel
import InternoStore
import InternoWire

/// What a sync did.
public struct SyncReport: Codable, Equatable, Sendable {
    /// Change sets the server accepted.
    public var accepted = 0
    /// Change sets the server already had (a previous sync's answer was lost).
    public var duplicates = 0
    /// Change sets waiting for a change the server lacks; offered again next time.
    public var deferred = 0
    /// Change sets the server refused, with reasons; `interno status` keeps showing them.
    public var refused: [RefusedSet] = []
    /// Changes pulled and applied here.
    public var pulled = 0
    /// Changes pulled that this site already had.
    public var alreadyHad = 0
    /// Own changes sent again because the server no longer held them.
    public var requeued = 0
    /// The server's latest sequence number.
    public var serverSequence: Int64 = 0
    /// The server no longer had the point of its stream this site had reached (it was restored
    /// from a backup): this site pulled everything again (DESIGN §3.9).
    public var serverRestored = false
    /// Own changes that took new counters because the server held theirs with other content
    /// (this site was restored from a backup and wrote again): how many change sets.
    public var renumberedSets = 0
    /// Requests of this site's whose keys changed with them.
    public var renumbered: [RenumberedRequest] = []
    /// Records deleted from this site because they are outside its scope (DESIGN §6.1): only
    /// on the first sync with a server that scopes what each site receives.
    public var removedOutOfScope = 0

    /// One refused change set.
    public struct RefusedSet: Codable, Equatable, Sendable {
        /// Its first counter.
        public var firstCounter: UInt64
        /// The refusal code (`Refusal.Code`).
        public var code: Int
        /// Why.
        public var reason: String
    }
}

/// Progress of a running sync, for a terminal.
public enum SyncProgress: Sendable {
    /// Pushing: change sets sent so far, of how many queued.
    case pushing(sent: Int, of: Int)
    /// Pulling: the cursor reached, of the server's latest sequence.
    case pulling(cursor: Int64, of: Int64)
}

/// Where a server listens, as a person types it: `HOST:PORT`, `[IPV6]:PORT`.
public struct ServerAddress: Equatable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    /// Parses `text`; the error says what a good one looks like.
    public init(_ text: String) throws(ClientError) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65_535).contains(port)
        else {
            throw .invalidInput("'\(text)' is not HOST:PORT, e.g. interno-2.example.org:7443")
        }
        let host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard !host.isEmpty, !host.contains(where: \.isWhitespace) else {
            throw .invalidInput("'\(text)' names no host; write HOST:PORT, e.g. interno-2.example.org:7443")
        }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// The site's side of the protocol: Hello, push the outbox, pull the stream (DESIGN §5).
///
/// Every step is safe to repeat: the server recognises a pushed set it already has, and a
/// pulled batch is applied together with the cursor in one transaction, so a connection that
/// breaks anywhere loses nothing and repeats nothing.
public struct SyncEngine: Sendable {
    let store: SiteStore
    let settings: SiteHome.Settings
    let connection: ServerConnection

    /// The engine of the site in `home`, giving up on any step that takes longer than
    /// `timeouts` allows. It connects to the server in the site's bundle, or to `server`
    /// (`interno sync --server`: another instance of the server, or a server that moved),
    /// whose certificate must be from the same CA and for the same name as always.
    public init(home: SiteHome, timeouts: SyncTimeouts = .standard, server: ServerAddress? = nil) throws {
        settings = try home.settings()
        store = try home.store()
        let material = try home.tlsMaterial()
        connection = ServerConnection(
            host: server?.host ?? settings.host, port: server?.port ?? settings.port, name: settings.host,
            sslContext: try ServerConnection.context(
                caPEM: material.ca, certificatePEM: material.certificate, keyPEM: material.key),
            timeouts: timeouts)
    }

    /// Syncs once: pushes everything queued, then pulls everything new.
    public func sync(progress: @Sendable (SyncProgress) -> Void = { _ in }) async throws -> SyncReport {
        try await withConnection { connection in try await connection.sync(progress: progress) }
    }

    /// Opens one connection, says Hello once, and lets `body` run as many sync rounds as it
    /// wants over it: a warm connection, with no TLS handshake or Hello per round.
    public func withConnection<Result: Sendable>(_ body: (SyncConnection) async throws -> Result) async throws
        -> Result
    {
        let replica = try await store.background { try $0.replica() }
        return try await connection.withConversation { conversation in
            let hello = Hello(
                protocolVersion: WireLimits.protocolVersion, replica: replica.id, schemaVersion: Schema.version,
                cursor: replica.cursor, cursorEpoch: replica.cursorEpochValue, clientTime: .now(),
                clientVersion: InternoVersion.string)
            var frame = Interno_V1_Frame()
            frame.body = .hello(Interno_V1_Hello(hello))
            guard case .welcome(let message) = try await conversation.exchange(frame).body else {
                throw ClientError.protocolError("the server did not answer Hello with Welcome")
            }
            guard message.protocolVersion == WireLimits.protocolVersion else {
                throw ClientError.protocolError(
                    "the server speaks protocol version \(message.protocolVersion), this client \(WireLimits.protocolVersion): upgrade the older side"
                )
            }
            let welcome: Welcome
            do { welcome = try message.model() } catch {
                throw ClientError.protocolError("the server's Welcome is malformed: \(error)")
            }
            guard let joined = UUID(text: settings.serverID), welcome.server.uuid == joined else {
                throw ClientError.identity(
                    "this is not the server this site joined (its id differs): check the address in site.json")
            }
            // Keep only what this site may see: the server says so, from its registry. Then,
            // for a server or a site restored from a backup, see what the other side holds
            // first. One call to the store for both, as for every step of a sync that can.
            let (scope, position) = (welcome.scope, welcome.position)
            let (removed, prepared) = try await store.background { store in
                let removed = try scope.map { try store.adopt(scope: $0) } ?? 0
                return (
                    removed,
                    try store.prepare(heldCounters: position.heldCounters, cursorReset: !position.cursorValid)
                )
            }
            return try await body(
                SyncConnection(
                    engine: self, conversation: conversation, welcome: welcome, prepared: prepared, removed: removed))
        }
    }
}

/// An open, greeted connection to the server: each `sync` is one round of push and pull.
public final class SyncConnection {
    let engine: SyncEngine
    let conversation: ServerConnection.Conversation
    let welcome: Welcome
    private var prepared: WelcomeSummary?
    private var removed: Int
    /// The counters of the sets the server accepted in this round: a Pull asks it not to send
    /// them back (Protocol §5.4).
    private var accepted: [ClosedRange<UInt64>] = []

    init(
        engine: SyncEngine, conversation: ServerConnection.Conversation, welcome: Welcome,
        prepared: WelcomeSummary, removed: Int
    ) {
        self.engine = engine
        self.conversation = conversation
        self.welcome = welcome
        self.prepared = prepared
        self.removed = removed
    }

    /// One round: pushes everything queued, then pulls everything new.
    ///
    /// When the server holds counters this site's outbox uses (a restore, or an answer that
    /// was lost), it pulls first: what the server holds with other content is then set aside
    /// and comes back renumbered before anything is pushed (DESIGN §3.9).
    public func sync(progress: (SyncProgress) -> Void = { _ in }) async throws -> SyncReport {
        var report = SyncReport()
        report.serverSequence = welcome.position.latestSequence
        report.removedOutOfScope = removed
        removed = 0
        accepted = []
        if let prepared {
            report.requeued = prepared.requeued
            report.serverRestored = prepared.cursorReset
            if prepared.pullFirst {
                _ = try await pull(report: &report, progress: progress, completing: false)
            }
            self.prepared = nil
        }
        var replica = try await push(report: &report, progress: progress)
        var completed = try await pull(report: &report, progress: progress, completing: true, from: replica)
        // Renumbered during the last pull (rare: the first pull is what finds them): push them too.
        if report.renumberedSets > 0, try await engine.store.background({ try $0.pendingChangeSetCount() }) > 0 {
            replica = try await push(report: &report, progress: progress)
            completed = try await pull(report: &report, progress: progress, completing: true, from: replica)
        }
        // Nearly always the last pulled batch has recorded it, in the same transaction.
        if !completed {
            let serverID = engine.settings.serverID
            try await engine.store.background { try $0.markSynced(at: .now(), serverEpoch: serverID) }
        }
        return report
    }

    /// The most changes one `Push` holds, in whole sets (a larger first set goes alone): what
    /// a `Pull` brings at most (Protocol §5.3, batching). Bounded by sets and bytes alone, a
    /// site with sets of 100 changes read 2000 of them (its whole queue, up to 200 000
    /// changes) to send the tens of thousands one frame holds, and the server decoded and
    /// judged them in one Push: pushing 100 000 requests peaked at 325 MB of memory, against
    /// 92 MB in Pushes of 5000 changes, at the same speed (DESIGN §9).
    static let maximumPushChanges = 5_000

    /// Pushes every queued set, a page of them per Push, and returns the site's replica row as
    /// it stands after the last push's results are recorded, for the pull that follows.
    ///
    /// Each call to the store does what the next step needs: the first reads the first page
    /// (and counts the queue only when sets wait after it); while the server judges a Push,
    /// one call records the last Push's results and reads the next page, and the next Push is
    /// encoded and sent before this one's answer is read, so the server decodes it while it
    /// judges (Protocol §5.1); once a Push carried the end of the queue, one call records its
    /// results and reads the replica row.
    ///
    /// The Pushes and their order are what they would be one after the other (Protocol §5.3):
    /// the next page is the sets after the last one sent, and recording a Push's results
    /// changes only its own sets' rows, never which sets come after them or what they hold.
    private func push(report: inout SyncReport, progress: (SyncProgress) -> Void) async throws -> ReplicaRow {
        let store = engine.store
        let maximumSets = max(1, welcome.maximumPushSets)
        let maximumChanges = Self.maximumPushChanges
        let first = try await store.background { store in
            let page = try store.pushPage(after: 0, limit: maximumSets, maximumChanges: maximumChanges)
            let total = page.more ? try store.pendingChangeSetCount() : page.sets.count
            return (page: page, total: total, replica: page.sets.isEmpty ? try store.replica() : nil)
        }
        if let replica = first.replica { return replica }
        // Leave room in the frame for the envelope: fill at most half of it.
        let byteBudget = max(1, welcome.maximumFrameBytes / 2)
        /// A Push ready to go: its sets, and its frame in bytes.
        typealias Prepared = (sets: [ChangeSet], request: ServerConnection.Conversation.Outgoing)
        /// The next Push: as many of `page`'s sets as the byte budget allows.
        func next(of page: [ChangeSet]) -> Prepared {
            var push = Interno_V1_Push()
            var bytes = 0
            for set in page {
                let size = set.estimatedWireSize
                if !push.sets.isEmpty, bytes + size > byteBudget { break }
                push.sets.append(Interno_V1_ChangeSet(set))
                bytes += size
            }
            var frame = Interno_V1_Frame()
            frame.body = .push(push)
            return (Array(page.prefix(push.sets.count)), .init(frame))
        }
        var (pending, more) = (first.page.sets, first.page.more)
        var (sets, request) = next(of: pending)
        // The results of the last answered Push, recorded while the server judges the next.
        var answered: [(firstCounter: UInt64, outcome: PushOutcome)] = []
        var sent = 0
        try await conversation.send(request)
        while true {
            // A page with nothing after it, sent whole, was the end of the queue when it was read.
            let last = !more && sets.count == pending.count
            let after = sets.last!.lastCounter
            // While the server judges this Push: the last one's results recorded, the next
            // page read, and the next Push sent, so the server reads it while it judges
            // (Protocol §5.3). It holds later sets than this one; what this one's answer says
            // changes only this one's rows.
            let (answer, following) = try await conversation.answer {
                () async throws -> (sets: [ChangeSet], more: Bool, push: Prepared?) in
                let recording = answered
                // A queue one Push takes whole: nothing to do meanwhile, no call to make.
                if recording.isEmpty, last { return ([], false, nil) }
                let page = try await store.background { store in
                    if !recording.isEmpty { try store.recordPushResults(recording) }
                    guard !last else { return (sets: [ChangeSet](), more: false) }
                    let page = try store.pushPage(after: after, limit: maximumSets, maximumChanges: maximumChanges)
                    return (page.sets, page.more)
                }
                let push = page.sets.isEmpty ? nil : next(of: page.sets)
                if let push { try await conversation.send(push.request) }
                return (page.sets, page.more, push)
            }
            answered = []
            guard case .pushResult(let result) = answer.body else {
                throw ClientError.protocolError("the server did not answer Push with PushResult")
            }
            let outcomes = try Self.outcomes(of: result, for: sets, report: &report)
            // Accepted, not duplicate: the server logged exactly what this site holds.
            for (set, (_, outcome)) in zip(sets, outcomes) where outcome == .accepted {
                accepted.append(set.firstCounter...set.lastCounter)
            }
            sent += sets.count
            progress(.pushing(sent: sent, of: max(first.total, sent)))
            guard let push = following.push else {
                return try await store.background { store in
                    try store.recordPushResults(outcomes)
                    return try store.replica()
                }
            }
            answered = outcomes
            (pending, more) = (following.sets, following.more)
            (sets, request) = push
        }
    }

    /// What the server's `PushResult` says of each pushed set (Protocol §4.4), counted into
    /// `report`; a protocol error if the answer does not match the sets or is malformed.
    static func outcomes(
        of result: Interno_V1_PushResult, for sets: [ChangeSet], report: inout SyncReport
    ) throws -> [(firstCounter: UInt64, outcome: PushOutcome)] {
        guard result.results.count == sets.count,
            zip(result.results, sets).allSatisfy({ $0.firstCounter == $1.firstCounter })
        else {
            throw ClientError.protocolError("the server's PushResult does not match the sets pushed")
        }
        var outcomes: [(firstCounter: UInt64, outcome: PushOutcome)] = []
        for answer in result.results {
            let outcome: PushOutcome
            switch answer.status {
            case .accepted:
                outcome = .accepted
                report.accepted += 1
            case .duplicate:
                outcome = .duplicate
                report.duplicates += 1
            case .deferred:
                // A DEFERRED answer names the dot the server lacks: the site waits for it.
                guard let replica = try? UUID(wire: answer.missingReplica, field: "missing_replica") else {
                    throw ClientError.protocolError(
                        "the server deferred a pushed set without naming, in 16 bytes, the replica it waits for")
                }
                outcome = .deferred(missing: Dot(replica: ReplicaID(replica), counter: answer.missingCounter))
                report.deferred += 1
            case .refused:
                outcome = .refused(answer.refusal.model, kept: answer.keptCounters)
                report.refused.append(
                    .init(
                        firstCounter: answer.firstCounter, code: Int(answer.refusal.code),
                        reason: answer.refusal.reason))
            case .unspecified, .UNRECOGNIZED:
                throw ClientError.protocolError("the server answered a pushed set with an unknown status")
            }
            outcomes.append((answer.firstCounter, outcome))
        }
        return outcomes
    }

    /// Pulls until the server has nothing more. `completing`: this pull ends the sync, and its
    /// last batch records that (``SiteStore/applyPulled(_:completingSyncWith:)``) unless own sets
    /// were set aside; returns whether it did. `read`: the replica row as the store's last call
    /// left it, when that call read it; otherwise the pull reads it.
    private func pull(
        report: inout SyncReport, progress: (SyncProgress) -> Void, completing: Bool, from read: ReplicaRow? = nil
    ) async throws -> Bool {
        let store = engine.store
        let replica: ReplicaRow
        if let read { replica = read } else { replica = try await store.background { try $0.replica() } }
        var cursor = replica.cursor
        let own = OwnSets(of: replica.id, accepted).ranges.prefix(OwnSets.maximumRanges)
        let limit = max(1, welcome.maximumPullChanges)
        var completed = false
        var setAside = 0
        func request(after cursor: Int64) -> Interno_V1_Frame {
            var pull = Interno_V1_Pull()
            pull.cursor = cursor
            pull.limit = UInt32(limit)
            // The sets the server accepted on this connection: not sent back (Protocol §5.4).
            pull.ownSets = own.map(Interno_V1_CounterRange.init)
            var frame = Interno_V1_Frame()
            frame.body = .pull(pull)
            return frame
        }
        var answer = try await conversation.exchange(request(after: cursor))
        while true {
            guard case .changes(let changes) = answer.body else {
                throw ClientError.protocolError("the server did not answer Pull with Changes")
            }
            guard changes.nextCursor >= cursor else {
                throw ClientError.protocolError("the server's cursor went backwards")
            }
            let apply = { () async throws -> PullSummary in
                let sets: [ChangeSet]
                do { sets = try changes.sets.map { try $0.model(consecutive: false) } } catch {
                    throw ClientError.protocolError("the server sent a malformed change set: \(error)")
                }
                do {
                    let batch = ChangeBatch(
                        sets: sets, nextCursor: changes.nextCursor, more: changes.more,
                        cursorEpoch: changes.cursorEpoch)
                    let epoch = completing && !changes.more ? self.engine.settings.serverID : nil
                    return try await store.background { try $0.applyPulled(batch, completingSyncWith: epoch) }
                } catch let error as StoreError {
                    throw ClientError.protocolError(
                        "a pulled batch could not be applied (\(error)); nothing of it was kept")
                }
            }
            let summary: PullSummary
            if changes.more {
                // The next Pull goes out before this batch is applied: the server reads and
                // sends the next batch while this site writes this one (Protocol §5.4, cursor
                // rules 2–5). What it answers depends only on the cursor and the own sets,
                // never on this apply.
                (answer, summary) = try await conversation.exchange(
                    .init(request(after: changes.nextCursor)), meanwhile: apply)
            } else {
                summary = try await apply()
            }
            report.pulled += summary.applied
            report.alreadyHad += summary.alreadyHad
            completed = summary.completedSync
            setAside = summary.setAsideSets
            cursor = changes.nextCursor
            progress(.pulling(cursor: cursor, of: max(cursor, report.serverSequence)))
            if !changes.more { break }
        }
        // What stepped aside for the server's own versions comes back under new counters.
        if setAside > 0 {
            report.renumbered += try await store.background { try $0.restoreSetAside() }
            report.renumberedSets += setAside
        }
        return completed
    }
}
