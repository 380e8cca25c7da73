import Foundation
import InternoModel
import InternoStore

/// Kudos as shown: the stable shape of `interno kudos --json` and of `report kudos --json`'s
/// items.
public struct KudosView: Codable, Equatable, Sendable {
    /// The department that gives them, and the one thanked (codes).
    public var from: String
    public var to: String
    /// The person thanked, if one is named.
    public var person: String?
    public var message: String
    /// What they are for, in words: `request HR-LIS-4`, `action 'Six laptops in stock'` or
    /// `period 2026-H2`.
    public var reason: String
    /// Who sent them (`ana@HR-LIS`) and when (ISO 8601).
    public var author: String
    public var at: String
}

extension Site {
    /// Thanks another department (and, if named, a person in it) for a request, an action
    /// done, or a period of service (`2026`, `2026-H2`, `2026-Q4`, `2026-11`).
    public func sendKudos(
        to department: String, person: String? = nil, for reason: String, message: String,
        at given: Timestamp? = nil
    ) throws -> KudosView {
        let at = try time(given)
        var fields: [FieldName: FieldValue] = [
            "from": .id(self.department), "to": .id(try departmentID(code: department)), "message": .text(message),
        ]
        if let person, !person.isEmpty { fields["person"] = .text(person) }
        if Schema.isPeriod(reason) {
            fields["period"] = .text(reason)
        } else if let request = try ifFound({ try request(reason) }) {
            fields["request"] = .id(request.id)
        } else if let action = try ifFound({ try actionRecord(reason) }) {
            fields["action"] = .id(action.id)
        } else {
            throw ClientError.notFound(
                "--for '\(reason)' names no request or action here, nor a period: give a request key (HR-LIS-4), an action (its ref or title) or a period (2026, 2026-H2, 2026-Q4, 2026-11)"
            )
        }
        // Kudos are immutable and never merge: each gets its own time-ordered id.
        let id = UUID.timeOrdered()
        try perform { try store.write([Edit(.kudos, id, fields)], author: author, at: at) }
        guard let record = try perform({ try store.record(id) }) else {
            throw ClientError.storage("the kudos were written and cannot be read")
        }
        return try view(ofKudos: record)
    }

    /// Every kudos this site knows, newest first.
    public func kudos() throws -> [KudosView] {
        try perform { try store.records(of: .kudos) }.map(view(ofKudos:)).sorted { ($0.at, $0.to) > ($1.at, $1.to) }
    }

    func view(ofKudos record: RecordState) throws -> KudosView {
        let value = record.value(of:)
        var reason = "period \(value("period")?.text ?? "?")"
        if let id = value("request")?.id {
            reason = "request " + (try perform { try store.record(id) }.map(SiteStore.label(of:)) ?? id.text)
        } else if let id = value("action")?.id {
            reason = "action '" + (try perform { try store.record(id) }.map(SiteStore.label(of:)) ?? id.text) + "'"
        }
        let first = record.siblings("message").first
        return KudosView(
            from: try code(of: value("from")?.id?.text), to: try code(of: value("to")?.id?.text),
            person: value("person")?.text, message: value("message")?.text ?? "", reason: reason,
            author: first?.author ?? "", at: (first?.at ?? Timestamp(millisecondsSince1970: 0)).description)
    }
}
