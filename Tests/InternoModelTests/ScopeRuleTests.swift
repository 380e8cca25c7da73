import Foundation
import Testing

@testable import InternoModel

/// The one scope rule of DESIGN §6.1: every kind declares its parties, fixed at creation.
@Suite("Who may see what (DESIGN §6.1)")
struct ScopeRuleTests {
    @Test(arguments: RecordKind.allCases)
    func everyKindsPartiesComeFromFieldsThatAreRequiredAndFixed(kind: RecordKind) throws {
        let spec = Schema.spec(kind)
        for name in Schema.partyFields(of: kind) {
            let field = try #require(spec.field(name), "\(kind) has no field \(name)")
            #expect(field.required, "\(kind).\(name) decides who sees the record, so it must be required")
            #expect(field.fixed, "\(kind).\(name) decides who sees the record, so it must be fixed at creation")
            if case .invitations = field.type, case .departments = Schema.partyRule(of: kind) {
                continue  // a list of departments (a survey round's customers)
            }
            guard case .reference(let referenced) = field.type else {
                Issue.record("\(kind).\(name) must name a record or list departments")
                continue
            }
            switch Schema.partyRule(of: kind) {
            case .everyone:
                Issue.record("a kind everyone sees has no party fields")
            case .departments:
                #expect(referenced == .department)
            case .sameAs(_, let target):
                #expect(referenced == target)
                #expect(target != kind, "a kind cannot take its parties from itself")
            }
        }
    }

    @Test func theDirectoryIsEveryonesAndTheRestIsBetweenTwoDepartments() throws {
        var world = World()
        let lookup: Schema.Lookup = { [world] _, id in world.records[id] }
        let hr = world.departments["HR"]!
        let it = world.departments["IT"]!
        let pair = Audience.departments([hr, it])
        #expect(Schema.audience(of: world.records[hr]!, lookup: lookup) == .everyone)
        let standard = try world.newStandard()
        let request = try world.newRequest()
        let comment = UUID()
        try world.write(.comment, comment, ["request": .id(request), "body": .text("hello")], by: "HR")
        let snapshot = world.records
        let after: Schema.Lookup = { _, id in snapshot[id] }
        for id in [standard, request, comment] {
            #expect(Schema.audience(of: snapshot[id]!, lookup: after) == pair)
        }
        // A comment whose request is unknown here has no audience it could be handed to.
        #expect(Schema.audience(of: snapshot[comment]!, lookup: { _, _ in nil }) == nil)
        // Scopes: a department sees its own pairs and the directory; a whole-organisation site all.
        let fac = world.departments["FAC"]!
        #expect(Scope.department(hr).covers(pair))
        #expect(!Scope.department(fac).covers(pair))
        #expect(Scope.department(fac).covers(.everyone))
        #expect(Scope.all.covers(pair))
    }

    @Test func anEditOfARecordNeverSeenIsNotFoundWhetherOrNotItExists() {
        var world = World()
        let id = UUID()
        expectRefusal(.notFound, "there is no request \(id.uuidString.lowercased()) that IT can see") {
            try world.write(.request, id, ["state": .text("acknowledged")], by: "IT")
        }
        // A creation that lacks something is still told what it lacks.
        expectRefusal(.invalidValue, "a new request needs its key") {
            try world.write(
                .request, id, ["customer": world.department("HR"), "provider": world.department("IT")], by: "HR")
        }
    }
}
