/// Service targets that differ by priority: `urgent=30m/4h, high=2h/1d` (acknowledge/deliver).
public struct PriorityTargets: Hashable, Sendable, CustomStringConvertible {
    /// One priority's targets, in seconds of business time.
    public struct Targets: Hashable, Sendable {
        /// Time to acknowledge.
        public var acknowledge: Int64
        /// Time to deliver.
        public var deliver: Int64
    }

    /// The targets by priority name (a member of ``Schema/priorities``).
    public let targets: [String: Targets]

    /// Parses the text form; throws a message that says what is accepted.
    public init(parsing text: String) throws(ValueError) {
        let example = "e.g. 'urgent=30m/4h, high=2h/1d' (acknowledge/deliver per priority)"
        var targets: [String: Targets] = [:]
        for part in text.split(whereSeparator: { $0 == "," || $0 == ";" }) {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=").map(String.init)
            guard pair.count == 2 else { throw ValueError("'\(part)' is not priority=ack/deliver, \(example)") }
            let priority = pair[0].lowercased()
            guard Schema.priorities.contains(priority) else {
                throw ValueError(
                    "'\(pair[0])' is not a priority: use one of \(Schema.priorities.joined(separator: ", "))")
            }
            let durations = pair[1].split(separator: "/").map(String.init)
            guard durations.count == 2, let ack = DurationText.parse(durations[0]),
                let deliver = DurationText.parse(durations[1]), ack > 0, deliver > 0
            else { throw ValueError("'\(pair[1])' is not two positive durations ack/deliver, \(example)") }
            guard targets[priority] == nil else { throw ValueError("priority \(priority) is given twice") }
            targets[priority] = Targets(acknowledge: ack, deliver: deliver)
        }
        guard !targets.isEmpty else { throw ValueError("no targets given, \(example)") }
        self.targets = targets
    }

    /// The canonical text, in priority order.
    public var description: String {
        Schema.priorities.reversed().compactMap { priority in
            targets[priority].map {
                "\(priority)=\(DurationText.format(seconds: $0.acknowledge))/\(DurationText.format(seconds: $0.deliver))"
            }
        }.joined(separator: ", ")
    }
}
