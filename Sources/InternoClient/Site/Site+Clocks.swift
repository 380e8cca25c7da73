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
    var standard: RecordState?
    var submittedAt: Timestamp
    var clocks: RequestClocks
}

/// Calendars and standards read once for a listing or a report, not once per request.
struct MeasureCache {
    var calendars: [UUID: BusinessCalendar] = [:]
    var standards: [UUID: RecordState?] = [:]
}

extension Site {
    /// The calendar of a department as this site knows it; office hours in UTC if unknown.
    func calendar(of department: UUID?) -> BusinessCalendar {
        guard let department, let record = try? store.record(department) else { return .standardOffice }
        guard let zone = record.value(of: "timeZone")?.text.flatMap(TimeZone.init(identifier:)),
            let hours = record.value(of: "hours")?.text.flatMap({ try? WeeklyHours(parsing: $0) })
        else { return .standardOffice }
        let holidays = record.value(of: "holidays")?.text.flatMap { try? CalendarDate.parseList($0) } ?? []
        return BusinessCalendar(timeZone: zone, hours: hours, holidays: holidays)
    }

    /// Measures the clocks of `record` as of `now`.
    func measure(_ record: RecordState, now: Timestamp, cache: inout MeasureCache) throws -> MeasuredRequest {
        let log = try perform { try store.log(of: record.id) }
        let (submitted, events) = StateEvent.timeline(of: log)
        var standard: RecordState?
        if let id = record.value(of: "standard")?.id {
            if let known = cache.standards[id] {
                standard = known
            } else {
                standard = try perform { try store.record(id) }
                cache.standards[id] = standard
            }
        }
        let targets =
            standard.map { ServiceTargets(standard: $0, priority: record.value(of: "priority")?.text) } ?? .none
        func calendar(_ id: UUID?) -> BusinessCalendar {
            guard let id else { return .standardOffice }
            if let known = cache.calendars[id] { return known }
            let found = self.calendar(of: id)
            cache.calendars[id] = found
            return found
        }
        let submittedAt = submitted ?? log.first?.at ?? now
        let clocks = RequestClocks.measure(
            submittedAt: submittedAt, events: events, now: now, provider: calendar(record.value(of: "provider")?.id),
            customer: calendar(record.value(of: "customer")?.id), targets: targets,
            neededBy: record.value(of: "neededBy")?.time)
        return MeasuredRequest(standard: standard, submittedAt: submittedAt, clocks: clocks)
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
        clocks.latest.filter { $0.clock.status == .running && $0.clock.due != nil }.min {
            $0.clock.due! < $1.clock.due!
        }
    }
}
