import Foundation
import InternoModel
import InternoStore

/// An improvement action as shown: the stable shape of `interno action list|show --json`.
public struct ActionView: Codable, Equatable, Sendable {
    /// The full id.
    public var id: String
    /// The first 8 hex digits of the id: what people type.
    public var ref: String
    public var title: String
    public var details: String?
    /// The pair it is agreed between: the customer and the provider department's codes.
    public var customer: String
    public var provider: String
    /// The department that committed to it, one of the two.
    public var owner: String
    /// What it is about, in words: `request HR-LIS-4`, `standard 3f2a9c1e ('Laptops')`,
    /// `survey round 5a7c9e01 ('Laptops')`, or the pair, `HR/IT`.
    public var about: String
    /// The key of the request it is about, if any.
    public var request: String?
    /// The ref of the standard it is about, if any.
    public var standard: String?
    /// When it is due, exactly (ISO 8601), and the date it was given as (`null` for a time).
    public var due: String
    public var dueDate: String?
    /// `open`, `done` or `dropped`.
    public var status: String
    /// What was done, or why it was dropped.
    public var outcome: String?
    /// `true` while open past its due time.
    public var overdue: Bool
    /// When it was marked done or dropped.
    public var closedAt: String?
    public var conflicts: [FieldConflictView]
}

extension Site {
    /// Agrees an action between this department and the other department of `about`: a
    /// request (its key), a standard (its ref or service), a survey round (its ref) or a pair
    /// `CUSTOMER/PROVIDER`. Either department of the pair may own it. For a round, the pair is
    /// its provider and the department it asked that is this one, or else the owner.
    public func newAction(
        about: String, owner: String, due: Timestamp, title: String, details: String? = nil,
        at given: Timestamp? = nil
    ) throws -> ActionView {
        let at = try time(given)
        var fields: [FieldName: FieldValue] = [
            "owner": .id(try departmentID(code: owner)), "title": .text(title), "due": .time(due),
            "status": .text(Schema.ActionStatus.open),
        ]
        for (name, value) in try subject(of: about, owner: try departmentID(code: owner)) { fields[name] = value }
        if let details, !details.isEmpty { fields["details"] = .text(details) }
        let id = UUID()
        try perform { try store.write([Edit(.action, id, fields)], author: author, at: at) }
        return try action(id.text)
    }

    /// The actions this site knows, by owner then due date; only open ones when `open`.
    public func actions(owner: String? = nil, open: Bool = false, now: Timestamp = .now()) throws -> [ActionView] {
        let ownerID = try owner.map(departmentID(code:))
        return try perform { try store.records(of: .action) }
            .filter { record in
                (ownerID == nil || record.value(of: "owner")?.id == ownerID)
                    && (!open || record.value(of: "status") == .text(Schema.ActionStatus.open))
            }
            .map { try view(ofAction: $0, now: now) }
            .sorted { ($0.owner, $0.due, $0.ref) < ($1.owner, $1.due, $1.ref) }
    }

    /// One action, by the start of its id (at least 4 hex digits) or its title.
    public func action(_ reference: String, now: Timestamp = .now()) throws -> ActionView {
        try view(ofAction: try actionRecord(reference), now: now)
    }

    /// Changes an open action's title, details (empty clears them) or due date; either
    /// department of the pair may.
    public func editAction(
        _ reference: String, title: String? = nil, details: String? = nil, due: Timestamp? = nil,
        at given: Timestamp? = nil
    ) throws -> ActionView {
        let at = try time(given)
        let record = try actionRecord(reference)
        var fields: [FieldName: FieldValue] = [:]
        if let title { fields["title"] = .text(title) }
        if let details { fields["details"] = details.isEmpty ? .null : .text(details) }
        if let due { fields["due"] = .time(due) }
        guard !fields.isEmpty else {
            throw ClientError.invalidInput("nothing to change: give --title, --details or --due")
        }
        try perform { try store.write([Edit(.action, record.id, fields)], author: author, at: at) }
        return try action(record.id.text)
    }

    /// Marks an action `done` or `dropped`, with what came of it; only its owner may.
    public func closeAction(
        _ reference: String, as status: String, outcome: String? = nil, at given: Timestamp? = nil
    ) throws -> ActionView {
        let at = try time(given)
        let record = try actionRecord(reference)
        var fields: [FieldName: FieldValue] = ["status": .text(status)]
        if let outcome, !outcome.isEmpty { fields["outcome"] = .text(outcome) }
        try perform { try store.write([Edit(.action, record.id, fields)], author: author, at: at) }
        return try action(record.id.text)
    }

