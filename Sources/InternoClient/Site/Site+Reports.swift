import Foundation
import InternoModel
import InternoStore

/// Which requests a report counts: those submitted within the period, with optional filters.
public struct ReportScope: Sendable, Equatable, Codable {
    /// The start of the period (inclusive).
    public var from: Timestamp
    /// The end of the period (exclusive).
    public var to: Timestamp
    /// Only this provider department (code).
    public var provider: String?
    /// Only this customer department (code).
    public var customer: String?
    /// Only requests under this standard: the start of its id, or its service.
    public var standard: String?
    /// Only requests for this catalogued service: its name, or the start of its id.
    public var service: String?

    /// A scope; codes are matched without regard to case.
    public init(
        from: Timestamp, to: Timestamp, provider: String? = nil, customer: String? = nil, standard: String? = nil,
        service: String? = nil
    ) {
        self.from = from
        self.to = to
        self.provider = provider?.uppercased()
        self.customer = customer?.uppercased()
        self.standard = standard
        self.service = service
    }

    /// The period from `from` (default: 30 days before `to`) to `to`: what every report counts
    /// when no period is given.
    public static func period(from: Timestamp?, to: Timestamp) -> ReportScope {
        ReportScope(from: from ?? Timestamp(millisecondsSince1970: to.millisecondsSince1970 - 30 * 86_400_000), to: to)
    }

    /// The start as people read it: a date when it is the start of a day (UTC), else the time.
    public var fromText: String { from.asStartOfDay }
    /// The end as people read it: the last day included when the period ends with a day, else the time.
    public var toText: String { to.asEndOfDay }

    enum CodingKeys: String, CodingKey { case from, to, fromDate, toDate, provider, customer, standard, service }

    /// The exact instants, and beside them the dates they were typed as (`null` for a time).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(from.description, forKey: .from)
        try container.encode(to.description, forKey: .to)
        try container.encode(CalendarDate(starting: from)?.description, forKey: .fromDate)
        try container.encode(CalendarDate(ending: to)?.description, forKey: .toDate)
        try container.encodeIfPresent(provider, forKey: .provider)
        try container.encodeIfPresent(customer, forKey: .customer)
        try container.encodeIfPresent(standard, forKey: .standard)
        try container.encodeIfPresent(service, forKey: .service)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let from = Timestamp(iso8601: try container.decode(String.self, forKey: .from)),
            let to = Timestamp(iso8601: try container.decode(String.self, forKey: .to))
        else { throw DecodingError.dataCorruptedError(forKey: .from, in: container, debugDescription: "not a time") }
        self.init(
            from: from, to: to, provider: try container.decodeIfPresent(String.self, forKey: .provider),
            customer: try container.decodeIfPresent(String.self, forKey: .customer),
            standard: try container.decodeIfPresent(String.self, forKey: .standard),
            service: try container.decodeIfPresent(String.self, forKey: .service))
    }
}

extension Site {
    /// The facts of every request in `scope`, its clocks measured at `now`.
    public func reportFacts(_ scope: ReportScope, now: Timestamp = .now()) throws -> [RequestFacts] {
        guard scope.from < scope.to else {
            throw ClientError.invalidInput(
                "the period is empty: --from \(scope.fromText) is not before --to \(scope.toText)")
        }
        for code in [scope.provider, scope.customer].compactMap({ $0 }) { _ = try departmentID(code: code) }
        let wantedStandard = try scope.standard.map { try standardRecord($0).id }
        let wantedService = try scope.service.map { try serviceRecord($0, retired: true).id }
        var serviceNames: [UUID: String] = [:]
        var cache = MeasureCache()
        var standards: [UUID: StandardView] = [:]
        let all = try perform { try store.records(of: .standard) }
        var facts: [RequestFacts] = []
        let ratings = try perform { try store.ratings() }
        for row in try perform({ try store.requests(submittedFrom: scope.from, to: scope.to) }) {
            let customer = try code(of: row.customer, cache: &cache)
            let provider = try code(of: row.provider, cache: &cache)
            if let wanted = scope.provider, provider != wanted { continue }
            if let wanted = scope.customer, customer != wanted { continue }
            let measured = try measure(row, now: now, cache: &cache)
            let standard = try measured.standard.map { record in
                if let known = standards[record.id] { return known }
                let shown = try view(of: record, among: all)
                standards[record.id] = shown
                return shown
            }
            if let wantedStandard, measured.standard?.id != wantedStandard { continue }
            // The service: the catalogued one the request names, else its standard's (by
            // catalogue entry, else in free text).
            var serviceID = measured.standard?.value(of: "catalogService")?.id
            if let text = row.service {
                guard let id = UUID(text: text) else {
                    throw ClientError.storage(
                        "the service of request \(row.key) as stored here cannot be read; run `interno verify --repair`"
                    )
                }
                serviceID = id
            }
            if let wantedService, serviceID != wantedService { continue }
            var serviceName = standard?.service
            if let serviceID {
                if let known = serviceNames[serviceID] {
                    serviceName = known
                } else if let record = try perform({ try store.record(serviceID) }) {
                    serviceName = SiteStore.label(of: record)
                    serviceNames[serviceID] = serviceName
                }
            }
            let given = ratings[row.id]
            let service = given?[Role.customer.rawValue]
            facts.append(
                RequestFacts(
                    key: row.key, customer: customer, provider: provider, standard: standard?.ref,
                    service: serviceName, submittedAt: measured.submittedAt, clocks: measured.clocks,
                    complianceTarget: standard?.complianceTarget, csatTarget: standard?.csatTarget,
                    serviceRating: service?.rating, effort: service?.effort,
                    cooperationRating: given?[Role.provider.rawValue]?.rating, surveyTarget: standard?.surveyTarget))
        }
        return facts
    }
}

extension Site {
    /// The facts of every action this site knows, or of one owner's.
    public func actionFacts(owner: String? = nil) throws -> [ActionFacts] {
        let ownerID = try owner.map(departmentID(code:))
        let now = Timestamp.now()
        return try perform { try store.records(of: .action) }
            .filter { ownerID == nil || $0.value(of: "owner")?.id == ownerID }
            .map { record in
                let shown = try view(ofAction: record, now: now)
                guard let due = record.value(of: "due")?.time else {
                    throw ClientError.storage("action \(shown.ref) has no due date here; run `interno verify --repair`")
                }
                return ActionFacts(
                    ref: shown.ref, title: shown.title, owner: shown.owner, about: shown.about, due: due,
                    status: shown.status)
            }
    }

    /// The kudos sent within `scope`'s period, as this site knows them.
    public func kudosFacts(_ scope: ReportScope) throws -> [KudosFacts] {
        guard scope.from < scope.to else {
            throw ClientError.invalidInput(
                "the period is empty: --from \(scope.fromText) is not before --to \(scope.toText)")
        }
        return try perform { try store.records(of: .kudos) }.compactMap { record in
            guard let at = record.siblings("message").first?.at, scope.from <= at, at < scope.to else { return nil }
            let shown = try view(ofKudos: record)
            return KudosFacts(
                from: shown.from, to: shown.to, person: shown.person, at: at, message: shown.message,
                reason: shown.reason)
        }
    }
}
