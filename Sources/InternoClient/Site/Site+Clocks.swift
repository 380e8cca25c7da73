import Foundation
import InternoModel
import InternoStore

/// One clock of a request as shown (`interno request show`).
public struct ClockView: Codable, Equatable, Sendable {
    /// `acknowledge`, `deliver`, `answer` or `confirm`.
    public var name: String
    /// Whose clock it is, and whose calendar it counts in: `provider` or `customer`.
    public var side: String
    /// `running`, `paused` or `stopped`.
    public var status: String
    /// Business time counted, in hours and minutes.
    public var elapsed: String
    /// The target in business hours, if a standard sets one.
    public var target: String?
    /// When the clock reaches (or reached) its target, ISO 8601.
    public var due: String?
    /// Business time left; negative once late.
    public var left: String?
    /// Within target (`true`), late (`false`), or no target (`null`).
    public var met: Bool?
}

/// What a site needs to measure one request.
struct MeasuredRequest {
    var record: RecordState
    var customer: UUID?
    var provider: UUID?
    var standard: RecordState?
    var priority: String?
    var submittedAt: Timestamp
    var clocks: RequestClocks
}

extension Site {
    /// The calendar of a department as this site knows it; office hours in UTC if unknown.
    func calendar(of department: UUID?) -> BusinessCalendar {
        guard let department, let record = try? store.record(department) else { return .standardOffice }
        func text(_ name: FieldName) -> String? { record.resolve(name, policy: .manual).displayValue?.text }
        guard let zone = text("timeZone").flatMap(TimeZone.init(identifier:)),
            let hours = text("hours").flatMap({ try? WeeklyHours(parsing: $0) })
        else { return .standardOffice }
        let holidays = text("holidays").flatMap { try? CalendarDate.parseList($0) } ?? []
        return BusinessCalendar(timeZone: zone, hours: hours, holidays: holidays)
    }

    /// Measures the clocks of `record` as of `now`.
    func measure(_ record: RecordState, now: Timestamp, calendars: inout [UUID: BusinessCalendar]) throws
        -> MeasuredRequest
    {
        let spec = Schema.spec(.request)
        func value(_ name: FieldName) -> FieldValue? {
            let shown = record.resolve(name, policy: spec.policy(name)).displayValue
            return shown == .null ? nil : shown
        }
        let history = try perform { try store.history(of: record.id) }
        let (submitted, events) = StateEvent.timeline(of: history.map(\.change))
        let customer = value("customer")?.id
        let provider = value("provider")?.id
        let standardID = value("standard")?.id
        let standard = try standardID.flatMap { id in try perform { try store.record(id) } }
        let priority = value("priority")?.text
        let targets = standard.map { ServiceTargets(standard: $0, priority: priority) } ?? .none
        func cached(_ id: UUID?) -> BusinessCalendar {
            guard let id else { return .standardOffice }
            if let known = calendars[id] { return known }
            let found = calendar(of: id)
            calendars[id] = found
            return found
        }
        let submittedAt = submitted ?? history.first?.change.at ?? now
        let clocks = RequestClocks.measure(
            submittedAt: submittedAt, events: events, now: now, provider: cached(provider),
            customer: cached(customer), targets: targets, neededBy: value("neededBy")?.time)
        return MeasuredRequest(
            record: record, customer: customer, provider: provider, standard: standard, priority: priority,
            submittedAt: submittedAt, clocks: clocks)
    }

    /// The clocks of a request as shown, in the order they start.
    func clockViews(_ clocks: RequestClocks) -> [ClockView] {
        var views: [ClockView] = []
        func add(_ name: String, _ side: String, _ clock: ServiceClock?) {
            guard let clock else { return }
            views.append(
                ClockView(
                    name: name, side: side, status: clock.status.rawValue,
                    elapsed: DurationText.formatHours(milliseconds: clock.elapsed),
                    target: clock.target.map { DurationText.formatHours(milliseconds: $0) },
                    due: clock.due?.description,
                    left: clock.remaining.map { DurationText.formatHours(milliseconds: $0) }, met: clock.met))
        }
        add("acknowledge", "provider", clocks.acknowledge)
        add("deliver", "provider", clocks.deliver)
        for wait in clocks.waits { add("answer", "customer", wait) }
        for confirmation in clocks.confirmations { add("confirm", "customer", confirmation) }
        return views
    }

    /// The running clock that falls due first: what a list shows as "due".
    static func nextDue(_ clocks: RequestClocks) -> (name: String, clock: ServiceClock)? {
        var running: [(String, ServiceClock)] = []
        if let clock = clocks.acknowledge { running.append(("acknowledge", clock)) }
        if let clock = clocks.deliver { running.append(("deliver", clock)) }
        if let clock = clocks.waits.last { running.append(("answer", clock)) }
        if let clock = clocks.confirmations.last { running.append(("confirm", clock)) }
        return
            running.filter { $0.1.status == .running && $0.1.due != nil }
            .min { $0.1.due! < $1.1.due! }
    }
}