    /// The action named by `reference`: the start of its id, or its title.
    func actionRecord(_ reference: String) throws -> RecordState {
        let matches = matching(
            reference, among: try perform { try store.records(of: .action) }, name: SiteStore.label(of:))
        if matches.count == 1 { return matches[0] }
        if matches.isEmpty {
            throw ClientError.notFound(
                "there is no action '\(reference)' here: name one by the start of its id or its title; `interno action list` shows them, `interno sync` fetches new ones"
            )
        }
        let list = matches.map { String($0.id.text.prefix(8)) }.sorted().joined(separator: ", ")
        throw ClientError.invalidInput("'\(reference)' names several actions: \(list); give the start of its id")
    }

    /// The fields that say what an action is about: its pair, and the request or standard.
    private func subject(of about: String, owner: UUID) throws -> [FieldName: FieldValue] {
        let parts = about.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty {
            return [
                "customer": .id(try departmentID(code: parts[0])), "provider": .id(try departmentID(code: parts[1])),
            ]
        }
        // A round by the start of its id (rounds have no name of their own).
        let rounds = matching(about, among: try perform { try store.records(of: .round) }, name: { _ in "" })
        if rounds.count > 1 {
            let list = rounds.map { String($0.id.text.prefix(8)) }.sorted().joined(separator: ", ")
            throw ClientError.invalidInput("'\(about)' names several survey rounds: \(list); give more of the id")
        }
        if let round = rounds.first, let provider = round.value(of: "provider")?.id {
            let customer = Schema.askedDepartments(of: round).contains(department) ? department : owner
            return ["customer": .id(customer), "provider": .id(provider), "round": .id(round.id)]
        }
        let record: RecordState
        if let request = try ifFound({ try request(about) }) {
            record = request
        } else if let standard = try ifFound({ try standardRecord(about) }) {
            record = standard
        } else {
            throw ClientError.notFound(
                "--about '\(about)' names no request, standard or pair here: give a request key (HR-LIS-4), a standard (its ref or service) or a pair CUSTOMER/PROVIDER (HR/IT)"
            )
        }
        guard let customer = record.value(of: "customer"), let provider = record.value(of: "provider") else {
            throw ClientError.storage("\(record.kind.rawValue) \(record.id.text) has no customer or provider")
        }
        return ["customer": customer, "provider": provider, record.kind.rawValue: .id(record.id)]
    }

    func view(ofAction record: RecordState, now: Timestamp) throws -> ActionView {
        let value = record.value(of:)
        let customer = try code(of: value("customer")?.id?.text)
        let provider = try code(of: value("provider")?.id?.text)
        var about = "\(customer)/\(provider)"
        var requestKey: String?
        var standardRef: String?
        if let id = value("request")?.id {
            let request = try perform { try store.record(id) }
            requestKey = request.map(SiteStore.label(of:)) ?? id.text
            about = "request \(requestKey!)"
        } else if let id = value("round")?.id {
            let round = try perform { try store.record(id) }
            let service = try round?.value(of: "service")?.id.flatMap { id in try perform { try store.record(id) } }
            about = "survey round \(id.text.prefix(8))" + (service.map { " ('\(SiteStore.label(of: $0))')" } ?? "")
        } else if let id = value("standard")?.id {
            standardRef = String(id.text.prefix(8))
            let service = try perform { try store.record(id) }.map(SiteStore.label(of:))
            about = "standard \(standardRef!)" + (service.map { " ('\($0)')" } ?? "")
        }
        let due = value("due")?.time ?? Timestamp(millisecondsSince1970: 0)
        let status = value("status")?.text ?? Schema.ActionStatus.open
        let closed =
            status == Schema.ActionStatus.open
            ? nil
            : record.siblings("status").filter { $0.value != .text(Schema.ActionStatus.open) }.map(\.at).max()
        return ActionView(
            id: record.id.text, ref: String(record.id.text.prefix(8)), title: value("title")?.text ?? "",
            details: value("details")?.text, customer: customer, provider: provider,
            owner: try code(of: value("owner")?.id?.text), about: about, request: requestKey, standard: standardRef,
            due: due.description, dueDate: CalendarDate(ending: due)?.description, status: status,
            outcome: value("outcome")?.text, overdue: status == Schema.ActionStatus.open && due < now,
            closedAt: closed?.description, conflicts: try conflictView(of: record).fields)
    }
}
