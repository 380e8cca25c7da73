import Foundation

/// A change as a log holds it: the change, and the counters of the change set it came in.
public struct LoggedChange: Hashable, Sendable {
    /// The change; a refused one carries its refusal and keeps its content.
    public var change: Change
    /// The counters of its change set.
    public var set: ClosedRange<UInt64>

    /// A logged change.
    public init(change: Change, set: ClosedRange<UInt64>) {
        self.change = change
        self.set = set
    }
}

/// What a ``Judge`` reads of a database: the state before the batch it judges. The store
/// answers from its tables, loading what a batch needs in a few set-based queries before the
/// judging starts; the judge decides, and the store writes what it decided (DESIGN §4).
public protocol JudgingSource: AnyObject {
    /// The state of record `id`; `nil` if nothing of it is held.
    func record(_ id: UUID) throws -> RecordState?
    /// The logged change with `dot`, applied or void; `nil` if none.
    func logged(_ dot: Dot) throws -> LoggedChange?
    /// Every logged change of record `id`, in log order.
    func log(ofRecord id: UUID) throws -> [Change]
    /// `true` if a department with `code` exists.
    func hasDepartment(code: String) throws -> Bool
    /// The request with `key`, if one exists.
    func request(withKey key: String) throws -> UUID?
    /// The audiences of the changes logged for record `id`, in log order.
    func audiences(ofRecord id: UUID) throws -> [Audience]
}

/// Why a ``Judge`` did not take a change.
public enum JudgeError: Error, Equatable, Sendable {
    /// The change breaks a rule: it is refused, with the reason.
    case refused(Refusal)
    /// The change cannot apply yet (a change it depends on is missing) or names the wrong record.
    case outOfOrder(ApplyError)
    /// The parties of a record cannot be told from the database: it is damaged.
    case unknownParties(RecordKind, UUID)
}

/// Who receives a change the judge logs (DESIGN §6.1).
public enum LoggedAudience: Sendable, Hashable {
    /// Nobody is handed changes from here: a site's database.
    case none
    /// The parties of the record the change leaves: an accepted change on the server.
    case derived
    /// These departments: a void, whose record may not exist.
    case given(Audience)
}

/// One change to append to the log, with who receives it (`nil`: nobody is handed it).
public struct JudgedEntry: Hashable, Sendable {
    /// The change, a void when refused.
    public var change: Change
    /// The counters of its change set.
    public var set: ClosedRange<UInt64>
    /// Who receives it, on a server.
    public var audience: Audience?
}

/// What a judge's batch did, in memory: the states and log entries it added over the source.
/// Outside the generic ``Judge``, so that reading and merging it needs no type metadata
/// looked up at run time for each source's judge.
struct JudgeLayer {
    var records: [UUID: RecordState] = [:]
    var logged: [Dot: LoggedChange] = [:]
    var logs: [UUID: [Change]] = [:]
    var audiences: [UUID: [Audience]] = [:]
    var codes: Set<String> = []
    /// Keyed by bytes, as the database compares keys (``KeyBytes``).
    var keys: [KeyBytes: UUID] = [:]
    var appended: [JudgedEntry] = []

    mutating func absorb(_ other: JudgeLayer) {
        records.merge(other.records) { _, new in new }
        logged.merge(other.logged) { _, new in new }
        for (id, changes) in other.logs { logs[id, default: []] += changes }
        for (id, audiences) in other.audiences { self.audiences[id, default: []] += audiences }
        codes.formUnion(other.codes)
        keys.merge(other.keys) { _, new in new }
        appended += other.appended
    }

    /// Empties the layer and keeps its tables' room, for the next set a Push stages: a Push
    /// of many small sets would otherwise allocate them all again for each.
    mutating func clear() {
        records.removeAll(keepingCapacity: true)
        logged.removeAll(keepingCapacity: true)
        logs.removeAll(keepingCapacity: true)
        audiences.removeAll(keepingCapacity: true)
        codes.removeAll(keepingCapacity: true)
        keys.removeAll(keepingCapacity: true)
        appended.removeAll(keepingCapacity: true)
    }
}

