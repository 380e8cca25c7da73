import Foundation

/// The departments that may see a record: its *parties* (DESIGN §6.1).
public enum Audience: Hashable, Sendable, CustomStringConvertible {
    /// Every site: the directory of departments.
    case everyone
    /// Only the sites of these departments (and whole-organisation sites).
    case departments(Set<UUID>)

    /// `true` if a site of `department` may see what this audience may.
    public func includes(_ department: UUID) -> Bool {
        switch self {
        case .everyone: true
        case .departments(let departments): departments.contains(department)
        }
    }

    public var description: String {
        switch self {
        case .everyone: "everyone"
        case .departments(let departments):
            departments.map { $0.text }.sorted().joined(separator: ", ")
        }
    }
}

/// What a site receives and keeps, fixed when it is enrolled and decided by the server from
/// its registry entry, never from anything the site asks for (DESIGN §6.1).
public enum Scope: Hashable, Sendable, CustomStringConvertible {
    /// The records its department is a party to, and the directory.
    case department(UUID)
    /// Everything: a quality office, management, an auditor. It still writes only with its
    /// own department's permissions.
    case all

    /// `true` if a site with this scope may see a record whose parties are `audience`.
    public func covers(_ audience: Audience) -> Bool {
        switch self {
        case .all: true
        case .department(let department): audience.includes(department)
        }
    }

    /// `true` if a site with this scope may see `record`, whose parties `lookup` tells; a
    /// record whose parties cannot be told is covered only by a whole-organisation scope.
    public func covers(_ record: RecordState, lookup: Schema.Lookup) -> Bool {
        if self == .all { return true }
        guard let audience = Schema.audience(of: record, lookup: lookup) else { return false }
        return covers(audience)
    }

    /// The scope's name as it is stored and typed: `department` or `all`.
    public var kind: Kind {
        switch self {
        case .all: .all
        case .department: .department
        }
    }

    /// The two kinds of scope, by the names people type (`--scope department|all`).
    public enum Kind: String, CaseIterable, Codable, Sendable, Hashable {
        /// The site's own department's records.
        case department
        /// Every record of the organisation.
        case all
    }

    public var description: String { kind.rawValue }
}

/// How the parties of a record kind are found. Every kind declares one (``Schema/partyRule(of:)``
/// switches over every kind, so a new kind without a rule does not compile), and the fields it
/// names are fixed at creation, so a record's audience never changes.
public enum PartyRule: Hashable, Sendable {
    /// Every site may see it.
    case everyone
    /// The departments named by these reference fields of the record itself.
    case departments([FieldName])
    /// The parties of the record this reference field names (a comment's request).
    case sameAs(FieldName, RecordKind)
}

extension Schema {
    /// Who may see records of `kind` (DESIGN §6.1): the directory and the services catalogue
    /// everyone; a standard its provider and customer; a request its customer and provider,
    /// and every comment and feedback on it the same two; a department's need of a service
    /// that department and the service's provider; an improvement action the two departments
    /// of its pair; kudos the department that gives them and the one that receives them.
    public static func partyRule(of kind: RecordKind) -> PartyRule {
        switch kind {
        case .department: .everyone
        case .standard: .departments(["provider", "customer"])
        case .request: .departments(["customer", "provider"])
        case .comment: .sameAs("request", .request)
        case .feedback: .sameAs("request", .request)
        // The catalogue is for finding services: every department may read it, as it may read
        // the directory. What a department needs from a service is between it and the provider.
        case .service: .everyone
        case .need: .departments(["customer", "provider"])
        case .action: .departments(["customer", "provider"])
        case .kudos: .departments(["from", "to"])
        // A round is announced to its provider and the departments it asks; each answer is
        // seen by the provider and the department that gave it, never by the other customers.
        case .round: .departments(["provider", "customers"])
        case .answer: .departments(["customer", "provider"])
        }
    }

    /// The audience of a record of `kind` whose fields read as `value`, looking other records up
    /// with `lookup`; `nil` when it cannot be told (a party field is unset, or the record a
    /// comment refers to is unknown).
    ///
    /// The server hands a change only to the sites whose scope covers this audience, and a site
    /// keeps only the records it covers: one function decides both, and the tests.
    public static func audience(
        of kind: RecordKind, value: (FieldName) -> FieldValue?, lookup: Lookup
    ) -> Audience? {
        switch partyRule(of: kind) {
        case .everyone:
            return .everyone
        case .departments(let fields):
            var departments: Set<UUID> = []
            for field in fields {
                switch value(field) {
                case .id(let id)?:
                    departments.insert(id)
                case .text(let text)?:
                    // A list of departments (a survey round's customers).
                    guard let invitations = parseInvitations(text) else { return nil }
                    departments.formUnion(invitations.map(\.department))
                default:
                    return nil
                }
            }
            return .departments(departments)
        case .sameAs(let field, let referenced):
            guard let id = value(field)?.id, let record = lookup(referenced, id), record.exists,
                record.kind == referenced
            else { return nil }
            return audience(of: record, lookup: lookup)
        }
    }

    /// The audience of `record` as it stands; `nil` when it cannot be told (see above).
    public static func audience(of record: RecordState, lookup: Lookup) -> Audience? {
        audience(of: record.kind, value: { record.value(of: $0) }, lookup: lookup)
    }

    /// The departments a survey round asks (its `customers`); empty when it names none.
    public static func askedDepartments(of round: RecordState) -> [UUID] {
        round.value(of: "customers")?.text.flatMap(parseInvitations)?.map(\.department) ?? []
    }

    /// The fields a kind's parties come from: each must be required and fixed (a test holds
    /// every kind to it), so a record's audience is settled when it is created.
    public static func partyFields(of kind: RecordKind) -> [FieldName] {
        switch partyRule(of: kind) {
        case .everyone: []
        case .departments(let fields): fields
        case .sameAs(let field, _): [field]
        }
    }
}
