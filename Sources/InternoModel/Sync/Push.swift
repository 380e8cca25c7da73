import Foundation

/// What the server made of one pushed change set (DESIGN §5).
public enum PushOutcome: Equatable, Sendable {
    /// Applied and logged; the site may drop it from its outbox.
    case accepted
    /// Already held, with the same content; the site may drop it from its outbox.
    case duplicate
    /// A change it depends on is missing here; it stays in the site's outbox for the next sync.
    case deferred(missing: Dot)
    /// Refused: recorded as void for whoever may see its records, and kept visible on the site
    /// with the reason. `kept` lists the counters of the set that the server had already
    /// accepted, from an earlier push of them in another set: they stand, and the site keeps
    /// them (DESIGN §3.9). Normally empty.
    case refused(Refusal, kept: [UInt64] = [])
}

/// One page of the server's stream: whole change sets in server order.
public struct ChangeBatch: Equatable, Sendable {
    /// The change sets, never split.
    public var sets: [ChangeSet]
    /// The sequence number to pull after next time.
    public var nextCursor: Int64
    /// `true` if more changes follow.
    public var more: Bool
    /// The epoch of the stream `nextCursor` belongs to (DESIGN §3.9); 0 at the start.
    public var cursorEpoch: UInt64

    /// A batch of `sets` ending at `nextCursor`, in the stream epoch `cursorEpoch`.
    public init(sets: [ChangeSet], nextCursor: Int64, more: Bool, cursorEpoch: UInt64 = 0) {
        self.sets = sets
        self.nextCursor = nextCursor
        self.more = more
        self.cursorEpoch = cursorEpoch
    }
}

/// Where a site stands with the server, as Welcome tells it (DESIGN §3.9).
public struct SyncPosition: Equatable, Sendable {
    /// The stream's latest sequence number.
    public var latestSequence: Int64
    /// Every counter of the site's that the server holds, applied or void, as ranges.
    public var heldCounters: [ClosedRange<UInt64>]
    /// `false` when the site's cursor names no point of this server's stream: it must pull
    /// again from the start.
    public var cursorValid: Bool

    /// A position.
    public init(latestSequence: Int64, heldCounters: [ClosedRange<UInt64>], cursorValid: Bool) {
        self.latestSequence = latestSequence
        self.heldCounters = heldCounters
        self.cursorValid = cursorValid
    }

    /// The highest counter of the site's that the server holds (0 if none).
    public var highestCounter: UInt64 { heldCounters.last?.upperBound ?? 0 }
}

/// The site a Push comes from, as the server's registry knows it: what it may write and see
/// comes from here, never from anything the site claims (DESIGN §6).
public struct Pusher: Sendable, Equatable {
    /// The site's replica: every dot it pushes must be its own.
    public var replica: ReplicaID
    /// Its department: it writes with this department's permissions.
    public var department: UUID
    /// Its replica code, the prefix of its request keys (`HR-LIS`).
    public var code: String
    /// Its department's code (`HR`), as refusals name the writer.
    public var departmentCode: String
    /// What it may see (DESIGN §6.1).
    public var scope: Scope

    /// A pusher.
    public init(replica: ReplicaID, department: UUID, code: String, departmentCode: String, scope: Scope) {
        self.replica = replica
        self.department = department
        self.code = code
        self.departmentCode = departmentCode
        self.scope = scope
    }

    /// The writer its changes are judged as.
    public var writer: Writer { .department(department) }
}
