/// A clock: for each replica, the highest counter of its writes that have been seen.
///
/// Record clocks are kept per record, and every write of a replica to a record carries a
/// context that covers its earlier writes to that record, so "the highest counter seen"
/// stands for "every write of that replica to this record up to that counter".
public struct VersionVector: Hashable, Sendable, CustomStringConvertible {
    /// How two clocks relate.
    public enum Ordering: Sendable, Equatable {
        /// Both have seen exactly the same writes.
        case equal
        /// The left side has seen a strict subset of the right side's writes.
        case before
        /// The left side has seen a strict superset of the right side's writes.
        case after
        /// Each has seen a write the other has not.
        case concurrent
    }

    /// The counters, by replica; replicas never seen are absent (counter 0).
    public private(set) var counters: [ReplicaID: UInt64]

    /// The empty clock: nothing seen.
    public init() {
        counters = [:]
    }

    /// A clock with the given counters; zero counters are dropped.
    public init(_ counters: [ReplicaID: UInt64]) {
        self.counters = counters.filter { $0.value > 0 }
    }

    /// A clock that covers exactly the dots up to `dot` of its replica.
    public init(_ dot: Dot) {
        self.init([dot.replica: dot.counter])
    }

    /// `true` when nothing has been seen.
    public var isEmpty: Bool { counters.isEmpty }

    /// The highest counter seen of `replica`, 0 if none.
    public subscript(replica: ReplicaID) -> UInt64 {
        counters[replica] ?? 0
    }

    /// `true` if the write `dot` has been seen.
    public func covers(_ dot: Dot) -> Bool {
        self[dot.replica] >= dot.counter
    }

    /// `true` if every write seen by `other` has been seen by this clock.
    public func covers(_ other: VersionVector) -> Bool {
        other.counters.allSatisfy { self[$0.key] >= $0.value }
    }

    /// The first entry of `other` that this clock does not cover, as a dot, in replica order.
    public func firstMissing(of other: VersionVector) -> Dot? {
        other.counters
            .filter { self[$0.key] < $0.value }
            .sorted { $0.key < $1.key }
            .first
            .map { Dot(replica: $0.key, counter: $0.value) }
    }

    /// How this clock relates to `other`.
    public func compare(_ other: VersionVector) -> Ordering {
        switch (covers(other), other.covers(self)) {
        case (true, true): return .equal
        case (true, false): return .after
        case (false, true): return .before
        case (false, false): return .concurrent
        }
    }

    /// Adds everything `other` has seen: the pointwise maximum.
    public mutating func merge(_ other: VersionVector) {
        for (replica, counter) in other.counters where counter > self[replica] {
            counters[replica] = counter
        }
    }

    /// Adds the write `dot`.
    public mutating func add(_ dot: Dot) {
        if dot.counter > self[dot.replica] { counters[dot.replica] = dot.counter }
    }

    /// The pointwise maximum of two clocks.
    public func merging(_ other: VersionVector) -> VersionVector {
        var result = self
        result.merge(other)
        return result
    }

    /// The entries sorted by replica id: the canonical order for encoding and display.
    public var sortedEntries: [(replica: ReplicaID, counter: UInt64)] {
        counters.sorted { $0.key < $1.key }.map { (replica: $0.key, counter: $0.value) }
    }

    public var description: String {
        "{" + sortedEntries.map { "\($0.replica):\($0.counter)" }.joined(separator: ", ") + "}"
    }
}