/// The rules that decide what becomes of a write (DESIGN §3.3–§3.6, §6), in one place, in
/// memory: a site's local write, a server's Push and a change applied as a writer are judged
/// here, against the state a ``JudgingSource`` reads and what the batch itself did before.
///
/// A judge reads nothing but its source and writes nothing: what it decided accumulates as
/// the log entries to append, in order (``appended``), and the record states they leave
/// (``records()``). A store opens one per transaction, judges the whole batch, then writes
/// the result in bulk; a refusal or a throw leaves the source exactly as it was.
///
/// Within a Push each set is judged on its own, all or nothing: its effects are staged apart
/// and join the batch only if it is accepted, so a refused set leaves only its voids.
public final class Judge<Source: JudgingSource> {
    /// One change to append to the log, with who receives it (`nil`: nobody is handed it).
    public typealias Entry = JudgedEntry
    typealias Layer = JudgeLayer

    /// What the judge reads.
    public let source: Source
    private var batch = Layer()
    private var staged = Layer()
    /// `true` while a pushed set is judged: what it does goes to `staged`, to join the batch
    /// only if the set is accepted. Everything else goes straight to the batch: a pulled or
    /// local change that fails fails the whole transaction, so it needs no layer of its own.
    private var staging = false
    private var lookupError: (any Error)?

    /// A judge of one batch over `source`, with room for `changes` changes made at once:
    /// tables grown change by change rehash everything they hold at each doubling.
    public init(_ source: Source, expecting changes: Int = 0) {
        self.source = source
        guard changes > 0 else { return }
        batch.records.reserveCapacity(changes)
        batch.logged.reserveCapacity(changes)
        batch.logs.reserveCapacity(changes)
        batch.appended.reserveCapacity(changes)
    }

    // MARK: Results

    /// The log entries the batch appends, in order (staged work included).
    public var appended: [Entry] {
        commit()
        return batch.appended
    }

    /// How many log entries the batch appends so far, staged work included.
    public var appendedCount: Int { batch.appended.count + staged.appended.count }

    /// Every record the batch changed, in id order, with the timeline to store with a request
    /// (DESIGN §4): from the batch's changes alone when the record is new, from its whole log
    /// when a change of the batch writes what a timeline reads (`state`, `key`) or is void, or
    /// when the record did not exist before; `nil`, the stored one unchanged, otherwise.
    public func records() throws -> [(record: RecordState, timeline: RequestTimeline?)] {
        commit()
        // In id order, the order of the tables' keys (byte order is the order of the ids' text).
        return try batch.records.values.sorted { $0.id.lexicographicallyPrecedes($1.id) }.map { record in
            (record, try timeline(of: record))
        }
    }

    private func timeline(of record: RecordState) throws -> RequestTimeline? {
        guard record.kind == .request, record.exists else { return nil }
        let changes = batch.logs[record.id] ?? []
        guard let original = try source.record(record.id) else { return RequestTimeline(log: changes) }
        let reads = changes.contains { $0.isVoid || $0.fields["state"] != nil || $0.fields["key"] != nil }
        guard reads || !original.exists else { return nil }
        return RequestTimeline(log: try source.log(ofRecord: record.id) + changes)
    }

    // MARK: What the batch decided

    /// The state the batch left record `id` in, if the batch changed it; `nil` if it did not.
    /// Read after ``records()`` or ``appended``, which take the staged work in: the source of
    /// the next batch, judged while this one is written, reads it (DESIGN §4).
    public func decidedRecord(_ id: UUID) -> RecordState? { batch.records[id] }

    /// The change with `dot` if the batch logs it; read as ``decidedRecord(_:)`` is.
    public func decidedLogged(_ dot: Dot) -> LoggedChange? { batch.logged[dot] }

    /// The request the batch gives `key`, if any; read as ``decidedRecord(_:)`` is.
    public func decidedRequest(withKey key: String) -> UUID? { batch.keys[KeyBytes(key)] }

    // MARK: Reading through the batch

    /// The state of record `id` as the batch left it.
    public func record(_ id: UUID) throws -> RecordState? {
        if let record = staged.records[id] ?? batch.records[id] { return record }
        return try source.record(id)
    }

    /// The logged change with `dot`, as the batch left the log.
    public func logged(_ dot: Dot) throws -> LoggedChange? {
        if let logged = staged.logged[dot] ?? batch.logged[dot] { return logged }
        return try source.logged(dot)
    }

    func log(ofRecord id: UUID) throws -> [Change] {
        try source.log(ofRecord: id) + (batch.logs[id] ?? []) + (staged.logs[id] ?? [])
    }

