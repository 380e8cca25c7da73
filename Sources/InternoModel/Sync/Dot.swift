/// The identity of one write: the replica that made it and that replica's counter at the time.
///
/// Counters only grow, per replica, so a dot names exactly one write in the whole system.
public struct Dot: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The replica that made the write.
    public let replica: ReplicaID
    /// The replica's counter for this write; the first write of a replica is 1.
    public let counter: UInt64

    /// A dot of `replica` at `counter`.
    public init(replica: ReplicaID, counter: UInt64) {
        self.replica = replica
        self.counter = counter
    }

    public var description: String { "\(replica):\(counter)" }

    /// Orders by counter, then by replica: the order that picks a conflict's provisional value.
    public static func < (lhs: Dot, rhs: Dot) -> Bool {
        if lhs.counter != rhs.counter { return lhs.counter < rhs.counter }
        return lhs.replica < rhs.replica
    }
}
