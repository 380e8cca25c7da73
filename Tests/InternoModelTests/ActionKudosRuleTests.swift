import Foundation
import Testing

@testable import InternoModel

extension World {
    /// An open action between HR (customer) and IT (provider), owned by `owner`.
    mutating func newAction(
        owner: String = "IT", by writer: String = "HR", extra: [FieldName: FieldValue] = [:]
    ) throws(Refusal) -> UUID {
        let id = UUID()
        var fields: [FieldName: FieldValue] = [
            "customer": department("HR"), "provider": department("IT"), "owner": department(owner),
            "title": .text("Keep six laptops in stock"), "due": .time(Timestamp(millisecondsSince1970: World.epoch)),
            "status": .text("open"),
        ]
        fields.merge(extra) { $1 }
        try write(.action, id, fields, by: writer)
        return id
    }

    /// Kudos from `from` to `to` with `reason` (one of request, action, period).
    @discardableResult
    mutating func sendKudos(
        from: String = "HR", to: String = "IT", reason: [FieldName: FieldValue], by writer: String? = nil
    ) throws(Refusal) -> UUID {
        let id = UUID()
        var fields: [FieldName: FieldValue] = [
            "from": department(from), "to": department(to), "message": .text("thank you"),
        ]
        fields.merge(reason) { $1 }
        try write(.kudos, id, fields, by: writer ?? from)
        return id
    }
}

/// Improvement actions and kudos (schema version 2, Protocol/README.md §12.3, DESIGN §7.7).
@Suite("Actions and kudos: who writes what")
struct ActionKudosRuleTests {
    @Test func eitherSideOfAPairAgreesAnActionAndOnlyItsOwnerClosesIt() throws {
        var world = World()
        let action = try world.newAction(owner: "IT", by: "HR")
        try world.write(
            .action, action, ["due": .time(Timestamp(millisecondsSince1970: World.epoch + 86_400_000))], by: "IT")
        expectRefusal(.notPermitted, "HR may not close action 'Keep six laptops in stock'", "only its owner IT") {
            try world.write(.action, action, ["status": .text("done")], by: "HR")
        }
        expectRefusal(.notPermitted, "FAC may not write action") {
            try world.write(.action, action, ["title": .text("x")], by: "FAC")
        }
        expectRefusal(.notPermitted, "FAC may not set an action between two other departments") {
            _ = try world.newAction(by: "FAC")
        }
        expectRefusal(.invalidValue, "owner of an action is one of its two departments, HR or IT; FAC is neither") {
            _ = try world.newAction(owner: "FAC")
        }
        expectRefusal(.invalidTransition, "starts open") { _ = try world.newAction(extra: ["status": .text("done")]) }
        expectRefusal(.invalidValue, "one of open, done, dropped") {
            try world.write(.action, action, ["status": .text("finished")], by: "IT")
        }
        try world.write(.action, action, ["status": .text("done"), "outcome": .text("six in stock")], by: "IT")
        expectRefusal(.invalidTransition, "already done", "final") {
            try world.write(.action, action, ["status": .text("dropped")], by: "IT")
        }
        expectRefusal(.notPermitted, "can only change while it is open; it is done") {
            try world.write(.action, action, ["title": .text("Keep eight")], by: "HR")
        }
        // HR owns its side of the bargain.
        let notice = try world.newAction(owner: "HR", by: "IT")
        try world.write(.action, notice, ["status": .text("dropped")], by: "HR")
    }

    @Test func anActionAboutARequestOrAStandardIsBetweenItsDepartments() throws {
        var world = World()
        let request = try world.newRequest()
        let standard = try world.newStandard()
        _ = try world.newAction(extra: ["request": .id(request)])
        _ = try world.newAction(extra: ["standard": .id(standard)])
        let other = try world.newRequest(key: "FAC-LIS-1", from: "FAC", to: "IT")
        expectRefusal(.invalidValue, "between its customer and its provider, FAC and IT") {
            _ = try world.newAction(extra: ["request": .id(other)])
        }
        expectRefusal(.notFound, "does not exist") { _ = try world.newAction(extra: ["standard": .id(UUID())]) }
    }

