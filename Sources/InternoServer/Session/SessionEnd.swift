import Foundation
import NIOCore
import NIOSSL

/// What an error that ended a session says about it, which decides how it is logged and
/// whether the site is answered with `INTERNAL_ERROR`.
enum SessionEnd: Equatable {
    /// The site went away: EOF, a reset, a TLS connection closed without close_notify, a
    /// write to the closed channel. Routine (a site killed, offline or interrupted): `debug`,
    /// and nothing is written back.
    case peerClosed
    /// TLS refused the site or could not read it: no or a bad certificate, a broken TLS
    /// record. Worth an administrator's eye, not a server failure: `notice`.
    case tlsRefused
    /// The server failed, a database error say: `error`, and `INTERNAL_ERROR` to the site if
    /// the connection is still open.
    case failure

    init(_ error: any Error) {
        switch error {
        case let error as ChannelError:
            switch error {
            case .ioOnClosedChannel, .alreadyClosed, .eof, .inputClosed, .outputClosed: self = .peerClosed
            default: self = .failure
            }
        case let error as IOError:
            self = [ECONNRESET, EPIPE, ECONNABORTED, ETIMEDOUT].contains(error.errnoCode) ? .peerClosed : .failure
        case is NIOAsyncWriterError, is NIOSSLCloseTimedOutError:
            self = .peerClosed
        case let error as NIOSSLError:
            switch error {
            case .uncleanShutdown, .handshakeFailed(.syscallError), .handshakeFailed(.zeroReturn):
                self = .peerClosed
            case .handshakeFailed(.sslError(let stack))
            where !stack.isEmpty
                && stack.allSatisfy({
                    $0 == .eofDuringHandshake || $0 == .eofDuringAdditionalCertficiateChainValidation
                }):
                self = .peerClosed
            default:
                self = .tlsRefused
            }
        case let error as BoringSSLError:
            switch error {
            case .syscallError, .zeroReturn: self = .peerClosed
            default: self = .tlsRefused
            }
        default:
            self = .failure
        }
    }
}
