import Foundation

/// One state a request entered, and when (the time its writer gave, which `--at` may set).
public struct StateEvent: Hashable, Sendable {
    /// When the request entered `state`.
    public var at: Timestamp
    /// The state entered.
    public var state: String

    /// An event: `state` entered at `at`.
    public init(at: Timestamp, state: String) {
        self.at = at
        self.state = state
    }

    /// The submission time and the state events of a request, read from its changes.
    ///
    /// The changes are replayed in one causal order that every replica computes alike (a
    /// change after every change its writer had seen; among the rest, the earliest `at` first,
    /// then the dot), and an event is taken whenever the merged state changes, at the time its
    /// writer gave. So a step another site had already passed (a `start` concurrent with a
    /// `wait`) merges away as the workflow policy says, and a step recorded later with an
    /// earlier `--at` comes after what its writer had seen. While the state is in conflict no
    /// event is taken; when a person resolves it, the state kept counts from the time of the
    /// step that first wrote it, and the steps that lost leave no time behind. Void (refused)
    /// changes write nothing.
    public static func timeline(of changes: [Change]) -> (submittedAt: Timestamp?, events: [StateEvent]) {
        // A log of one change that follows nothing, a new request's: nothing to order or
        // merge, and the replay below would give exactly this.
        if changes.count == 1, let only = changes.first, only.context.isEmpty {
            return only.isVoid ? (nil, []) : timeline(ofFirst: only)
        }
        return replayedTimeline(of: changes)
    }

    /// ``timeline(of:)`` of a log of `change` alone, written on no earlier change: it was
    /// submitted then if it gives the key, and entered the state it writes then, unless that
    /// is `submitted`.
    private static func timeline(ofFirst change: Change) -> (submittedAt: Timestamp?, events: [StateEvent]) {
        var events: [StateEvent] = []
        if let state = change.fields["state"]?.text, state != Schema.RequestState.submitted {
            events.append(StateEvent(at: change.at, state: state))
        }
        return (change.fields["key"] != nil ? change.at : nil, events)
    }

    /// ``timeline(of:)`` by replaying `changes` in causal order, whatever they are.
    static func replayedTimeline(of changes: [Change]) -> (submittedAt: Timestamp?, events: [StateEvent]) {
        let ordered = causalOrder(changes)
        guard let first = ordered.first(where: { !$0.isVoid }) else { return (nil, []) }
        let policy = FieldPolicy.workflow(Schema.requestLifecycle)
        var record = RecordState(kind: first.kind, id: first.recordID)
        var events: [(event: StateEvent, dot: Dot)] = []
        var lost: Set<Dot> = []
        var current: String?
        for change in ordered {
            let before = record.resolve("state", policy: policy)
            do throws(ApplyError) { try record.apply(change) } catch { continue }
            guard !change.isVoid, change.fields["state"] != nil else { continue }
            guard case .value(let value) = record.resolve("state", policy: policy), let state = value.text else {
                continue
            }
            var at = change.at
            if case .conflict(_, let siblings) = before {
                for sibling in siblings where sibling.value != value { lost.insert(sibling.dot) }
                at = siblings.filter { $0.value == value }.map(\.at).min() ?? at
            }
            if state != current {
                events.append((StateEvent(at: at, state: state), change.dot))
                current = state
            }
        }
        let submittedAt = ordered.first { !$0.isVoid && $0.fields["key"] != nil }?.at
        let kept = events.filter { !lost.contains($0.dot) }.map(\.event)
        return (submittedAt, Array(kept.drop { $0.state == Schema.RequestState.submitted }))
    }

    /// `changes` in a causal order every replica computes alike: each change after every
    /// change its context covers; among those ready, the earliest `at`, then the lowest dot.
    static func causalOrder(_ changes: [Change]) -> [Change] {
        let sorted = changes.sorted { ($0.at, $0.dot) < ($1.at, $1.dot) }
        // waiting[i]: how many changes i's context covers that are not placed yet;
        // followers[j]: the changes whose context covers j.
        var waiting = [Int](repeating: 0, count: sorted.count)
        var followers = [[Int]](repeating: [], count: sorted.count)
        for (i, change) in sorted.enumerated() where !change.isVoid {
            for (j, other) in sorted.enumerated() where j != i && change.context.covers(other.dot) {
                waiting[i] += 1
                followers[j].append(i)
            }
        }
        var placed = [Bool](repeating: false, count: sorted.count)
        var ordered: [Change] = []
        ordered.reserveCapacity(sorted.count)
        while ordered.count < sorted.count {
            // The earliest change whose predecessors are all placed; a cycle (impossible for
            // honest contexts) falls back to the earliest left.
            let next =
                sorted.indices.first { !placed[$0] && waiting[$0] == 0 } ?? sorted.indices.first { !placed[$0] }!
            placed[next] = true
            ordered.append(sorted[next])
            for follower in followers[next] { waiting[follower] -= 1 }
        }
        return ordered
    }
}

