import NIOSSL

/// The server's TLS: 1.3 only, and a client certificate issued by the server's own CA required.
enum TLSSetup {
    static func serverContext(certificatePEM: String, keyPEM: String, caPEM: String) throws -> NIOSSLContext {
        let certificate = try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem)
        let key = try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)
        let ca = try NIOSSLCertificate(bytes: Array(caPEM.utf8), format: .pem)
        var configuration = TLSConfiguration.makeServerConfigurationWithMTLS(
            certificateChain: [.certificate(certificate)], privateKey: .privateKey(key),
            trustRoots: .certificates([ca]))
        configuration.minimumTLSVersion = .tlsv13
        configuration.maximumTLSVersion = .tlsv13
        // Only our CA's certificates are valid; NIOSSL fails the handshake without one.
        configuration.certificateVerification = .noHostnameVerification
        return try NIOSSLContext(configuration: configuration)
    }
}
