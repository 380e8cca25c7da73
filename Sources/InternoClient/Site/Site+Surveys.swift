import Foundation
import InternoModel
import InternoStore

/// A survey round as shown: the stable shape of `interno survey list|show --json`.
public struct RoundView: Codable, Equatable, Sendable {
    /// The full id, and its first 8 hex digits: what people type.
    public var id: String
    public var ref: String
    public var service: String
    public var provider: String
    /// The departments asked, with the people invited in each when known.
    public var customers: [Invitation]
    /// `perceptions` (the short form) or `paired` (expectations and perceptions).
    public var form: String
    /// The window, exactly (ISO 8601).
    public var opens: String
    public var closes: String
    /// `upcoming`, `open` or `closed`, now.
    public var status: String
    /// The answers this site holds: all of them at the provider, its own department's elsewhere.
    public var responses: Int
    /// `true` once the person running the command has answered from this site.
    public var answeredByMe: Bool

    /// A department asked, and the people invited in it.
    public struct Invitation: Codable, Equatable, Sendable {
        public var customer: String
        public var invited: Int?
    }
}

extension Site {
    /// Opens a survey round of one of this department's services among `customers` (codes,
    /// each optionally with the people invited: `HR=12`), answered from `opens` to `closes`.
    public func openRound(
        service: String, customers: [String], opens: Timestamp, closes: Timestamp, paired: Bool = false,
        at given: Timestamp? = nil
    ) throws -> RoundView {
        let at = try time(given)
        let serviceRecord = try serviceRecord(service, retired: true)
        try requireOffered(serviceRecord, for: "a survey round")
        guard !customers.isEmpty else {
            throw ClientError.invalidInput(
                "name the departments asked: --customer HR (or HR=12 with the people invited)")
        }
        var invitations: [(department: UUID, invited: Int?)] = []
        for text in customers {
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            var invited: Int?
            if parts.count == 2 {
                guard let number = Int(parts[1]), number >= 1 else {
                    throw ClientError.invalidInput(
                        "--customer '\(text)': give a department, or a department and the people invited, like HR=12")
                }
                invited = number
            }
            let id = try departmentID(code: parts[0])
            guard !invitations.contains(where: { $0.department == id }) else {
                throw ClientError.invalidInput("--customer \(parts[0].uppercased()) is given twice")
            }
            invitations.append((id, invited))
        }
        guard let provider = serviceRecord.value(of: "provider") else {
            throw ClientError.storage("service \(serviceRecord.id.text) has no provider")
        }
        let fields: [FieldName: FieldValue] = [
            "provider": provider, "service": .id(serviceRecord.id),
            "customers": .text(Schema.invitationsText(invitations)), "form": .text(paired ? "paired" : "perceptions"),
            "opens": .time(opens), "closes": .time(closes),
        ]
        let id = UUID()
        try perform { try store.write([Edit(.round, id, fields)], author: author, at: at) }
        return try round(id.text)
    }

    /// The survey rounds this site knows, newest first.
    public func rounds(now: Timestamp = .now()) throws -> [RoundView] {
        try perform { try store.records(of: .round) }.map { try view(ofRound: $0, now: now) }
            .sorted { ($0.opens, $0.ref) > ($1.opens, $1.ref) }
    }

    /// One round: the start of its id, or a service's name for its latest round.
    public func round(_ reference: String, now: Timestamp = .now()) throws -> RoundView {
        try view(ofRound: try roundRecord(reference), now: now)
    }

    /// Closes a round of this department before its window ends; it takes no more answers.
    public func closeRound(_ reference: String, at given: Timestamp? = nil) throws -> RoundView {
        let at = try time(given)
        let record = try roundRecord(reference)
        try perform { try store.write([Edit(.round, record.id, ["closed": .bool(true)])], author: author, at: at) }
        return try round(record.id.text)
    }

