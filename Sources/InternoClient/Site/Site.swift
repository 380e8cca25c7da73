import Foundation
import InternoModel
import InternoStore

/// A joined department site: its replica and the operations people run on it, offline.
///
/// Every write goes through the store's one local-write path, so the schema's rules apply at
/// once, here, with the same messages the server would give.
public struct Site: Sendable {
    /// The home directory.
    public let home: SiteHome
    /// What `join` fixed.
    public let settings: SiteHome.Settings
    /// The replica.
    public let store: SiteStore
    /// Who writes: `user@HR-LIS`, so every change names its person and its site.
    public let author: String

    /// Opens the site in `home`, writing as `user` (default: `INTERNO_USER`, else `USER`).
    public init(home: SiteHome, user: String? = nil) throws {
        self.home = home
        settings = try home.settings()
        store = try home.store()
        let environment = ProcessInfo.processInfo.environment
        let name = user ?? environment["INTERNO_USER"] ?? environment["USER"] ?? "someone"
        author = "\(name)@\(settings.code)"
    }

    /// This site's department record id.
    var department: UUID { UUID(text: settings.departmentID)! }

    /// Runs a store operation, translating its errors at this boundary.
    @discardableResult
    func perform<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as StoreError { throw ClientError.from(error) }
    }

    /// Writes a consistent copy of this site's database to `path` (a new file, mode 0600),
    /// even while another command uses it.
    public func backup(to path: String) throws {
        try perform { try store.backup(to: path) }
    }

    /// The department code of a department id, or the id if it is not known here; a database
    /// that cannot be read is an error, not an id shown in place of a code.
    func code(of department: String?) throws -> String {
        guard let department, let id = UUID(text: department),
            let record = try perform({ try store.record(id) }),
            let code = record.resolve("code", policy: .manual).displayValue?.text
        else { return department ?? "" }
        return code
    }

    /// ``code(of:)``, each department read once per listing.
    func code(of department: String?, cache: inout MeasureCache) throws -> String {
        guard let department else { return "" }
        if let known = cache.codes[department] { return known }
        let found = try code(of: department)
        cache.codes[department] = found
        return found
    }

    /// The id of the department with `code`, or an error saying how to get it.
    func departmentID(code: String) throws -> UUID {
        do { return try store.departmentID(code: code.uppercased()) } catch StoreError.notFound {
            let known = try perform {
                try store.records(of: .department).compactMap {
                    $0.resolve("code", policy: .manual).displayValue?.text
                }
            }
            let list = known.isEmpty ? "none yet: run `interno sync`" : known.sorted().joined(separator: ", ")
            throw ClientError.notFound("there is no department '\(code)' here (known: \(list))")
        } catch let error as StoreError { throw ClientError.from(error) }
    }

    /// The request with `key`, or an error naming the key.
    func request(_ key: String) throws -> RecordState {
        let notFound = ClientError.notFound(
            "there is no request \(key) here; `interno request list` shows the requests, `interno sync` fetches new ones"
        )
        // Only a key that is not there is "no such request": a database error says what it is.
        let id: UUID
        do { id = try store.requestID(key: key.uppercased()) } catch StoreError.notFound { throw notFound } catch let
            error as StoreError
        { throw ClientError.from(error) }
        guard let record = try perform({ try store.record(id) }) else { throw notFound }
        return record
    }

    /// The time of a change: `given` (from `--at`) after checking it, else now. A given time
    /// may not be in the future (a few minutes of clock skew allowed), nor before the request
    /// it concerns was raised, nor, for a step (`afterLastStep`), before the request's last
    /// step as this site knows it: steps are recorded in the order they happened.
    func time(_ given: Timestamp?, for record: RecordState? = nil, afterLastStep: Bool = false) throws -> Timestamp {
        let now = Timestamp.now()
        guard let at = given else { return now }
        guard at.millisecondsSince1970 <= now.millisecondsSince1970 + 300_000 else {
            throw ClientError.invalidInput(
                "--at \(at.asEndOfDay) is in the future: --at records when something already happened; leave it out for now"
            )
        }
        guard let record else { return at }
        let label = SiteStore.label(of: record)
        let (raised, events) = StateEvent.timeline(of: try perform { try store.log(of: record.id) })
        if let raised, at < raised {
            throw ClientError.invalidInput(
                "--at \(at.asEndOfDay) is before \(label) was raised (\(raised)): give a time after it")
        }
        if afterLastStep, let last = events.last, at < last.at {
            throw ClientError.invalidInput(
                "--at \(at.asEndOfDay) is before the last step of \(label) (\(last.state.replacingOccurrences(of: "_", with: " ")) at \(last.at)): record steps in the order they happened"
            )
        }
        return at
    }

    /// A value as a sentence shows it: as ``display(_:field:)``, but a field given as a date
    /// (`neededBy`) shows the date it was typed as (DESIGN §8, "Dates").
    func shown(_ value: FieldValue?, field: FieldName) throws -> String? {
        if TimeInput.dateFields.contains(field), let time = value?.time { return time.asEndOfDay }
        return try display(value, field: field)
    }

    /// The calendar date a field given as a date holds, if it holds the end of a day: what
    /// `--json` adds beside the exact instant.
    func date(_ value: FieldValue?, field: FieldName) -> String? {
        guard TimeInput.dateFields.contains(field), let time = value?.time else { return nil }
        return CalendarDate(ending: time)?.description
    }

    /// The records of `all` that `reference` names: those whose id starts with it, when it is
    /// at least 4 hex digits (and dashes) and some id does; else those whose `name` is it,
    /// ignoring case and spaces at either end. How people name standards, services, actions
    /// and survey rounds.
    func matching(_ reference: String, among all: [RecordState], name: (RecordState) -> String) -> [RecordState] {
        let lowered = reference.trimmingCharacters(in: .whitespaces).lowercased()
        if lowered.count >= 4, lowered.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
            let byID = all.filter { $0.id.text.hasPrefix(lowered) }
            if !byID.isEmpty { return byID }
        }
        return all.filter { name($0).trimmingCharacters(in: .whitespaces).lowercased() == lowered }
    }

    /// What `body` finds, or `nil` when it finds nothing; any other error (a database that
    /// cannot be read, a name that is ambiguous) is thrown, never taken for "not found".
    func ifFound<T>(_ body: () throws -> T) throws -> T? {
        do { return try body() } catch ClientError.notFound { return nil }
    }

    /// Renders a value for people: department codes for references, ISO times, short durations.
    func display(_ value: FieldValue?, field: FieldName) throws -> String? {
        guard let value, value != .null else { return nil }
        switch value {
        case .id(let id):
            if let record = try perform({ try store.record(id) }) {
                return SiteStore.label(of: record)
            }
            return id.text
        default:
            return value.description
        }
    }
}

