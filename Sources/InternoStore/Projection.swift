import Foundation
import GRDB
import InternoModel

/// Keeps the query tables (`department`, `standard`, `request`, `comment`, `feedback`) in step
/// with record states, in the same transaction. Values shown are resolved by each field's
/// policy; a conflicted field shows its provisional value and flags the row.
enum Projection {
    static func update(_ record: RecordState, _ db: Database) throws {
        let id = record.id.uuidString.lowercased()
        let table = record.kind.rawValue
        guard record.exists else {
            try db.executeCached(sql: "DELETE FROM \(table) WHERE id = ?", arguments: [id])
            return
        }
        let spec = Schema.spec(record.kind)
        var conflicted = false
        func value(_ field: FieldName) -> FieldValue? {
            let resolution = record.resolve(field, policy: spec.policy(field))
            if resolution.isConflict { conflicted = true }
            guard let value = resolution.displayValue, value != .null else { return nil }
            return value
        }
        func text(_ field: FieldName) -> String? { value(field)?.text }
        func reference(_ field: FieldName) -> String? { value(field)?.id?.uuidString.lowercased() }
        func number(_ field: FieldName) -> Int64? {
            switch value(field) {
            case .integer(let number), .duration(let number): number
            case .time(let time): time.millisecondsSince1970
            default: nil
            }
        }
        let times = record.fields.values.flatMap { $0.map(\.at.millisecondsSince1970) }
        let updatedAt = times.max() ?? 0

        switch record.kind {
        case .department:
            let row: [DatabaseValueConvertible?] = [
                id, text("code") ?? "?", text("name"), text("timeZone"), text("hours"), text("holidays"),
            ]
            try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO department (id, code, name, timeZone, hours, holidays, conflicted)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: StatementArguments(row + [conflicted]))
        case .standard:
            let status = value("retired") == .bool(true) ? "retired" : Schema.isAgreed(record) ? "agreed" : "proposed"
            let row: [DatabaseValueConvertible?] = [
                id, reference("provider") ?? "", reference("customer") ?? "", text("service"), number("ackTarget"),
                number("deliverTarget"), number("csatTarget"), number("complianceTarget"), status,
            ]
            try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO standard (id, provider, customer, service, ackTarget, deliverTarget,
                        csatTarget, complianceTarget, status, conflicted)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: StatementArguments(row + [conflicted]))
        case .request:
            let createdAt = record.siblings("key").map(\.at.millisecondsSince1970).min() ?? updatedAt
            let row: [DatabaseValueConvertible?] = [
                id, text("key") ?? "", reference("customer") ?? "", reference("provider") ?? "",
                reference("standard"), text("title"), text("priority"), text("state"), number("neededBy"),
                text("assignee"), createdAt, updatedAt,
            ]
            try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO request (id, key, customer, provider, standard, title, priority, state,
                        neededBy, assignee, createdAt, updatedAt, conflicted)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: StatementArguments(row + [conflicted]))
        case .comment:
            let first = record.siblings("body").first
            let row: [DatabaseValueConvertible?] = [
                id, reference("request") ?? "", text("body") ?? "", first?.author ?? "",
                first?.at.millisecondsSince1970 ?? 0,
            ]
            try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO comment (id, request, body, author, at) VALUES (?, ?, ?, ?, ?)"
            ).execute(arguments: StatementArguments(row))
        case .feedback:
            let row: [DatabaseValueConvertible?] = [
                id, reference("request") ?? "", text("by") ?? "", number("rating"), number("effort"), text("comment"),
            ]
            try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO feedback (id, request, side, rating, effort, comment, conflicted)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: StatementArguments(row + [conflicted]))
        }
    }
}