    func firstVoid(ofRecord id: UUID) throws -> Refusal? {
        try log(ofRecord: id).lazy.compactMap(\.refusal).first
    }

    /// Every record, whatever the scope. A read error is kept for ``rethrowLookup()``: the
    /// schema's lookups cannot throw.
    var anyRecord: Schema.Lookup {
        { [unowned self] _, id in load(id) }
    }

    /// The records `scope` covers; others look absent (DESIGN §6.1).
    func scoped(_ scope: Scope) -> Schema.Lookup {
        { [unowned self] _, id in
            guard let record = load(id) else { return nil }
            guard record.exists else { return record }
            return scope.covers(record, lookup: anyRecord) ? record : nil
        }
    }

    private func load(_ id: UUID) -> RecordState? {
        do { return try record(id) } catch {
            lookupError = lookupError ?? error
            return nil
        }
    }

    private func rethrowLookup() throws {
        if let error = lookupError {
            lookupError = nil
            throw error
        }
    }

    private func commit() {
        guard !staged.appended.isEmpty || !staged.records.isEmpty else { return }
        batch.absorb(staged)
        staged.clear()
    }

    // MARK: Local writes and writes as a writer

    /// Judges a change written by this replica's writer (or applied as `writer`) against
    /// `seen`, what it had seen of the record, and takes it into the batch: the checks of
    /// ``check(_:by:seen:pusherCode:scope:receivedAt:)``, then ``ingest(_:set:into:audience:)``
    /// onto the record's current state.
    public func write(
        _ change: Change, set: ClosedRange<UInt64>, by writer: Writer, seen: RecordState, pusherCode: String?,
        receivedAt: Timestamp, audience: LoggedAudience, seesAll: Bool = false
    ) throws {
        try check(
            change, by: writer, seen: seen, pusherCode: pusherCode, scope: .all, receivedAt: receivedAt,
            seesAll: seesAll)
        let current = try record(change.recordID) ?? RecordState(kind: change.kind, id: change.recordID)
        try ingest(change, set: set, into: current, audience: audience)
        commit()
    }

    /// What a write of `fields` to a record of `kind` requires of other records (DESIGN §3.3):
    /// the clock, as dots, of every record its reference fields name, as the batch has it
    /// now. Departments are left out: the server writes them itself, so no site could bring
    /// back one it lost, and a request needs only that its departments exist, which the
    /// schema checks.
    public func requirements(of kind: RecordKind, _ fields: [FieldName: FieldValue]) throws -> [Dot] {
        let spec = Schema.spec(kind)
        var dots: [Dot] = []
        for (name, value) in fields {
            guard case .reference(let referenced) = spec.field(name)?.type, referenced != .department,
                let id = value.id, let record = try record(id)
            else { continue }
            dots += record.clock.sortedEntries.map { Dot(replica: $0.replica, counter: $0.counter) }
        }
        return dots
    }

    /// Applies a change set checked as `writer`, all or nothing: every change against what its
    /// writer had seen, the schema and the database's rules. Throws on the first problem;
    /// the caller drops the batch.
    public func apply(_ set: ChangeSet, as writer: Writer, pusherCode: String?, receivedAt: Timestamp) throws {
        let range = set.firstCounter...set.lastCounter
        for change in set.changes {
            let current = try record(change.recordID) ?? RecordState(kind: change.kind, id: change.recordID)
            if let missing = current.clock.firstMissing(of: change.context) {
                throw JudgeError.outOfOrder(.causalityGap(change: change.dot, missing: missing))
            }
            let seen = try view(of: change, current: current)
            try check(change, by: writer, seen: seen, pusherCode: pusherCode, scope: .all, receivedAt: receivedAt)
            try ingest(change, set: range, into: current, audience: .derived)
        }
        commit()
    }

    // MARK: What the server logged

