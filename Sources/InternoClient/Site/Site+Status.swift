import Foundation
import InternoModel
import InternoStore

extension Site {
    /// Who this site is.
    public func whoami() -> WhoAmIView {
        WhoAmIView(
            replica: settings.replicaID, department: settings.departmentCode, site: settings.site, code: settings.code,
            server: "\(settings.host):\(settings.port)", author: author)
    }

    /// What is waiting, what was refused and why, what is in conflict, when the last sync was.
    public func status() throws -> StatusView {
        let replica = try perform { try store.replica() }
        let outbox = try perform { try store.outbox() }
        let refused = try outbox.filter { $0.row.status == .refused }.map { entry in
            RefusedView(
                firstCounter: UInt64(entry.row.firstCounter), code: entry.row.refusalCode ?? 0,
                reason: entry.row.refusalReason ?? "", changes: try entry.changeSet.changes.map(describe))
        }
        let conflicts = try perform { try store.conflicts() }.flatMap { conflict in
            conflict.fields.map { "\(conflict.label) \($0.field)" }
        }
        return StatusView(
            replica: settings.replicaID, department: settings.departmentCode, site: settings.site,
            server: "\(settings.host):\(settings.port)",
            pending: outbox.filter { $0.row.status == .pending }.count,
            deferred: outbox.filter { $0.row.status == .deferred }.count, refused: refused, conflicts: conflicts,
            lastSync: replica.lastSyncAt.map { Timestamp(millisecondsSince1970: $0).description },
            cursor: replica.cursor)
    }

    /// Forgets a refused change set after a person dealt with it; history keeps it.
    public func discardRefused(_ firstCounter: UInt64) throws {
        do { try store.discardRefused(firstCounter: firstCounter) } catch StoreError.notFound {
            throw ClientError.notFound(
                "no refused change set starts at \(firstCounter): `interno status` lists the refused sets and their numbers"
            )
        } catch let error as StoreError {
            throw ClientError.from(error)
        }
    }

    /// One line for a change: what it wrote to which record.
    func describe(_ change: Change) throws -> String {
        let record = try perform { try store.record(change.recordID) }
        let name =
            record.map { "\($0.kind.rawValue) \(SiteStore.label(of: $0))" }
            ?? "\(change.kind.rawValue) \(change.recordID)"
        let fields = try change.fields.sorted { $0.key < $1.key }.map {
            "\($0.key)=\(try shown($0.value, field: $0.key) ?? "—")"
        }
        return "\(name): \(fields.joined(separator: ", "))"
    }
}

extension Site {
    /// The directory as this site knows it, by code: from its bundle until its first sync,
    /// then as the server last sent it.
    public func departments() throws -> [DepartmentView] {
        try perform { try store.records(of: .department) }.map { record in
            // An unreadable calendar is an error, as for clocks: never a made-up day.
            let spec = Schema.spec(.department)
            func text(_ field: FieldName) -> String? {
                record.resolve(field, policy: spec.policy(field)).displayValue?.text
            }
            return DepartmentView(
                code: text("code") ?? "", name: text("name") ?? "", timeZone: text("timeZone") ?? "",
                hours: text("hours") ?? "", holidays: text("holidays"),
                businessDay: DurationText.formatHours(milliseconds: try calendar(of: record.id).dayLength),
                conflicted: SiteStore.conflicts(of: record).fields.isEmpty == false)
        }.sorted { $0.code < $1.code }
    }
}
