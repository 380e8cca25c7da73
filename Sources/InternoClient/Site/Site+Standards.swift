import Foundation
import InternoModel
import InternoStore

/// The terms of a standard as people type them; `nil` leaves a term as it is.
public struct StandardTerms: Sendable, Equatable {
    /// The service covered, e.g. "Laptops for new hires": a service in the provider's
    /// catalogue (by name or the start of its id), or free text.
    public var service: String?
    /// Time to acknowledge, e.g. `4h`.
    public var acknowledge: String?
    /// Time to deliver, e.g. `5d`.
    public var deliver: String?
    /// Per-priority targets, e.g. `urgent=30m/4h, high=2h/2d`; `none` clears them.
    public var priorityTargets: String?
    /// Notice before the needed-by date, e.g. `10d`; `none` clears it.
    public var notice: String?
    /// Time to answer while a request waits on the customer; `none` clears it.
    public var answer: String?
    /// Time to confirm a delivery; `none` clears it.
    public var confirm: String?
    /// CSAT target: the share of ratings of 4 or 5, in percent.
    public var csat: Int?
    /// Compliance target: the share of requests delivered within target, in percent.
    public var compliance: Int?
    /// Survey target: the lowest score (1–7) a dimension of the pair's latest survey may have;
    /// 0 clears it.
    public var survey: Int?

    /// Terms; every one optional.
    public init(
        service: String? = nil, acknowledge: String? = nil, deliver: String? = nil, priorityTargets: String? = nil,
        notice: String? = nil, answer: String? = nil, confirm: String? = nil, csat: Int? = nil,
        compliance: Int? = nil, survey: Int? = nil
    ) {
        self.survey = survey
        self.service = service
        self.acknowledge = acknowledge
        self.deliver = deliver
        self.priorityTargets = priorityTargets
        self.notice = notice
        self.answer = answer
        self.confirm = confirm
        self.csat = csat
        self.compliance = compliance
    }

    /// The fields these terms write, parsed; an error names the option and what it accepts.
    /// The provider's targets count in its calendar, the customer's obligations in its own, so
    /// a message about a day names that calendar's day.
    func fields(provider: BusinessDay?, customer: BusinessDay?) throws -> [FieldName: FieldValue] {
        var fields: [FieldName: FieldValue] = [:]
        if let service { fields["service"] = .text(service) }
        if let acknowledge {
            fields["ackTarget"] = .duration(try DurationInput.target(acknowledge, option: "--ack", day: provider))
        }
        if let deliver {
            fields["deliverTarget"] = .duration(try DurationInput.target(deliver, option: "--deliver", day: provider))
        }
        if let priorityTargets {
            if priorityTargets == "none" {
                fields["priorityTargets"] = .null
            } else {
                do throws(ValueError) {
                    fields["priorityTargets"] = .text(try PriorityTargets(parsing: priorityTargets).description)
                } catch {
                    throw ClientError.invalidInput("--priority-targets: \(error.message)")
                }
            }
        }
        for (name, text, option, day) in [
            ("noticeRequired", notice, "--notice", provider), ("answerTarget", answer, "--answer", customer),
            ("confirmTarget", confirm, "--confirm", customer),
        ] {
            guard let text else { continue }
            fields[name] = text == "none" ? .null : .duration(try DurationInput.target(text, option: option, day: day))
        }
        if let csat { fields["csatTarget"] = .integer(Int64(csat)) }
        if let compliance { fields["complianceTarget"] = .integer(Int64(compliance)) }
        if let survey { fields["surveyTarget"] = survey == 0 ? .null : .integer(Int64(survey)) }
        return fields
    }
}

/// One business day of a department's calendar, for messages about targets.
public struct BusinessDay: Sendable, Equatable {
    /// The department's code, `IT`.
    public var department: String
    /// The mean length of its working days, in milliseconds (``BusinessCalendar/dayLength``).
    public var milliseconds: Int64
    /// Its business hours, `mon-fri 09:00-17:00`.
    public var hours: String

