import Foundation
import InternoModel
import InternoStore

/// A request just raised, as `interno request new` reports it.
public struct RaisedRequest: Sendable, Equatable {
    /// Its key (`HR-LIS-42`).
    public var key: String
    /// The reference of the standard in force that covers it (the first 8 characters of its
    /// id, as `request show` gives it); `nil` when none does and it has no targets.
    public var standard: String?
    /// Its provider as this site names it: the department's code.
    public var provider: String
}

extension Site {
    /// Raises a request to the department `provider`; returns its key (`HR-LIS-42`).
    public func newRequest(
        to provider: String?, service: String? = nil, title: String, details: String? = nil,
        priority: String = "normal", neededBy: Timestamp? = nil, standard: String? = nil, at given: Timestamp? = nil
    ) throws -> String {
        try raiseRequest(
            to: provider, service: service, title: title, details: details, priority: priority, neededBy: neededBy,
            standard: standard, at: given
        ).key
    }

    /// ``newRequest(to:service:title:details:priority:neededBy:standard:at:)``, saying also
    /// which standard covers the request and who provides it: what the write itself decided,
    /// without reading the request back and measuring its clocks.
    public func raiseRequest(
        to provider: String?, service: String? = nil, title: String, details: String? = nil,
        priority: String = "normal", neededBy: Timestamp? = nil, standard: String? = nil, at given: Timestamp? = nil
    ) throws -> RaisedRequest {
        let at = try time(given)
        let catalogued = try service.map { try serviceRecord($0, retired: true) }
        if let catalogued { try requireOffered(catalogued, for: "a new request") }
        let providerID: UUID
        switch (provider, catalogued?.value(of: "provider")?.id) {
        case (let code?, let offeredBy?):
            providerID = try departmentID(code: code)
            guard providerID == offeredBy else {
                throw ClientError.invalidInput(
                    "service '\(SiteStore.label(of: catalogued!))' is provided by \(try self.code(of: offeredBy.text)), not \(code.uppercased()): leave out --to, or name a service of \(code.uppercased())"
                )
            }
        case (let code?, nil): providerID = try departmentID(code: code)
        case (nil, let offeredBy?): providerID = offeredBy
        case (nil, nil):
            throw ClientError.invalidInput("name the provider with --to IT, or a catalogued service with --service")
        }
        let covering = try standardInForce(
            customer: department, provider: providerID, reference: standard, service: catalogued)
        var fields: [FieldName: FieldValue] = [
            "customer": .id(department), "provider": .id(providerID), "title": .text(title),
            "priority": .text(priority.lowercased()), "state": .text(Schema.RequestState.submitted),
        ]
        if let details { fields["details"] = .text(details) }
        if let neededBy { fields["neededBy"] = .time(neededBy) }
        if let covering { fields["standard"] = .id(covering.id) }
        // The service: the one named, else the one the standard covers while it is offered.
        if let catalogued {
            fields["service"] = .id(catalogued.id)
        } else if let covered = covering?.value(of: "catalogService")?.id,
            let record = try perform({ try store.record(covered) }), record.value(of: "retired") != .bool(true)
        {
            fields["service"] = .id(covered)
        }
        // How the site names the provider, read before the write: nothing read after it can
        // fail a command whose request is already written.
        let providerLabel = try display(.id(providerID), field: "provider") ?? providerID.text
        // The store gives the request this site's next key in the same transaction.
        let written = try perform {
            try store.write([Edit(.request, UUID.timeOrdered(), fields)], author: author, at: at)
        }
        guard let key = written.changes.first?.fields["key"]?.text else {
            throw ClientError.storage("the new request was written without a key")
        }
        return RaisedRequest(key: key, standard: covering.map { String($0.id.text.prefix(8)) }, provider: providerLabel)
    }

    /// Edits the customer's fields of a request; only the ones given change.
    public func editRequest(
        _ key: String, title: String? = nil, details: String? = nil, priority: String? = nil,
        neededBy: Timestamp?? = nil, at given: Timestamp? = nil
    ) throws {
        let record = try request(key)
        let at = try time(given, for: record)
        var fields: [FieldName: FieldValue] = [:]
        if let title { fields["title"] = .text(title) }
        if let details { fields["details"] = .text(details) }
        if let priority { fields["priority"] = .text(priority.lowercased()) }
        if let neededBy { fields["neededBy"] = neededBy.map(FieldValue.time) ?? .null }
        guard !fields.isEmpty else {
            throw ClientError.invalidInput("nothing to change: give --title, --details, --priority or --needed-by")
        }
        try perform { try store.write([Edit(.request, record.id, fields)], author: author, at: at) }
    }

