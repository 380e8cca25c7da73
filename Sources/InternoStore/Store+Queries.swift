import Foundation
import GRDB
import InternoModel

/// One field in conflict: every sibling, with its value, author, replica and time.
public struct FieldConflict: Equatable, Sendable {
    /// The field.
    public var field: FieldName
    /// The concurrent values, by dot; the last is the provisional value shown meanwhile.
    public var siblings: [Sibling]
}

/// A record with at least one field in conflict.
public struct RecordConflict: Equatable, Sendable {
    /// The record's kind.
    public var kind: RecordKind
    /// The record's id.
    public var id: UUID
    /// How people name it: a request's key, a standard's service, a department's code.
    public var label: String
    /// The fields in conflict, by name.
    public var fields: [FieldConflict]
}

/// One step of a record's history: a logged change and what it did to conflicts.
public struct HistoryEntry: Equatable, Sendable {
    /// The change as logged here; a refused one carries its refusal.
    public var change: Change
    /// Fields this change put in conflict.
    public var conflicted: [FieldName]
    /// Fields in conflict that this change resolved.
    public var resolved: [FieldName]
}

extension ReplicaStore {
    /// Every record with a field in conflict, with each field's siblings.
    public func conflicts() throws -> [RecordConflict] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: RecordTable.conflicted)
            return try rows.map(RecordTable.decode).map(Self.conflicts(of:)).filter { !$0.fields.isEmpty }
                .sorted { ($0.kind, $0.label) < ($1.kind, $1.label) }
        }
    }

    /// The conflicts of one record (empty `fields` if none).
    public static func conflicts(of record: RecordState) -> RecordConflict {
        let spec = Schema.spec(record.kind)
        let fields = record.fields.keys.sorted().compactMap { name -> FieldConflict? in
            guard case .conflict(_, let siblings) = record.resolve(name, policy: spec.policy(name)) else { return nil }
            return FieldConflict(field: name, siblings: siblings)
        }
        return RecordConflict(kind: record.kind, id: record.id, label: label(of: record), fields: fields)
    }

    /// How people name a record.
    public static func label(of record: RecordState) -> String {
        let field: FieldName? =
            switch record.kind {
            case .department: "code"
            case .standard: "service"
            case .request: "key"
            case .service: "name"
            case .action: "title"
            case .comment, .feedback, .need, .kudos, .round, .answer: nil
            }
        if let field, let value = record.resolve(field, policy: .manual).displayValue?.text { return value }
        return record.id.text
    }

    /// The history of one record: every logged change, in the order this replica applied them,
    /// with the conflicts each one made or resolved (DESIGN §3.7).
    public func history(of id: UUID) throws -> [HistoryEntry] {
        try read { db in
            let entries = try ChangeLog.entries(ofRecord: id, db)
            guard let first = entries.first else { throw StoreError.notFound("record \(id.text)") }
            let spec = Schema.spec(first.change.kind)
            var record = RecordState(kind: first.change.kind, id: id)
            var history: [HistoryEntry] = []
            for entry in entries {
                let before = Set(record.fields.keys.filter { record.resolve($0, policy: spec.policy($0)).isConflict })
                do throws(ApplyError) { try record.apply(entry.change) } catch { throw StoreError.outOfOrder(error) }
                let after = Set(record.fields.keys.filter { record.resolve($0, policy: spec.policy($0)).isConflict })
                let written: Set<FieldName> = entry.change.isVoid ? [] : Set(entry.change.fields.keys)
                history.append(
                    HistoryEntry(
                        change: entry.change, conflicted: after.subtracting(before).sorted(),
                        resolved: before.subtracting(after).intersection(written).sorted()))
            }
            return history
        }
    }

    /// Every logged change of one record, in the order this replica applied them: the log
    /// alone, without the conflict bookkeeping of ``history(of:)``.
    public func log(of id: UUID) throws -> [Change] {
        try read { db in try ChangeLog.entries(ofRecord: id, db).map(\.change) }
    }

    /// Rebuilds one record and its query row from the log (DESIGN §3.7: the log is the truth).
    public func rebuild(_ id: UUID) throws {
        try writer.write { db in try RecordTable.rebuild(id, db) }
    }

    /// Rebuilds every record and every query row from the log, in one transaction.
    public func rebuildAll() throws {
        try writer.write { db in
            for id in try ChangeLog.records(db) {
                guard let uuid = UUID(text: id) else { throw StoreError.corrupt("record id \(id)") }
                try RecordTable.rebuild(uuid, db)
            }
        }
    }

    /// The id of the request with `key`.
    public func requestID(key: String) throws -> UUID {
        try read { db in
            guard
                let id = try String.fetchOne(db.cachedStatement(sql: RequestRow.idByKey), arguments: [key])
            else {
                throw StoreError.notFound("request \(key)")
            }
            guard let uuid = UUID(text: id) else { throw StoreError.corrupt("the id of request \(key): \(id)") }
            return uuid
        }
    }

    /// The id of the department with `code`.
    public func departmentID(code: String) throws -> UUID {
        try read { db in
            guard
                let id = try String.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT \(Projection.id) FROM department WHERE \(DepartmentTable.Columns.code) = ?"),
                    arguments: [code])
            else { throw StoreError.notFound("department \(code)") }
            guard let uuid = UUID(text: id) else {
                throw StoreError.corrupt("the id of department \(code): \(id)")
            }
            return uuid
        }
    }

    /// Requests as the query table holds them, newest first.
    public func requests() throws -> [RequestRow] {
        try read { db in
            try RequestRow.order(RequestRow.Columns.createdAt.desc, RequestRow.Columns.key).fetchAll(db)
        }
    }

    /// The requests submitted within `from..<to`, in the same order.
    public func requests(submittedFrom from: Timestamp, to: Timestamp) throws -> [RequestRow] {
        try read { db in
            try RequestRow.submitted(from: from, to: to).fetchAll(db)
        }
    }

    /// The keys of the requests whose stored timeline is not the one their log gives, with
    /// what is stored and what the log says: none, as long as every path that changes a
    /// request's log keeps its timeline (DESIGN §4). The simulations and fault trials check it.
    public func timelineDrift() throws -> [String] {
        try read { db in
            var drift: [String] = []
            for row in try RequestRow.fetchAll(db) {
                guard let id = UUID(text: row.id) else { throw StoreError.corrupt("request id \(row.id)") }
                let logged = RequestTimeline(log: try ChangeLog.entries(ofRecord: id, db).map(\.change))
                if logged != row.timeline {
                    drift.append("\(row.key): stored \(row.timeline), the log gives \(String(describing: logged))")
                }
            }
            return drift
        }
    }

    /// The request with record id `id`, if this replica holds it.
    public func requestRow(_ id: UUID) throws -> RequestRow? {
        try read { db in try RequestRow.filter(RequestRow.Columns.id == id.text).fetchOne(db) }
    }

    /// The rating and effort of the feedback on every request, by request id and side
    /// (`customer`, `provider`), as the `feedback` query table shows them: what the reports
    /// count, read in one query.
    public func ratings() throws -> [String: [String: Rating]] {
        try read { db in
            var ratings: [String: [String: Rating]] = [:]
            typealias C = FeedbackTable.Columns
            let rows = try Row.fetchCursor(
                db, sql: "SELECT \([C.request, C.side, C.rating, C.effort].sql) FROM feedback")
            while let row = try rows.next() {
                func number(_ index: Int) throws -> Int? {
                    let value = row[index] as DatabaseValue
                    if value.isNull { return nil }
                    guard let number = Int.fromDatabaseValue(value) else {
                        throw StoreError.corrupt("a feedback rating as stored here cannot be read: \(value)")
                    }
                    return number
                }
                guard let request = String.fromDatabaseValue(row[0] as DatabaseValue),
                    let side = String.fromDatabaseValue(row[1] as DatabaseValue)
                else { throw StoreError.corrupt("a feedback row as stored here names no request or side") }
                ratings[request, default: [:]][side] = Rating(rating: try number(2), effort: try number(3))
            }
            return ratings
        }
    }

    /// The comments on a request, oldest first.
    public func comments(ofRequest id: UUID) throws -> [CommentRow] {
        try read { db in
            try CommentRow.filter(CommentRow.Columns.request == id.text).order(
                CommentRow.Columns.at, CommentRow.Columns.id
            )
            .fetchAll(db)
        }
    }

    /// Standards as the query table holds them.
    public func standards() throws -> [StandardRow] {
        try read { db in try StandardRow.order(StandardRow.Columns.service).fetchAll(db) }
    }
}

/// One feedback record's rating and effort, as its query row shows them.
public struct Rating: Sendable, Equatable {
    /// The rating, 1 to 5.
    public var rating: Int?
    /// The customer's effort, 1 to 5.
    public var effort: Int?
}

extension RecordTable {
    /// Rebuilds one record and its query row from the log (DESIGN §3.7: the log is the truth).
    static func rebuild(_ id: UUID, _ db: Database) throws {
        let entries = try ChangeLog.entries(ofRecord: id, db)
        guard let first = entries.first else {
            // Nothing of it is left in the log: neither is the record.
            if let kind = try RecordTable.load(id, db)?.kind {
                try RecordTable.delete(id.text, db)
                try Projection.delete(id.text, kind: kind, db)
            }
            return
        }
        let kind = try RecordTable.load(id, db)?.kind ?? first.change.kind
        let record: RecordState
        do throws(ApplyError) {
            record = try RecordState.replay(kind: kind, id: id, changes: entries.map(\.change))
        } catch {
            throw StoreError.outOfOrder(error)
        }
        try RecordTable.save(record, timeline: kind == .request ? RequestTimeline(log: entries.map(\.change)) : nil, db)
    }
}