    @Test func kudosGoFromOneDepartmentToAnotherForOneThing() throws {
        var world = World()
        let request = try world.newRequest()
        try world.sendKudos(reason: ["request": .id(request), "person": .text("Rui")])
        try world.sendKudos(from: "IT", to: "HR", reason: ["request": .id(request)])
        try world.sendKudos(from: "FAC", to: "IT", reason: ["period": .text("2026-H2")])
        expectRefusal(.invalidValue, "cannot send kudos to itself") {
            try world.sendKudos(from: "IT", to: "IT", reason: ["period": .text("2026")])
        }
        expectRefusal(.notPermitted, "IT may not send kudos on behalf of HR") {
            try world.sendKudos(reason: ["period": .text("2026")], by: "IT")
        }
        expectRefusal(.invalidValue, "for one thing", "none is given") { try world.sendKudos(reason: [:]) }
        expectRefusal(.invalidValue, "several: request, period") {
            try world.sendKudos(reason: ["request": .id(request), "period": .text("2026")])
        }
        expectRefusal(.invalidValue, "between its two departments, HR and IT") {
            try world.sendKudos(from: "FAC", to: "IT", reason: ["request": .id(request)])
        }
        for bad in ["2026-13", "2026-h2", "26-11", "2026-11-01", "1999", "02026"] {
            expectRefusal(.invalidValue, "a period") { try world.sendKudos(reason: ["period": .text(bad)]) }
        }
        for good in ["2026", "2026-H1", "2026-Q4", "2026-01", "2026-12"] {
            try world.sendKudos(reason: ["period": .text(good)])
        }
        // An action is thanked for once it is done.
        let action = try world.newAction()
        expectRefusal(.notPermitted, "once it is done; it is open") {
            try world.sendKudos(reason: ["action": .id(action)])
        }
        try world.write(.action, action, ["status": .text("done")], by: "IT")
        let thanks = try world.sendKudos(reason: ["action": .id(action)])
        expectRefusal(.immutable, "message") {
            try world.write(.kudos, thanks, ["message": .text("edited")], by: "HR")
        }
    }

    @Test func actionsAndKudosAreSeenByTheirTwoDepartmentsOnly() throws {
        var world = World()
        let action = try world.newAction()
        let kudos = try world.sendKudos(from: "FAC", to: "IT", reason: ["period": .text("2026")])
        let lookup: Schema.Lookup = { [records = world.records] _, id in records[id] }
        let (hr, it, fac) = (world.departments["HR"]!, world.departments["IT"]!, world.departments["FAC"]!)
        #expect(Schema.audience(of: world.records[action]!, lookup: lookup) == .departments([hr, it]))
        #expect(Schema.audience(of: world.records[kudos]!, lookup: lookup) == .departments([fac, it]))
    }

    @Test func theActionsReportListsOpenActionsByOwnerWithWholeDaysLate() {
        let day: Int64 = 86_400_000
        let now = Timestamp(millisecondsSince1970: World.epoch + 10 * day)
        func at(_ days: Double) -> Timestamp {
            Timestamp(millisecondsSince1970: World.epoch + Int64(days * Double(day)))
        }
        let facts = [
            ActionFacts(ref: "a", title: "late by 2.5 days", owner: "IT", about: "HR/IT", due: at(7.5), status: "open"),
            ActionFacts(ref: "b", title: "due later", owner: "IT", about: "HR/IT", due: at(12), status: "open"),
            ActionFacts(ref: "c", title: "done", owner: "IT", about: "HR/IT", due: at(1), status: "done"),
            ActionFacts(ref: "d", title: "late by 0.5 days", owner: "HR", about: "HR/IT", due: at(9.5), status: "open"),
            ActionFacts(ref: "e", title: "dropped", owner: "HR", about: "HR/IT", due: at(1), status: "dropped"),
        ]
        let rows = ActionRow.rows(facts, now: now)
        #expect(rows.map(\.ref) == ["d", "a", "b"])
        #expect(rows.map(\.overdue) == [true, true, false])
        #expect(rows.map(\.daysLate) == [0, 2, 0])
    }

    @Test func theKudosReportCountsReceivedAndGivenPerPeriodAndDepartment() {
        let day: Int64 = 86_400_000
        // 2026-11-02 and 2026-12-02 (UTC).
        let november = Timestamp(millisecondsSince1970: World.epoch)
        let december = Timestamp(millisecondsSince1970: World.epoch + 30 * day)
        let facts = [
            KudosFacts(from: "HR", to: "IT", person: "Rui", at: november),
            KudosFacts(from: "FAC", to: "IT", person: "Ana", at: november),
            KudosFacts(from: "HR", to: "IT", person: "Rui", at: december),
            KudosFacts(from: "IT", to: "HR", at: december),
        ]
        let monthly = KudosRow.rows(facts) { String($0.at.description.prefix(7)) }
        #expect(
            monthly == [
                KudosRow(period: "2026-11", department: "FAC", received: 0, given: 1, from: [], people: []),
                KudosRow(period: "2026-11", department: "HR", received: 0, given: 1, from: [], people: []),
                KudosRow(
                    period: "2026-11", department: "IT", received: 2, given: 0, from: ["FAC", "HR"],
                    people: ["Ana", "Rui"]),
                KudosRow(period: "2026-12", department: "HR", received: 1, given: 1, from: ["IT"], people: []),
                KudosRow(period: "2026-12", department: "IT", received: 1, given: 1, from: ["HR"], people: ["Rui"]),
            ])
        let whole = KudosRow.rows(facts) { _ in "all" }
        #expect(whole.map { "\($0.department) \($0.received)/\($0.given)" } == ["FAC 0/1", "HR 1/2", "IT 3/1"])
    }
}