    /// Takes a lifecycle step named `verb` (`ack`, `start`, `deliver`, …), with an optional
    /// note kept as a comment in the same change set.
    public func transition(
        _ key: String, _ verb: String, note: String? = nil, reason: String? = nil, at given: Timestamp? = nil
    )
        throws
    {
        let lifecycle = Schema.requestLifecycle
        guard let step = lifecycle.step(named: verb) else {
            throw ClientError.invalidInput(
                "'\(verb)' is not a step; the steps are \(lifecycle.steps.map(\.verb).joined(separator: ", "))")
        }
        let record = try request(key)
        let at = try time(given, for: record, afterLastStep: true)
        // The state and the first-occurrence times the step stamps, as the schema requires
        // (check 9); the earliest policy merges two sites that both did it first.
        var fields = Schema.stepWrites(step, seen: record, at: at)
        if let reason { fields["declineReason"] = .text(reason) }
        var edits = [Edit(.request, record.id, fields)]
        if let note, !note.isEmpty {
            edits.append(Edit(.comment, UUID.timeOrdered(), ["request": .id(record.id), "body": .text(note)]))
        }
        try perform { try store.write(edits, author: author, at: at) }
    }

    /// Adds a comment to a request.
    public func comment(_ key: String, _ text: String, at given: Timestamp? = nil) throws {
        let record = try request(key)
        let at = try time(given, for: record)
        try perform {
            try store.write(
                [Edit(.comment, UUID.timeOrdered(), ["request": .id(record.id), "body": .text(text)])], author: author,
                at: at)
        }
    }

    /// The requests here, newest first, with the clock that falls due next; only those with
    /// a clock past its target when `overdueOnly`, and only those of a customer, a provider or
    /// a state (`open` for every open state) when given.
    public func requests(
        now: Timestamp = .now(), overdueOnly: Bool = false, customer: String? = nil, provider: String? = nil,
        state: String? = nil
    ) throws -> [RequestSummary] {
        let customerID = try customer.map { try departmentID(code: $0).text }
        let providerID = try provider.map { try departmentID(code: $0).text }
        let states: Set<String>? = try state.map { wanted in
            let lowered = wanted.lowercased()
            if lowered == "open" { return Schema.RequestState.open }
            guard Schema.requestLifecycle.states.contains(lowered) else {
                throw ClientError.invalidInput(
                    "--state '\(wanted)' is not a state: use open or one of \(Schema.requestLifecycle.states.joined(separator: ", "))"
                )
            }
            return [lowered]
        }
        var cache = MeasureCache()
        let rows = try perform { try store.requests() }.filter { row in
            if let customerID, row.customer != customerID { return false }
            if let providerID, row.provider != providerID { return false }
            if let states, !states.contains(row.state ?? "") { return false }
            return true
        }
        var summaries: [RequestSummary] = []
        for row in rows {
            let measured = try measure(row, now: now, cache: &cache)
            let late = measured.clocks.overdue
            if overdueOnly, late.isEmpty { continue }
            let next = late.first ?? Self.nextDue(measured.clocks)
            summaries.append(
                RequestSummary(
                    key: row.key, title: row.title ?? "", state: row.state ?? "", priority: row.priority ?? "",
                    customer: try code(of: row.customer, cache: &cache),
                    provider: try code(of: row.provider, cache: &cache),
                    assignee: row.assignee,
                    neededBy: row.neededBy.map { Timestamp(millisecondsSince1970: $0).description },
                    neededByDate: row.neededBy.flatMap {
                        CalendarDate(ending: Timestamp(millisecondsSince1970: $0))?.description
                    },
                    createdAt: Timestamp(millisecondsSince1970: row.createdAt).description,
                    conflicted: row.conflicted, clock: next?.name, due: next?.clock.due?.description,
                    left: next?.clock.remaining.map { DurationText.formatHours(milliseconds: $0) },
                    overdue: late.map(\.name)))
        }
        return summaries
    }

    /// One request in full: every field, its clocks, comments, feedback and conflicts.
    public func requestDetails(_ key: String, now: Timestamp = .now()) throws -> RequestDetails {
        let record = try request(key)
        let spec = Schema.spec(.request)
        let fields = try spec.fields.map { field in
            let resolution = record.resolve(field.name, policy: field.policy)
            return FieldView(
                name: field.name, label: field.label, value: try display(resolution.displayValue, field: field.name),
                date: date(resolution.displayValue, field: field.name), conflicted: resolution.isConflict)
        }
        let comments = try perform { try store.comments(ofRequest: record.id) }.map { comment in
            CommentView(
                author: comment.author, at: Timestamp(millisecondsSince1970: comment.at).description, text: comment.body
            )
        }
        var cache = MeasureCache()
        guard let row = try perform({ try store.requestRow(record.id) }) else {
            throw ClientError.notFound("request \(key) is not in the request table here; run `interno verify --repair`")
        }
        let measured = try measure(row, now: now, cache: &cache)
        return RequestDetails(
            key: SiteStore.label(of: record), id: record.id.text, fields: fields, comments: comments,
            conflicts: try conflictView(of: record).fields,
            standard: measured.standard.map { String($0.id.text.prefix(8)) },
            clocks: clockViews(measured.clocks), feedback: try feedback(on: record))
    }
}

extension Site {
    /// Assigns a request to a person at the provider, or unassigns it (`nil`).
    public func assign(_ key: String, to person: String?, at given: Timestamp? = nil) throws {
        let record = try request(key)
        let at = try time(given, for: record)
        try perform {
            try store.write(
                [Edit(.request, record.id, ["assignee": person.map(FieldValue.text) ?? .null])], author: author, at: at)
        }
    }
}
