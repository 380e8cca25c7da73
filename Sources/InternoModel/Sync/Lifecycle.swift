/// A state machine over text states: its steps and which of them move forward.
///
/// The `workflow` policy uses the forward steps: concurrent states merge to the furthest when
/// one is reachable from the other by forward steps alone, and conflict otherwise.
public struct Lifecycle: Sendable, Hashable {
    /// One permitted step.
    public struct Step: Sendable, Hashable {
        /// The verb a person uses (`ack`, `deliver`).
        public var verb: String
        /// The states the step starts from.
        public var from: Set<String>
        /// The state the step leads to.
        public var to: String
        /// Who may take the step.
        public var by: Role
        /// `false` for steps that go back (resume, reopen): they do not order states.
        public var forward: Bool
        /// First-occurrence times the step stamps with its own time when the writer saw them
        /// unset (`firstResponseAt`): the step must write them then, and nothing else may.
        public var stamps: [FieldName]
        /// Fields a person gives with the step (`declineReason`): the step must write them, and
        /// they are written only with a state this step leads to.
        public var needs: [FieldName]

        /// A step named `verb` from `from` to `to`, taken by `by`, stamping `stamps` and
        /// writing `needs` besides the state.
        public init(
            _ verb: String, from: Set<String>, to: String, by: Role, forward: Bool = true, stamps: [FieldName] = [],
            needs: [FieldName] = []
        ) {
            self.verb = verb
            self.from = from
            self.to = to
            self.by = by
            self.forward = forward
            self.stamps = stamps
            self.needs = needs
        }
    }

    /// Every state, in the order people read them.
    public let states: [String]
    /// The state a new record starts in.
    public let initial: String
    /// The permitted steps.
    public let steps: [Step]
    /// For each state, every state reachable from it by forward steps (itself included).
    private let reachable: [String: Set<String>]

    /// A lifecycle of `states` starting at `initial`, with `steps`.
    public init(states: [String], initial: String, steps: [Step]) {
        self.states = states
        self.initial = initial
        self.steps = steps
        var reachable: [String: Set<String>] = [:]
        for state in states {
            var seen: Set<String> = [state]
            var frontier = [state]
            while let current = frontier.popLast() {
                for step in steps where step.forward && step.from.contains(current) && !seen.contains(step.to) {
                    seen.insert(step.to)
                    frontier.append(step.to)
                }
            }
            reachable[state] = seen
        }
        self.reachable = reachable
    }

    /// Every field some step stamps.
    public var stampedFields: Set<FieldName> { Set(steps.flatMap(\.stamps)) }

    /// The steps that lead from `from` to `to`.
    public func steps(from: String, to: String) -> [Step] {
        steps.filter { $0.from.contains(from) && $0.to == to }
    }

    /// The steps possible from `state`.
    public func steps(from state: String) -> [Step] {
        steps.filter { $0.from.contains(state) }
    }

    /// The step named `verb`, if any.
    public func step(named verb: String) -> Step? {
        steps.first { $0.verb == verb }
    }

    /// `true` if `later` can be reached from `earlier` by forward steps (or is the same state).
    public func isForward(from earlier: String, to later: String) -> Bool {
        reachable[earlier]?.contains(later) ?? false
    }

    /// The furthest of `values` if they all lie on one forward path, else `nil`.
    func furthest(of values: Set<FieldValue>) -> FieldValue? {
        let states = values.compactMap(\.text)
        guard states.count == values.count else { return nil }
        guard let candidate = states.first(where: { top in states.allSatisfy { isForward(from: $0, to: top) } })
        else { return nil }
        // On one path the top is reachable from all; also every pair must be ordered.
        for a in states {
            for b in states where !isForward(from: a, to: b) && !isForward(from: b, to: a) {
                return nil
            }
        }
        return .text(candidate)
    }
}