/// The targets a request is measured against, as its standard writes them: durations in
/// seconds, where a day is a business day (see ``BusinessCalendar``).
public struct ServiceTargets: Hashable, Sendable {
    /// Time to acknowledge (provider).
    public var acknowledge: Int64?
    /// Time to deliver (provider), net of time waiting on the customer.
    public var deliver: Int64?
    /// Notice the customer gives before the needed-by date.
    public var notice: Int64?
    /// Time the customer takes to answer while the request waits on them, per wait.
    public var answer: Int64?
    /// Time the customer takes to confirm a delivery, per delivery.
    public var confirm: Int64?

    /// Targets; any may be absent.
    public init(
        acknowledge: Int64? = nil, deliver: Int64? = nil, notice: Int64? = nil, answer: Int64? = nil,
        confirm: Int64? = nil
    ) {
        self.acknowledge = acknowledge
        self.deliver = deliver
        self.notice = notice
        self.answer = answer
        self.confirm = confirm
    }

    /// No targets: a request raised outside any standard is measured but never late.
    public static let none = ServiceTargets()

    /// The targets of `standard` for a request of `priority`: the per-priority targets where
    /// the standard names that priority, else its general ones. Per-priority targets that
    /// cannot be read are an error, never a fall back to the general ones: the clocks would be
    /// measured against the wrong targets without a word.
    public init(standard: RecordState, priority: String?) throws(ValueError) {
        acknowledge = standard.value(of: "ackTarget")?.duration
        deliver = standard.value(of: "deliverTarget")?.duration
        notice = standard.value(of: "noticeRequired")?.duration
        answer = standard.value(of: "answerTarget")?.duration
        confirm = standard.value(of: "confirmTarget")?.duration
        if let priority, let text = standard.value(of: "priorityTargets")?.text,
            let own = try PriorityTargets(parsing: text).targets[priority]
        {
            acknowledge = own.acknowledge
            deliver = own.deliver
        }
    }
}

/// One clock of a request, in business milliseconds of one department's calendar.
public struct ServiceClock: Hashable, Sendable {
    /// Whether the clock still counts.
    public enum Status: String, Hashable, Sendable, Codable {
        /// It counts now.
        case running
        /// It is held while the request waits on the customer.
        case paused
        /// It has stopped for good (or until a reopen).
        case stopped
    }

    /// Whether it counts now.
    public var status: Status
    /// Business time counted so far, in milliseconds.
    public var elapsed: Int64
    /// The target in business milliseconds, if a standard sets one.
    public var target: Int64?
    /// When the clock reaches (or reached) its target; `nil` without a target, when paused
    /// before reaching it, or when stopped within it.
    public var due: Timestamp?
    /// When the clock started.
    public var start: Timestamp
    /// When it stopped, if it has.
    public var end: Timestamp?

    /// `true` within target, `false` past it, `nil` without a target.
    public var met: Bool? { target.map { elapsed <= $0 } }
    /// Target minus elapsed: negative once late; `nil` without a target.
    public var remaining: Int64? { target.map { $0 - elapsed } }
}

/// The clocks of one request (DESIGN §7.3), measured at an instant.
///
/// - acknowledge: the provider's calendar, from submission while the request is `submitted`,
///   until the provider's first step (ack, start or decline).
/// - deliver: the provider's calendar, while the request is `submitted`, `acknowledged` or
///   `in_progress`; held while it is `waiting_on_customer`; stopped when `delivered` and
///   running again after a reopen.
/// - waits: the customer's calendar, one clock per stay in `waiting_on_customer`.
/// - confirmations: the customer's calendar, one clock per stay in `delivered`.
/// - notice: the provider's business time from submission to the needed-by date.
public struct RequestClocks: Hashable, Sendable {
    /// The acknowledge clock; `nil` if the request was cancelled before any response.
    public var acknowledge: ServiceClock?
    /// The deliver clock; `nil` if the request was declined or cancelled.
    public var deliver: ServiceClock?
    /// One customer clock per wait.
    public var waits: [ServiceClock]
    /// One customer clock per delivery awaiting confirmation.
    public var confirmations: [ServiceClock]
    /// Notice given before the needed-by date, in the provider's business milliseconds.
    public var noticeGiven: Int64?
    /// Notice required by the standard, in the provider's business milliseconds.
    public var noticeRequired: Int64?
    /// The state the request is in after the last event.
    public var state: String

    /// `true` if the notice met the standard, `false` if not, `nil` if either side is unknown.
    public var noticeMet: Bool? {
        guard let noticeGiven, let noticeRequired else { return nil }
        return noticeGiven >= noticeRequired
    }

    /// Business time the request waited on the customer, in the customer's calendar.
    public var waitingTotal: Int64 { waits.reduce(0) { $0 + $1.elapsed } }

