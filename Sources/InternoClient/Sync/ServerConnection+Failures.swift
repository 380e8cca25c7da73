import NIOCore
import NIOSSL

extension ServerConnection {
    /// Translates an error that ended a conversation into what it means for the person who
    /// runs the sync (the README's exit codes).
    ///
    /// Only a certificate that one side refused is an identity failure (70): no retry helps.
    /// A connection that broke — EOF, reset, a TLS connection closed without close_notify, an
    /// I/O error — or a limit that ran out is 69: run the sync again.
    static func translate(_ error: any Error, server: String) -> ClientError {
        if let timeout = error as? ConnectionTimeout {
            switch timeout {
            case .handshake(let limit):
                return .unreachable(
                    "the server at \(server) accepted the connection but did not complete the TLS handshake within \(limit.shownInSeconds) (timed out): it may be stopped, overloaded or out of file descriptors; everything applied so far is kept: run `interno sync` again later"
                )
            case .answer(let request, let limit):
                return .connectionLost(
                    "the server at \(server) did not answer \(request) within \(limit.shownInSeconds) (timed out): it may be stopped or overloaded, or the link is slow (`interno sync --timeout SECONDS` waits longer); everything applied so far is kept: run `interno sync` again"
                )
            }
        }
        switch TLSFailure(error) {
        case .certificateRefused(let reason):
            return .identity(
                "the secure connection failed (\(reason)): the server at \(server) did not accept this site's certificate: it is from another server's CA, or no longer valid; join again with a new bundle from the administrator"
            )
        case .serverCertificateInvalid(let reason):
            return .identity(
                "the secure connection failed (\(reason)): the server at \(server) presented a certificate that is not from the CA in this site's bundle, or not for that name: check the address in site.json, or join again with a new bundle"
            )
        case .versionMismatch(let reason):
            return .protocolError(
                "the server at \(server) does not speak TLS 1.3 (\(reason)): check that the address in site.json is an interno-server"
            )
        case nil:
            return .connectionLost(
                "the connection to the server at \(server) broke (\(error)); everything applied so far is kept: run `interno sync` again"
            )
        }
    }
}

/// A TLS failure that is more than a broken connection: a certificate refused by either side,
/// or no common TLS version. Anything else NIOSSL reports — `uncleanShutdown`, an EOF during
/// the handshake, a failed system call — is the connection breaking, and is `nil`.
///
/// In TLS 1.3 the server judges this site's certificate after the client's side of the
/// handshake is done, so its refusal arrives as an alert on the first read: a `BoringSSLError`,
/// not a `NIOSSLError.handshakeFailed`. Both are read the same way.
enum TLSFailure: Equatable {
    /// The server refused this site's certificate: its alert says so.
    case certificateRefused(String)
    /// This site could not verify the server's certificate, or its name.
    case serverCertificateInvalid(String)
    /// The two sides share no TLS version, or the peer does not speak TLS.
    case versionMismatch(String)

    /// Alerts a server sends about the client's certificate (RFC 8446 §6.2), by BoringSSL's
    /// reason names. `handshake_failure` is among them: two reference ends always agree on
    /// version, ciphers and groups (TLS 1.3, defaults), so from an Interno server it means
    /// the certificate's verification failed.
    static let refusalAlerts: Set<String> = [
        "SSLV3_ALERT_BAD_CERTIFICATE", "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE", "SSLV3_ALERT_CERTIFICATE_REVOKED",
        "SSLV3_ALERT_CERTIFICATE_EXPIRED", "SSLV3_ALERT_CERTIFICATE_UNKNOWN", "TLSV1_ALERT_UNKNOWN_CA",
        "TLSV1_ALERT_ACCESS_DENIED", "TLSV1_ALERT_CERTIFICATE_REQUIRED", "SSLV3_ALERT_NO_CERTIFICATE",
        "SSLV3_ALERT_HANDSHAKE_FAILURE",
    ]

    /// This side's verdict on the server's certificate chain.
    static let verificationFailures: Set<String> = ["CERTIFICATE_VERIFY_FAILED"]

    /// No TLS version in common, or TLS records that are not TLS at all.
    static let versionFailures: Set<String> = [
        "TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "WRONG_VERSION_NUMBER",
    ]

    init?(_ error: any Error) {
        switch error {
        case let error as NIOSSLError:
            switch error {
            case .handshakeFailed(let underlying), .shutdownFailed(let underlying):
                self.init(underlying)
            case .noCertificateToValidate, .unableToValidateCertificate, .cannotMatchULabel:
                self = .serverCertificateInvalid("\(error)")
            default:
                return nil
            }
        case let error as BoringSSLError:
            switch error {
            case .sslError(let stack), .unknownError(let stack):
                self.init(stack)
            default:
                return nil
            }
        case let error as NIOSSLExtraError
        where error == .failedToValidateHostname || error == .serverHostnameImpossibleToMatch:
            self = .serverCertificateInvalid("\(error)")
        default:
            return nil
        }
    }

    /// Reads BoringSSL's reasons: each entry prints as `error:<code>:SSL routines:
    /// OPENSSL_internal:<REASON> at <file>:<line>`. Synthetic entries (`EOF during handshake`)
    /// name no reason and mean a broken connection.
    private init?(_ stack: NIOBoringSSLErrorStack) {
        let reasons = stack.flatMap { entry in
            "\(entry)".split(whereSeparator: { $0 == ":" || $0 == " " }).map(String.init)
        }
        if let reason = reasons.first(where: Self.refusalAlerts.contains) {
            self = .certificateRefused(reason)
        } else if let reason = reasons.first(where: Self.verificationFailures.contains) {
            self = .serverCertificateInvalid(reason)
        } else if let reason = reasons.first(where: Self.versionFailures.contains) {
            self = .versionMismatch(reason)
        } else {
            return nil
        }
    }
}
