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
                kind: conflict.kind.rawValue, key: conflict.label, fields: conflict.fields.map(fieldView))
        }
    }

    /// The conflicts of the request `key` (empty if none).
    public func conflicts(ofRequest key: String) throws -> ConflictView {
        conflictView(of: try request(key))
    }

    func conflictView(of record: RecordState) -> ConflictView {
        let conflict = Store.conflicts(of: record)
        return ConflictView(kind: record.kind.rawValue, key: conflict.label, fields: conflict.fields.map(fieldView))
    }

    private func fieldView(_ conflict: FieldConflict) -> FieldConflictView {
        let me = settings.replicaID
        let label = Schema.spec(.request).field(conflict.field)?.label ?? conflict.field
        return FieldConflictView(
            field: conflict.field, label: label,
            siblings: conflict.siblings.enumerated().map { index, sibling in
                let parts = sibling.author.split(separator: "@", maxSplits: 1).map(String.init)
                return SiblingView(
                    number: index + 1, value: display(sibling.value, field: conflict.field), author: parts[0],
                    site: parts.count > 1 ? parts[1] : "?", replica: sibling.dot.replica.description,
                    at: sibling.at.description, mine: sibling.dot.replica.description == me)
            })
    }

    /// Resolves a conflicted field of the request `key` with a write that has seen every
    /// sibling (DESIGN §3.6). `field` may be omitted when exactly one field is in conflict.
    public func resolve(_ key: String, field: String?, _ choice: Resolution, at: Timestamp = .now()) throws {
        let record = try request(key)
        let conflict = Store.conflicts(of: record)
        guard !conflict.fields.isEmpty else {
            throw ClientError.notFound("request \(key) has no conflict to resolve")
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
            value = try parse(text, field: target.field)
        }
        try perform { try store.write([Edit(.request, record.id, [target.field: value])], author: author, at: at) }
    }

    /// A typed value for a request field, from what a person typed.
    func parse(_ text: String, field: FieldName) throws -> FieldValue {
        guard let spec = Schema.spec(.request).field(field) else {
            throw ClientError.invalidInput("a request has no field \(field)")
        }
        switch spec.type {
        case .time: return .time(try TimeInput.parse(text, option: "--value"))
        case .reference: return .id(try departmentID(code: text))
        case .enumeration, .state: return .text(text.lowercased())
        default: return .text(text)
        }
    }
}