    /// The latest clock of each kind, by name: `acknowledge`, `deliver`, `answer` (the last
    /// wait) and `confirm` (the last delivery); only those that exist.
    public var latest: [(name: String, clock: ServiceClock)] {
        [("acknowledge", acknowledge), ("deliver", deliver), ("answer", waits.last), ("confirm", confirmations.last)]
            .compactMap { name, clock in clock.map { (name, $0) } }
    }

    /// The clocks that run now and are past their targets.
    public var overdue: [(name: String, clock: ServiceClock)] {
        latest.filter { $0.clock.status == .running && $0.clock.met == false }
    }

    private static let providerStates: Set<String> = [
        Schema.RequestState.submitted, Schema.RequestState.acknowledged, Schema.RequestState.inProgress,
    ]

    /// The stays of a request: each state it was in, from when until when (the last until
    /// now). Events come in the order of ``StateEvent/timeline(of:)``; one dated before the
    /// stay it follows starts when that stay starts.
    static func stays(submittedAt: Timestamp, events: [StateEvent]) -> [(
        state: String, from: Timestamp, to: Timestamp?
    )] {
        var stays: [(state: String, from: Timestamp, to: Timestamp?)] = [
            (Schema.RequestState.submitted, submittedAt, nil)
        ]
        for event in events where event.state != stays[stays.count - 1].state {
            let at = max(event.at, stays[stays.count - 1].from)
            stays[stays.count - 1].to = at
            stays.append((event.state, at, nil))
        }
        return stays
    }

    /// Measures the clocks of a request submitted at `submittedAt` that went through `events`
    /// (in the order of ``StateEvent/timeline(of:)``), as of `now`.
    public static func measure(
        submittedAt: Timestamp,
        events: [StateEvent],
        now: Timestamp,
        provider: BusinessCalendar,
        customer: BusinessCalendar,
        targets: ServiceTargets,
        neededBy: Timestamp? = nil
    ) -> RequestClocks {
        typealias S = Schema.RequestState
        // Stays: each state entered, from when to when (the last one until now).
        let stays = Self.stays(submittedAt: submittedAt, events: events)
        let last = stays[stays.count - 1]
        let current = last.state
        let end = max(now, last.from)

        func clock(
            _ calendar: BusinessCalendar, target seconds: Int64?, spans: [(from: Timestamp, to: Timestamp?)],
            status: ServiceClock.Status
        ) -> ServiceClock {
            let target = seconds.map(calendar.businessMilliseconds(forTarget:))
            var elapsed: Int64 = 0
            var due: Timestamp?
            for span in spans {
                let length = calendar.businessMilliseconds(from: span.from, to: span.to ?? end)
                if let target, due == nil, elapsed + length >= target, elapsed + length > 0 {
                    due = calendar.instant(after: span.from, adding: target - elapsed)
                }
                elapsed += length
            }
            if let target, due == nil, status == .running {
                due = calendar.instant(after: end, adding: target - elapsed)
            }
            return ServiceClock(
                status: status, elapsed: elapsed, target: target, due: due, start: spans.first?.from ?? submittedAt,
                end: status == .running ? nil : spans.last?.to)
        }

        var clocks = RequestClocks(
            acknowledge: nil, deliver: nil, waits: [], confirmations: [], noticeGiven: nil, noticeRequired: nil,
            state: current)

        // Acknowledge: the first stay, ended by the first step away from submitted.
        let responded = stays.count > 1
        if !responded || stays[1].state != S.cancelled {
            clocks.acknowledge = clock(
                provider, target: targets.acknowledge, spans: [(submittedAt, stays[0].to)],
                status: responded ? .stopped : .running)
        }

        // Deliver: every stay in a provider state.
        if current != S.declined, current != S.cancelled {
            let spans = stays.filter { providerStates.contains($0.state) }.map { ($0.from, $0.to) }
            let status: ServiceClock.Status =
                providerStates.contains(current) ? .running : current == S.waitingOnCustomer ? .paused : .stopped
            clocks.deliver = clock(provider, target: targets.deliver, spans: spans, status: status)
        }

        // The customer's clocks: one per stay.
        for stay in stays where stay.state == S.waitingOnCustomer || stay.state == S.delivered {
            let waiting = stay.state == S.waitingOnCustomer
            let measured = clock(
                customer, target: waiting ? targets.answer : targets.confirm, spans: [(stay.from, stay.to)],
                status: stay.to == nil ? .running : .stopped)
            if waiting { clocks.waits.append(measured) } else { clocks.confirmations.append(measured) }
        }

        if let neededBy {
            clocks.noticeGiven = provider.businessMilliseconds(from: submittedAt, to: neededBy)
            clocks.noticeRequired = targets.notice.map(provider.businessMilliseconds(forTarget:))
        }
        return clocks
    }
}