    /// The business day of `department`, whose calendar is `calendar`.
    public init(department: String, calendar: BusinessCalendar) {
        self.department = department
        self.milliseconds = calendar.dayLength
        self.hours = calendar.hours.description
    }
}

/// Parses what people type for durations: `30m`, `4h`, `2d`, `1d4h`.
public enum DurationInput {
    /// Seconds, or an error saying what is accepted.
    public static func parse(_ text: String, option: String) throws -> Int64 {
        guard let seconds = DurationText.parse(text) else {
            throw ClientError.invalidInput(
                "\(option) '\(text)' is not a duration: write 30m, 4h, 2d or 1d4h (in targets a day is a business day)"
            )
        }
        return seconds
    }

    /// A target: business days and business time under a day, like `4h`, `2d` or `1d4h`.
    /// Hours, minutes and seconds must add up to less than a day, because in a target a day is
    /// one business day of the calendar the target counts in (`day`: 8h for `mon-fri
    /// 09:00-17:00`), not 24 hours; weeks are refused.
    public static func target(_ text: String, option: String, day: BusinessDay? = nil) throws -> Int64 {
        let seconds = try parse(text, option: option)
        let lowered = text.lowercased()
        guard !lowered.contains("w") else {
            throw ClientError.invalidInput(
                "\(option) '\(text)': write a target in business days, like 5d for a working week")
        }
        let underADay = lowered.contains("d") ? lowered.split(separator: "d").dropFirst().joined() : lowered
        let rest = underADay.isEmpty ? 0 : DurationText.parse(underADay) ?? 0
        guard rest < 86_400 else {
            guard let day, day.milliseconds > 0 else {
                throw ClientError.invalidInput(
                    "\(option) '\(text)': in a target a day is one business day, not 24 hours, so hours must add up to less than 24; write days and hours, like 1d6h"
                )
            }
            // Say it in the department's own days: 30h is 3d6h of 8h days.
            let length = day.milliseconds / 1_000
            let days = (seconds - rest) / 86_400 + rest / length
            let left = rest % length
            let suggestion = "\(days)d" + (left > 0 ? DurationText.format(seconds: left) : "")
            throw ClientError.invalidInput(
                "\(option) '\(text)': in a target a day is one business day, \(DurationText.formatHours(milliseconds: day.milliseconds)) in \(day.department)'s calendar (\(day.hours)), so hours must add up to less than 24; write days and hours, like \(suggestion) for \(DurationText.formatHours(milliseconds: rest * 1_000)) of business time"
            )
        }
        return seconds
    }
}

/// A standard as shown: the stable shape of `interno standard list|show --json`.
public struct StandardView: Codable, Equatable, Sendable {
    /// The full id.
    public var id: String
    /// The first 8 hex digits of the id: what people type.
    public var ref: String
    public var service: String
    /// The ref of the catalogued service it covers; `null` for a service named in free text.
    public var catalogService: String?
    public var provider: String
    public var customer: String
    /// `proposed`, `agreed`, `superseded` or `retired`.
    public var status: String
    /// The provider's signature: `current`, `earlier terms` or `none`.
    public var providerSignature: String
    /// The customer's signature: `current`, `earlier terms` or `none`.
    public var customerSignature: String
    /// The fingerprint of the current terms; `null` while a term is in conflict.
    public var terms: String?
    public var acknowledge: String?
    public var deliver: String?
    public var priorityTargets: String?
    public var notice: String?
    public var answer: String?
    public var confirm: String?
    public var csatTarget: Int?
    public var complianceTarget: Int?
    /// The lowest score a dimension of the pair's latest survey may have, 1–7.
    public var surveyTarget: Int?
    /// The ref of the standard this one replaces, if any.
    public var supersedes: String?
    /// The ref of the agreed standard that replaces this one, if any.
    public var supersededBy: String?
    public var conflicts: [FieldConflictView]
}

