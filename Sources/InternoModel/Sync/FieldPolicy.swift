/// How the siblings of a field reduce to one value (DESIGN §3.5).
///
/// Every reduction is a pure, deterministic function of the sibling set, so every replica
/// shows the same value.
public enum FieldPolicy: Sendable, Hashable {
    /// More than one distinct value is a conflict for a person to resolve.
    case manual
    /// The smallest value wins: first-occurrence times.
    case earliest
    /// The largest value wins: counters that only grow.
    case latest
    /// The furthest state wins when all siblings lie on one forward path of `lifecycle`;
    /// otherwise a conflict.
    case workflow(Lifecycle)

    /// Reduces `siblings` to a value, or to a conflict with a provisional value.
    public func reduce(_ siblings: [Sibling]) -> FieldResolution {
        // One sibling, nearly every field of every record: its value, without hashing it
        // into a set (the profile of a sync showed that hashing in every resolve).
        if siblings.count == 1 { return .value(siblings[0].value) }
        guard let highest = siblings.max(by: { $0.dot < $1.dot }) else { return .unset }
        let distinct = Set(siblings.map(\.value))
        if distinct.count == 1 { return .value(highest.value) }
        switch self {
        case .manual:
            return .conflict(provisional: highest.value, siblings: siblings)
        case .earliest:
            return .value(distinct.min()!)
        case .latest:
            return .value(distinct.max()!)
        case .workflow(let lifecycle):
            if let furthest = lifecycle.furthest(of: distinct) { return .value(furthest) }
            return .conflict(provisional: highest.value, siblings: siblings)
        }
    }

    /// The policy's name as the schema and documentation spell it.
    public var name: String {
        switch self {
        case .manual: "manual"
        case .earliest: "earliest"
        case .latest: "latest"
        case .workflow: "workflow"
        }
    }
}

/// A field's value after its policy has reduced the siblings.
public enum FieldResolution: Hashable, Sendable {
    /// Never written.
    case unset
    /// One value.
    case value(FieldValue)
    /// Siblings the policy cannot reduce: shown as `provisional` (the sibling with the highest
    /// dot), flagged, never a silent winner.
    case conflict(provisional: FieldValue, siblings: [Sibling])

    /// The value to display: the value, the provisional value of a conflict, or `nil` if unset.
    public var displayValue: FieldValue? {
        switch self {
        case .unset: nil
        case .value(let value): value
        case .conflict(let provisional, _): provisional
        }
    }

    /// `true` for a conflict.
    public var isConflict: Bool {
        if case .conflict = self { return true }
        return false
    }
}
