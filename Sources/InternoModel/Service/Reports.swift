import Foundation

/// What the reports know of one request: its parties, standard, clocks and feedback.
public struct RequestFacts: Sendable {
    public var key: String
    /// The customer department's code.
    public var customer: String
    /// The provider department's code.
    public var provider: String
    /// The ref of the standard it falls under, if any.
    public var standard: String?
    /// That standard's service.
    public var service: String?
    public var submittedAt: Timestamp
    /// Its clocks, measured at the report's time.
    public var clocks: RequestClocks
    /// The standard's compliance target (%).
    public var complianceTarget: Int?
    /// The standard's CSAT target (%).
    public var csatTarget: Int?
    /// The standard's survey target: the lowest score a survey dimension may have, 1–7.
    public var surveyTarget: Int?
    /// The customer's rating of the service, 1–5.
    public var serviceRating: Int?
    /// The customer's effort score, 1–7.
    public var effort: Int?
    /// The provider's rating of the customer's cooperation, 1–5.
    public var cooperationRating: Int?

    public init(
        key: String, customer: String, provider: String, standard: String? = nil, service: String? = nil,
        submittedAt: Timestamp, clocks: RequestClocks, complianceTarget: Int? = nil, csatTarget: Int? = nil,
        serviceRating: Int? = nil, effort: Int? = nil, cooperationRating: Int? = nil, surveyTarget: Int? = nil
    ) {
        self.surveyTarget = surveyTarget
        self.key = key
        self.customer = customer
        self.provider = provider
        self.standard = standard
        self.service = service
        self.submittedAt = submittedAt
        self.clocks = clocks
        self.complianceTarget = complianceTarget
        self.csatTarget = csatTarget
        self.serviceRating = serviceRating
        self.effort = effort
        self.cooperationRating = cooperationRating
    }

    /// `true` once delivered: delivered now, or closed after a delivery.
    public var isDelivered: Bool {
        clocks.state == Schema.RequestState.delivered || clocks.state == Schema.RequestState.closed
    }

    /// `true` while work is owed.
    public var isOpen: Bool { Schema.RequestState.open.contains(clocks.state) }
}

/// A share: how many of how many, and the percentage (`nil` when there is nothing to count).
public struct Share: Hashable, Sendable, Codable {
    public var count: Int
    public var of: Int

    public init(_ count: Int, of total: Int) {
        self.count = count
        self.of = total
    }

    /// 100 × count / of, rounded to one decimal; `nil` when `of` is 0.
    public var percent: Double? {
        guard of > 0 else { return nil }
        return (Double(count) * 1_000 / Double(of)).rounded() / 10
    }

    /// The percentage as people read it: `50%`, `33.3%`, or `—` when nothing counts.
    public var percentText: String {
        guard let value = percent else { return "—" }
        return value.rounded() == value ? "\(Int(value))%" : String(format: "%.1f%%", value)
    }

    enum CodingKeys: String, CodingKey { case count, of, percent }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(try container.decode(Int.self, forKey: .count), of: try container.decode(Int.self, forKey: .of))
    }

    /// Encodes `count`, `of` and `percent` (null when `of` is 0).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(count, forKey: .count)
        try container.encode(of, forKey: .of)
        try container.encode(percent, forKey: .percent)
    }
}