extension Site {
    /// Every standard this site knows, by service then ref.
    public func standards() throws -> [StandardView] {
        let all = try perform { try store.records(of: .standard) }
        return try all.map { try view(of: $0, among: all) }.sorted { ($0.service, $0.ref) < ($1.service, $1.ref) }
    }

    /// One standard, by the start of its id (at least 4 hex digits) or its service.
    public func standard(_ reference: String) throws -> StandardView {
        let all = try perform { try store.records(of: .standard) }
        return try view(of: try find(reference, among: all), among: all)
    }

    /// Proposes a standard between this department and another, signed on this side.
    /// Give the other side as `provider` (this department is the customer) or `customer`.
    public func proposeStandard(
        provider: String? = nil, customer: String? = nil, terms: StandardTerms, supersedes: String? = nil,
        at: Timestamp = .now()
    ) throws -> StandardView {
        guard (provider == nil) != (customer == nil) else {
            throw ClientError.invalidInput(
                "name the other department: --provider IT when \(settings.code) is the customer, or --customer HR when \(settings.code) provides the service"
            )
        }
        let providerID = try provider.map(departmentID(code:)) ?? department
        let customerID = try customer.map(departmentID(code:)) ?? department
        var fields = try terms.fields(provider: businessDay(of: providerID), customer: businessDay(of: customerID))
        for (name, option) in [
            ("service", "--service"), ("ackTarget", "--ack"), ("deliverTarget", "--deliver"), ("csatTarget", "--csat"),
            ("complianceTarget", "--compliance"),
        ] where fields[name] == nil {
            throw ClientError.invalidInput("a new standard needs \(option)")
        }
        fields["provider"] = .id(providerID)
        fields["customer"] = .id(customerID)
        if let service = terms.service, let catalogued = try catalogued(service, provider: providerID) {
            fields["service"] = catalogued.value(of: "name")
            fields["catalogService"] = .id(catalogued.id)
        }
        if let supersedes {
            let all = try perform { try store.records(of: .standard) }
            fields["supersedes"] = .id(try find(supersedes, among: all).id)
        }
        let fingerprint = Schema.termsFingerprint { fields[$0].map(FieldResolution.value) ?? .unset }!
        let side = providerID == department ? "providerSignature" : "customerSignature"
        fields[side] = .text(fingerprint)
        // A random id, not a time-ordered one: people name a standard by the first eight
        // characters of its id, which standards made in the same minute would share (DESIGN §4).
        let id = UUID()
        try perform { try store.write([Edit(.standard, id, fields)], author: author, at: at) }
        return try shown(id)
    }

    /// Changes the terms of a proposed standard and signs the new terms on this side; the
    /// other side must sign again.
    public func editStandard(_ reference: String, terms: StandardTerms, at: Timestamp = .now()) throws -> StandardView {
        let all = try perform { try store.records(of: .standard) }
        let record = try find(reference, among: all)
        var fields = try terms.fields(
            provider: businessDay(of: record.value(of: "provider")?.id),
            customer: businessDay(of: record.value(of: "customer")?.id))
        guard !fields.isEmpty else {
            throw ClientError.invalidInput(
                "nothing to change: give --service, --ack, --deliver, --priority-targets, --notice, --answer, --confirm, --csat, --compliance or --survey-target"
            )
        }
        // A catalogued service names the service record too; free text names none.
        if let service = terms.service, let provider = record.value(of: "provider")?.id {
            if let catalogued = try catalogued(service, provider: provider) {
                fields["service"] = catalogued.value(of: "name")
                fields["catalogService"] = .id(catalogued.id)
            } else if record.value(of: "catalogService") != nil {
                fields["catalogService"] = .null
            }
        }
        let spec = Schema.spec(.standard)
        let fingerprint = Schema.termsFingerprint { name in
            fields[name].map(FieldResolution.value) ?? record.resolve(name, policy: spec.policy(name))
        }
        if let fingerprint { fields[signatureField(of: record)] = .text(fingerprint) }
        try perform { try store.write([Edit(.standard, record.id, fields)], author: author, at: at) }
        return try shown(record.id)
    }

