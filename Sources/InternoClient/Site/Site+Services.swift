import Foundation
import InternoModel
import InternoStore

/// A catalogued service as shown: the stable shape of `interno service list|show --json`.
public struct ServiceView: Codable, Equatable, Sendable {
    /// The full id.
    public var id: String
    /// The first 8 hex digits of the id: what people type when a name is not enough.
    public var ref: String
    public var name: String
    /// The provider department's code.
    public var provider: String
    public var description: String?
    /// What its customers care about, one item each.
    public var attributes: [String]
    /// `offered` or `retired`.
    public var status: String
    /// The standards this site knows that cover it, by ref.
    public var standards: [String]
    /// What the departments that use it need from it, as far as this site may see (its own
    /// department's need, or every customer's when this site's department provides it).
    public var needs: [NeedView]
    public var conflicts: [FieldConflictView]
}

/// What a customer department needs from a service: the customer's side of the map.
public struct NeedView: Codable, Equatable, Sendable {
    /// The customer department's code.
    public var customer: String
    /// The service's name and ref.
    public var service: String
    public var serviceRef: String
    /// The provider department's code.
    public var provider: String
    public var note: String?
    /// `true` once the customer no longer uses the service.
    public var dropped: Bool
}

extension Site {
    /// The catalogue as this site knows it: every department's services, by provider then
    /// name; retired ones only when `retired` is `true`; one provider's when `provider` names it.
    public func services(provider: String? = nil, retired: Bool = false) throws -> [ServiceView] {
        let providerID = try provider.map(departmentID(code:))
        let all = try perform { try store.records(of: .service) }
        let needs = try perform { try store.records(of: .need) }
        let standards = try perform { try store.records(of: .standard) }
        return try all.filter { record in
            (providerID == nil || record.value(of: "provider")?.id == providerID)
                && (retired || record.value(of: "retired") != .bool(true))
        }.map { try view(ofService: $0, needs: needs, standards: standards) }.sorted {
            ($0.provider, $0.name, $0.ref) < ($1.provider, $1.name, $1.ref)
        }
    }

    /// One service, by the start of its id (at least 4 hex digits) or its name.
    public func service(_ reference: String) throws -> ServiceView {
        try view(
            ofService: try serviceRecord(reference, retired: true), needs: try perform { try store.records(of: .need) },
            standards: try perform { try store.records(of: .standard) })
    }

    /// Adds a service to this department's catalogue. A name this department already offers
    /// is refused: customers pick services by name.
    public func addService(
        name: String, description: String? = nil, attributes: [String] = [], at given: Timestamp? = nil
    ) throws -> ServiceView {
        let at = try time(given)
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        if let existing = try offered(by: department).first(where: { same($0, trimmed) }) {
            throw ClientError.invalidInput(
                "\(settings.departmentCode) already offers '\(SiteStore.label(of: existing))' (\(shortRef(existing))): change it with `interno service edit \(shortRef(existing))`"
            )
        }
        var fields: [FieldName: FieldValue] = ["provider": .id(department), "name": .text(trimmed)]
        if let description, !description.isEmpty { fields["description"] = .text(description) }
        let lines = Schema.canonicalLines(attributes)
        if !lines.isEmpty { fields["attributes"] = .text(lines) }
        // A random id: people name a service by the first eight characters of its id (DESIGN §4).
        let id = UUID()
        try perform { try store.write([Edit(.service, id, fields)], author: author, at: at) }
        return try service(id.text)
    }

    /// Changes a service of this department: its name, its description (empty clears it),
    /// its attributes (an empty list clears them).
    public func editService(
        _ reference: String, name: String? = nil, description: String? = nil, attributes: [String]? = nil,
        at given: Timestamp? = nil
    ) throws -> ServiceView {
        let at = try time(given)
        let record = try serviceRecord(reference)
        var fields: [FieldName: FieldValue] = [:]
        if let name {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            let provider = record.value(of: "provider")?.id ?? department
            if let other = try offered(by: provider).first(where: { $0.id != record.id && same($0, trimmed) }) {
                throw ClientError.invalidInput(
                    "another service of \(try code(of: provider.text)) is already called '\(trimmed)' (\(shortRef(other)))"
                )
            }
            fields["name"] = .text(trimmed)
        }
        if let description { fields["description"] = description.isEmpty ? .null : .text(description) }
        if let attributes {
            let lines = Schema.canonicalLines(attributes)
            fields["attributes"] = lines.isEmpty ? .null : .text(lines)
        }
        guard !fields.isEmpty else {
            throw ClientError.invalidInput(
                "nothing to change: give --name, --description or --attribute (or --no-attributes)")
        }
        try perform { try store.write([Edit(.service, record.id, fields)], author: author, at: at) }
        return try service(record.id.text)
    }

    /// Retires a service: it stays in the catalogue's history, and no new standard, request
    /// or need may name it.
    public func retireService(_ reference: String, at given: Timestamp? = nil) throws -> ServiceView {
        let at = try time(given)
        let record = try serviceRecord(reference, retired: true)
        guard record.value(of: "retired") != .bool(true) else {
            throw ClientError.invalidInput("service '\(SiteStore.label(of: record))' is already retired")
        }
        try perform { try store.write([Edit(.service, record.id, ["retired": .bool(true)])], author: author, at: at) }
        return try service(record.id.text)
    }

