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
        return try calendar(of: record, department)
    }

    /// The calendar that a department's record (which exists) gives.
    func calendar(of record: RecordState, _ department: UUID) throws -> BusinessCalendar {
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

    /// Measures the clocks of the request in `row` as of `now`, from the timeline kept with it
    /// (DESIGN §7.3): no log is read.
    func measure(_ row: RequestRow, now: Timestamp, cache: inout MeasureCache) throws -> MeasuredRequest {
        func id(_ text: String, _ what: String) throws -> UUID {
            guard let id = UUID(text: text) else {
                throw ClientError.storage(
                    "the \(what) of request \(row.key) as stored here (\(text)) cannot be read; run `interno verify --repair`"
                )
            }
            return id
        }
        var standard: RecordState?
        if let text = row.standard {
            let standardID = try id(text, "standard")
            if let known = cache.standards[standardID] {
                standard = known
            } else {
                standard = try perform { try store.record(standardID) }
                cache.standards[standardID] = standard
            }
        }
        var targets = ServiceTargets.none
        if let standard {
            do { targets = try ServiceTargets(standard: standard, priority: row.priority) } catch {
                throw ClientError.storage(
                    "the per-priority targets of the standard of request \(row.key) as stored here cannot be read (\(error)), so its clocks cannot be measured; run `interno verify --repair`"
                )
            }
        }
        func calendar(_ department: UUID) throws -> BusinessCalendar {
            if let known = cache.calendars[department] { return known }
            let found = try self.calendar(of: department)
            cache.calendars[department] = found
            return found
        }
        let clocks = RequestClocks.measure(
            submittedAt: row.timeline.submittedAt, events: row.timeline.events, now: now,
            provider: try calendar(try id(row.provider, "provider")),
            customer: try calendar(try id(row.customer, "customer")), targets: targets,
            neededBy: row.neededBy.map(Timestamp.init(millisecondsSince1970:)))
        return MeasuredRequest(standard: standard, submittedAt: row.timeline.submittedAt, clocks: clocks)
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
