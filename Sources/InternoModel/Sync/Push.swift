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

/// The change sets of its own that a pulling site asks the server to leave out (Protocol
/// §5.4): those of `replica` whose counters lie within one of `ranges`. The reference site
/// names the sets the server accepted on this connection: it pushed them from its log and
/// the server logged exactly them, so it would only find it already had them. Everything
/// else of its own comes back as before, which a site restored from a backup relies on.
public struct OwnSets: Equatable, Sendable {
    /// The most ranges one Pull names; a site that pushed more leaves out only these.
    public static let maximumRanges = 1_000

    /// The pulling site.
    public var replica: ReplicaID
    /// The counters of its sets to leave out, in order, not overlapping.
    public private(set) var ranges: [ClosedRange<UInt64>]

    /// The sets of `replica` within `ranges`, in any order; overlapping and adjacent ranges
    /// are merged.
    public init(of replica: ReplicaID, _ ranges: some Sequence<ClosedRange<UInt64>>) {
        self.replica = replica
        var merged: [ClosedRange<UInt64>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound &+ 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        self.ranges = merged
    }

    /// `true` if nothing is left out.
    public var isEmpty: Bool { ranges.isEmpty }

    /// `true` if `set` is one the site holds: the server leaves it out.
    public func covers(_ set: ChangeSet) -> Bool {
        guard set.replica == replica else { return false }
        // The last range starting at or below the set's first counter is the only candidate.
        var (low, high) = (0, ranges.count)
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].lowerBound <= set.firstCounter { low = middle + 1 } else { high = middle }
        }
        return low > 0 && ranges[low - 1].contains(set.firstCounter) && ranges[low - 1].contains(set.lastCounter)
    }
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

extension ChangeSet {
    /// `sets` cut into runs of whole sets of at most `limit` changes (one set alone if it has
    /// more): a server judges and writes each run before it reads the next, so its memory
    /// does not grow with the size of a Push (DESIGN §4).
    ///
    /// With `first`, the first run holds at most `first` changes and each run after it at most
    /// 8/5 of the one before, up to `limit`: a server that judges each run while it writes the
    /// one before starts with a short run it judges alone, and each run is judged in about the
    /// time the one before takes to write.
    public static func batches(of sets: [ChangeSet], limit: Int = 2_000, first: Int? = nil)
        -> [ArraySlice<ChangeSet>]
    {
        var batches: [ArraySlice<ChangeSet>] = []
        var start = sets.startIndex
        var count = 0
        var current = min(first ?? limit, limit)
        for index in sets.indices {
            if count > 0, count + sets[index].changes.count > current {
                batches.append(sets[start..<index])
                (start, count) = (index, 0)
                current = min(limit, max(current + 1, current * 8 / 5))
            }
            count += sets[index].changes.count
        }
        if start < sets.endIndex { batches.append(sets[start...]) }
        return batches
    }
}

/// One change of a server's log, in its place in the stream: its sequence number, the change
/// as logged (a refused one keeps its content), and the counters of its change set.
public struct StreamEntry: Sendable {
    /// Its sequence number: sites pull by it.
    public var seq: Int64
    /// The change as logged.
    public var change: Change
    /// The counters of its change set.
    public var set: ClosedRange<UInt64>

    /// An entry.
    public init(seq: Int64, change: Change, set: ClosedRange<UInt64>) {
        self.seq = seq
        self.change = change
        self.set = set
    }

    /// The change as every site receives it: a refused one as its void, without fields or context.
    public var outgoing: Change {
        guard let refusal = change.refusal else { return change }
        return change.voided(refusal)
    }
}

extension ChangeBatch {
    /// `entries`, in stream order, as the change sets they belong to, each with the sequence
    /// number of its last change: the form in which a server hands out its stream.
    public static func changeSets(of entries: [StreamEntry]) -> [(set: ChangeSet, lastSeq: Int64)] {
        var sets: [(set: ChangeSet, lastSeq: Int64)] = []
        var current: [Change] = []
        var open: (ReplicaID, ClosedRange<UInt64>)?
        var lastSeq: Int64 = 0
        for entry in entries {
            if let open, open.0 != entry.change.dot.replica || open.1 != entry.set {
                sets.append((ChangeSet(current), lastSeq))
                current = []
            }
            current.append(entry.outgoing)
            open = (entry.change.dot.replica, entry.set)
            lastSeq = entry.seq
        }
        if !current.isEmpty { sets.append((ChangeSet(current), lastSeq)) }
        return sets
    }

    /// The sets of one page of a pull: the first of `sets` whose `size` adds up to at most
    /// `maximumBytes`, and always at least one, so a reader is never stuck behind a large set.
    /// `cut` is `true` if some were left for the next page.
    public static func page(
        of sets: [(set: ChangeSet, lastSeq: Int64)], maximumBytes: Int, size: (ChangeSet) -> Int
    ) -> (sets: [(set: ChangeSet, lastSeq: Int64)], cut: Bool) {
        var total = 0
        var kept = 0
        for (set, _) in sets {
            let bytes = size(set)
            guard kept == 0 || total + bytes <= maximumBytes else { break }
            total += bytes
            kept += 1
        }
        return (Array(sets.prefix(kept)), kept < sets.count)
    }
}