    /// What a site does with a change it pulled (Protocol §5.4, "Applying a pulled change").
    public enum Pulled: Equatable, Sendable {
        /// Take it in (``take(_:set:)``): it is new here, or the record already covers it.
        case take
        /// One of this site's own changes, held here with the same content.
        case alreadyHad
        /// The void of one of this site's own changes that it holds as accepted: the server
        /// refused it, and the answer may never have reached the site. The set that starts
        /// at `firstCounter` is refused.
        case refusalOfOwn(firstCounter: UInt64, Refusal)
        /// The void of one of its own changes that it already holds as refused.
        case knownRefusal
        /// The site was restored from a backup and wrote again what the server holds other
        /// content under: its own change set holding `counter`, and every later one, step
        /// aside, to come back renumbered once the server's changes are in (DESIGN §3.9). Either
        /// the server holds that very counter with other content (the site reused it), or this
        /// change raises a request under a key that a request of the site's, not yet pushed,
        /// holds here (the site reused a number that an earlier heal gave away).
        case stepAside(counter: UInt64)
    }

    /// What the site `me` does with `change`, pulled from the server.
    public func pulled(_ change: Change, by me: ReplicaID) throws -> Pulled {
        guard change.dot.replica == me else { return .take }
        guard let mine = try logged(change.dot) else {
            return try keyTaken(by: change, me).map { .stepAside(counter: $0) } ?? .take
        }
        if change.isVoid, change.stands(forVoidOf: mine.change) {
            guard mine.change.refusal == nil, let refusal = change.refusal else { return .knownRefusal }
            return .refusalOfOwn(firstCounter: mine.set.lowerBound, refusal)
        }
        if !change.isVoid, mine.change.hasSameContent(as: change) { return .alreadyHad }
        return .stepAside(counter: change.dot.counter)
    }

    /// The counter of the own write that raised, under the key `change` raises a request
    /// with, another request here; `nil` if there is none. The server never holds two requests
    /// with one key, so that write is one it does not hold: a site restored from a copy taken
    /// before an earlier heal renumbered its keys (DESIGN §3.9) handed that number out again.
    private func keyTaken(by change: Change, _ me: ReplicaID) throws -> UInt64? {
        guard change.kind == .request, !change.isVoid, let key = change.fields["key"]?.text,
            let holder = try request(withKey: key), holder != change.recordID
        else { return nil }
        return try log(ofRecord: holder).first {
            $0.dot.replica == me && $0.refusal == nil
                && $0.fields["key"]?.text.map { KeyBytes($0) == KeyBytes(key) } == true
        }?.dot.counter
    }

    /// Takes in a change the server logged (a site's pull, DESIGN §3.2), unjudged: the server
    /// judged it. Applied onto its record unless the record already covers it.
    /// - Returns: `true` if it was applied, `false` if the record already had it.
    @discardableResult
    public func take(_ change: Change, set: ClosedRange<UInt64>) throws -> Bool {
        let record = try record(change.recordID) ?? RecordState(kind: change.kind, id: change.recordID)
        guard !record.clock.covers(change.dot) else { return false }
        try ingest(change, set: set, into: record, audience: .none)
        commit()
        return true
    }

    // MARK: A server's Push

    /// Judges one pushed set as a whole (DESIGN §3.4, §3.9). Its changes may be new to the
    /// server, held already with the same content (an answer was lost, or the set was pushed
    /// before in other bounds), or held with other content (a counter reused: a site restored
    /// from a backup that has not healed). Whatever the mix, the set is never half applied,
    /// and every dot of the pusher's it names ends up held, applied or void, unless the set is
    /// deferred: so no later change that names one waits forever.
    public func push(_ set: ChangeSet, from pusher: Pusher, receivedAt: Timestamp) throws -> PushOutcome {
        commit()
        let range = set.firstCounter...set.lastCounter
        if let stranger = set.changes.first(where: { $0.dot.replica != pusher.replica }) {
            // Nothing is recorded: voiding another replica's dots would take its counters.
            return .refused(
                Refusal(
                    .malformed,
                    "change \(stranger.dot) was written by another replica; a site pushes only its own changes"))
        }
        let held = try set.changes.map { try logged($0.dot)?.change }
        let fresh = zip(set.changes, held).filter { $0.1 == nil }.map(\.0)
        // The counters of this set the server holds as accepted changes of this very content.
        let kept = zip(set.changes, held).compactMap { change, logged -> UInt64? in
            guard let logged, logged.refusal == nil, logged.hasSameContent(as: change) else { return nil }
            return change.dot.counter
        }
        if let (change, _) = zip(set.changes, held).first(where: { change, logged in
            logged.map { !$0.hasSameContent(as: change) } ?? false
        }) {
            let refusal = Refusal(
                .malformed,
                "change \(change.dot) was already received with other content; a counter must never be reused")
            try recordVoids(of: fresh, set: range, refusal, from: pusher)
            return .refused(refusal, kept: kept)
        }
        if let refusal = held.lazy.compactMap({ $0?.refusal }).first {
            // A refused set pushed again gets the same answer, whole.
            try recordVoids(of: fresh, set: range, refusal, from: pusher)
            return .refused(refusal, kept: kept)
        }
        guard !fresh.isEmpty else { return .duplicate }
        // What the server does not hold yet is judged as the rest of the set: the held part
        // is already applied, exactly as written.
        do {
            staging = true
            defer { staging = false }
            try stage(fresh, set: range, from: pusher, receivedAt: receivedAt)
            commit()
            return .accepted
        } catch JudgeError.refused(let refusal) {
            staged.clear()
            // The refusal is recorded as voids (DESIGN §3.4); the refused content is kept in the
            // log so a repeat push can be recognised.
            try recordVoids(of: fresh, set: range, refusal, from: pusher)
            return .refused(refusal, kept: kept)
        } catch JudgeError.outOfOrder(.causalityGap(_, let missing)) {
            staged.clear()
            return .deferred(missing: missing)
        } catch {
            staged.clear()
            throw error
        }
    }