    /// Answers a round for this department, anonymously: the answer carries this site's code,
    /// never the person's name, and this site remembers (locally, never synced) that the
    /// person has answered, so each answers once. `perceptions` and `expectations` are the
    /// scores 1–7 in the order of ``Schema/surveyDimensions``; `nps` 0–10.
    public func answerRound(
        _ reference: String, perceptions: [Int], expectations: [Int]? = nil, nps: Int, comment: String? = nil,
        at given: Timestamp? = nil
    ) throws -> RoundView {
        let at = try time(given)
        let record = try roundRecord(reference)
        precondition(perceptions.count == Schema.surveyDimensions.count, "one perception per dimension")
        var fields: [FieldName: FieldValue] = [
            "round": .id(record.id), "customer": .id(department), "nps": .integer(Int64(nps)),
        ]
        guard let provider = record.value(of: "provider") else {
            throw ClientError.storage("survey round \(record.id.text) has no provider")
        }
        fields["provider"] = provider
        for (dimension, score) in zip(Schema.surveyDimensions, perceptions) {
            fields[dimension] = .integer(Int64(score))
        }
        if let expectations {
            for (dimension, score) in zip(Schema.surveyDimensions, expectations) {
                fields[Schema.expectationField(dimension)] = .integer(Int64(score))
            }
        }
        if let comment, !comment.isEmpty { fields["comment"] = .text(comment) }
        try perform {
            try store.answer(
                Edit(.answer, UUID.timeOrdered(), fields), round: record.id, site: settings.code, person: person,
                at: at)
        }
        return try round(record.id.text)
    }

    /// The report of a round, from the answers this site holds, beside the previous round of
    /// the same service; groups with fewer than `minimum` answers show no score.
    public func surveyReport(_ reference: String, minimum: Int = 3) throws -> SurveyReport {
        let record = try roundRecord(reference)
        let shown = try view(ofRound: record, now: .now())
        let held = try perform { try store.records(of: .answer) }
        func answers(of round: UUID) throws -> [SurveyAnswer] {
            try held.filter { $0.value(of: "round")?.id == round }.map(surveyAnswer)
        }
        // The previous round of the same service: the latest that opened before this one.
        let serviceID = record.value(of: "service")?.id
        let (opens, closes) = try window(of: record)
        let previous = try perform { try store.records(of: .round) }
            .filter { $0.id != record.id && $0.value(of: "service")?.id == serviceID }
            .filter { ($0.value(of: "opens")?.time).map { $0 < opens } ?? false }
            .max { ($0.value(of: "opens")?.time ?? opens) < ($1.value(of: "opens")?.time ?? opens) }
        // A customer's site holds only its own department's answers: the other departments'
        // rows would read 0 where the truth is unknown here, so they are left out.
        let everything = try perform { try store.replica() }.scope == .all
        let own = try code(of: department.text)
        let customers = shown.customers.filter { everything || shown.provider == own || $0.customer == own }
        return SurveyReport.make(
            round: shown.ref, service: shown.service, provider: shown.provider, form: shown.form, opens: opens,
            closes: closes, customers: customers.map { ($0.customer, $0.invited) },
            answers: try answers(of: record.id),
            previous: try previous.map { (String($0.id.text.prefix(8)), try answers(of: $0.id)) }, minimum: minimum)
    }

    // MARK: Helpers

    /// When a round opens and closes; both are required, so a round without them is damaged.
    private func window(of round: RecordState) throws -> (opens: Timestamp, closes: Timestamp) {
        guard let opens = round.value(of: "opens")?.time, let closes = round.value(of: "closes")?.time else {
            throw ClientError.storage(
                "survey round \(round.id.text.prefix(8)) has no window here; run `interno verify --repair`")
        }
        return (opens, closes)
    }

    /// The person running the command: the name part of this site's author (`ana`).
    var person: String {
        String(author.split(separator: "@", maxSplits: 1).first ?? Substring(author))
    }

