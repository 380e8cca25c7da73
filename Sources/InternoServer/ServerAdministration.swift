import Foundation
import InternoModel
import InternoStore
import InternoWire

/// The administrator's operations on a server's data directory: departments, enrolment, the registry.
public struct ServerAdministration: Sendable {
    /// The data directory.
    public let directory: ServerDirectory
    /// Its central store.
    public let store: any CentralStore

    /// The server in `directory`, with its data in `store`.
    public init(directory: ServerDirectory, store: any CentralStore) {
        self.directory = directory
        self.store = store
    }

    /// Opens the server in `directory` whose data is in the directory's SQLite file; fails
    /// with a message if there is none.
    public init(directory: ServerDirectory) throws {
        self.init(directory: directory, store: SQLiteCentralStore(try directory.store()))
    }

    /// Adds a department (a department record written by the server replica).
    ///
    /// `hours` and `holidays` take the forms people type (`mon-fri 9:00-17:00`,
    /// `2026-12-25 2026-12-26`) and are stored in canonical form.
    @discardableResult
    public func addDepartment(
        code: String, name: String, timeZone: String = "UTC", hours: String = "mon-fri 09:00-17:00",
        holidays: String? = nil
    ) async throws -> UUID {
        var fields: [FieldName: FieldValue] = [
            "code": .text(code), "name": .text(name), "timeZone": .text(timeZone),
            "hours": .text(try Self.canonicalHours(hours)),
        ]
        if let holidays { fields["holidays"] = .text(try Self.canonicalHolidays(holidays)) }
        let id = UUID()
        try await store.write([Edit(.department, id, fields)], author: "admin@server")
        return id
    }

    /// Changes a department's name, time zone, business hours or holidays; `nil` leaves one
    /// as it is, and holidays `none` clears them. The next sync takes the change to every
    /// site. Clocks are measured with the calendar as it is when they are read.
    public func editDepartment(
        code: String, name: String? = nil, timeZone: String? = nil, hours: String? = nil, holidays: String? = nil
    ) async throws {
        guard let id = try await store.departmentID(code: code) else {
            throw ServerError.notFound(
                "there is no department \(code): `interno-server department list` shows them")
        }
        var fields: [FieldName: FieldValue] = [:]
        if let name { fields["name"] = .text(name) }
        if let timeZone { fields["timeZone"] = .text(timeZone) }
        if let hours { fields["hours"] = .text(try Self.canonicalHours(hours)) }
        if let holidays {
            fields["holidays"] = holidays == "none" ? .null : .text(try Self.canonicalHolidays(holidays))
        }
        guard !fields.isEmpty else {
            throw ServerError.invalidArgument("nothing to change: give --name, --time-zone, --hours or --holidays")
        }
        try await store.write([Edit(.department, id, fields)], author: "admin@server")
    }

    private static func canonicalHours(_ hours: String) throws -> String {
        do { return try WeeklyHours(parsing: hours).description } catch {
            throw ServerError.invalidArgument("--hours: \(error.message)")
        }
    }

    private static func canonicalHolidays(_ holidays: String) throws -> String {
        do { return try CalendarDate.parseList(holidays).map(\.description).joined(separator: ", ") } catch {
            throw ServerError.invalidArgument("--holidays: \(error.message)")
        }
    }

    /// Enrols a site of `department`: a new replica id bound to a new client certificate, in
    /// the registry with the `scope` it receives (DESIGN §6.1), and the bundle the site joins
    /// with, which carries the directory as of now, so the site can work before it first syncs
    /// (DESIGN §6.2).
    public func enroll(
        department code: String, site: String, scope: Scope.Kind = .department, now: Date = Date()
    ) async throws -> EnrollmentBundle {
        guard Schema.isCode(site, maxLength: 10) else {
            throw ServerError.invalidArgument(
                "site code '\(site)' must be an uppercase letter then up to 9 uppercase letters or digits, like LIS")
        }
        guard let department = try await store.departmentID(code: code) else {
            throw ServerError.notFound(
                "there is no department \(code): add it first with `interno-server department add \(code) --name NAME`")
        }
        let settings = try directory.settings()
        let authority = try directory.authority()
        let replica = ReplicaID.random()
        let issued = try authority.issueClientCertificate(replica: replica, department: code, site: site, now: now)
        let entry = RegistryRow(
            replicaID: replica.description, department: department.text, departmentCode: code,
            site: site, fingerprint: try issued.fingerprint(), enrolledAt: Timestamp(now).millisecondsSince1970,
            scope: scope)
        try await store.register(entry)
        return EnrollmentBundle(
            host: settings.name, port: settings.port, serverID: settings.serverID, replicaID: replica.description,
            departmentID: department.text, departmentCode: code, site: site,
            caCertificate: try authority.certificate.serializeAsPEM().pemString,
            clientCertificate: try issued.certificatePEM(), clientKey: issued.privateKeyPEM,
            directory: try await store.directory())
    }
}