/// Parses what people type for times: `2026-12-01` (the end of that day, UTC) or ISO 8601.
///
/// A date is kept as an instant, the end of that day (or, for the start of a period, its start),
/// and shown back as the date it was (`Timestamp.asEndOfDay`, DESIGN §8).
public enum TimeInput {
    /// The fields people give as a date or a time, a date meaning the end of that day: they are
    /// shown back as that date.
    public static let dateFields: Set<FieldName> = ["neededBy"]

    /// The time `text` names, or an error saying what is accepted.
    public static func parse(_ text: String, option: String) throws -> Timestamp {
        if let date = CalendarDate(text) { return date.end }
        if let time = Timestamp(iso8601: text) { return time }
        throw ClientError.invalidInput(
            "\(option) '\(text)' is not a date or time: write 2026-12-01 or 2026-12-01T14:30:00Z")
    }

    /// When an event happened, from `--at`: `nil` (now) without it. A date alone is the end
    /// of that day (UTC), or now if that is still to come, so today's date is accepted.
    public static func event(_ text: String?, option: String = "--at", now: Timestamp = .now()) throws -> Timestamp? {
        guard let text else { return nil }
        let time = try parse(text, option: option)
        return CalendarDate(text) != nil ? min(time, now) : time
    }

    /// Like ``parse(_:option:)``, but a date names the start of that day (UTC): for the start
    /// of a period.
    public static func parseStart(_ text: String, option: String) throws -> Timestamp {
        if let date = CalendarDate(text) { return date.start }
        return try parse(text, option: option)
    }
}
