import Foundation
import InternoModel
import InternoServer
@_spi(Database) import InternoStore
import InternoWire
import Testing

@testable import InternoClient

/// A site joined to a server directory, used offline: no network in these tests.
struct OfflineSites {
    let root: String
    let server: ServerDirectory
    let hr: Site
    let it: Site
    /// Facilities: a third department, party to nothing between HR and IT.
    let fac: Site

    init() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("interno-site-\(UUID().uuidString)")
            .path
        let server = ServerDirectory(path: root + "/server")
        _ = try await server.initialize(name: "localhost", port: 7443)
        let administration = try ServerAdministration(directory: server)
        try await administration.addDepartment(code: "HR", name: "HR", timeZone: "America/New_York")
        try await administration.addDepartment(
            code: "IT", name: "IT", timeZone: "Europe/Lisbon", holidays: "2026-11-10")
        try await administration.addDepartment(code: "FAC", name: "Facilities")
        self.root = root
        self.server = server
        hr = try await Self.join("HR", "LIS", "ana", root: root, administration: administration)
        it = try await Self.join("IT", "OPO", "rui", root: root, administration: administration)
        fac = try await Self.join("FAC", "LIS", "eva", root: root, administration: administration)
    }

    static func join(
        _ department: String, _ site: String, _ user: String, root: String, administration: ServerAdministration
    )
        async throws -> Site
    {
        let home = SiteHome(path: root + "/\(department)-\(site)")
        _ = try home.join(try await administration.enroll(department: department, site: site))
        let site = try Site(home: home, user: user)
        // Deliver the departments the way a first sync would.
        try site.store.applyPulled(try administration.directory.store().changes(after: 0, limit: 100))
        return site
    }

    /// Moves every site's outbox to the server and the server's stream to every site, in process.
    func exchange() throws {
        let store = try server.store()
        for site in [hr, it, fac] {
            let entry = try #require(try store.registry().first { $0.code == site.settings.code })
            let sets = try site.store.pendingChangeSets()
            let outcomes = try store.receive(sets, from: entry)
            try site.store.recordPushResults(zip(sets, outcomes).map { ($0.firstCounter, $1) })
        }
        for site in [hr, it, fac] {
            try site.store.applyPulled(try store.changes(after: try site.store.replica().cursor, limit: 10_000))
        }
    }
}

@Suite("A site's operations, offline")
struct SiteTests {
    @Test func joiningTwiceIsRefusedAndNothingChanges() async throws {
        let sites = try await OfflineSites()
        defer { try? FileManager.default.removeItem(atPath: sites.root) }
        let bundle = try await ServerAdministration(directory: sites.server).enroll(department: "HR", site: "PAR")
        #expect(throws: ClientError.alreadyJoined(sites.hr.home.url.path)) { try sites.hr.home.join(bundle) }
        #expect(sites.hr.whoami().code == "HR-LIS")
    }

    @Test func theHomeIsPickedByOptionThenEnvironmentThenDefault() {
        #expect(SiteHome.resolve("/a", environment: ["INTERNO_HOME": "/b", "HOME": "/h"]).url.path == "/a")
        #expect(SiteHome.resolve(nil, environment: ["INTERNO_HOME": "/b", "HOME": "/h"]).url.path == "/b")
        #expect(SiteHome.resolve(nil, environment: ["HOME": "/h"]).url.path == "/h/.interno")
    }

