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

    @Test func initRefusesToOverwriteAndRejectsBadArguments() async throws {
        let path = temporary()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = ServerDirectory(path: path)
        await #expect(throws: ServerError.invalidArgument("port 0 is not 1 to 65535")) {
            try await directory.initialize(name: "localhost", port: 0)
        }
        let settings = try await directory.initialize(name: "localhost", port: 7443)
        #expect(try directory.settings() == settings)
        await #expect(throws: ServerError.alreadyInitialized(URL(fileURLWithPath: path).path)) {
            try await directory.initialize(name: "localhost", port: 7443)
        }
        #expect(try directory.store().replica().role == .server)
    }

    @Test func enrolmentBindsANewReplicaToItsCertificate() async throws {
        let path = temporary()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = ServerDirectory(path: path)
        _ = try await directory.initialize(name: "localhost", port: 7443)
        let administration = try ServerAdministration(directory: directory)
        try await administration.addDepartment(
            code: "HR", name: "Human Resources", hours: "mon-fri 9:00-17:00", holidays: "2026-12-25 2026-12-24")
        let hr = try #require(try directory.store().records(of: .department).first)
        #expect(hr.resolve("hours", policy: .manual) == .value(.text("mon-fri 09:00-17:00")))
        #expect(hr.resolve("holidays", policy: .manual) == .value(.text("2026-12-24, 2026-12-25")))
        let bundle = try await administration.enroll(department: "HR", site: "LIS")
        let entry = try #require(try directory.store().registry().first)
        #expect(entry.replicaID == bundle.replicaID)
        #expect(entry.code == "HR-LIS")
        let certificate = try CertificateAuthority(
            certificatePEM: bundle.caCertificate, privateKeyPEM: try directory.authority().privateKeyPEM)
        _ = certificate
        await #expect(throws: StoreError.self) { try await administration.enroll(department: "HR", site: "LIS") }
        await #expect(throws: ServerError.self) { try await administration.enroll(department: "HR", site: "lis") }
        await #expect(throws: ServerError.self) { try await administration.enroll(department: "XX", site: "LIS") }
    }

    @Test func theAdministratorEditsADepartmentsCalendar() async throws {
        let path = temporary()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = ServerDirectory(path: path)
        _ = try await directory.initialize(name: "localhost", port: 7443)
        let administration = try ServerAdministration(directory: directory)
        try await administration.addDepartment(code: "IT", name: "IT", holidays: "2026-12-25")
        try await administration.editDepartment(
            code: "IT", timeZone: "Europe/Lisbon", holidays: "2027-01-01 2026-12-25")
        var it = try #require(try directory.store().records(of: .department).first)
        #expect(it.resolve("timeZone", policy: .manual) == .value(.text("Europe/Lisbon")))
        #expect(it.resolve("holidays", policy: .manual) == .value(.text("2026-12-25, 2027-01-01")))
        #expect(it.resolve("name", policy: .manual) == .value(.text("IT")), "fields not given stay")
        try await administration.editDepartment(code: "IT", holidays: "none")
        it = try #require(try directory.store().records(of: .department).first)
        #expect(it.resolve("holidays", policy: .manual) == .value(.null))

        await #expect(throws: ServerError.self) { try await administration.editDepartment(code: "XX", name: "x") }
        await #expect(throws: ServerError.self) { try await administration.editDepartment(code: "IT") }
        await #expect(throws: ServerError.self) {
            try await administration.editDepartment(code: "IT", hours: "mon-fri 17:00-09:00")
        }
        await #expect(throws: StoreError.self) {
            try await administration.editDepartment(code: "IT", timeZone: "Mars/Olympus")
        }
        let unchanged = try #require(try directory.store().records(of: .department).first)
        #expect(unchanged.resolve("timeZone", policy: .manual) == .value(.text("Europe/Lisbon")))
    }
}