    func roundRecord(_ reference: String) throws -> RecordState {
        let all = try perform { try store.records(of: .round) }
        let byID = matching(reference, among: all, name: { _ in "" })
        if byID.count == 1 { return byID[0] }
        if byID.count > 1 {
            let list = byID.map { String($0.id.text.prefix(8)) }.sorted().joined(separator: ", ")
            throw ClientError.invalidInput("'\(reference)' names several survey rounds: \(list); give more of the id")
        }
        // A service's name names its latest round.
        if let service = try ifFound({ try serviceRecord(reference, retired: true) }) {
            let latest = all.filter { $0.value(of: "service")?.id == service.id }
                .max {
                    ($0.value(of: "opens")?.time?.millisecondsSince1970 ?? 0)
                        < ($1.value(of: "opens")?.time?.millisecondsSince1970 ?? 0)
                }
            if let latest { return latest }
        }
        throw ClientError.notFound(
            "there is no survey round '\(reference)' here: name one by the start of its id, or by its service for the latest; `interno survey list` shows them, `interno sync` fetches new ones"
        )
    }

    func surveyAnswer(_ record: RecordState) throws -> SurveyAnswer {
        func score(_ field: FieldName) throws -> Int {
            guard let value = record.value(of: field)?.integer else {
                throw ClientError.storage("an answer here has no \(field); run `interno verify --repair`")
            }
            return Int(value)
        }
        let expectations = Schema.surveyDimensions.map(Schema.expectationField)
        let paired = expectations.allSatisfy { record.value(of: $0) != nil }
        return SurveyAnswer(
            customer: try code(of: record.value(of: "customer")?.id?.text),
            perceptions: try Schema.surveyDimensions.map(score),
            expectations: paired ? try expectations.map(score) : nil, nps: try score("nps"))
    }

    func view(ofRound record: RecordState, now: Timestamp) throws -> RoundView {
        let value = record.value(of:)
        let serviceID = value("service")?.id
        let service = try serviceID.flatMap { id in try perform { try store.record(id) } }
        let invitations = value("customers")?.text.flatMap(Schema.parseInvitations) ?? []
        let (opens, closes) = try window(of: record)
        let status =
            value("closed") == .bool(true) || now > closes ? "closed" : now < opens ? "upcoming" : "open"
        let responses = try perform { try store.answerCount(round: record.id) }
        let answered = try perform { try store.hasAnswered(round: record.id, person: person) }
        return RoundView(
            id: record.id.text, ref: String(record.id.text.prefix(8)),
            service: service.map(SiteStore.label(of:)) ?? serviceID?.text ?? "",
            provider: try code(of: value("provider")?.id?.text),
            customers: try invitations.map {
                RoundView.Invitation(customer: try code(of: $0.department.text), invited: $0.invited)
            }
            .sorted { $0.customer < $1.customer },
            form: value("form")?.text ?? "perceptions", opens: opens.description, closes: closes.description,
            status: status, responses: responses, answeredByMe: answered)
    }
}

extension Site {
    /// The latest survey of each provider–customer pair this site can see (DESIGN §7.8): for
    /// each customer a round asks, the latest round that has opened and holds answers of that
    /// customer here, with the figures of those answers (none shown below `minimum`).
    public func pairSurveys(minimum: Int = 3, now: Timestamp = .now()) throws -> [WatermelonRow.PairSurvey] {
        let answers = try perform { try store.records(of: .answer) }
        var latest: [String: (opens: Timestamp, survey: WatermelonRow.PairSurvey)] = [:]
        for record in try perform({ try store.records(of: .round) }) {
            guard let opens = record.value(of: "opens")?.time, opens <= now else { continue }
            let provider = try code(of: record.value(of: "provider")?.id?.text)
            for invitation in record.value(of: "customers")?.text.flatMap(Schema.parseInvitations) ?? [] {
                let theirs = try answers.filter {
                    $0.value(of: "round")?.id == record.id && $0.value(of: "customer")?.id == invitation.department
                }.map(surveyAnswer)
                guard !theirs.isEmpty else { continue }
                let customer = try code(of: invitation.department.text)
                let key = provider + "\u{0}" + customer
                if let known = latest[key], known.opens >= opens { continue }
                latest[key] = (
                    opens,
                    WatermelonRow.PairSurvey(
                        provider: provider, customer: customer, round: String(record.id.text.prefix(8)),
                        figures: SurveyFigures.of(theirs, minimum: minimum))
                )
            }
        }
        return latest.values.map(\.survey)
    }
}
