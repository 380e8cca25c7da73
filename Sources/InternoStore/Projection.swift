import Foundation
import GRDB
import InternoModel

/// Keeps the query tables (`department`, `standard`, `request`, `comment`, `feedback`,
/// `service`, `need`, `action`, `kudos`, `round`, `answer`) in step
/// with record states, in the same transaction. Values shown are resolved by each field's
/// policy; a conflicted field shows its provisional value and flags the row.
enum Projection {
    /// The columns of each kind's query table after `id`, in the order ``values(of:)`` gives
    /// them: the record's *shown values*, which `interno verify` digests (Protocol/README.md, 5.9).
    static func columns(_ kind: RecordKind) -> [String] { names[kind] ?? [] }

    /// ``columns(_:)`` as GRDB columns. A query table with a row type takes them from its
    /// `Columns`; the others are read only as record states, and are spelled here alone.
    static func shownColumns(_ kind: RecordKind) -> [Column] {
        switch kind {
        case .department:
            typealias C = DepartmentTable.Columns
            return [C.code, C.name, C.timeZone, C.hours, C.holidays, C.conflicted]
        case .standard:
            typealias C = StandardRow.Columns
            return [
                C.provider, C.customer, C.service, C.catalogService, C.ackTarget, C.deliverTarget, C.csatTarget,
                C.complianceTarget, C.status, C.conflicted,
            ]
        case .request:
            typealias C = RequestRow.Columns
            return [
                C.key, C.customer, C.provider, C.standard, C.service, C.title, C.priority, C.state, C.neededBy,
                C.assignee, C.createdAt, C.updatedAt, C.conflicted,
            ]
        case .comment:
            typealias C = CommentRow.Columns
            return [C.request, C.body, C.author, C.at]
        case .feedback:
            typealias C = FeedbackTable.Columns
            return [C.request, C.side, C.rating, C.effort, C.comment, C.conflicted]
        case .service:
            return [
                Column("provider"), Column("name"), Column("description"), Column("attributes"), Column("status"),
                conflicted,
            ]
        case .need:
            return [
                Column("service"), Column("customer"), Column("provider"), Column("note"), Column("dropped"),
                conflicted,
            ]
        case .action:
            return [
                Column("customer"), Column("provider"), Column("owner"), Column("request"), Column("standard"),
                Column("round"), Column("title"), Column("due"), Column("status"), Column("closedAt"), conflicted,
            ]
        case .kudos:
            return [
                Column("giver"), Column("receiver"), Column("person"), Column("message"), Column("request"),
                Column("action"), Column("period"), Column("author"), Column("at"),
            ]
        case .round:
            return [
                Column("provider"), Column("service"), Column("customers"), Column("form"), Column("opens"),
                Column("closes"), Column("status"), conflicted,
            ]
        case .answer:
            typealias C = AnswerTable.Columns
            return [C.round, C.customer, C.provider]
                + (Schema.surveyDimensions + Schema.surveyDimensions.map(Schema.expectationField)).map { Column($0) }
                + [C.nps, C.comment, C.at]
        }
    }

    /// The first column of every query table: the record id, lowercase UUID text.
    static let id = Column("id")

    /// Deletes the query row of record `id` of `kind`, if any.
    static func delete(_ id: String, kind: RecordKind, _ db: Database) throws {
        try db.executeCached(sql: "DELETE FROM \(kind.rawValue) WHERE \(Self.id) = ?", arguments: [id])
    }

    /// The flag every query table but the fixed kinds' ends with: `true` if a field is in conflict.
    private static let conflicted = Column("conflicted")

    /// ``columns(_:)`` of every kind, named once.
    private static let names: [RecordKind: [String]] = Dictionary(
        uniqueKeysWithValues: RecordKind.allCases.map { ($0, shownColumns($0).map(\.name)) })

    /// The columns of a request's row that are not shown values: what its clocks need from
    /// its log (``RequestTimeline``), kept with the row by the store (DESIGN §4).
    static let timelineColumns = [RequestRow.Columns.submittedAt, RequestRow.Columns.timeline].map(\.name)

    /// `true` for the kinds whose query row holds the record's state (``EncodedState``) while
    /// the record exists: requests (`v10-request-states-in-rows`).
    static func holdsState(_ kind: RecordKind) -> Bool { kind == .request }

    /// The columns of the state, in a row that holds one, in ``EncodedState``'s order.
    static let stateColumns = [RequestRow.Columns.clock, RequestRow.Columns.fields, RequestRow.Columns.stateConflicted]
        .map(\.name)

