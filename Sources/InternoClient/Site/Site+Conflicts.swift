import Foundation
import InternoModel
import InternoStore

/// How a person resolves a conflict.
public enum Resolution: Sendable, Equatable {
    /// Keep the value this site wrote.
    case mine
    /// Keep the value the other site wrote.
    case theirs
    /// Keep sibling number N, as `conflicts show` numbers them.
    case pick(Int)
    /// Write a new value, as typed.
    case value(String)
}

extension Site {
    /// Every record with a conflict.
    public func conflicts() throws -> [ConflictView] {
        try perform { try store.conflicts() }.map { conflict in
            ConflictView(
                kind: conflict.kind.rawValue, key: try key(of: conflict),
                fields: try conflict.fields.map { try fieldView($0, conflict.kind) })
        }
    }

    /// How `interno conflicts show` names a record: its label, and for a need the name of its
    /// service (a need is this department's, named by the service).
    private func key(of conflict: RecordConflict) throws -> String {
        guard conflict.kind == .need, let need = try perform({ try store.record(conflict.id) }),
            let service = need.value(of: "service")?.id, let record = try perform({ try store.record(service) })
        else { return conflict.label }
        return SiteStore.label(of: record)
    }

    /// The conflicts of the request `key`, or of a standard named by the start of its id or
    /// its service (empty if none).
    public func conflicts(ofRequest key: String) throws -> ConflictView {
        try conflictView(of: try conflicted(key))
    }

    /// The record people name with `key` in `interno conflicts`: a request, else a standard,
    /// else an action, else a service, or this department's need of it when the service itself
    /// has no conflict.
    func conflicted(_ key: String) throws -> RecordState {
        do { return try request(key) } catch let error as ClientError {
            if let standard = try ifFound({ try standardRecord(key) }) { return standard }
            if let action = try ifFound({ try actionRecord(key) }) { return action }
            guard let service = try ifFound({ try serviceRecord(key, retired: true) }) else { throw error }
            if !SiteStore.conflicts(of: service).fields.isEmpty { return service }
            let need = try perform { try store.record(Schema.needID(service: service.id, customer: department)) }
            if let need, need.exists, !SiteStore.conflicts(of: need).fields.isEmpty { return need }
            return service
        }
    }

    func conflictView(of record: RecordState) throws -> ConflictView {
        let conflict = SiteStore.conflicts(of: record)
        return ConflictView(
            kind: record.kind.rawValue, key: conflict.label,
            fields: try conflict.fields.map { try fieldView($0, record.kind) })
    }

    private func fieldView(_ conflict: FieldConflict, _ kind: RecordKind) throws -> FieldConflictView {
        let me = settings.replicaID
        let label = Schema.spec(kind).field(conflict.field)?.label ?? conflict.field
        return FieldConflictView(
            field: conflict.field, label: label,
            siblings: try conflict.siblings.enumerated().map { index, sibling in
                let parts = sibling.author.split(separator: "@", maxSplits: 1).map(String.init)
                return SiblingView(
                    number: index + 1, value: try display(sibling.value, field: conflict.field),
                    date: date(sibling.value, field: conflict.field), author: parts[0],
                    site: parts.count > 1 ? parts[1] : "?", replica: sibling.dot.replica.description,
                    at: sibling.at.description, mine: sibling.dot.replica.description == me)
            })
    }

    /// Resolves a conflicted field of the request `key` with a write that has seen every
    /// sibling (DESIGN §3.6). `field` may be omitted when exactly one field is in conflict.
    public func resolve(_ key: String, field: String?, _ choice: Resolution, at: Timestamp = .now()) throws {
        let record = try conflicted(key)
        let conflict = SiteStore.conflicts(of: record)
        guard !conflict.fields.isEmpty else {
            throw ClientError.notFound("\(record.kind.rawValue) \(key) has no conflict to resolve")
        }
        let target: FieldConflict
        if let field {
            guard let found = conflict.fields.first(where: { $0.field == field }) else {
                throw ClientError.notFound(
                    "the \(field) of request \(key) is not in conflict; in conflict: \(conflict.fields.map(\.field).joined(separator: ", "))"
                )
            }
            target = found
        } else {
            guard conflict.fields.count == 1 else {
                throw ClientError.invalidInput(
                    "request \(key) has conflicts in \(conflict.fields.map(\.field).joined(separator: ", ")): name one with --field"
                )
            }
            target = conflict.fields[0]
        }
        let me = settings.replicaID
        let mine = target.siblings.filter { $0.dot.replica.description == me }
        let theirs = target.siblings.filter { $0.dot.replica.description != me }
        let value: FieldValue
        switch choice {
        case .mine:
            guard let sibling = mine.max(by: { $0.dot < $1.dot }) else {
                throw ClientError.invalidInput(
                    "none of the values of \(target.field) was written here: use --theirs or --pick N")
            }
            value = sibling.value
        case .theirs:
            guard theirs.count == 1 else {
                throw ClientError.invalidInput(
                    theirs.isEmpty
                        ? "every value of \(target.field) was written here: use --mine or --pick N"
                        : "\(theirs.count) other values of \(target.field) exist: choose one with --pick N (see `interno conflicts show \(key)`)"
                )
            }
            value = theirs[0].value
        case .pick(let number):
            guard (1...target.siblings.count).contains(number) else {
                throw ClientError.invalidInput(
                    "--pick takes 1 to \(target.siblings.count), as `interno conflicts show \(key)` numbers them")
            }
            value = target.siblings[number - 1].value
        case .value(let text):
            value = try parse(text, field: target.field, of: record.kind)
        }
        try perform {
            try store.write([Edit(record.kind, record.id, [target.field: value])], author: author, at: at)
        }
    }

    /// A typed value for a field, from what a person typed.
    func parse(_ text: String, field: FieldName, of kind: RecordKind) throws -> FieldValue {
        guard let spec = Schema.spec(kind).field(field) else {
            throw ClientError.invalidInput("\(kind.withArticle) has no field \(field)")
        }
        switch spec.type {
        case .time: return .time(try TimeInput.parse(text, option: "--value"))
        case .reference(.service): return .id(try serviceRecord(text).id)
        case .reference: return .id(try departmentID(code: text))
        case .enumeration, .state: return .text(text.lowercased())
        case .duration: return .duration(try DurationInput.parse(text, option: "--value"))
        case .integer:
            guard let number = Int64(text) else {
                throw ClientError.invalidInput("--value '\(text)' is not a whole number")
            }
            return .integer(number)
        case .bool:
            switch text.lowercased() {
            case "yes", "true": return .bool(true)
            case "no", "false": return .bool(false)
            default: throw ClientError.invalidInput("--value '\(text)' is not yes or no")
            }
        default: return .text(text)
        }
    }
}
