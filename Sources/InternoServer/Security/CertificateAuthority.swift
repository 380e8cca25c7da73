import Crypto
import Foundation
import InternoModel
import SwiftASN1
import X509

/// The server's private certificate authority (DESIGN §6): it signs the server's certificate
/// and one client certificate per enrolled site, all ECDSA P-256.
public struct CertificateAuthority: Sendable {
    /// The CA's self-signed certificate: the only trust root of server and sites.
    public let certificate: Certificate
    /// The CA's signing key.
    let privateKey: P256.Signing.PrivateKey

    /// A new CA for the server named `name`, valid for ten years.
    public static func create(name: String, now: Date = Date()) throws -> CertificateAuthority {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("Interno")
            CommonName("Interno CA for \(name)")
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
            issuer: subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
            },
            issuerPrivateKey: .init(key)
        )
        return CertificateAuthority(certificate: certificate, privateKey: key)
    }

    /// A CA loaded from its PEM certificate and PEM private key.
    public init(certificatePEM: String, privateKeyPEM: String) throws {
        certificate = try Certificate(pemEncoded: certificatePEM)
        privateKey = try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
    }

    init(certificate: Certificate, privateKey: P256.Signing.PrivateKey) {
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// The CA's private key, PEM (PKCS #8).
    public var privateKeyPEM: String { privateKey.pemRepresentation }

    /// A certificate for the server at `host` (a DNS name or an IP address), valid five years.
    public func issueServerCertificate(host: String, now: Date = Date()) throws -> IssuedCertificate {
        let name: GeneralName
        if let address = IPAddress(host) {
            name = .ipAddress(ASN1OctetString(contentBytes: ArraySlice(address.bytes)))
        } else {
            name = .dnsName(host)
        }
        return try issue(
            subject: try DistinguishedName {
                OrganizationName("Interno")
                CommonName(host)
            },
            alternativeNames: [name], usage: .serverAuth, lifetime: 5 * 365 * 86_400, now: now)
    }

    /// A client certificate for the site replica `replica` of department `department`, site `site`.
    ///
    /// The server identifies a site by this certificate's SHA-256 fingerprint in its registry,
    /// never by the names in it; the names are there for people reading the certificate.
    public func issueClientCertificate(
        replica: ReplicaID, department: String, site: String, now: Date = Date()
    ) throws -> IssuedCertificate {
        try issue(
            subject: try DistinguishedName {
                OrganizationName("Interno")
                OrganizationalUnitName("\(department)-\(site)")
                CommonName(replica.description)
            },
            alternativeNames: [.uniformResourceIdentifier("urn:uuid:\(replica)")], usage: .clientAuth,
            lifetime: 5 * 365 * 86_400, now: now)
    }

    private func issue(
        subject: DistinguishedName, alternativeNames: [GeneralName], usage: ExtendedKeyUsage.Usage,
        lifetime: TimeInterval, now: Date
    ) throws -> IssuedCertificate {
        let key = P256.Signing.PrivateKey()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(lifetime),
            issuer: self.certificate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([usage])
                SubjectAlternativeNames(alternativeNames)
                AuthorityKeyIdentifier(
                    keyIdentifier: try self.certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: .init(privateKey)
        )
        return IssuedCertificate(certificate: certificate, privateKey: key)
    }
}

/// A certificate and its private key, as issued.
public struct IssuedCertificate: Sendable {
    /// The certificate.
    public let certificate: Certificate
    /// Its private key.
    let privateKey: P256.Signing.PrivateKey

    /// The certificate, PEM.
    public func certificatePEM() throws -> String { try certificate.serializeAsPEM().pemString }
    /// The private key, PEM (PKCS #8).
    public var privateKeyPEM: String { privateKey.pemRepresentation }
    /// The SHA-256 fingerprint of the certificate's DER, lowercase hex: the registry's key.
    public func fingerprint() throws -> String { try Fingerprint.of(certificate) }
}

/// SHA-256 fingerprints of certificates, as the registry stores them.
public enum Fingerprint {
    /// The fingerprint of `certificate`.
    public static func of(_ certificate: Certificate) throws -> String {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return of(der: serializer.serializedBytes)
    }

    /// The fingerprint of a DER encoding.
    public static func of(der: [UInt8]) -> String {
        SHA256.hash(data: der).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}

/// An IPv4 or IPv6 address in text form, parsed to bytes.
struct IPAddress {
    let bytes: [UInt8]

    init?(_ text: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
        } else {
            return nil
        }
    }
}