    /// What a save does to a record's query row, worked out from the record's states alone,
    /// without the database: a batch's rows are made on another thread while the writer
    /// appends its log entries (``RecordRows``, DESIGN §4).
    enum Shown: Sendable {
        /// The row goes, if there is one: the record does not exist.
        case absent
        /// The whole row, with these values after its id (``values(of:)``).
        case whole([DatabaseValue])
        /// Only the columns at these positions of ``columns(_:)`` change, to these values,
        /// one for each; the row exists before and after.
        case changed([Int], [DatabaseValue])
        /// The row neither appears nor goes: the record exists neither before nor after.
        case untouched
    }

    /// The row of `record`, whole, whatever was stored before: upserted, or deleted when the
    /// record does not exist.
    static func shown(_ record: RecordState) -> Shown {
        values(of: record).map(Shown.whole) ?? .absent
    }

    /// The row of `record` over the row of `previous`, the record's stored state (`nil`: there
    /// was none): only the columns whose values differ, so an edit of a request's title leaves
    /// the indexes on its parties, state and key untouched.
    ///
    /// The stored row is the one ``values(of:)`` gives for `previous`: the query tables are
    /// kept in the same transaction as the record states, and `interno verify` and rebuilds
    /// check and restore that (DESIGN §4).
    static func shown(_ record: RecordState, over previous: RecordState?) -> Shown {
        guard let previous, previous.exists, record.exists else {
            // A row appears or goes: the whole row, as without a previous state.
            return previous?.exists == true || record.exists ? shown(record) : .untouched
        }
        guard let new = values(of: record), let old = values(of: previous) else { return .untouched }
        var changed: [Int] = []
        var values: [DatabaseValue] = []
        for (index, value) in new.enumerated() where value != old[index] {
            changed.append(index)
            values.append(value)
        }
        return .changed(changed, values)
    }

    /// Writes the query row of `record` as `shown` says. A request's `timeline`, when given, is
    /// stored with it; without one the stored timeline stays as it is. A row that holds its
    /// record's state (``holdsState(_:)``) is written with it: whole, with its conflict flag;
    /// by its changed columns, with its new clock and siblings in the same `UPDATE` (the caller
    /// sees that its conflict flag is unchanged, else it writes the whole row). Nothing at all
    /// is written when no shown value changed, there is no new `timeline` and the row does not
    /// hold the state.
    static func write(
        _ shown: Shown, of record: RecordState, state: EncodedState, timeline: RequestTimeline?, _ db: Database
    ) throws {
        let withTimeline = record.kind == .request && timeline != nil
        switch shown {
        case .untouched:
            return
        case .absent:
            try delete(record.id.text, kind: record.kind, db)
        case .whole(let values):
            // Every kind has its statements in `upserts`; the fallback only keeps this total.
            let sql =
                (withTimeline ? upserts[record.kind]?.timeline : upserts[record.kind]?.plain)
                ?? upsert(record.kind, timeline: withTimeline)
            var row = Bindings(try db.cachedStatement(sql: sql))
            try row.add(record.id)
            for value in values { try row.add(value) }
            if withTimeline, let timeline {
                try row.add(timeline.submittedAt.millisecondsSince1970)
                try row.add(bytes: timeline.encoded)
            }
            if holdsState(record.kind) { try row.add(state) }
            try row.execute()
        case .changed(let changed, let values):
            let withState = holdsState(record.kind)
            guard !changed.isEmpty || withTimeline || withState else { return }
            var row = Bindings(
                try db.cachedStatement(sql: Updates.sql(record.kind, changing: changed, timeline: withTimeline)))
            for value in values { try row.add(value) }
            if withTimeline, let timeline {
                try row.add(timeline.submittedAt.millisecondsSince1970)
                try row.add(bytes: timeline.encoded)
            }
            if withState {
                try row.add(bytes: state.clock)
                try row.add(bytes: state.fields)
            }
            try row.add(record.id)
            try row.execute()
            // The row was there before (`Shown.changed`). Finding none, the update would write a
            // request's state nowhere: the change logged, the state no one reads left as it was.
            guard db.changesCount > 0 else {
                throw StoreError.corrupt(
                    "\(record.kind.rawValue) \(record.id.text) has a state but no query row in `\(record.kind.rawValue)`; on a site, `interno verify --repair` rebuilds it from the server"
                )
            }
        }
    }

