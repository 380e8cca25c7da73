import Crypto
import Foundation
import InternoModel
import NIOSSL
import SwiftASN1
import Testing
import X509

@testable import InternoServer

@Suite("The certificate authority")
struct CertificateAuthorityTests {
    @Test func issuesP256CertificatesThatChainToTheCA() async throws {
        let authority = try CertificateAuthority.create(name: "interno.example.org")
        let server = try authority.issueServerCertificate(host: "interno.example.org")
        let replica = ReplicaID.random()
        let client = try authority.issueClientCertificate(replica: replica, department: "HR", site: "LIS")
        for issued in [server, client] {
            #expect(issued.certificate.signatureAlgorithm == .ecdsaWithSHA256)
            #expect(P256.Signing.PublicKey(issued.certificate.publicKey) != nil)
            #expect(issued.certificate.issuer == authority.certificate.subject)
            var verifier = Verifier(rootCertificates: CertificateStore([authority.certificate])) {
                RFC5280Policy()
            }
            let result = await verifier.validate(leaf: issued.certificate, intermediates: CertificateStore())
            guard case .validCertificate = result else {
                Issue.record("\(issued.certificate.subject) does not chain to the CA: \(result)")
                continue
            }
        }
        #expect(try authority.certificate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(
            try server.certificate.extensions.subjectAlternativeNames?.contains(.dnsName("interno.example.org")) == true
        )
        #expect(try client.certificate.extensions.extendedKeyUsage?.contains(.clientAuth) == true)
        #expect("\(client.certificate.subject)".contains(replica.description))
    }

    @Test func anIPAddressHostGetsAnIPAddressName() throws {
        let authority = try CertificateAuthority.create(name: "10.0.0.5")
        let server = try authority.issueServerCertificate(host: "10.0.0.5")
        let names = try #require(try server.certificate.extensions.subjectAlternativeNames)
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: [10, 0, 0, 5]))))
    }

    @Test func aCAReloadsFromItsPEMAndFingerprintsMatchNIOSSL() throws {
        let authority = try CertificateAuthority.create(name: "localhost")
        let reloaded = try CertificateAuthority(
            certificatePEM: try authority.certificate.serializeAsPEM().pemString, privateKeyPEM: authority.privateKeyPEM
        )
        let issued = try reloaded.issueClientCertificate(replica: .random(), department: "IT", site: "OPO")
        let nio = try NIOSSLCertificate(bytes: Array(try issued.certificatePEM().utf8), format: .pem)
        #expect(Fingerprint.of(der: try nio.toDERBytes()) == (try issued.fingerprint()))
        #expect(try issued.fingerprint().count == 64)
    }
}
