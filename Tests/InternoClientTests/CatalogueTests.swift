import Foundation
import InternoModel
import InternoServer
import Testing

@testable import InternoClient

/// The exit code and message of a failing operation; `nil` if it succeeded.
private func failure(_ body: () throws -> Void) -> (code: Int32, message: String)? {
    do { try body() } catch let error as ClientError { return (error.exitCode, error.description) } catch {
        return (-1, "\(error)")
    }
    return nil
}

@Suite("The services catalogue on a site")
struct CatalogueTests {
    @Test func aProviderKeepsItsCatalogueAndEveryEditReachesItsCustomers() async throws {
        let sites = try await OfflineSites()
        defer { try? FileManager.default.removeItem(atPath: sites.root) }
        let added = try sites.it.addService(
            name: " Laptops ", description: "A working laptop",
            attributes: ["ready on day one", " keeps me informed ", "", "ready on day one"])
        #expect(added.name == "Laptops")
        #expect(added.attributes == ["ready on day one", "keeps me informed"])
        #expect(added.status == "offered")

        // Names are unique within a provider's offered services, whatever the case.
        let twice = try #require(failure { _ = try sites.it.addService(name: "LAPTOPS") })
        #expect(twice.code == ExitStatus.invalidInput)
        #expect(twice.message.contains("IT already offers 'Laptops' (\(added.ref))"))
        _ = try sites.hr.addService(name: "Laptops")  // another provider may use the name

        let edited = try sites.it.editService("laptops", name: "Laptops for new hires", attributes: ["set up"])
        #expect(edited.attributes == ["set up"])
        #expect(try sites.it.editService(added.ref, description: "", attributes: []).description == nil)
        #expect(try sites.it.service(added.ref).attributes.isEmpty)
        let nothing = try #require(failure { _ = try sites.it.editService(added.ref) })
        #expect(nothing.message.contains("nothing to change"))
        let tooLong = try #require(
            failure { _ = try sites.it.editService(added.ref, attributes: [String(repeating: "x", count: 201)]) })
        #expect(tooLong.code == ExitStatus.invalidInput)
        #expect(tooLong.message.contains("up to 20 different lines of 1 to 200 characters"))

        try sites.exchange()
        let seen = try sites.fac.services()
        #expect(seen.map { "\($0.provider) \($0.name)" } == ["HR Laptops", "IT Laptops for new hires"])
        #expect(try sites.fac.service("laptops for new hires ").ref == added.ref, "case and spaces aside")
        #expect(try sites.fac.service("Laptops").provider == "HR", "the IT one was renamed")
        let notOurs = try #require(failure { _ = try sites.fac.editService(added.ref, name: "Mine") })
        #expect(notOurs.code == ExitStatus.notAllowed)
        #expect(try sites.fac.store.pendingChangeSets().isEmpty, "nothing written")

