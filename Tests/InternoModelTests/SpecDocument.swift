import Foundation

@testable import InternoModel

/// `Protocol/schema.json`: the schema of DESIGN §6–§7 as data beside the spec, for a second
/// implementation to read. ``SpecConformanceTests`` keep it equal to ``Schema`` and the tables
/// of `Protocol/README.md` equal to it.
struct SpecDocument: Codable, Equatable {
    var format: String
    var schemaVersion: UInt32
    var kinds: [Kind]
    var lifecycles: [LifecycleDocument]
    var standardTerms: [String]
    var text: TextRules
    var changes: ChangeRules
    var refusalCodes: [RefusalCode]
    /// The order of the checks of a change (Protocol §12.11); not in the model as data, so
    /// the vectors of checks.json hold the model to it.
    var checkOrder: [Check]

    struct Kind: Codable, Equatable {
        var kind: String
        var parties: Parties
        var fields: [Field]
    }

    struct Parties: Codable, Equatable {
        /// `everyone`, `departments` (named by `fields`) or `sameAs` (the parties of the record
        /// of kind `of` that `fields[0]` names).
        var rule: String
        var fields: [String]
        var of: String?
    }

    struct Field: Codable, Equatable {
        var name: String
        var label: String
        var type: FieldTypeDocument
        /// The member of the protobuf `Value` that carries it.
        var value: String
        var policy: String
        var required: Bool
        var fixed: Bool
        var nullable: Bool
        var writers: [String]
        var condition: String
    }

    struct FieldTypeDocument: Codable, Equatable {
        var name: String
        var minLength: Int?
        var maxLength: Int?
        var min: Int64?
        var max: Int64?
        var members: [String]?
        var kind: String?
        var lifecycle: String?
        var maxItems: Int?
    }

    struct LifecycleDocument: Codable, Equatable {
        /// `kind.field`: `request.state`.
        var name: String
        var states: [String]
        var initial: String
        var open: [String]
        var steps: [Step]
    }

    struct Step: Codable, Equatable {
        var verb: String
        var from: [String]
        var to: String
        var by: String
        var forward: Bool
        var stamps: [String]
        var needs: [String]
    }

    struct TextRules: Codable, Equatable {
        var lengthUnit: String
        var maximumBytes: Int
        /// Code point ranges refused anywhere in a value of type `text`, as `U+0000..U+0008`.
        var forbiddenControls: [String]
    }

    struct ChangeRules: Codable, Equatable {
        var earliestAtMs: Int64
        var futureAllowanceMs: Int64
        var maximumAuthorBytes: Int
    }

    struct RefusalCode: Codable, Equatable {
        var code: Int
        var name: String
    }

    struct Check: Codable, Equatable {
        var step: Int
        var rule: String
        var codes: [Int]
    }
}

// MARK: - From the model

extension SpecDocument {
    /// The document the model describes, with `checkOrder` as given.
    static func model(checkOrder: [Check]) -> SpecDocument {
        SpecDocument(
            format: "interno-schema-1", schemaVersion: Schema.version,
            kinds: RecordKind.allCases.map(Kind.init), lifecycles: [LifecycleDocument(Schema.requestLifecycle)],
            standardTerms: Schema.standardTerms,
            text: TextRules(
                lengthUnit: "extended grapheme cluster", maximumBytes: Schema.maximumTextBytes,
                forbiddenControls: forbiddenRanges()),
            changes: ChangeRules(
                earliestAtMs: Schema.earliestTime.millisecondsSince1970, futureAllowanceMs: Schema.futureAllowance,
                maximumAuthorBytes: Schema.maximumAuthorBytes),
            refusalCodes: Refusal.Code.allCases.map { RefusalCode(code: $0.rawValue, name: words("\($0)")) },
            checkOrder: checkOrder)
    }