    /// Logs `changes` as voids with `refusal`, each for whoever may see its record
    /// (``voidAudience(of:from:)``); a change whose record the pusher may not see leaves no trace.
    private func recordVoids(
        of changes: [Change], set range: ClosedRange<UInt64>, _ refusal: Refusal, from pusher: Pusher
    ) throws {
        for change in changes {
            guard let audience = try voidAudience(of: change, from: pusher) else { continue }
            var void = change
            void.refusal = refusal
            let record = try record(change.recordID) ?? RecordState(kind: change.kind, id: change.recordID)
            try ingest(void, set: range, into: record, audience: .given(audience))
        }
        commit()
    }

    /// Who receives the void of a refused `change` (DESIGN §6.1): whoever may see its record.
    /// A refused creation of a request or standard goes to the pusher's department only (no
    /// one else knows the record); one of a comment or feedback to the parties of its request.
    /// `nil` when the pusher may not see the record or the request it names, or when the change
    /// edits a record the server never had: then nothing is recorded, since no change the
    /// pusher can ever have accepted depends on it.
    private func voidAudience(of change: Change, from pusher: Pusher) throws -> Audience? {
        let current = try record(change.recordID)
        if let current, current.exists {
            let audience = Schema.audience(of: current, lookup: anyRecord)
            try rethrowLookup()
            guard let audience, pusher.scope.covers(audience) else { return nil }
            return audience
        }
        switch Schema.partyRule(of: change.kind) {
        case .everyone, .departments:
            let creates = Schema.partyFields(of: change.kind).contains { change.fields[$0] != nil }
            guard creates || current != nil else { return nil }
            return .departments([pusher.department])
        case .sameAs:
            let audience = Schema.audience(of: change.kind, value: { change.fields[$0] }, lookup: anyRecord)
            try rethrowLookup()
            guard let audience, pusher.scope.covers(audience) else { return nil }
            return audience
        }
    }