        // Retired: off the list by default, and nothing new names it.
        #expect(try sites.it.retireService(added.ref).status == "retired")
        #expect(try sites.it.services(provider: "IT").isEmpty)
        #expect(try sites.it.services(provider: "IT", retired: true).map(\.status) == ["retired"])
        let again = try #require(failure { _ = try sites.it.retireService(added.ref) })
        #expect(again.message.contains("already retired"))
    }

    @Test func aCustomerSaysWhatItNeedsAndTwoSitesOfOneDepartmentMergeIntoOneNeed() async throws {
        let sites = try await OfflineSites()
        defer { try? FileManager.default.removeItem(atPath: sites.root) }
        let laptops = try sites.it.addService(name: "Laptops")
        try sites.exchange()
        let dropFirst = try #require(failure { _ = try sites.hr.need("Laptops", dropped: true) })
        #expect(dropFirst.message.contains("nothing to drop"))
        let need = try sites.hr.need("Laptops", note: "two a month")
        #expect(need.customer == "HR")
        #expect(need.provider == "IT")
        #expect(try sites.hr.needs().map(\.service) == ["Laptops"])
        let own = try #require(failure { _ = try sites.it.need("Laptops", note: "x") })
        #expect(own.message.contains("does not need its own services"))

        // A second HR site writes the same need offline: one record, and the two notes conflict.
        let administration = try ServerAdministration(directory: sites.server)
        let second = try await OfflineSites.join("HR", "PAR", "eva", root: sites.root, administration: administration)
        try sites.exchange()
        try second.store.applyPulled(try sites.server.store().changes(after: 0, limit: 10_000))
        _ = try second.need(laptops.ref, note: "ten in September")
        _ = try sites.hr.need(laptops.ref, note: "three a month")
        for site in [second, sites.hr] {
            let entry = try #require(try sites.server.store().registry().first { $0.code == site.settings.code })
            let sets = try site.store.pendingChangeSets()
            let outcomes = try sites.server.store().receive(sets, from: entry)
            #expect(outcomes.allSatisfy { $0 == .accepted })
            try site.store.recordPushResults(zip(sets, outcomes).map { ($0.firstCounter, $1) })
        }
        try sites.exchange()
        let conflicts = try sites.hr.conflicts()
        #expect(conflicts.map(\.key) == ["Laptops"])
        #expect(conflicts.first?.kind == "need")
        try sites.hr.resolve("Laptops", field: nil, .value("twelve a year"))
        try sites.exchange()
        #expect(try sites.it.service("Laptops").needs.map(\.note) == ["twelve a year"])
        #expect(try sites.hr.conflicts().isEmpty)
        #expect(try sites.hr.need("Laptops", dropped: true).dropped)
    }

    @Test func aRequestForAServiceFindsItsProviderAndTheStandardThatCoversIt() async throws {
        let sites = try await OfflineSites()
        defer { try? FileManager.default.removeItem(atPath: sites.root) }
        let laptops = try sites.it.addService(name: "Laptops")
        let desks = try sites.it.addService(name: "Desks")
        // Two agreed standards between HR and IT: one for the catalogued laptops, one for
        // desks in free text.
        let terms = StandardTerms(acknowledge: "4h", deliver: "2d", csat: 80, compliance: 90)
        var laptopTerms = terms
        laptopTerms.service = "laptops"
        var deskTerms = terms
        deskTerms.service = "Desks and chairs"
        let forLaptops = try sites.it.proposeStandard(customer: "HR", terms: laptopTerms)
        #expect(forLaptops.catalogService == laptops.ref)
        #expect(forLaptops.service == "Laptops")
        let forDesks = try sites.it.proposeStandard(customer: "HR", terms: deskTerms)
        #expect(forDesks.catalogService == nil)
        try sites.exchange()
        _ = try sites.hr.signStandard(forLaptops.ref)
        _ = try sites.hr.signStandard(forDesks.ref)
        #expect(try sites.it.service("Laptops").standards == [forLaptops.ref])

        let key = try sites.hr.newRequest(to: nil, service: "Laptops", title: "For Rui")
        let details = try sites.hr.requestDetails(key)
        #expect(details.standard == forLaptops.ref)
        #expect(details.fields.first { $0.name == "service" }?.value == "Laptops")
        // Without --service, two standards cover the pair.
        let which = try #require(failure { _ = try sites.hr.newRequest(to: "IT", title: "Something") })
        #expect(which.message.contains("several agreed standards"))
        // A standard given picks the service it covers.
        let picked = try sites.hr.newRequest(to: "IT", title: "Another laptop", standard: forLaptops.ref)
        #expect(try sites.hr.requestDetails(picked).fields.first { $0.name == "service" }?.value == "Laptops")
        // A service no standard covers: no targets.
        let uncovered = try sites.hr.newRequest(to: nil, service: desks.ref, title: "A desk")
        #expect(try sites.hr.requestDetails(uncovered).standard == nil)
        let wrongProvider = try #require(
            failure { _ = try sites.hr.newRequest(to: "FAC", service: "Laptops", title: "x") })
        #expect(wrongProvider.message.contains("provided by IT, not FAC"))
        let neither = try #require(failure { _ = try sites.hr.newRequest(to: nil, title: "x") })
        #expect(neither.code == ExitStatus.invalidInput)

        // The reports count per service.
        let now = Timestamp.now()
        let scope = ReportScope(from: Timestamp(millisecondsSince1970: now.millisecondsSince1970 - 86_400_000), to: now)
        let facts = try sites.hr.reportFacts(scope, now: now)
        let rows = SLARow.rows(facts, by: .service)
        #expect(rows.map(\.service) == ["Desks", "Laptops"])
        #expect(rows.map(\.requests) == [1, 2])
        #expect(rows.last?.standard == forLaptops.ref)
        var onlyLaptops = scope
        onlyLaptops.service = "Laptops"
        #expect(try sites.hr.reportFacts(onlyLaptops, now: now).map(\.key).sorted() == [key, picked].sorted())
    }
}
