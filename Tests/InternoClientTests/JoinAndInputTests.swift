import Foundation
import InternoModel
import InternoServer
import InternoStore
import InternoWire
import Testing

@testable import InternoClient

/// What a person meets before and around the first sync (issue 14).
@Suite("Joining, and what people type")
struct JoinAndInputTests {
    /// The bundle's directory is applied at join as a pulled batch is, without moving the
    /// cursor; the first pull brings the same changes and finds them already had (DESIGN §6.2).
    @Test func theBundlesDirectoryIsAppliedAtJoinAndPulledAgainAsHad() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("interno-join-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = ServerDirectory(path: root + "/server")
        _ = try await server.initialize(name: "localhost", port: 7443)
        let administration = try ServerAdministration(directory: server)
        try await administration.addDepartment(code: "HR", name: "HR")
        try await administration.addDepartment(code: "IT", name: "IT", hours: "mon-fri 08:00-18:00")
        try await administration.editDepartment(code: "IT", name: "Information Technology")
        let bundle = try await administration.enroll(department: "HR", site: "LIS")
        #expect(bundle.directory?.count == 3, "two creations and one edit, each its own set")

        let home = SiteHome(path: root + "/hr")
        _ = try home.join(bundle)
        let site = try Site(home: home, user: "ana")
        #expect(try site.departments().map(\.code) == ["HR", "IT"])
        #expect(try site.departments().last?.name == "Information Technology")
        #expect(try site.departments().last?.businessDay == "10h")
        #expect(try site.store.replica().cursor == 0)
        #expect(try site.store.pendingChangeSets().isEmpty, "the directory is the server's, not this site's work")
        let key = try site.newRequest(to: "IT", title: "Laptop")
        #expect(key == "HR-LIS-1")

        let pulled = try site.store.applyPulled(try administration.directory.store().changes(after: 0, limit: 100))
        #expect(pulled.applied == 0)
        #expect(pulled.alreadyHad == 3)
        #expect(try site.store.records(of: .department) == administration.directory.store().records(of: .department))

        // A directory that cannot be applied (an edit without the creation it follows) fails
        // the join and leaves no site behind: the same home then joins with a sound bundle.
        var broken = try EnrollmentBundle.decode(try bundle.encoded())
        broken.directory = [try #require(bundle.directory?.last)]
        let retried = SiteHome(path: root + "/hr-retried")
        let refusal = #expect(throws: ClientError.self) { _ = try retried.join(broken) }
        #expect(refusal?.description.contains("cannot be applied") == true, "\(String(describing: refusal))")
        #expect(!FileManager.default.fileExists(atPath: root + "/hr-retried/replica.sqlite"))
        _ = try retried.join(bundle)
        #expect(try Site(home: retried, user: "ana").departments().count == 2)

        // A bundle from the previous release has no directory: its site starts empty, as
        // before, and learns the departments at its first pull.
        var old = try EnrollmentBundle.decode(try bundle.encoded())
        old.directory = nil
        let oldHome = SiteHome(path: root + "/hr-old")
        _ = try oldHome.join(old)
        let oldSite = try Site(home: oldHome, user: "ana")
        #expect(try oldSite.departments().isEmpty)
        #expect(throws: ClientError.self) { try oldSite.newRequest(to: "IT", title: "Laptop") }
        let first = try oldSite.store.applyPulled(try administration.directory.store().changes(after: 0, limit: 100))
        #expect(first.applied == 3)
        #expect(try oldSite.departments().map(\.code) == ["HR", "IT"])
    }

    /// A target over a day's worth of hours is explained in the business day of the calendar
    /// it counts in: the provider's for its targets, the customer's for its obligations.
    @Test func aTargetInHoursNamesTheDayOfItsOwnCalendar() async throws {
        let sites = try await OfflineSites()
        defer { try? FileManager.default.removeItem(atPath: sites.root) }
        func message(_ terms: StandardTerms) -> String {
            do { _ = try sites.hr.proposeStandard(provider: "IT", terms: terms) } catch { return "\(error)" }
            return "accepted"
        }
        var terms = StandardTerms(
            service: "Laptops", acknowledge: "30h", deliver: "2d", csat: 80, compliance: 90)
        let ack = message(terms)
        #expect(ack.contains("8h in IT's calendar (mon-fri 09:00-17:00)"), "\(ack)")
        #expect(ack.contains("like 3d6h for 30h of business time"), "\(ack)")
        #expect(!ack.contains("09:00–17:00)"), "no longer one calendar for all")
        terms.acknowledge = "4h"
        terms.answer = "1d30h"
        let answer = message(terms)
        #expect(answer.contains("--answer '1d30h'") && answer.contains("in HR's calendar"), "\(answer)")
        #expect(answer.contains("like 4d6h"), "\(answer)")
    }

    @Test func dateInputsAreTheBoundsOfTheirDay() async throws {
        #expect(try TimeInput.parse("2026-11-27", option: "--needed-by") == Timestamp(iso8601: "2026-11-28T00:00:00Z"))
        #expect(try TimeInput.parseStart("2026-11-27", option: "--from") == Timestamp(iso8601: "2026-11-27T00:00:00Z"))
        #expect(
            try TimeInput.parse("2026-11-27T10:00:00Z", option: "--to") == Timestamp(iso8601: "2026-11-27T10:00:00Z"))
        #expect(
            try TimeInput.parseStart("2026-11-27T10:00:00Z", option: "--from")
                == Timestamp(iso8601: "2026-11-27T10:00:00Z"))
    }
}