/// The arithmetic of the reports (DESIGN §7.5), as written in the README's definitions.
public enum ReportMath {
    /// The median: the middle value, or the mean of the two middle values (rounded down).
    public static func median(_ values: [Int64]) -> Int64? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// The nearest-rank percentile: the value at rank ⌈p/100 × n⌉ of the sorted values.
    public static func percentile(_ p: Int, _ values: [Int64]) -> Int64? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((Double(p) / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// The mean, to two decimals; `nil` for no values.
    public static func mean(_ values: [Int]) -> Double? {
        guard !values.isEmpty else { return nil }
        return (Double(values.reduce(0, +)) * 100 / Double(values.count)).rounded() / 100
    }

    /// Whether a clock counts toward compliance, and if so whether it met its target. A clock
    /// counts once it has stopped with a target, or while it runs (or is held) already past
    /// its target: a request still open past its target is already a miss.
    public static func outcome(_ clock: ServiceClock?) -> Bool? {
        guard let clock, let met = clock.met else { return nil }
        if clock.status == .stopped { return met }
        return met ? nil : false
    }

    /// The share of `clocks` that met their target, among those that count.
    public static func compliance(_ clocks: [ServiceClock?]) -> Share {
        let outcomes = clocks.compactMap(outcome)
        return Share(outcomes.filter { $0 }.count, of: outcomes.count)
    }

    /// Delivery compliance of a set of requests: their deliver clocks.
    public static func deliveryCompliance(_ requests: [RequestFacts]) -> Share {
        compliance(requests.map { $0.clocks.deliver })
    }

    /// CSAT: the share of service ratings of 4 or 5.
    public static func csat(_ requests: [RequestFacts]) -> Share {
        let ratings = requests.compactMap(\.serviceRating)
        return Share(ratings.filter { $0 >= 4 }.count, of: ratings.count)
    }
}

/// `sla`: per provider and standard.
public struct SLARow: Hashable, Sendable, Codable {
    public var provider: String
    public var standard: String?
    public var service: String?
    /// Requests submitted in the period.
    public var requests: Int
    public var acknowledgedWithinTarget: Share
    public var deliveredWithinTarget: Share
    /// Business time to acknowledge, in seconds, over requests acknowledged.
    public var acknowledgeMedian: Int64?
    public var acknowledgeP90: Int64?
    /// Business time to deliver, in seconds, over requests delivered.
    public var deliverMedian: Int64?
    public var deliverP90: Int64?
    /// Open requests whose acknowledge or deliver clock, running or held, is past its target.
    public var openPastDue: Int
    public var complianceTarget: Int?

    /// What one row of `sla` counts.
    public enum Grouping: String, Sendable, CaseIterable {
        /// One row per provider and standard (requests under no standard together).
        case standard
        /// One row per provider and service: the catalogued service, else the standard's.
        case service
    }

    public static func rows(_ requests: [RequestFacts], by grouping: Grouping = .standard) -> [SLARow] {
        let groups = Dictionary(grouping: requests) {
            GroupKey($0.provider, grouping == .standard ? $0.standard ?? "" : $0.service ?? "")
        }
        return groups.keys.sorted().map { key in
            let group = groups[key]!
            // By service, a row spans standards: it names one only when all its requests share it.
            let standards = Set(group.map(\.standard))
            let standard = standards.count == 1 ? group[0].standard : nil
            let services = Set(group.map(\.service))
            let acknowledged = group.compactMap { $0.clocks.acknowledge }.filter { $0.status == .stopped }
            let delivered = group.filter(\.isDelivered).compactMap { $0.clocks.deliver }
            let pastDue = group.filter { request in
                request.isOpen
                    && [request.clocks.acknowledge, request.clocks.deliver].contains { clock in
                        clock.map { $0.status != .stopped && $0.met == false } ?? false
                    }
            }
            return SLARow(
                provider: key.first, standard: standard, service: services.count == 1 ? group[0].service : nil,
                requests: group.count,
                acknowledgedWithinTarget: ReportMath.compliance(group.map { $0.clocks.acknowledge }),
                deliveredWithinTarget: ReportMath.deliveryCompliance(group),
                acknowledgeMedian: ReportMath.median(acknowledged.map(\.elapsed)).map { $0 / 1_000 },
                acknowledgeP90: ReportMath.percentile(90, acknowledged.map(\.elapsed)).map { $0 / 1_000 },
                deliverMedian: ReportMath.median(delivered.map(\.elapsed)).map { $0 / 1_000 },
                deliverP90: ReportMath.percentile(90, delivered.map(\.elapsed)).map { $0 / 1_000 },
                openPastDue: pastDue.count,
                complianceTarget: Set(group.map(\.complianceTarget)).count == 1 ? group[0].complianceTarget : nil)
        }
    }
}

/// `obligations`: per customer.
public struct ObligationsRow: Hashable, Sendable, Codable {
    public var customer: String
    public var requests: Int
    /// Requests with a needed-by date and a required notice: how many gave it.
    public var noticeGiven: Share
    /// Stays waiting on the customer.
    public var waits: Int
    /// Business time waiting on the customer, in seconds, in the customer's calendar.
    public var waitingTotal: Int64
    /// Waits answered within the standard's time to answer.
    public var answeredWithinTarget: Share
    /// Deliveries confirmed (or reopened) within the standard's time to confirm.
    public var confirmedWithinTarget: Share
    /// Business time to confirm, in seconds, over deliveries answered.
    public var confirmMedian: Int64?

    public static func rows(_ requests: [RequestFacts]) -> [ObligationsRow] {
        let groups = Dictionary(grouping: requests, by: \.customer)
        return groups.keys.sorted().map { customer in
            let group = groups[customer]!
            let notices = group.compactMap(\.clocks.noticeMet)
            let waits = group.flatMap(\.clocks.waits)
            let confirmations = group.flatMap(\.clocks.confirmations)
            return ObligationsRow(
                customer: customer, requests: group.count,
                noticeGiven: Share(notices.filter { $0 }.count, of: notices.count),
                waits: waits.count, waitingTotal: waits.reduce(0) { $0 + $1.elapsed } / 1_000,
                answeredWithinTarget: ReportMath.compliance(waits),
                confirmedWithinTarget: ReportMath.compliance(confirmations),
                confirmMedian: ReportMath.median(confirmations.filter { $0.status == .stopped }.map(\.elapsed)).map {
                    $0 / 1_000
                })
        }
    }
}

/// `satisfaction`: per provider and customer pair, and per provider over all its customers.
public struct SatisfactionRow: Hashable, Sendable, Codable {
    public var provider: String
    /// The customer, or `*` for the provider's total.
    public var customer: String
    /// Requests delivered.
    public var delivered: Int
    /// Delivered requests the customer rated.
    public var responseRate: Share
    /// Ratings of 4 or 5 among the ratings.
    public var csat: Share
    public var meanRating: Double?
    public var meanEffort: Double?
    /// The provider's ratings of the customer's cooperation.
    public var cooperationResponses: Int
    public var meanCooperation: Double?

    public static func rows(_ requests: [RequestFacts]) -> [SatisfactionRow] {
        func row(_ provider: String, _ customer: String, _ group: [RequestFacts]) -> SatisfactionRow {
            let delivered = group.filter(\.isDelivered)
            let rated = group.filter { $0.serviceRating != nil }
            let cooperation = group.compactMap(\.cooperationRating)
            return SatisfactionRow(
                provider: provider, customer: customer, delivered: delivered.count,
                responseRate: Share(delivered.filter { $0.serviceRating != nil }.count, of: delivered.count),
                csat: ReportMath.csat(rated), meanRating: ReportMath.mean(rated.compactMap(\.serviceRating)),
                meanEffort: ReportMath.mean(group.compactMap(\.effort)), cooperationResponses: cooperation.count,
                meanCooperation: ReportMath.mean(cooperation))
        }
        var rows: [SatisfactionRow] = []
        let byProvider = Dictionary(grouping: requests, by: \.provider)
        for provider in byProvider.keys.sorted() {
            let group = byProvider[provider]!
            let byCustomer = Dictionary(grouping: group, by: \.customer)
            for customer in byCustomer.keys.sorted() { rows.append(row(provider, customer, byCustomer[customer]!)) }
            if byCustomer.count > 1 { rows.append(row(provider, "*", group)) }
        }
        return rows
    }
}

/// `watermelon`: per provider–customer pair and period, delivery compliance against CSAT.
public struct WatermelonRow: Hashable, Sendable, Codable {
    /// The verdict for a pair.
    public enum Verdict: String, Hashable, Sendable, Codable {
        /// Compliance meets its target but CSAT misses its own: green outside, red inside.
        case watermelon
        /// Compliance misses its target while CSAT meets its own: red outside, green inside.
        case reverse
        /// Both meet their targets.
        case healthy
        /// Both miss.
        case failing
        /// Fewer ratings than the minimum sample.
        case tooFewResponses = "too few responses"
        /// No standard sets the targets, or no request counts toward compliance.
        case noTarget = "no target"
    }

    public var provider: String
    public var customer: String
    /// The period, e.g. `2026-11`, or `all` when not split.
    public var period: String
    public var requests: Int
    public var compliance: Share
    public var complianceTarget: Int?
    public var csat: Share
    public var csatTarget: Int?
    /// The pair's latest survey round (its ref), its NPS and lowest dimension score among the
    /// customer's answers, when there are enough of them.
    public var survey: String?
    public var surveyNPS: Double?
    public var surveyLowest: Double?
    public var surveyTarget: Int?
    public var verdict: Verdict
    /// What made the pair red inside, in words: `CSAT 40% < 80%`, `NPS -12.5 < 0`,
    /// `reliability 3.50 < 5`. Empty when nothing did.
    public var redInside: [String]

    /// The latest survey round of a pair: the customer's answers to its provider's round.
    public struct PairSurvey: Sendable {
        public var provider: String
        public var customer: String
        public var round: String
        public var figures: SurveyFigures

        public init(provider: String, customer: String, round: String, figures: SurveyFigures) {
            self.provider = provider
            self.customer = customer
            self.round = round
            self.figures = figures
        }
    }

    /// Rows per pair, split by `period` (a label per request), with `minimum` ratings needed.
    /// A pair's latest survey (`surveys`) counts in every row of the pair: it is red inside
    /// when its NPS is below 0, or a dimension scores below the standard's survey target.
    public static func rows(
        _ requests: [RequestFacts], period: (RequestFacts) -> String, minimum: Int, surveys: [PairSurvey] = []
    ) -> [WatermelonRow] {
        let groups = Dictionary(grouping: requests) { GroupKey($0.provider, $0.customer, period($0)) }
        return groups.keys.sorted().map { key in
            let group = groups[key]!
            // The targets of the standard most of the group's requests fall under.
            let counts = Dictionary(grouping: group.filter { $0.standard != nil }, by: { $0.standard! })
            let main = counts.max { ($0.value.count, $0.key) < ($1.value.count, $1.key) }?.value.first
            let compliance = ReportMath.deliveryCompliance(group)
            let csat = ReportMath.csat(group)
            let survey = surveys.first { $0.provider == key.first && $0.customer == key.second }
            let counted = survey.flatMap { $0.figures.tooFew ? nil : $0.figures }
            let lowest = counted?.dimensions.compactMap(\.perception).min()
            var verdict = Verdict.noTarget
            var red: [String] = []
            if let complianceTarget = main?.complianceTarget, let csatTarget = main?.csatTarget, compliance.of > 0 {
                // Compared exactly, not after rounding: 89.95% misses a 90% target.
                let green = compliance.count * 100 >= complianceTarget * compliance.of
                let rated = csat.of >= minimum
                if rated, csat.count * 100 < csatTarget * csat.of {
                    red.append("CSAT \(csat.percentText) < \(csatTarget)%")
                }
                if let counted {
                    if let nps = counted.nps, nps < 0 { red.append("NPS \(nps) < 0") }
                    if let target = main?.surveyTarget {
                        for score in counted.dimensions {
                            guard let perception = score.perception, perception < Double(target) else { continue }
                            red.append("\(score.dimension) \(String(format: "%.2f", perception)) < \(target)")
                        }
                    }
                }
                if !rated && counted == nil {
                    verdict = .tooFewResponses
                } else {
                    let happy = red.isEmpty
                    verdict = green ? (happy ? .healthy : .watermelon) : (happy ? .reverse : .failing)
                }
            }
            return WatermelonRow(
                provider: key.first, customer: key.second, period: key.third, requests: group.count,
                compliance: compliance, complianceTarget: main?.complianceTarget, csat: csat,
                csatTarget: main?.csatTarget, survey: counted == nil ? nil : survey?.round, surveyNPS: counted?.nps,
                surveyLowest: lowest, surveyTarget: main?.surveyTarget, verdict: verdict, redInside: red)
        }
    }
}

/// `matrix`: one cell per customer and provider with requests between them.
public struct MatrixCell: Hashable, Sendable, Codable {
    public var customer: String
    public var provider: String
    public var requests: Int
    public var compliance: Share
    public var csat: Share

    public static func cells(_ requests: [RequestFacts]) -> [MatrixCell] {
        let groups = Dictionary(grouping: requests) { GroupKey($0.customer, $0.provider) }
        return groups.keys.sorted().map { key in
            let group = groups[key]!
            return MatrixCell(
                customer: key.first, provider: key.second, requests: group.count,
                compliance: ReportMath.deliveryCompliance(group), csat: ReportMath.csat(group))
        }
    }
}

/// A sortable grouping key of up to three strings.
struct GroupKey: Hashable, Comparable {
    var first: String
    var second: String
    var third: String

    init(_ first: String, _ second: String, _ third: String = "") {
        self.first = first
        self.second = second
        self.third = third
    }

    static func < (lhs: GroupKey, rhs: GroupKey) -> Bool {
        (lhs.first, lhs.second, lhs.third) < (rhs.first, rhs.second, rhs.third)
    }
}

/// What `report actions` knows of one improvement action (DESIGN §7.7).
public struct ActionFacts: Sendable {
    public var ref: String
    public var title: String
    /// The owner department's code.
    public var owner: String
    /// What it is about, in words.
    public var about: String
    public var due: Timestamp
    /// `open`, `done` or `dropped`.
    public var status: String

    public init(ref: String, title: String, owner: String, about: String, due: Timestamp, status: String) {
        self.ref = ref
        self.title = title
        self.owner = owner
        self.about = about
        self.due = due
        self.status = status
    }
}

/// `actions`: every open action, by owner then due time, with how late it is.
public struct ActionRow: Hashable, Sendable, Codable {
    public var owner: String
    public var ref: String
    public var title: String
    public var about: String
    /// The due time, exactly (ISO 8601), and the date it was given as (`null` for a time).
    public var due: String
    public var dueDate: String?
    /// `true` once the due time has passed.
    public var overdue: Bool
    /// Whole days since the due time (calendar days of 24 hours, rounded down); 0 when not
    /// overdue.
    public var daysLate: Int

    /// The open actions of `actions` as they stand at `now`.
    public static func rows(_ actions: [ActionFacts], now: Timestamp) -> [ActionRow] {
        actions.filter { $0.status == Schema.ActionStatus.open }
            .sorted { ($0.owner, $0.due, $0.ref) < ($1.owner, $1.due, $1.ref) }
            .map { action in
                let late = now.millisecondsSince1970 - action.due.millisecondsSince1970
                return ActionRow(
                    owner: action.owner, ref: action.ref, title: action.title, about: action.about,
                    due: action.due.description, dueDate: CalendarDate(ending: action.due)?.description,
                    overdue: late > 0, daysLate: late > 0 ? Int(late / 86_400_000) : 0)
            }
    }
}

/// What `report kudos` knows of one kudos (DESIGN §7.7).
public struct KudosFacts: Sendable {
    /// The giving and the thanked department's codes.
    public var from: String
    public var to: String
    public var person: String?
    /// When they were sent.
    public var at: Timestamp
    /// What they say, and what they are for in words (`request HR-LIS-4`, `period 2026-H2`).
    public var message: String
    public var reason: String

    public init(
        from: String, to: String, person: String? = nil, at: Timestamp, message: String = "", reason: String = ""
    ) {
        self.from = from
        self.to = to
        self.person = person
        self.at = at
        self.message = message
        self.reason = reason
    }
}

/// `kudos`: per period and department, the kudos it received and gave.
public struct KudosRow: Hashable, Sendable, Codable {
    /// `2026-11` (the UTC month the kudos were sent) or `all`.
    public var period: String
    public var department: String
    public var received: Int
    public var given: Int
    /// The departments it was thanked by, and the people of it named, each once, sorted.
    public var from: [String]
    public var people: [String]

    /// One row per period and department that received or gave kudos; `period` names the
    /// period of one kudos.
    public static func rows(_ kudos: [KudosFacts], period: (KudosFacts) -> String) -> [KudosRow] {
        var rows: [GroupKey: KudosRow] = [:]
        func row(_ key: GroupKey) -> KudosRow {
            rows[key]
                ?? KudosRow(period: key.first, department: key.second, received: 0, given: 0, from: [], people: [])
        }
        for item in kudos {
            let label = period(item)
            var received = row(GroupKey(label, item.to))
            received.received += 1
            received.from = Array(Set(received.from + [item.from])).sorted()
            if let person = item.person { received.people = Array(Set(received.people + [person])).sorted() }
            rows[GroupKey(label, item.to)] = received
            var given = row(GroupKey(label, item.from))
            given.given += 1
            rows[GroupKey(label, item.from)] = given
        }
        return rows.keys.sorted().map { rows[$0]! }
    }
}

extension Timestamp {
    /// The UTC month of this instant, `2026-11`: how reports split a period by month.
    public var monthLabel: String { String(description.prefix(7)) }
}

/// Delivery compliance per provider and month of submission (the dashboard's trend).
public struct MonthlyCompliance: Hashable, Sendable, Codable {
    public var provider: String
    /// `2026-11`.
    public var month: String
    public var compliance: Share

    public static func rows(_ requests: [RequestFacts]) -> [MonthlyCompliance] {
        let groups = Dictionary(grouping: requests) { GroupKey($0.provider, $0.submittedAt.monthLabel) }
        return groups.keys.sorted().map { key in
            MonthlyCompliance(
                provider: key.first, month: key.second, compliance: ReportMath.deliveryCompliance(groups[key]!))
        }
    }
}