    /// Checks and applies every change of a set pushed by `pusher`, logged as members of the
    /// change set spanning counters `range`, into the staged layer; throws on the first problem.
    private func stage(
        _ changes: [Change], set range: ClosedRange<UInt64>, from pusher: Pusher, receivedAt: Timestamp
    ) throws {
        for change in changes {
            let current = try record(change.recordID) ?? RecordState(kind: change.kind, id: change.recordID)
            // A record outside the pusher's scope is, to it, a record that does not exist: the
            // same refusal, before any check that could tell the two apart (DESIGN §6.1).
            if current.exists, !pusher.scope.covers(current, lookup: anyRecord) {
                try rethrowLookup()
                throw JudgeError.refused(Schema.noSuchRecord(change.kind, change.recordID, for: pusher.departmentCode))
            }
            try rethrowLookup()
            guard current.kind == change.kind else {
                throw JudgeError.refused(
                    Refusal(
                        .malformed,
                        "record \(change.recordID) is \(current.kind.withArticle), not \(change.kind.withArticle)"))
            }
            if current.clock.covers(change.dot) {
                throw JudgeError.refused(
                    Refusal(.malformed, "change \(change.dot) reuses a counter the server already has for this record"))
            }
            if let missing = current.clock.firstMissing(of: change.context) {
                if let elsewhere = try logged(missing), elsewhere.change.recordID != change.recordID {
                    guard current.exists else {
                        throw JudgeError.refused(
                            Schema.noSuchRecord(change.kind, change.recordID, for: pusher.departmentCode))
                    }
                    throw JudgeError.refused(
                        Refusal(
                            .malformed,
                            "the context of change \(change.dot) names \(missing), a change of another record"))
                }
                throw JudgeError.outOfOrder(.causalityGap(change: change.dot, missing: missing))
            }
            // What it was written against in other records: until the server holds it all (a
            // server restored from a backup gets it back from its writer), it waits (§3.3).
            for dot in change.requires where try logged(dot) == nil {
                throw JudgeError.outOfOrder(.causalityGap(change: change.dot, missing: dot))
            }
            // Fixed fields, the parties among them, never change once the record exists, not
            // even through a write that had seen nothing of it: a second creation may only
            // repeat them (two sites of one department rating a request offline).
            if current.exists {
                for field in Schema.spec(change.kind).fields where field.fixed {
                    guard let written = change.fields[field.name], written != current.value(of: field.name)
                    else { continue }
                    throw JudgeError.refused(
                        Refusal(
                            .immutable,
                            "the \(field.label) of this \(change.kind.rawValue) is fixed once it exists and cannot be written again with another value"
                        ))
                }
            }
            let seen = try view(of: change, current: current)
            try check(
                change, by: pusher.writer, seen: seen, pusherCode: pusher.code, scope: pusher.scope,
                receivedAt: receivedAt, seesAll: pusher.scope == .all)
            if !current.exists, !current.clock.isEmpty {
                try checkReuse(ofRefusedRecord: change)
            }
            try ingest(change, set: range, into: current, audience: .derived)
        }
    }

    /// A record id whose earlier writes were all refused may be created again only if every
    /// site that will see the record also received those voids: otherwise a later change whose
    /// context names them would wait forever where they never arrive. Feedback, whose id is
    /// derived from its request and side, passes (its voids went to the request's parties);
    /// requests and standards take a new id.
    private func checkReuse(ofRefusedRecord change: Change) throws {
        let audience = Schema.audience(of: change.kind, value: { change.fields[$0] }, lookup: anyRecord)
        try rethrowLookup()
        let earlier =
            try source.audiences(ofRecord: change.recordID) + (batch.audiences[change.recordID] ?? [])
            + (staged.audiences[change.recordID] ?? [])
        for reached in earlier {
            switch (reached, audience) {
            case (.everyone, _):
                continue
            case (.departments(let reached), .departments(let needed)) where needed.isSubset(of: reached):
                continue
            default:
                throw JudgeError.refused(
                    Refusal(
                        .duplicate,
                        "the id \(change.recordID.text) was taken by a refused write; a new \(change.kind.rawValue) takes a new id"
                    ))
            }
        }
    }

    /// The record as the writer of `change` saw it: the replay of the log its context covers.
    private func view(of change: Change, current: RecordState) throws -> RecordState {
        if change.context == current.clock { return current }
        if change.context.isEmpty { return RecordState(kind: change.kind, id: change.recordID) }
        let log = try log(ofRecord: change.recordID)
        do {
            return try RecordState.view(kind: change.kind, id: change.recordID, log: log, at: change.context)
        } catch {
            throw JudgeError.outOfOrder(error)
        }
    }

    // MARK: The checks and the log

