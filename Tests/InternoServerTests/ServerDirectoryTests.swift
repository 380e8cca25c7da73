import Foundation
import InternoModel
import InternoStore
import Testing

@testable import InternoServer

@Suite("The server's data directory")
struct ServerDirectoryTests {
    func temporary() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("interno-srv-\(UUID().uuidString)").path
    }

    @Test func initRefusesToOverwriteAndRejectsBadArguments() throws {
        let path = temporary()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = ServerDirectory(path: path)
        #expect(throws: ServerError.invalidArgument("port 0 is not 1 to 65535")) {
            try directory.initialize(name: "localhost", port: 0)
        }
        let settings = try directory.initialize(name: "localhost", port: 7443)
        #expect(try directory.settings() == settings)
        #expect(throws: ServerError.alreadyInitialized(URL(fileURLWithPath: path).path)) {
            try directory.initialize(name: "localhost", port: 7443)
        }
        #expect(try directory.store().replica().role == .server)
    }

    @Test func enrolmentBindsANewReplicaToItsCertificate() throws {
        let path = temporary()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = ServerDirectory(path: path)
        _ = try directory.initialize(name: "localhost", port: 7443)
        let administration = try ServerAdministration(directory: directory)
        try administration.addDepartment(
            code: "HR", name: "Human Resources", hours: "mon-fri 9:00-17:00", holidays: "2026-12-25 2026-12-24")
        let hr = try #require(try directory.store().records(of: .department).first)
        #expect(hr.resolve("hours", policy: .manual) == .value(.text("mon-fri 09:00-17:00")))
        #expect(hr.resolve("holidays", policy: .manual) == .value(.text("2026-12-24, 2026-12-25")))
        let bundle = try administration.enroll(department: "HR", site: "LIS")
        let entry = try #require(try directory.store().registry().first)
        #expect(entry.replicaID == bundle.replicaID)
        #expect(entry.code == "HR-LIS")
        let certificate = try CertificateAuthority(
            certificatePEM: bundle.caCertificate, privateKeyPEM: try directory.authority().privateKeyPEM)
        _ = certificate
        #expect(throws: StoreError.self) { try administration.enroll(department: "HR", site: "LIS") }
        #expect(throws: ServerError.self) { try administration.enroll(department: "HR", site: "lis") }
        #expect(throws: ServerError.self) { try administration.enroll(department: "XX", site: "LIS") }
    }

    @Test func theAdministratorEditsADepartmentsCalendar() throws {
        let path = temporary()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = ServerDirectory(path: path)
        _ = try directory.initialize(name: "localhost", port: 7443)
        let administration = try ServerAdministration(directory: directory)
        try administration.addDepartment(code: "IT", name: "IT", holidays: "2026-12-25")
        try administration.editDepartment(code: "IT", timeZone: "Europe/Lisbon", holidays: "2027-01-01 2026-12-25")
        var it = try #require(try directory.store().records(of: .department).first)
        #expect(it.resolve("timeZone", policy: .manual) == .value(.text("Europe/Lisbon")))
        #expect(it.resolve("holidays", policy: .manual) == .value(.text("2026-12-25, 2027-01-01")))
        #expect(it.resolve("name", policy: .manual) == .value(.text("IT")), "fields not given stay")
        try administration.editDepartment(code: "IT", holidays: "none")
        it = try #require(try directory.store().records(of: .department).first)
        #expect(it.resolve("holidays", policy: .manual) == .value(.null))

        #expect(throws: ServerError.self) { try administration.editDepartment(code: "XX", name: "x") }
        #expect(throws: ServerError.self) { try administration.editDepartment(code: "IT") }
        #expect(throws: ServerError.self) {
            try administration.editDepartment(code: "IT", hours: "mon-fri 17:00-09:00")
        }
        #expect(throws: StoreError.self) { try administration.editDepartment(code: "IT", timeZone: "Mars/Olympus") }
        let unchanged = try #require(try directory.store().records(of: .department).first)
        #expect(unchanged.resolve("timeZone", policy: .manual) == .value(.text("Europe/Lisbon")))
    }
}