    @Test func refusalsBecomeDocumentedExitCodes() async throws {
        let sites = try await OfflineSites()
        defer { try? FileManager.default.removeItem(atPath: sites.root) }
        let key = try sites.hr.newRequest(to: "IT", title: "Laptop")
        try sites.exchange()
        func code(_ body: () throws -> Void) -> Int32? {
            do { try body() } catch let error as ClientError { return error.exitCode } catch { return -1 }
            return nil
        }
        #expect(code { try sites.it.editRequest(key, title: "x") } == ExitStatus.notAllowed)
        #expect(code { try sites.hr.transition(key, "confirm") } == ExitStatus.invalidInput)
        #expect(code { try sites.hr.transition("HR-LIS-404", "cancel") } == ExitStatus.notFound)
        #expect(code { _ = try sites.hr.newRequest(to: "XX", title: "x") } == ExitStatus.notFound)
        #expect(code { _ = try sites.hr.newRequest(to: "IT", title: "x", priority: "hgih") } == ExitStatus.invalidInput)
        #expect(
            try sites.hr.newRequest(to: "IT", title: "y") == "HR-LIS-2", "a refused new request uses no number up")
        #expect(code { try sites.hr.transition(key, "fly") } == ExitStatus.invalidInput)
        #expect(code { _ = try TimeInput.parse("tomorrow", option: "--at") } == ExitStatus.invalidInput)
        // --at with a date: the end of that day, or now for today.
        let now = Timestamp(iso8601: "2026-11-23T10:00:00Z")!
        #expect(try TimeInput.event("2026-11-20", now: now) == Timestamp(iso8601: "2026-11-21T00:00:00Z"))
        #expect(try TimeInput.event("2026-11-23", now: now) == now)
        #expect(try TimeInput.event("2026-11-23T08:00:00Z", now: now) == Timestamp(iso8601: "2026-11-23T08:00:00Z"))
        #expect(try TimeInput.event(nil, now: now) == nil)
        #expect(code { try sites.hr.discardRefused(99) } == ExitStatus.notFound)
        #expect(
            throws: ClientError.notFound(
                "no refused change set starts at 99: `interno status` lists the refused sets and their numbers")
        ) {
            try sites.hr.discardRefused(99)
        }
    }

    @Test func mineTheirsPickAndValueResolveAConflict() async throws {
        let sites = try await OfflineSites()
        defer { try? FileManager.default.removeItem(atPath: sites.root) }
        let key = try sites.hr.newRequest(to: "IT", title: "Laptop")
        try sites.exchange()
        try sites.it.transition(key, "start")
        try sites.exchange()
        // IT delivers while HR cancels: a workflow conflict on both.
        try sites.it.transition(key, "deliver")
        try sites.hr.transition(key, "cancel")
        try sites.exchange()
        try sites.exchange()
        for site in [sites.hr, sites.it] {
            let view = try site.conflicts(ofRequest: key)
            #expect(view.fields.map(\.field) == ["state"])
            #expect(view.fields[0].siblings.filter(\.mine).count == 1)
        }
        #expect(throws: ClientError.self) { try sites.hr.resolve(key, field: "title", .mine) }
        #expect(throws: ClientError.self) { try sites.hr.resolve(key, field: nil, .pick(3)) }
        #expect(throws: ClientError.self) { try sites.hr.resolve(key, field: nil, .value("closed")) }
        try sites.hr.resolve(key, field: nil, .theirs)
        try sites.exchange()
        try sites.exchange()
        for site in [sites.hr, sites.it] {
            #expect(try site.conflicts().isEmpty)
            #expect(try site.requests().first?.state == "delivered")
        }
    }

    @Test func aStepTakesItsFirstOccurrenceTimesAndItsNote() async throws {
        let sites = try await OfflineSites()
        defer { try? FileManager.default.removeItem(atPath: sites.root) }
        let key = try sites.hr.newRequest(to: "IT", title: "Laptop", at: Timestamp(iso8601: "2026-11-20T09:00:00Z")!)
        try sites.exchange()
        let first = try #require(Timestamp(iso8601: "2026-11-20T10:00:00Z"))
        try sites.it.transition(key, "ack", note: "on it", at: first)
        try sites.it.transition(key, "start", at: Timestamp(iso8601: "2026-11-21T10:00:00Z")!)
        let details = try sites.it.requestDetails(key)
        #expect(details.fields.first { $0.name == "firstResponseAt" }?.value == first.description)
        #expect(details.comments.map(\.text) == ["on it"])
        #expect(details.comments.first?.author == "rui@IT-OPO")
    }
}

/// Clocks are measured in each department's own calendar, or not at all.
@Suite("Calendars behind the clocks")
struct CalendarReadTests {
    /// Before, a department the site could not read was measured in 09:00–17:00 UTC office
    /// hours, and the figures came out wrong without a word.
    @Test func aDepartmentTheSiteDoesNotHoldIsAnErrorNotDefaultOfficeHours() async throws {
        let sites = try await OfflineSites()
        defer { try? FileManager.default.removeItem(atPath: sites.root) }
        let key = try sites.hr.newRequest(to: "IT", title: "Laptop")
        #expect(try sites.hr.requestDetails(key).key == key)
        let it = try sites.hr.store.departmentID(code: "IT")
        try await sites.hr.store.writer.write { db in
            try db.execute(sql: "DELETE FROM record WHERE id = ?", arguments: [it.uuidString.lowercased()])
        }
        let error = try #require(throws: ClientError.self) { try sites.hr.requestDetails(key) }
        #expect(error.exitCode == ExitStatus.notFound)
        #expect(error.description.contains("is not known here"), "\(error)")
        #expect(throws: ClientError.self) { try sites.hr.requests() }
    }

    /// Before, any error reading the key's row (here a damaged id) said "there is no request".
    @Test func aDamagedRowIsReportedAsDamagedNotAsNoSuchRequest() async throws {
        let sites = try await OfflineSites()
        defer { try? FileManager.default.removeItem(atPath: sites.root) }
        let key = try sites.hr.newRequest(to: "IT", title: "Laptop")
        try await sites.hr.store.writer.write { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            try db.execute(sql: "UPDATE request SET id = 'not-a-uuid' WHERE key = ?", arguments: [key])
        }
        let error = try #require(throws: ClientError.self) { try sites.hr.requestDetails(key) }
        #expect(error.exitCode != ExitStatus.notFound, "\(error)")
        #expect(error.description.contains("not-a-uuid"), "\(error)")
        let missing = try #require(throws: ClientError.self) { try sites.hr.requestDetails("HR-LIS-99") }
        #expect(missing.exitCode == ExitStatus.notFound)
    }
}