    /// Signs the current terms on this department's side. Returns the standard and whether
    /// this side had already signed these terms (then nothing is written).
    public func signStandard(_ reference: String, at: Timestamp = .now()) throws -> (StandardView, Bool) {
        let all = try perform { try store.records(of: .standard) }
        let record = try find(reference, among: all)
        let spec = Schema.spec(.standard)
        guard let fingerprint = Schema.termsFingerprint(of: { record.resolve($0, policy: spec.policy($0)) }) else {
            throw ClientError.refused(
                Refusal(
                    .conflictPending,
                    "the terms of standard '\(SiteStore.label(of: record))' are in conflict: resolve them with `interno conflicts resolve` before signing"
                ))
        }
        let side = signatureField(of: record)
        let (provider, customer) = parties(of: record)
        let party = provider == department || customer == department
        if party, record.resolve(side, policy: spec.policy(side)) == .value(.text(fingerprint)) {
            return (try view(of: record, among: all), true)
        }
        try perform {
            try store.write([Edit(.standard, record.id, [side: .text(fingerprint)])], author: author, at: at)
        }
        return (try shown(record.id), false)
    }

    /// Retires a standard: requests raised later no longer fall under it.
    public func retireStandard(_ reference: String, at: Timestamp = .now()) throws -> StandardView {
        let all = try perform { try store.records(of: .standard) }
        let record = try find(reference, among: all)
        try perform { try store.write([Edit(.standard, record.id, ["retired": .bool(true)])], author: author, at: at) }
        return try shown(record.id)
    }

    /// The agreed standard in force between `customer` and `provider`: agreed, not retired
    /// and not superseded by another agreed one; for a catalogued `service`, one that covers it
    /// (by its catalogue entry, or by its name in free text). `nil` if there is none; an error
    /// if there are several and `reference` does not pick one.
    func standardInForce(
        customer: UUID, provider: UUID, reference: String?, service: RecordState? = nil
    ) throws -> RecordState? {
        let all = try perform { try store.records(of: .standard) }
        if let reference {
            let record = try find(reference, among: all)
            let shown = try view(of: record, among: all)
            guard shown.status == "agreed" else {
                throw ClientError.invalidInput(
                    "standard \(shown.ref) ('\(shown.service)') is \(shown.status); a request can only fall under an agreed standard"
                )
            }
            return record
        }
        let candidates = try all.filter { record in
            let shown = try view(of: record, among: all)
            guard shown.status == "agreed", parties(of: record) == (provider, customer) else { return false }
            guard let service else { return true }
            if let covered = record.value(of: "catalogService")?.id { return covered == service.id }
            return shown.service.lowercased() == SiteStore.label(of: service).lowercased()
        }
        guard candidates.count <= 1 else {
            let list = candidates.map { "\(shortID($0)) ('\(SiteStore.label(of: $0))')" }.sorted().joined(
                separator: ", ")
            throw ClientError.invalidInput(
                "several agreed standards cover this pair: pick one with --standard (\(list))")
        }
        return candidates.first
    }

    /// The standard with `id` as shown, read again after a write.
    private func shown(_ id: UUID) throws -> StandardView {
        let all = try perform { try store.records(of: .standard) }
        guard let record = all.first(where: { $0.id == id }) else {
            throw ClientError.notFound("standard \(id.text)")
        }
        return try view(of: record, among: all)
    }

    /// The standard named by `reference`: the start of its id or its service.
    func standardRecord(_ reference: String) throws -> RecordState {
        try find(reference, among: try perform { try store.records(of: .standard) })
    }

