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
    /// Department codes by id, as query rows hold ids.
    var codes: [String: String] = [:]
}

extension Site {
    /// The calendar of a department as this site knows it. A clock measured in another
    /// calendar than the department's would be wrong without a word, so a department this
    /// site does not hold, or whose calendar cannot be read, is an error, never a default.
    func calendar(of department: UUID) throws -> BusinessCalendar {
        guard let record = try perform({ try store.record(department) }), record.exists else {
            throw ClientError.notFound(
                "department \(department.text) is not known here, so its clocks cannot be measured; `interno sync` fetches the departments"
            )
        }
        let code = record.value(of: "code")?.text ?? department.text
        func unreadable(_ field: String, _ text: String?) -> ClientError {
            .storage(
                "the \(field) of department \(code) as stored here (\(text ?? "none")) cannot be read, so its clocks cannot be measured; run `interno verify --repair`"
            )
        }
        let zoneText = record.value(of: "timeZone")?.text
        guard let zone = zoneText.flatMap(TimeZone.init(identifier:)) else { throw unreadable("time zone", zoneText) }
        let hoursText = record.value(of: "hours")?.text
        guard let hours = hoursText.flatMap({ try? WeeklyHours(parsing: $0) }) else {
            throw unreadable("hours", hoursText)
        }
        var holidays: [CalendarDate] = []
        if let text = record.value(of: "holidays")?.text {
            do { holidays = try CalendarDate.parseList(text) } catch { throw unreadable("holidays", text) }
        }
        return BusinessCalendar(timeZone: zone, hours: hours, holidays: holidays)
    }

    /// Measures the clocks of `record` as of `now`.
    func measure(_ record: RecordState, now: Timestamp, cache: inout MeasureCache) throws -> MeasuredRequest {
        try measure(record, log: try perform { try store.log(of: record.id) }, now: now, cache: &cache)
    }

    /// Measures the clocks of `record`, whose log is `log`, as of `now`.
    func measure(_ record: RecordState, log: [Change], now: Timestamp, cache: inout MeasureCache) throws
        -> MeasuredRequest
    {
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
        func calendar(_ id: UUID?) throws -> BusinessCalendar {
            guard let id else {
                throw ClientError.storage("request \(record.value(of: "key")?.text ?? "?") names no department")
            }
            if let known = cache.calendars[id] { return known }
            let found = try self.calendar(of: id)
            cache.calendars[id] = found
            return found
        }
        let submittedAt = submitted ?? log.first?.at ?? now
        let clocks = RequestClocks.measure(
            submittedAt: submittedAt, events: events, now: now,
            provider: try calendar(record.value(of: "provider")?.id),
            customer: try calendar(record.value(of: "customer")?.id), targets: targets,
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
