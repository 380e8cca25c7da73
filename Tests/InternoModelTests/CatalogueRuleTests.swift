import Foundation
import Testing

@testable import InternoModel

extension World {
    /// A service in `provider`'s catalogue.
    mutating func newService(_ name: String = "Laptops", by provider: String = "IT") throws(Refusal) -> UUID {
        let id = UUID()
        try write(.service, id, ["provider": department(provider), "name": .text(name)], by: provider)
        return id
    }

    /// What `customer` needs from `service`, written with its derived id.
    @discardableResult
    mutating func newNeed(
        of service: UUID, by customer: String = "HR", provider: String = "IT", note: String = "two a month"
    ) throws(Refusal) -> UUID {
        let id = Schema.needID(service: service, customer: departments[customer]!)
        try write(
            .need, id,
            [
                "service": .id(service), "customer": department(customer), "provider": department(provider),
                "note": .text(note),
            ], by: customer)
        return id
    }
}

/// The services catalogue of schema version 2 (Protocol/README.md §12.3, DESIGN §7.6): who
/// writes services and needs, and what a standard or a request may name.
@Suite("The services catalogue: who writes what")
struct CatalogueRuleTests {
    @Test func aDepartmentListsOnlyItsOwnServicesAndTheAdminOnlyRetiresThem() throws {
        var world = World()
        let laptops = try world.newService()
        #expect(world.value(laptops, "name") == .text("Laptops"))
        try world.write(
            .service, laptops, ["attributes": .text("ready on day one\nkeeps me informed")], by: "IT")

        expectRefusal(.notPermitted, "HR may not add a service to the catalogue of IT", "its own services") {
            try world.write(.service, UUID(), ["provider": world.department("IT"), "name": .text("Fake")], by: "HR")
        }
        expectRefusal(.notPermitted, "HR may not set the name of service", "provider department IT") {
            try world.write(.service, laptops, ["name": .text("Desks")], by: "HR")
        }
        expectRefusal(.notPermitted, "may only retire") {
            try world.write(.service, laptops, ["name": .text("Desks")], as: .admin)
        }
        expectRefusal(.immutable, "provider") {
            try world.write(.service, laptops, ["provider": world.department("HR")], by: "IT")
        }
        try world.write(.service, laptops, ["retired": .bool(true)], as: .admin)
        expectRefusal(.invalidValue, "stays retired") {
            try world.write(.service, laptops, ["retired": .bool(false)], by: "IT")
        }
    }