    // MARK: Helpers

    private func parties(of record: RecordState) -> (provider: UUID?, customer: UUID?) {
        (
            record.resolve("provider", policy: .manual).displayValue?.id,
            record.resolve("customer", policy: .manual).displayValue?.id
        )
    }

    /// The signature this department gives: the provider's or the customer's. A department
    /// that is neither is given the provider's, so the schema refuses it with its own words.
    private func signatureField(of record: RecordState) -> FieldName {
        let (provider, customer) = parties(of: record)
        if customer == department, provider != department { return "customerSignature" }
        return "providerSignature"
    }

    private func shortID(_ record: RecordState) -> String {
        String(record.id.text.prefix(8))
    }

    private func find(_ reference: String, among all: [RecordState]) throws -> RecordState {
        let matches = matching(reference, among: all, name: SiteStore.label(of:))
        if matches.count == 1 { return matches[0] }
        if matches.isEmpty {
            throw ClientError.notFound(
                "there is no standard '\(reference)' here: name one by the start of its id or by its service; `interno standard list` shows them, `interno sync` fetches new ones"
            )
        }
        let list = matches.map { "\(shortID($0)) ('\(SiteStore.label(of: $0))')" }.sorted().joined(separator: ", ")
        throw ClientError.invalidInput("'\(reference)' names several standards: \(list); give more of the id")
    }

    func view(of record: RecordState, among all: [RecordState]) throws -> StandardView {
        let spec = Schema.spec(.standard)
        let value = record.value(of:)
        func duration(_ name: FieldName) -> String? { value(name)?.duration.map { DurationText.format(seconds: $0) } }
        let fingerprint = Schema.termsFingerprint(of: { record.resolve($0, policy: spec.policy($0)) })
        func signature(_ name: FieldName) -> String {
            guard let signed = value(name)?.text else { return "none" }
            return signed == fingerprint ? "current" : "earlier terms"
        }
        let successor = all.first { other in
            other.id != record.id && other.resolve("supersedes", policy: .manual).displayValue == .id(record.id)
                && Schema.isAgreed(other)
        }
        let status =
            value("retired") == .bool(true)
            ? "retired" : successor != nil ? "superseded" : Schema.isAgreed(record) ? "agreed" : "proposed"
        return StandardView(
            id: record.id.text, ref: shortID(record), service: value("service")?.text ?? "",
            catalogService: value("catalogService")?.id.map { String($0.text.prefix(8)) },
            provider: try code(of: value("provider")?.id?.text),
            customer: try code(of: value("customer")?.id?.text), status: status,
            providerSignature: signature("providerSignature"), customerSignature: signature("customerSignature"),
            terms: fingerprint, acknowledge: duration("ackTarget"), deliver: duration("deliverTarget"),
            priorityTargets: value("priorityTargets")?.text, notice: duration("noticeRequired"),
            answer: duration("answerTarget"), confirm: duration("confirmTarget"),
            csatTarget: value("csatTarget")?.integer.map(Int.init),
            complianceTarget: value("complianceTarget")?.integer.map(Int.init),
            surveyTarget: value("surveyTarget")?.integer.map(Int.init),
            supersedes: value("supersedes")?.id.map { String($0.text.prefix(8)) },
            supersededBy: successor.map(shortID), conflicts: try conflictView(of: record).fields)
    }
}

extension Site {
    /// The business day of a department as this site knows its calendar, for a message about a
    /// target; `nil` if the department is unknown here or its calendar cannot be read, and the message then
    /// names no day length rather than a made-up one. A database that cannot be read is an error.
    func businessDay(of department: UUID?) throws -> BusinessDay? {
        guard let department, let record = try perform({ try store.record(department) }), record.exists,
            let calendar = try? calendar(of: record, department)
        else { return nil }
        return BusinessDay(department: try code(of: department.text), calendar: calendar)
    }
}