    /// Says what this department needs from a service of another department (`note`), or that
    /// it no longer uses it (`dropped`). The first call records that it uses the service.
    public func need(
        _ reference: String, note: String? = nil, dropped: Bool? = nil, at given: Timestamp? = nil
    ) throws -> NeedView {
        let at = try time(given)
        let service = try serviceRecord(reference, retired: true)
        let id = Schema.needID(service: service.id, customer: department)
        let existing = try perform { try store.record(id) }
        var fields: [FieldName: FieldValue] = [:]
        if let note { fields["note"] = note.isEmpty ? .null : .text(note) }
        if let dropped { fields["dropped"] = .bool(dropped) }
        if existing?.exists != true {
            try requireOffered(service, for: "a need")
            guard dropped != true else {
                throw ClientError.invalidInput(
                    "\(settings.departmentCode) has not said it uses service '\(SiteStore.label(of: service))': there is nothing to drop"
                )
            }
            guard let provider = service.value(of: "provider") else {
                throw ClientError.storage("service \(service.id.text) has no provider")
            }
            fields["service"] = .id(service.id)
            fields["customer"] = .id(department)
            fields["provider"] = provider
        } else if fields.isEmpty {
            throw ClientError.invalidInput(
                "nothing to change: give --note, or --drop when \(settings.departmentCode) no longer uses it")
        }
        try perform { try store.write([Edit(.need, id, fields)], author: author, at: at) }
        guard let written = try perform({ try store.record(id) }) else {
            throw ClientError.storage("the need of service \(service.id.text) was written and cannot be read")
        }
        return try view(ofNeed: written, services: [service])
    }

    /// The services this department uses, with what it needs from each.
    public func needs() throws -> [NeedView] {
        let services = try perform { try store.records(of: .service) }
        return try perform { try store.records(of: .need) }
            .filter { $0.value(of: "customer")?.id == department }
            .map { try view(ofNeed: $0, services: services) }
            .sorted { ($0.provider, $0.service) < ($1.provider, $1.service) }
    }

    /// The service named by `reference` (the start of its id, or its name), offered or, when
    /// `retired`, retired too. A name several providers use must be given as an id.
    func serviceRecord(_ reference: String, retired: Bool = false) throws -> RecordState {
        var matches = matching(
            reference, among: try perform { try store.records(of: .service) }, name: SiteStore.label(of:))
        if matches.count > 1 {
            // A name offered once and retired elsewhere names the one offered.
            let offered = matches.filter { $0.value(of: "retired") != .bool(true) }
            if !offered.isEmpty { matches = offered }
        }
        if matches.count == 1 { return matches[0] }
        if matches.isEmpty {
            throw ClientError.notFound(
                "there is no service '\(reference)' in the catalogue here: name one by its name or the start of its id; `interno service list` shows them, `interno sync` fetches new ones"
            )
        }
        let list = try matches.map { "\(shortRef($0)) (\(try code(of: $0.value(of: "provider")?.id?.text)))" }
            .sorted().joined(separator: ", ")
        throw ClientError.invalidInput("'\(reference)' names several services: \(list); give the start of its id")
    }

    /// Refuses `service` when this site knows it is retired: nothing new names a retired
    /// service (the server does not judge it, since a writer offline may not have seen the
    /// retirement).
    func requireOffered(_ service: RecordState, for what: String) throws {
        guard service.value(of: "retired") != .bool(true) else {
            throw ClientError.refused(
                Refusal(
                    .notPermitted,
                    "service '\(SiteStore.label(of: service))' is retired: \(what) can only name a service its provider still offers"
                ))
        }
    }

    /// The offered service of `provider` that `reference` names (its name or the start of its
    /// id), or `nil` when none does: a standard's service may also be free text.
    func catalogued(_ reference: String, provider: UUID) throws -> RecordState? {
        let matches = matching(reference, among: try offered(by: provider), name: SiteStore.label(of:))
        return matches.count == 1 ? matches[0] : nil
    }

    // MARK: Helpers

    private func offered(by provider: UUID) throws -> [RecordState] {
        try perform { try store.records(of: .service) }.filter {
            $0.value(of: "provider")?.id == provider && $0.value(of: "retired") != .bool(true)
        }
    }

    /// `true` when the service is called `name`, ignoring case and spaces at either end.
    private func same(_ service: RecordState, _ name: String) -> Bool {
        SiteStore.label(of: service).lowercased() == name.trimmingCharacters(in: .whitespaces).lowercased()
    }

    private func shortRef(_ record: RecordState) -> String {
        String(record.id.text.prefix(8))
    }

    func view(ofService record: RecordState, needs: [RecordState], standards: [RecordState]) throws -> ServiceView {
        let standards = standards.filter { $0.value(of: "catalogService")?.id == record.id }.map(shortRef).sorted()
        let uses = try needs.filter { $0.kind == .need && $0.value(of: "service")?.id == record.id }
            .map { try view(ofNeed: $0, services: [record]) }.sorted { $0.customer < $1.customer }
        return ServiceView(
            id: record.id.text, ref: shortRef(record), name: record.value(of: "name")?.text ?? "",
            provider: try code(of: record.value(of: "provider")?.id?.text),
            description: record.value(of: "description")?.text,
            attributes: record.value(of: "attributes")?.text.map { $0.split(separator: "\n").map(String.init) } ?? [],
            status: record.value(of: "retired") == .bool(true) ? "retired" : "offered", standards: standards,
            needs: uses, conflicts: try conflictView(of: record).fields)
    }

    private func view(ofNeed record: RecordState, services: [RecordState]) throws -> NeedView {
        let serviceID = record.value(of: "service")?.id
        let service =
            try services.first { $0.id == serviceID }
            ?? serviceID.flatMap { id in try perform { try store.record(id) } }
        return NeedView(
            customer: try code(of: record.value(of: "customer")?.id?.text),
            service: service.map(SiteStore.label(of:)) ?? serviceID?.text ?? "",
            serviceRef: String((serviceID?.text ?? "").prefix(8)),
            provider: try code(of: record.value(of: "provider")?.id?.text), note: record.value(of: "note")?.text,
            dropped: record.value(of: "dropped") == .bool(true))
    }
}