    /// Checks a change the way both sites and the server do: the schema's rules against what
    /// the writer had seen, plus the rules only the whole database can judge (unique codes and
    /// keys, and edits of a record whose creation was refused).
    ///
    /// Records outside `scope` look absent to the checks, so a write that names one is refused
    /// exactly as if it did not exist (DESIGN §6.1).
    public func check(
        _ change: Change, by writer: Writer, seen: RecordState, pusherCode: String?, scope: Scope,
        receivedAt: Timestamp, seesAll: Bool = false
    ) throws {
        // A full creation may retry (feedback ids are derived, so a second try reuses the id);
        // anything less on a record whose creation was refused is refused in turn (DESIGN §3.4).
        let spec = Schema.spec(change.kind)
        let isCreation = spec.fields.allSatisfy { !$0.required || change.fields[$0.name].map { $0 != .null } == true }
        if !seen.exists, !isCreation, let void = try firstVoid(ofRecord: change.recordID) {
            throw JudgeError.refused(
                Refusal(
                    .creationRefused,
                    "the creation of this \(change.kind.rawValue) was refused (\(void.message)), so later edits of it are refused too"
                ))
        }
        do {
            try Schema.check(
                change, by: writer, seen: seen, lookup: scoped(scope), receivedAt: receivedAt, seesAll: seesAll)
        } catch {
            try rethrowLookup()
            throw JudgeError.refused(error)
        }
        try rethrowLookup()
        guard !seen.exists else { return }
        switch change.kind {
        case .department:
            if let code = change.fields["code"]?.text, try hasDepartment(code: code) {
                throw JudgeError.refused(Refusal(.duplicate, "a department with code \(code) already exists"))
            }
        case .request:
            guard let key = change.fields["key"]?.text else { return }
            // Bytes, not Swift's `==`: U+212A (Kelvin) must not pass for a K (Protocol §7.3).
            if let pusherCode, !key.utf8.starts(with: "\(pusherCode)-".utf8) {
                throw JudgeError.refused(
                    Refusal(.invalidValue, "request key \(key) must start with the site's code \(pusherCode)-"))
            }
            if try hasRequest(key: key) {
                throw JudgeError.refused(Refusal(.duplicate, "a request with key \(key) already exists"))
            }
        case .answer:
            // Anonymous inside the department: the site's code, never a person (DESIGN §7.8).
            if let pusherCode, !change.author.utf8.elementsEqual(pusherCode.utf8) {
                throw JudgeError.refused(
                    Refusal(
                        .invalidValue,
                        "an answer is anonymous: its author must be the site's code \(pusherCode) alone, never a person"
                    ))
            }
        default:
            break
        }
    }

    private func hasDepartment(code: String) throws -> Bool {
        try staged.codes.contains(code) || batch.codes.contains(code) || source.hasDepartment(code: code)
    }

    /// `true` if a request with `key` exists, the batch's own included.
    public func hasRequest(key: String) throws -> Bool {
        try request(withKey: key) != nil
    }

    /// The request with `key`, the batch's own included.
    public func request(withKey key: String) throws -> UUID? {
        try staged.keys[KeyBytes(key)] ?? batch.keys[KeyBytes(key)] ?? source.request(withKey: key)
    }

    /// Applies a checked change to `record` and logs it, with (on the server) its audience:
    /// a change the record already covers changes nothing.
    public func ingest(
        _ change: Change, set: ClosedRange<UInt64>, into record: RecordState, audience: LoggedAudience
    ) throws {
        var record = record
        do {
            guard try record.apply(change) == .applied else { return }
        } catch {
            throw JudgeError.outOfOrder(error)
        }
        // Everything that can throw comes before the layer changes, so a throw leaves it as it was.
        let receivers: Audience?
        switch audience {
        case .none:
            receivers = nil
        case .given(let given):
            receivers = given
        case .derived:
            let derived = Schema.audience(of: record, lookup: anyRecord)
            try rethrowLookup()
            guard let derived else { throw JudgeError.unknownParties(record.kind, record.id) }
            receivers = derived
        }
        if staging {
            Self.add(change, set: set, record: record, receivers: receivers, to: &staged)
        } else {
            Self.add(change, set: set, record: record, receivers: receivers, to: &batch)
        }
    }

    private static func add(
        _ change: Change, set: ClosedRange<UInt64>, record: RecordState, receivers: Audience?, to layer: inout Layer
    ) {
        layer.records[record.id] = record
        layer.logged[change.dot] = LoggedChange(change: change, set: set)
        layer.logs[record.id, default: []].append(change)
        if let receivers { layer.audiences[record.id, default: []].append(receivers) }
        layer.appended.append(Entry(change: change, set: set, audience: receivers))
        // What the uniqueness checks read: the codes and keys of records that now exist.
        guard !change.isVoid, record.exists else { return }
        if change.kind == .department, let code = change.fields["code"]?.text { layer.codes.insert(code) }
        if change.kind == .request, let key = change.fields["key"]?.text { layer.keys[KeyBytes(key)] = record.id }
    }
}
