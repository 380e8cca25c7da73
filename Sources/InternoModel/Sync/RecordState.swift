import Foundation

/// Why a change could not be applied to a record.
public enum ApplyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The change's context names a write this replica has not applied yet (DESIGN §3.3):
    /// applying it now would break causal order, so it must wait.
    case causalityGap(change: Dot, missing: Dot)
    /// The change is for another record than the one it was applied to.
    case wrongRecord(change: Dot)

    public var description: String {
        switch self {
        case .causalityGap(let change, let missing):
            "change \(change) depends on \(missing), which has not arrived yet; it will apply once that has"
        case .wrongRecord(let change):
            "change \(change) belongs to another record"
        }
    }
}

/// What applying a change did.
public enum ApplyOutcome: Equatable, Sendable {
    /// The change was new and is now part of the record.
    case applied
    /// The record's clock already covered the change's dot: nothing changed.
    case alreadySeen
}

/// One replicated record: its clock and, for every field, the set of concurrent values.
public struct RecordState: Hashable, Sendable {
    /// The record's kind.
    public let kind: RecordKind
    /// The record's id.
    public let id: UUID
    /// Every write this replica has seen of the record.
    public private(set) var clock: VersionVector
    /// For each field ever written, its siblings sorted by dot. Normally one.
    public private(set) var fields: [FieldName: [Sibling]]

    /// An empty record: nothing seen, nothing written.
    public init(kind: RecordKind, id: UUID) {
        self.kind = kind
        self.id = id
        self.clock = VersionVector()
        self.fields = [:]
    }

    /// A record restored from storage.
    public init(kind: RecordKind, id: UUID, clock: VersionVector, fields: [FieldName: [Sibling]]) {
        self.kind = kind
        self.id = id
        self.clock = clock
        self.fields = fields
    }

    /// `true` once any field has a value: a record whose only writes were refused does not exist.
    public var exists: Bool { !fields.isEmpty }

    /// Applies `change` exactly as DESIGN §3.3 says.
    ///
    /// Idempotent: a change whose dot the clock covers changes nothing. A change whose context
    /// names a write not yet applied throws ``ApplyError/causalityGap(change:missing:)`` and
    /// changes nothing. A void applies without its context: it only adds its dot.
    @discardableResult
    public mutating func apply(_ change: Change) throws(ApplyError) -> ApplyOutcome {
        // A void carries no fields, so it may advance any record's clock whatever kind it names:
        // a refused change that named the wrong kind must still be covered everywhere.
        guard change.recordID == id, change.kind == kind || change.isVoid else {
            throw .wrongRecord(change: change.dot)
        }
        if clock.covers(change.dot) { return .alreadySeen }
        if change.isVoid {
            clock.add(change.dot)
            return .applied
        }
        if let missing = clock.firstMissing(of: change.context) {
            throw .causalityGap(change: change.dot, missing: missing)
        }
        let context = change.context
        // A new record's fields, in one allocation rather than a table grown field by field.
        if fields.isEmpty { fields.reserveCapacity(change.fields.count) }
        for (name, value) in change.fields {
            Self.add(
                Sibling(dot: change.dot, value: value, author: change.author, at: change.at), over: context,
                to: &fields[name, default: []])
        }
        clock.merge(context)
        clock.add(change.dot)
        return .applied
    }

    /// Adds `sibling` to a field's `siblings`, dropping those `context` covers, in dot order.
    /// In place, through one access to the dictionary: the siblings are not copied out and
    /// back, and a lone sibling (a new field, or one the change overwrites) needs no sort.
    private static func add(_ sibling: Sibling, over context: VersionVector, to siblings: inout [Sibling]) {
        siblings.removeAll { context.covers($0.dot) }
        siblings.append(sibling)
        if siblings.count > 1 { siblings.sort { $0.dot < $1.dot } }
    }

    /// The siblings of `field`; empty if it was never written.
    public func siblings(_ field: FieldName) -> [Sibling] {
        fields[field] ?? []
    }

    /// The field's value under `policy`: a single value, a conflict, or unset.
    public func resolve(_ field: FieldName, policy: FieldPolicy) -> FieldResolution {
        policy.reduce(siblings(field))
    }

    /// Rebuilds a record from its log, in log order, applying every change in `voided` as a
    /// void instead (DESIGN §3.4: a site drops a refused change this way).
    public static func replay(
        kind: RecordKind,
        id: UUID,
        changes: some Sequence<Change>,
        voided: [Dot: Refusal] = [:]
    ) throws(ApplyError) -> RecordState {
        var record = RecordState(kind: kind, id: id)
        for change in changes {
            if let refusal = voided[change.dot], !change.isVoid {
                try record.apply(change.voided(refusal))
            } else {
                try record.apply(change)
            }
        }
        return record
    }

    /// The record as a writer saw it when its clock of the record was `context`: the replay
    /// of exactly the logged changes that `context` covers, closed under what they had seen
    /// (``seen(_:in:)``). DESIGN §6: permissions and transitions are judged against this
    /// view, never against writes the writer could not know.
    public static func view(
        kind: RecordKind,
        id: UUID,
        log: some Collection<Change>,
        at context: VersionVector
    ) throws(ApplyError) -> RecordState {
        let seen = Self.seen(context, in: log)
        return try replay(kind: kind, id: id, changes: log.filter { seen.covers($0.dot) })
    }

    /// `context` with the context of every applied change of `log` it covers, until nothing
    /// more is added: having seen a change is having seen what it had seen.
    ///
    /// A context that a writer took from its record is closed already. One a restored site
    /// rebuilt is not always (DESIGN §3.9): its own entry may cover a change of the lost
    /// stretch whose context named writes the restored copy never saw. Replayed without
    /// them, that change would wait for a write the log holds, and the change judged
    /// against the view would wait forever.
    public static func seen(_ context: VersionVector, in log: some Collection<Change>) -> VersionVector {
        var seen = context
        var grew = true
        while grew {
            grew = false
            // Newest first: a change's context names only changes logged before it, so one
            // pass usually closes it, and the next only confirms.
            for change in log.reversed()
            where !change.isVoid && seen.covers(change.dot) && !seen.covers(change.context) {
                seen.merge(change.context)
                grew = true
            }
        }
        return seen
    }
}