    /// The ranges of scalars ``Schema/isForbiddenControl(_:)`` refuses, found by asking it.
    static func forbiddenRanges() -> [String] {
        var ranges: [ClosedRange<UInt32>] = []
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value), Schema.isForbiddenControl(scalar) else { continue }
            if let last = ranges.last, last.upperBound + 1 == value {
                ranges[ranges.count - 1] = last.lowerBound...value
            } else {
                ranges.append(value...value)
            }
        }
        return ranges.map { "\(codePoint($0.lowerBound))..\(codePoint($0.upperBound))" }
    }

    static func codePoint(_ value: UInt32) -> String {
        let hex = String(value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// `notPermitted` → `not permitted`.
    static func words(_ name: String) -> String {
        name.reduce(into: "") { text, character in
            text += character.isUppercase ? " " + character.lowercased() : String(character)
        }
    }
}

extension SpecDocument.Kind {
    init(_ kind: RecordKind) {
        let parties: SpecDocument.Parties =
            switch Schema.partyRule(of: kind) {
            case .everyone: .init(rule: "everyone", fields: [])
            case .departments(let fields): .init(rule: "departments", fields: fields)
            case .sameAs(let field, let other): .init(rule: "sameAs", fields: [field], of: other.rawValue)
            }
        self.init(kind: kind.rawValue, parties: parties, fields: Schema.spec(kind).fields.map(SpecDocument.Field.init))
    }
}

extension SpecDocument.Field {
    init(_ field: FieldSpec) {
        self.init(
            name: field.name, label: field.label, type: SpecDocument.FieldTypeDocument(field.type),
            value: Self.member(of: field.type), policy: field.policy.name, required: field.required,
            fixed: field.fixed, nullable: field.nullable, writers: field.writers.sorted().map(\.rawValue),
            condition: "\(field.condition)")
    }

    /// The `Value` member a field of this type travels in (Protocol §4.11).
    static func member(of type: FieldType) -> String {
        switch type {
        case .integer: "integer"
        case .duration: "duration_seconds"
        case .time: "time_ms"
        case .bool: "boolean"
        case .reference: "id"
        case .text, .code, .enumeration, .timeZone, .weeklyHours, .dateList, .priorityTargets, .state, .fingerprint,
            .lines, .period, .invitations:
            "text"
        }
    }
}

extension SpecDocument.FieldTypeDocument {
    init(_ type: FieldType) {
        switch type {
        case .text(let minLength, let maxLength): self.init(name: "text", minLength: minLength, maxLength: maxLength)
        case .code(let maxLength): self.init(name: "code", maxLength: maxLength)
        case .enumeration(let members): self.init(name: "enumeration", members: members)
        case .integer(let range): self.init(name: "integer", min: range.lowerBound, max: range.upperBound)
        case .duration(let range): self.init(name: "duration", min: range.lowerBound, max: range.upperBound)
        case .time: self.init(name: "time")
        case .bool: self.init(name: "bool")
        case .reference(let kind): self.init(name: "reference", kind: kind.rawValue)
        case .timeZone: self.init(name: "timeZone")
        case .weeklyHours: self.init(name: "weeklyHours")
        case .dateList: self.init(name: "dateList")
        case .priorityTargets(let range):
            self.init(name: "priorityTargets", min: range.lowerBound, max: range.upperBound)
        case .state(let lifecycle):
            precondition(lifecycle == Schema.requestLifecycle, "one lifecycle in schema version 1")
            self.init(name: "state", lifecycle: "request.state")
        case .fingerprint: self.init(name: "fingerprint")
        case .lines(let maxItems, let maxLength): self.init(name: "lines", maxLength: maxLength, maxItems: maxItems)
        case .period: self.init(name: "period")
        case .invitations(let maxItems): self.init(name: "invitations", maxItems: maxItems)
        }
    }
}

extension SpecDocument.LifecycleDocument {
    init(_ lifecycle: Lifecycle) {
        let ordered = { (states: Set<String>) in lifecycle.states.filter(states.contains) }
        self.init(
            name: "request.state", states: lifecycle.states, initial: lifecycle.initial,
            open: ordered(Schema.RequestState.open),
            steps: lifecycle.steps.map { step in
                SpecDocument.Step(
                    verb: step.verb, from: ordered(step.from), to: step.to, by: step.by.rawValue, forward: step.forward,
                    stamps: step.stamps, needs: step.needs)
            })
    }
}

// MARK: - To Markdown

extension SpecDocument {
    /// The generated parts of `Protocol/README.md`, by the name their markers carry.
    var markdown: [String: String] {
        ["fields": fieldTable, "steps": stepTable, "checks": checkList]
    }

    /// §12.2: one row per field.
    var fieldTable: String {
        var lines = [
            "| kind | field | `Value` | accepted values | req. | fixed | null | policy | writers | when |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        let steps = lifecycles.flatMap(\.steps)
        for kind in kinds {
            for field in kind.fields {
                let stamping = steps.filter { $0.stamps.contains(field.name) }
                let needing = steps.filter { $0.needs.contains(field.name) }
                var accepted = Self.accepted(field.type)
                var when = Self.when(field.condition)
                if field.fixed {
                    when = "at creation"
                } else if field.type.name == "state" {
                    when = "by a step (12.8)"
                } else if !stamping.isEmpty {
                    accepted = "the `at_ms` of the step that stamps it"
                    when = "stamped by " + stamping.map { "`\($0.verb)`" }.joined(separator: ", ") + " (12.9)"
                } else if !needing.isEmpty {
                    when = "with " + needing.map { "`\($0.verb)`" }.joined(separator: ", ") + " (12.9)"
                }
                let cells = [
                    kind.kind, "`\(field.name)`", "`\(field.value)`", accepted,
                    field.required ? "yes" : "", field.fixed ? "yes" : "", field.nullable ? "yes" : "",
                    "`\(field.policy)`", field.writers.joined(separator: ", "), when,
                ]
                lines.append("| " + cells.joined(separator: " | ") + " |")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// §12.8: one row per lifecycle step.
    var stepTable: String {
        var lines = [
            "| step | from | to | by | forward | stamps | needs |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for lifecycle in lifecycles {
            for step in lifecycle.steps {
                let cells = [
                    "`\(step.verb)`", step.from.map { "`\($0)`" }.joined(separator: ", "), "`\(step.to)`", step.by,
                    step.forward ? "yes" : "no", step.stamps.map { "`\($0)`" }.joined(separator: ", "),
                    step.needs.map { "`\($0)`" }.joined(separator: ", "),
                ]
                lines.append("| " + cells.joined(separator: " | ") + " |")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// §12.11: the checks in order.
    var checkList: String {
        checkOrder.map { check in
            let codes = check.codes.map(String.init).joined(separator: ", ")
            return "\(check.step). \(check.rule) (\(check.codes.count == 1 ? "code" : "codes") \(codes))"
        }.joined(separator: "\n")
    }

    static func accepted(_ type: FieldTypeDocument) -> String {
        switch type.name {
        case "text":
            return "text of \(type.minLength ?? 0) to \(grouped(Int64(type.maxLength ?? 0))) characters"
        case "code":
            return "a code: an uppercase letter, then uppercase letters or digits; at most \(type.maxLength ?? 0)"
        case "enumeration": return "one of " + (type.members ?? []).map { "`\($0)`" }.joined(separator: ", ")
        case "integer": return "\(grouped(type.min ?? 0)) to \(grouped(type.max ?? 0))"
        case "duration": return "\(grouped(type.min ?? 0)) to \(grouped(type.max ?? 0)) seconds"
        case "time": return "any time"
        case "bool": return "`true` or `false`"
        case "reference": return "the id of a \(type.kind ?? "")"
        case "timeZone": return "an IANA time zone name"
        case "weeklyHours": return "business hours, canonical (12.5)"
        case "dateList": return "dates, canonical (12.5)"
        case "priorityTargets":
            return
                "targets per priority, canonical (12.5), each \(grouped(type.min ?? 0)) to \(grouped(type.max ?? 0)) seconds"
        case "state": return "a state of `\(type.lifecycle ?? "")` (12.8)"
        case "fingerprint": return "16 lowercase hex digits (12.10)"
        case "invitations":
            return "1 to \(type.maxItems ?? 0) department ids, each alone or with `=N` people invited, canonical (12.5)"
        case "period": return "a period, canonical (12.5): `2026`, `2026-H2`, `2026-Q4` or `2026-11`"
        case "lines":
            return
                "up to \(type.maxItems ?? 0) different lines of 1 to \(type.maxLength ?? 0) characters, canonical (12.5)"
        default: return type.name
        }
    }

    static func when(_ condition: String) -> String {
        switch condition {
        case "whileOpen": "while open"
        case "whileProposed": "while proposed"
        default: condition
        }
    }

    /// `31622400` → `31 622 400`; four digits stay together.
    static func grouped(_ number: Int64) -> String {
        let digits = String(number.magnitude)
        guard digits.count > 4 else { return (number < 0 ? "-" : "") + digits }
        var groups: [String] = []
        var rest = Substring(digits)
        while rest.count > 3 {
            groups.insert(String(rest.suffix(3)), at: 0)
            rest = rest.dropLast(3)
        }
        groups.insert(String(rest), at: 0)
        return (number < 0 ? "-" : "") + groups.joined(separator: " ")
    }
}
