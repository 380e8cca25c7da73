import Foundation

extension Schema {
    /// What taking `step` writes when the writer sees `seen`, at `at`: the new state, and each
    /// first-occurrence time the step stamps that the writer saw unset, with the step's own time
    /// (DESIGN §7.3). A field of `step.needs` (a reason) comes from a person and is not included.
    ///
    /// Sites write exactly this (`Site.transition`), and check 9 of
    /// ``check(_:by:seen:lookup:receivedAt:)`` requires it, so the two cannot disagree.
    public static func stepWrites(_ step: Lifecycle.Step, seen: RecordState, at: Timestamp) -> [FieldName: FieldValue] {
        var fields: [FieldName: FieldValue] = ["state": .text(step.to)]
        for field in step.stamps where seen.resolve(field, policy: spec(seen.kind).policy(field)) == .unset {
            fields[field] = .time(at)
        }
        return fields
    }

    /// The lifecycle step a write takes from the state its writer saw; `nil` for a write that
    /// takes none: a creation, a write without `state`, or the resolution of a state in
    /// conflict (which writes the state alone).
    static func step(takenBy write: Write) -> Lifecycle.Step? {
        guard !write.creating, let newState = write.change.fields["state"]?.text,
            case .value(let value) = write.seen.resolve("state", policy: .workflow(requestLifecycle)),
            let current = value.text
        else { return nil }
        // Each pair of states is joined by at most one step, so the first is the one.
        return requestLifecycle.steps(from: current, to: newState).first
    }

    /// The steps that need each field, for the fields some step needs: worked out once.
    private static let stepsNeeding: [FieldName: [Lifecycle.Step]] = Dictionary(
        grouping: requestLifecycle.steps.flatMap { step in step.needs.map { ($0, step) } }, by: \.0
    ).mapValues { $0.map(\.1) }

    /// The steps that stamp each field, for the fields some step stamps: worked out once.
    private static let stepsStamping: [FieldName: [Lifecycle.Step]] = Dictionary(
        grouping: requestLifecycle.steps.flatMap { step in step.stamps.map { ($0, step) } }, by: \.0
    ).mapValues { $0.map(\.1) }

    /// The fields of `spec` that some step needs, and those that some step stamps, in the
    /// kind's order, each with those steps.
    private static func stepFields(of spec: KindSpec) -> (
        needed: [(FieldSpec, [Lifecycle.Step])], stamped: [(FieldSpec, [Lifecycle.Step])]
    ) {
        (
            spec.fields.compactMap { field in stepsNeeding[field.name].map { (field, $0) } },
            spec.fields.compactMap { field in stepsStamping[field.name].map { (field, $0) } }
        )
    }

    /// ``stepFields(of:)`` of requests, the one kind with a lifecycle of steps: worked out once.
    private static let requestStepFields = stepFields(of: spec(.request))

    /// Check 9: a step writes what it needs and stamps what it must; nothing else writes those
    /// fields. Runs after the lifecycle and permission checks, so a step the writer may not take
    /// is refused for that first.
    static func checkStepWrites(_ write: Write) throws(Refusal) {
        let fields = write.change.fields
        let step = step(takenBy: write)
        var name: String { write.describe() }
        // Only the few fields some step needs or stamps, in the kind's order, so that the first
        // refusal is the one a walk through every field would give.
        let (needed, stamped) =
            write.spec.kind == .request ? requestStepFields : stepFields(of: write.spec)
        for (field, needing) in needed {
            if fields[field.name] != nil, !needing.contains(where: { fields["state"] == .text($0.to) }) {
                let states = needing.map(\.to).joined(separator: " or ")
                throw Refusal(
                    .invalidValue,
                    "a \(field.label) is given only with the state it explains (\(states)), not on its own")
            }
            if let step, step.needs.contains(field.name), fields[field.name] == nil {
                throw Refusal(.invalidValue, "\(step.verb) of \(name) needs a \(field.label): say why")
            }
        }
        for (field, stamping) in stamped {
            let unseen = write.seen.resolve(field.name, policy: field.policy) == .unset
            let due = step.map { $0.stamps.contains(field.name) } == true && unseen
            let time = FieldValue.time(write.change.at)
            switch fields[field.name] {
            case nil where due:
                throw Refusal(
                    .invalidValue,
                    "\(step!.verb) of \(name) must also write \(field.name), its \(field.label), as the step's time \(write.change.at): the writer saw none"
                )
            case let value? where due && value != time:
                throw Refusal(
                    .invalidValue,
                    "\(field.name) of \(name) is the time of the step that writes it, \(write.change.at); got \(quoted(value))"
                )
            case .some where !due:
                let verbs = stamping.map(\.verb).joined(separator: ", ")
                throw Refusal(
                    .invalidValue,
                    "\(field.name) of \(name) is written only by a step that stamps it (\(verbs)), when the writer saw it unset, as that step's time"
                )
            default:
                break
            }
        }
    }
}
