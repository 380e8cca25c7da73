import Foundation
import InternoModel
import SwiftProtobuf

/// The file `interno-server enroll` writes and `interno join` reads: everything a site needs
/// to reach its server and prove who it is (Protocol/README.md, "Enrolment bundle").
///
/// It holds a private key: it is written with mode 0600 and should travel like a password.
public struct EnrollmentBundle: Codable, Equatable, Sendable {
    /// The format tag; a reader refuses any other.
    public static let currentFormat = "interno-enrollment-1"

    /// Always ``currentFormat``.
    public var format: String
    /// The host name or address the site connects to; the server certificate is issued for it.
    public var host: String
    /// The TCP port.
    public var port: Int
    /// The server's replica id.
    public var serverID: String
    /// The site's replica id, bound to its certificate.
    public var replicaID: String
    /// The id of the site's department record.
    public var departmentID: String
    /// The department's code, `HR`.
    public var departmentCode: String
    /// The site's code, `LIS`.
    public var site: String
    /// The replica code, `HR-LIS`: the prefix of the site's request keys.
    public var code: String
    /// The server's CA certificate, PEM: the only trust root of the site.
    public var caCertificate: String
    /// The site's client certificate, PEM.
    public var clientCertificate: String
    /// The site's private key, PEM.
    public var clientKey: String
    /// The directory as of enrolment: the department records' change sets as the server
    /// logged them, each a serialized `interno.v1.ChangeSet` (base64 in the JSON). Optional:
    /// a bundle from before it has none, and its site learns the departments at its first sync.
    public var directory: [Data]?

    /// A bundle with every field given; `directory` is the server's department change sets.
    public init(
        host: String, port: Int, serverID: String, replicaID: String, departmentID: String, departmentCode: String,
        site: String, caCertificate: String, clientCertificate: String, clientKey: String, directory: [ChangeSet] = []
    ) {
        self.format = Self.currentFormat
        self.host = host
        self.port = port
        self.serverID = serverID
        self.replicaID = replicaID
        self.departmentID = departmentID
        self.departmentCode = departmentCode
        self.site = site
        self.code = "\(departmentCode)-\(site)"
        self.caCertificate = caCertificate
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.directory = directory.map { set in
            // A message built from model values always serializes.
            let bytes: [UInt8] = try! Interno_V1_ChangeSet(set).serializedBytes()
            return Data(bytes)
        }
    }

    /// The directory's change sets, validated as a pulled `Changes` message's are (Protocol
    /// §10): each must decode, and every change must be of a kind everyone sees (departments
    /// and the services catalogue).
    public func directoryChangeSets() throws(WireError) -> [ChangeSet] {
        var sets: [ChangeSet] = []
        for data in directory ?? [] {
            let message: Interno_V1_ChangeSet
            do { message = try Interno_V1_ChangeSet(serializedBytes: data) } catch {
                throw .malformed("the bundle's directory holds a change set that does not decode")
            }
            let set = try message.model(consecutive: false)
            guard set.changes.allSatisfy({ Schema.partyRule(of: $0.kind) == .everyone }) else {
                throw .malformed(
                    "the bundle's directory holds a change of a record not everyone sees: only departments and services come this way"
                )
            }
            sets.append(set)
        }
        return sets
    }

    /// Reads and checks a bundle; the error says what is wrong with the file.
    public static func decode(_ data: Data) throws -> EnrollmentBundle {
        let bundle: EnrollmentBundle
        do {
            bundle = try JSONDecoder().decode(EnrollmentBundle.self, from: data)
        } catch {
            throw WireError.malformed(
                "this is not an Interno enrolment bundle (a JSON file from `interno-server enroll`)")
        }
        guard bundle.format == currentFormat else {
            throw WireError.malformed("enrolment bundle format '\(bundle.format)' is not \(currentFormat)")
        }
        return bundle
    }

    /// The bundle as JSON, keys sorted.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