    /// The `UPDATE` of some of a kind's shown columns (and a request's timeline columns, and
    /// the clock and siblings of a row that holds its state), by the positions of the columns
    /// in ``columns(_:)``. An edit changes a field or two (a
    /// request's field and its `updatedAt`): the statements that change at most two columns
    /// are written once, when first used, into a table that is never written again, so many
    /// writers read it at once without a lock. Any other set of columns is written each time.
    ///
    /// A shared cache behind a lock was here before: with 200 sites in one process, the lock's
    /// spinning took a twelfth of their CPU when they all applied pulls at once (DESIGN §9).
    private enum Updates {
        private struct Key: Hashable {
            var kind: RecordKind
            /// The columns' positions in ``Projection/columns(_:)``, in order.
            var changed: [Int]
            var timeline: Bool
        }

        /// How many columns the kept statements change at most.
        private static let kept = 2

        private static let made: [Key: String] = {
            var made: [Key: String] = [:]
            for kind in RecordKind.allCases {
                let count = Projection.columns(kind).count
                var sets: [[Int]] = (0..<count).map { [$0] }
                for first in 0..<count { for second in first + 1..<count { sets.append([first, second]) } }
                for timeline in kind == .request ? [false, true] : [false] {
                    let nothingShown = timeline || holdsState(kind)
                    for changed in sets + (nothingShown ? [[]] : []) {
                        made[Key(kind: kind, changed: changed, timeline: timeline)] = make(kind, changed, timeline)
                    }
                }
            }
            return made
        }()

        static func sql(_ kind: RecordKind, changing changed: [Int], timeline: Bool) -> String {
            if changed.count <= kept, let sql = made[Key(kind: kind, changed: changed, timeline: timeline)] {
                return sql
            }
            return make(kind, changed, timeline)
        }

        private static func make(_ kind: RecordKind, _ changed: [Int], _ timeline: Bool) -> String {
            let names =
                changed.map { Projection.columns(kind)[$0] } + (timeline ? timelineColumns : [])
                + (holdsState(kind) ? stateColumns.dropLast() : [])
            return "UPDATE \(kind.rawValue) SET \(names.map { "\($0) = ?" }.joined(separator: ", ")) WHERE \(id) = ?"
        }
    }

    /// The upsert of each kind's query row, without and with the timeline columns: written
    /// once, not on every save.
    private static let upserts: [RecordKind: (plain: String, timeline: String)] = Dictionary(
        uniqueKeysWithValues: RecordKind.allCases.map { kind in
            (kind, (upsert(kind, timeline: false), upsert(kind, timeline: true)))
        })

    private static func upsert(_ kind: RecordKind, timeline: Bool) -> String {
        let columns =
            Self.columns(kind) + (timeline && kind == .request ? timelineColumns : [])
            + (holdsState(kind) ? stateColumns : [])
        return """
            INSERT INTO \(kind.rawValue) (\(id), \(columns.joined(separator: ", ")))
            VALUES (\(Array(repeating: "?", count: columns.count + 1).joined(separator: ", ")))
            ON CONFLICT (\(id)) DO UPDATE SET \(columns.map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
            """
    }

