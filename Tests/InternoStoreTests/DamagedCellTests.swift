import Foundation
import GRDB
import InternoModel
import Testing

@_spi(Database) @testable import InternoStore

/// A log entry or a record state whose stored cell has the wrong type, or bytes that do not
/// decode, is reported as a damaged database naming what is unreadable: never a crash, never a
/// made-up value. Both ways of reading rows are covered: cells read as a statement steps (a
/// pull, a Push's prefetch) and rows fetched whole (an export).
@Suite("Damaged cells are reported, never read as something else")
struct DamagedCellTests {
    /// A column of the server's log and what replaces its value in one change, with what the
    /// error says is unreadable.
    static let logDamage: [(column: String, value: String, says: String)] = [
        ("counter", "'twelve'", "counter"),
        ("record", "42", "record"),
        ("replica", "'not-an-id'", "replica"),
        ("kind", "'gadget'", "kind"),
        ("at", "'soon'", "time"),
        ("context", "x'ff'", "change"),
        ("refusalCode", "'x'", "refusal code"),
    ]

    @Test(arguments: logDamage.indices)
    func aDamagedLogCellFailsThePullThatReadsIt(_ index: Int) throws {
        let damage = Self.logDamage[index]
        let hub = try Hub(.walFile)
        try hub.hr.write([newRequest(hub, title: "Laptop")], author: "ana")
        _ = try hub.push(hub.hr)
        try hub.server.writer.write { db in
            try db.execute(
                sql: "UPDATE change SET \(damage.column) = \(damage.value) WHERE seq = (SELECT MAX(seq) FROM change)")
        }
        // The whole stream (cells as the statement steps) and a department's (by sequence).
        for scope in [Scope.all, try hub.scope(of: hub.it)] {
            #expect {
                _ = try hub.server.changes(after: 0, limit: 100, scope: scope)
            } throws: { error in
                guard case StoreError.corrupt(let message) = error else { return false }
                return message.contains(damage.says)
            }
        }
        // Rows fetched whole: the export that `interno-server migrate` reads.
        #expect {
            _ = try hub.server.exportLog(after: 0, limit: 100)
        } throws: { error in
            guard case StoreError.corrupt(let message) = error else { return false }
            return message.contains(damage.says)
        }
    }

    @Test func aDamagedRecordStateFailsThePushThatReadsItAndKeepsNothing() throws {
        let hub = try Hub(.walFile)
        let id = UUID.timeOrdered()
        try hub.hr.write([newRequest(hub, title: "Laptop", id: id)], author: "ana")
        _ = try hub.push(hub.hr)
        try hub.server.writer.write { db in
            try db.execute(sql: "UPDATE record SET clock = 'zz' WHERE id = ?", arguments: [id.text])
        }
        let before = try hub.server.latestSequence()
        try hub.hr.write([Edit(.request, id, ["title": .text("Laptop, 16 GB")])], author: "ana")
        #expect {
            _ = try hub.push(hub.hr)
        } throws: { error in
            guard case StoreError.corrupt(let message) = error else { return false }
            return message.contains(id.text)
        }
        #expect(try hub.server.latestSequence() == before)
        // Rows fetched whole: the export that `interno-server migrate` reads.
        #expect {
            _ = try hub.server.exportRecords(after: nil, limit: 100)
        } throws: { error in
            guard case StoreError.corrupt(let message) = error else { return false }
            return message.contains(id.text)
        }
    }

    /// A request's state with no query row to hold it (the row deleted behind the store's
    /// back, the state left in `record_state`) is a damaged database: a local write of the
    /// request and a pulled change of it are refused as one, naming the request, and keep
    /// nothing. Before, the change was logged and its state written nowhere: the request went
    /// on showing its old state, and the write was lost to every read.
    @Test func aRequestStateWithoutItsQueryRowFailsTheWritesOfItAndKeepsNothing() throws {
        let hub = try Hub(.walFile)
        let (id, _) = try hub.newRequest("Laptop")
        try hub.sync(hub.hr)
        try hub.sync(hub.it)
        try moveStateOutOfQueryRow(of: id, at: hub.it)
        func isTheDamage(_ error: any Error) -> Bool {
            guard case StoreError.corrupt(let message) = error else { return false }
            return message.contains(id.text) && message.contains("query row")
        }
        let before = try dump(hub.it)
        // IT's own write of it.
        #expect(
            performing: {
                try hub.it.write([Edit(.request, id, ["assignee": .text("rui")])], author: "rui")
            }, throws: isTheDamage)
        #expect(try dump(hub.it) == before)
        // A change of it that HR made, pulled.
        try hub.hr.write([Edit(.request, id, ["title": .text("Laptop, 16 GB")])], author: "ana")
        try hub.push(hub.hr)
        #expect(performing: { _ = try hub.pull(hub.it) }, throws: isTheDamage)
        #expect(try dump(hub.it) == before)
    }

    private func newRequest(_ hub: Hub, title: String, id: UUID = .timeOrdered()) -> Edit {
        Edit(
            .request, id,
            [
                "customer": hub.department("HR"), "provider": hub.department("IT"), "title": .text(title),
                "priority": .text("normal"), "state": .text("submitted"),
            ])
    }
}
