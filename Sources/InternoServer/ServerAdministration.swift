import Foundation
import InternoModel
import InternoStore
import InternoWire

/// The administrator's operations on a server's data directory: departments, enrolment, the registry.
public struct ServerAdministration: Sendable {
    /// The data directory.
    public let directory: ServerDirectory
    /// Its database.
    public let store: Store

    /// Opens the server in `directory`; fails with a message if there is none.
    public init(directory: ServerDirectory) throws {
        self.directory = directory
        self.store = try directory.store()
    }

    /// Adds a department (a department record written by the server replica).
    ///
    /// `hours` and `holidays` take the forms people type (`mon-fri 9:00-17:00`,
    /// `2026-12-25 2026-12-26`) and are stored in canonical form.
    @discardableResult
    public func addDepartment(
        code: String, name: String, timeZone: String = "UTC", hours: String = "mon-fri 09:00-17:00",
        holidays: String? = nil
    ) throws -> UUID {
        let canonicalHours: String
        do { canonicalHours = try WeeklyHours(parsing: hours).description } catch {
            throw ServerError.invalidArgument("--hours: \(error.message)")
        }
        var fields: [FieldName: FieldValue] = [
            "code": .text(code), "name": .text(name), "timeZone": .text(timeZone), "hours": .text(canonicalHours),
        ]
        if let holidays {
            do {
                let dates = try CalendarDate.parseList(holidays)
                fields["holidays"] = .text(dates.map(\.description).joined(separator: ", "))
            } catch {
                throw ServerError.invalidArgument("--holidays: \(error.message)")
            }
        }
        let id = UUID()
        try store.write([Edit(.department, id, fields)], author: "admin@server")
        return id
    }

    /// Enrols a site of `department`: a new replica id bound to a new client certificate, in
    /// the registry, and the bundle the site joins with.
    public func enroll(department code: String, site: String, now: Date = Date()) throws -> EnrollmentBundle {
        guard Schema.isCode(site, maxLength: 10) else {
            throw ServerError.invalidArgument(
                "site code '\(site)' must be an uppercase letter then up to 9 uppercase letters or digits, like LIS")
        }
        let department: UUID
        do { department = try store.departmentID(code: code) } catch {
            throw ServerError.notFound(
                "there is no department \(code): add it first with `interno-server department add \(code) --name NAME`")
        }
        let settings = try directory.settings()
        let authority = try directory.authority()
        let replica = ReplicaID.random()
        let issued = try authority.issueClientCertificate(replica: replica, department: code, site: site, now: now)
        let entry = RegistryRow(
            replicaID: replica.description, department: department.uuidString.lowercased(), departmentCode: code,
            site: site, fingerprint: try issued.fingerprint(), enrolledAt: Timestamp(now).millisecondsSince1970)
        try store.register(entry)
        return EnrollmentBundle(
            host: settings.name, port: settings.port, serverID: settings.serverID, replicaID: replica.description,
            departmentID: department.uuidString.lowercased(), departmentCode: code, site: site,
            caCertificate: try authority.certificate.serializeAsPEM().pemString,
            clientCertificate: try issued.certificatePEM(), clientKey: issued.privateKeyPEM)
    }
}
