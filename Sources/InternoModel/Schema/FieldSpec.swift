/// The type of a field, with its bounds: what a value must be to be accepted.
public enum FieldType: Sendable, Hashable {
    /// Text of `minLength...maxLength` characters (extended grapheme clusters), with no control
    /// character but line feed and tab (``Schema/isForbiddenControl(_:)``).
    case text(minLength: Int, maxLength: Int)
    /// A short code: an uppercase letter, then uppercase letters and digits (`IT`, `HR2`).
    case code(maxLength: Int)
    /// One member of a fixed list.
    case enumeration([String])
    /// A whole number within bounds.
    case integer(ClosedRange<Int64>)
    /// A duration in seconds within bounds.
    case duration(ClosedRange<Int64>)
    /// A point in time.
    case time
    /// Yes or no.
    case bool
    /// The id of a record of the given kind.
    case reference(RecordKind)
    /// An IANA time zone identifier (`Europe/Lisbon`).
    case timeZone
    /// Business hours per weekday, in the canonical text of ``WeeklyHours``.
    case weeklyHours
    /// A list of calendar dates, canonical `YYYY-MM-DD, …`.
    case dateList
    /// Per-priority targets, in the canonical text of ``PriorityTargets``, each within bounds.
    case priorityTargets(ClosedRange<Int64>)
    /// A state of a lifecycle.
    case state(Lifecycle)
    /// A 16-hex-digit fingerprint (of a standard's terms).
    case fingerprint
    /// A list of at most `maxItems` distinct short texts, one per line: each item of
    /// 1...`maxLength` characters, with no control character and no space at either end, joined
    /// by line feeds (a service's attributes).
    case lines(maxItems: Int, maxLength: Int)
    /// A period of service, canonical: a year `2026`, a half `2026-H2`, a quarter `2026-Q4` or
    /// a month `2026-11`, from 2000 to 9999.
    case period
    /// The departments a survey round asks, each with the number of people invited if known:
    /// canonical `ID` or `ID=N` items (N from 1 to 100 000), ids as lowercase text, sorted,
    /// each once, joined by `,`; from 1 to `maxItems` of them.
    case invitations(maxItems: Int)
}

/// One field of a record kind: its type, merge policy and who may write it when.
public struct FieldSpec: Sendable, Hashable {
    /// When a field may be written, beyond who.
    public enum Condition: Sendable, Hashable {
        /// Whenever the writer holds one of the roles.
        case always
        /// Only while the request is open (submitted, acknowledged, in progress, waiting), or
        /// the action is open.
        case whileOpen
        /// Only while the standard is proposed: not yet agreed by both departments.
        case whileProposed
    }

    /// The field's name.
    public let name: FieldName
    /// What a person calls it in a sentence.
    public let label: String
    /// What values are accepted.
    public let type: FieldType
    /// How concurrent values merge.
    public let policy: FieldPolicy
    /// Must be set when the record is created.
    public let required: Bool
    /// Set once, at creation; never written again.
    public let fixed: Bool
    /// May be cleared (written as null).
    public let nullable: Bool
    /// The roles that may write it.
    public let writers: Set<Role>
    /// When they may write it.
    public let condition: Condition

    /// A field spec; defaults: manual policy, optional, editable, not nullable, always writable.
    public init(
        _ name: FieldName,
        _ label: String,
        _ type: FieldType,
        policy: FieldPolicy = .manual,
        required: Bool = false,
        fixed: Bool = false,
        nullable: Bool = false,
        writers: Set<Role>,
        condition: Condition = .always
    ) {
        self.name = name
        self.label = label
        self.type = type
        self.policy = policy
        self.required = required
        self.fixed = fixed
        self.nullable = nullable
        self.writers = writers
        self.condition = condition
    }
}

/// The fields of one record kind.
public struct KindSpec: Sendable {
    /// The kind described.
    public let kind: RecordKind
    /// Its fields, in the order people read them.
    public let fields: [FieldSpec]
    /// The position in `fields` of each field, by name.
    private let positions: [FieldName: Int]

    /// A kind with `fields`.
    public init(_ kind: RecordKind, _ fields: [FieldSpec]) {
        self.kind = kind
        self.fields = fields
        self.positions = Dictionary(uniqueKeysWithValues: fields.enumerated().map { ($1.name, $0) })
    }

    /// The spec of `name`, if the kind has such a field.
    public func field(_ name: FieldName) -> FieldSpec? {
        position(of: name).map { fields[$0] }
    }

    /// Where `name` is in ``fields``, if the kind has such a field: a check that asks several
    /// things of one field looks it up once and reads the spec in place, without a copy.
    public func position(of name: FieldName) -> Int? {
        positions[name]
    }

    /// The merge policy of `name` (manual for a field the kind does not know).
    public func policy(_ name: FieldName) -> FieldPolicy {
        position(of: name).map { fields[$0].policy } ?? .manual
    }
}