    /// The query-table row of `record` after its id, in ``columns(_:)`` order, exactly as
    /// stored; `nil` when the record does not exist (it has no row).
    static func values(of record: RecordState) -> [DatabaseValue]? {
        guard record.exists else { return nil }
        let spec = Schema.spec(record.kind)
        func value(_ field: FieldName) -> FieldValue? {
            let siblings = record.siblings(field)
            // One sibling or none, nearly every field: every policy gives its value, so the
            // policy is not looked up.
            if siblings.count < 2 {
                guard let value = siblings.first?.value, value != .null else { return nil }
                return value
            }
            let resolution = spec.policy(field).reduce(siblings)
            guard let value = resolution.displayValue, value != .null else { return nil }
            return value
        }
        func text(_ field: FieldName) -> String? { value(field)?.text }
        func reference(_ field: FieldName) -> String? { value(field)?.id?.text }
        func number(_ field: FieldName) -> Int64? {
            switch value(field) {
            case .integer(let number), .duration(let number): number
            case .time(let time): time.millisecondsSince1970
            default: nil
            }
        }
        // The latest time of any sibling, without gathering them all into an array first, and
        // whether any field is in conflict (Protocol/README.md 5.9), those the row does not
        // show too (a request's `details`): the row is flagged so that the list shows there is
        // something to resolve. A conflict takes two siblings at least.
        var updatedAt: Int64 = 0
        var anyTime = false
        var conflicted = false
        for (field, siblings) in record.fields {
            if siblings.count > 1, !conflicted, spec.policy(field).reduce(siblings).isConflict { conflicted = true }
            for sibling in siblings {
                let time = sibling.at.millisecondsSince1970
                if !anyTime || time > updatedAt { updatedAt = time }
                anyTime = true
            }
        }

        let row: [DatabaseValue]
        switch record.kind {
        case .department:
            row = [
                cell(text("code") ?? "?"), cell(text("name")), cell(text("timeZone")), cell(text("hours")),
                cell(text("holidays")),
            ]
        case .standard:
            let status = value("retired") == .bool(true) ? "retired" : Schema.isAgreed(record) ? "agreed" : "proposed"
            row = [
                cell(reference("provider") ?? ""), cell(reference("customer") ?? ""), cell(text("service")),
                cell(reference("catalogService")), cell(number("ackTarget")), cell(number("deliverTarget")),
                cell(number("csatTarget")),
                cell(number("complianceTarget")), cell(status),
            ]
        case .request:
            let createdAt = record.siblings("key").map(\.at.millisecondsSince1970).min() ?? updatedAt
            row = [
                cell(text("key") ?? ""), cell(reference("customer") ?? ""), cell(reference("provider") ?? ""),
                cell(reference("standard")), cell(reference("service")), cell(text("title")), cell(text("priority")),
                cell(text("state")),
                cell(number("neededBy")),
                cell(text("assignee")), cell(createdAt), cell(updatedAt),
            ]
        case .comment:
            // Comments are fixed at creation: they never conflict, and their row has no flag.
            let first = record.siblings("body").first
            let values: [DatabaseValue] = [
                cell(reference("request") ?? ""), cell(text("body") ?? ""), cell(first?.author ?? ""),
                cell(first?.at.millisecondsSince1970 ?? 0),
            ]
            return values
        case .feedback:
            row = [
                cell(reference("request") ?? ""), cell(text("by") ?? ""), cell(number("rating")),
                cell(number("effort")), cell(text("comment")),
            ]
        case .service:
            row = [
                cell(reference("provider") ?? ""), cell(text("name") ?? ""), cell(text("description")),
                cell(text("attributes")),
                cell(value("retired") == .bool(true) ? "retired" : "offered"),
            ]
        case .need:
            row = [
                cell(reference("service") ?? ""), cell(reference("customer") ?? ""), cell(reference("provider") ?? ""),
                cell(text("note")),
                cell(value("dropped") == .bool(true)),
            ]
        case .action:
            let status = text("status")
            // Closed when its status was last set to done or dropped: the latest such sibling.
            let closedAt =
                status == Schema.ActionStatus.open
                ? nil
                : record.siblings("status").filter { $0.value != .text(Schema.ActionStatus.open) }
                    .map(\.at.millisecondsSince1970).max()
            row = [
                cell(reference("customer") ?? ""), cell(reference("provider") ?? ""), cell(reference("owner") ?? ""),
                cell(reference("request")), cell(reference("standard")), cell(reference("round")),
                cell(text("title") ?? ""), cell(number("due")),
                cell(status ?? ""),
                cell(closedAt),
            ]
        case .kudos:
            // Kudos are fixed at creation, like comments: they never conflict.
            let first = record.siblings("message").first
            let values: [DatabaseValue] = [
                cell(reference("from") ?? ""), cell(reference("to") ?? ""), cell(text("person")),
                cell(text("message") ?? ""),
                cell(reference("request")), cell(reference("action")), cell(text("period")), cell(first?.author ?? ""),
                cell(first?.at.millisecondsSince1970 ?? 0),
            ]
            return values
        case .round:
            row = [
                cell(reference("provider") ?? ""), cell(reference("service") ?? ""), cell(text("customers") ?? ""),
                cell(text("form") ?? ""),
                cell(number("opens")), cell(number("closes")), cell(value("closed") == .bool(true) ? "closed" : "open"),
            ]
        case .answer:
            // Answers are fixed at creation: they never conflict, and their row has no flag.
            var values: [DatabaseValue] = [
                cell(reference("round") ?? ""), cell(reference("customer") ?? ""), cell(reference("provider") ?? ""),
            ]
            values += Schema.surveyDimensions.map { cell(number($0)) }
            values += Schema.surveyDimensions.map { cell(number(Schema.expectationField($0))) }
            values += [
                cell(number("nps")), cell(text("comment")),
                cell(record.siblings("round").first?.at.millisecondsSince1970 ?? 0),
            ]
            return values
        }
        return row + [cell(conflicted)]
    }

    /// A cell of a query row: `nil` is NULL. Generic, so no value is boxed on the way.
    private static func cell<Value: DatabaseValueConvertible>(_ value: Value?) -> DatabaseValue {
        value?.databaseValue ?? .null
    }
}