    @Test func attributesAreDistinctTrimmedLines() throws {
        var world = World()
        let laptops = try world.newService()
        for bad in ["", "a\n\nb", " a", "a ", "a\na", "a\n", "tab\there", String(repeating: "x", count: 201)] {
            expectRefusal(.invalidValue, "the attributes of a service must be up to 20 different lines") {
                try world.write(.service, laptops, ["attributes": .text(bad)], by: "IT")
            }
        }
        let twentyOne = (1...21).map { "item \($0)" }.joined(separator: "\n")
        expectRefusal(.invalidValue, "up to 20") {
            try world.write(.service, laptops, ["attributes": .text(twentyOne)], by: "IT")
        }
        #expect(
            Schema.canonicalLines(["  ready on day one ", "", "keeps me informed", "ready on day one"])
                == "ready on day one\nkeeps me informed")
        try world.write(.service, laptops, ["attributes": .text(Schema.canonicalLines([" a ", "b"]))], by: "IT")
        try world.write(.service, laptops, ["attributes": .null], by: "IT")
        #expect(world.value(laptops, "attributes") == .null)
    }

    @Test func aNeedIsWrittenOnlyByItsCustomerAboutAnotherDepartmentsOfferedService() throws {
        var world = World()
        let laptops = try world.newService()
        let need = try world.newNeed(of: laptops)
        try world.write(.need, need, ["note": .text("ten in September")], by: "HR")
        try world.write(.need, need, ["dropped": .bool(true)], by: "HR")

        expectRefusal(.notPermitted, "IT may not set the note", "customer department HR") {
            try world.write(.need, need, ["note": .text("none")], by: "IT")
        }
        expectRefusal(.notPermitted, "IT may not say what FAC needs") {
            let id = Schema.needID(service: laptops, customer: world.departments["FAC"]!)
            try world.write(
                .need, id,
                ["service": .id(laptops), "customer": world.department("FAC"), "provider": world.department("IT")],
                by: "IT")
        }
        expectRefusal(.malformed, "derived from its service and customer") {
            try world.write(
                .need, UUID(),
                ["service": .id(laptops), "customer": world.department("FAC"), "provider": world.department("IT")],
                by: "FAC")
        }
        expectRefusal(.invalidValue, "provided by IT, not HR") {
            _ = try world.newNeed(of: laptops, by: "FAC", provider: "HR")
        }
        expectRefusal(.invalidValue, "its own services from itself") {
            _ = try world.newNeed(of: laptops, by: "IT", provider: "IT")
        }
        expectRefusal(.notFound, "not in the catalogue") { _ = try world.newNeed(of: UUID(), by: "FAC") }
        try world.write(.service, laptops, ["retired": .bool(true)], by: "IT")
        // Retirement is the site's to refuse, not the judge's: FAC may have written offline
        // before it saw the retirement (Site.requireOffered refuses it when it has).
        try world.newNeed(of: laptops, by: "FAC")
        // A need already written stays the customer's to change.
        try world.write(.need, need, ["dropped": .bool(false)], by: "HR")
    }

    @Test func standardsAndRequestsNameOnlyAnOfferedServiceOfTheirProvider() throws {
        var world = World()
        let laptops = try world.newService()
        let payslips = try world.newService("Payslips", by: "HR")
        let standard = try world.newStandard()
        try world.write(.standard, standard, ["catalogService": .id(laptops)], by: "HR")
        expectRefusal(.invalidValue, "provided by HR, not IT", "its own provider") {
            try world.write(.standard, standard, ["catalogService": .id(payslips)], by: "HR")
        }
        expectRefusal(.notFound, "not in the catalogue") {
            try world.write(.standard, standard, ["catalogService": .id(UUID())], by: "IT")
        }
        try world.write(.standard, standard, ["catalogService": .null], by: "IT")
        try world.write(.standard, standard, ["catalogService": .id(laptops)], by: "IT")

        // A request names the service its standard covers, or none.
        let desks = try world.newService("Desks")
        func request(_ fields: [FieldName: FieldValue]) throws(Refusal) {
            var all: [FieldName: FieldValue] = [
                "key": .text("HR-LIS-\(world.counter)"), "customer": world.department("HR"),
                "provider": world.department("IT"), "title": .text("t"), "priority": .text("normal"),
                "state": .text("submitted"),
            ]
            all.merge(fields) { $1 }
            try world.write(.request, UUID(), all, by: "HR")
        }
        try request(["service": .id(laptops), "standard": .id(standard)])
        try request(["service": .id(desks)])
        expectRefusal(.invalidValue, "covers service 'Laptops', not service 'Desks'") {
            try request(["service": .id(desks), "standard": .id(standard)])
        }
        expectRefusal(.invalidValue, "provided by HR, not IT") { try request(["service": .id(payslips)]) }
        try world.write(.service, desks, ["retired": .bool(true)], by: "IT")
        try request(["service": .id(desks)])  // written offline before the retirement was seen
    }

    @Test func theCatalogueIsEveryonesAndANeedIsBetweenItsTwoDepartments() throws {
        var world = World()
        let laptops = try world.newService()
        let need = try world.newNeed(of: laptops)
        let lookup: Schema.Lookup = { [records = world.records] _, id in records[id] }
        #expect(Schema.audience(of: world.records[laptops]!, lookup: lookup) == .everyone)
        #expect(
            Schema.audience(of: world.records[need]!, lookup: lookup)
                == .departments([world.departments["HR"]!, world.departments["IT"]!]))
        #expect(!Scope.department(world.departments["FAC"]!).covers(world.records[need]!, lookup: lookup))
    }

    @Test func theCatalogueTermChangesNoFingerprintSignedBeforeIt() throws {
        var world = World()
        let standard = try world.newStandard()
        let before = world.terms(standard)
        let record = world.records[standard]!
        let spec = Schema.spec(.standard)
        #expect(
            Schema.canonicalTerms { record.resolve($0, policy: spec.policy($0)) }?.contains("catalogService") == false)
        let laptops = try world.newService()
        try world.write(.standard, standard, ["catalogService": .id(laptops)], by: "IT")
        let named = world.records[standard]!
        let canonical = try #require(Schema.canonicalTerms { named.resolve($0, policy: spec.policy($0)) })
        #expect(canonical.hasSuffix("complianceTarget=2:90;catalogService=6:\(laptops.text);"))
        #expect(world.terms(standard) != before)
        try world.write(.standard, standard, ["catalogService": .null], by: "IT")
        #expect(world.terms(standard) == before, "a cleared catalogue term is left out, as an unset one")
    }
}
