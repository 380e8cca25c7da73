import InternoModel
import InternoStore
import InternoWire

/// Why a client operation failed: a message that says what to do, and a documented exit code.
public enum ClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No replica in the home directory.
    case notJoined(String)
    /// The home directory already holds a replica.
    case alreadyJoined(String)
    /// A value on the command line is not acceptable.
    case invalidInput(String)
    /// No such request, department or field.
    case notFound(String)
    /// A write the schema refused, with the rule.
    case refused(Refusal)
    /// The server cannot be reached.
    case unreachable(String)
    /// TLS failed, or the server does not accept this site's identity.
    case identity(String)
    /// The server said something this client does not understand, or refused the protocol.
    case protocolError(String)
    /// The connection broke in the middle of a sync; everything applied so far is kept.
    case connectionLost(String)
    /// The server failed or is shutting down.
    case serverUnavailable(String)
    /// The sync completed, but the server refused some of this site's changes.
    case changesRefused(Int)
    /// The local database failed.
    case storage(String)
    /// `interno verify` found records that differ from what the server says this site should
    /// hold, and they were not (all) repaired; or it could not compare now.
    case notInStep(String)

    /// The process exit code; the README's table lists them.
    public var exitCode: Int32 {
        switch self {
        case .invalidInput: ExitStatus.invalidInput
        case .notFound: ExitStatus.notFound
        case .refused(let refusal):
            switch refusal.code {
            case .notPermitted, .creationRefused: ExitStatus.notAllowed
            case .notFound: ExitStatus.notFound
            case .conflictPending: ExitStatus.conflictPending
            default: ExitStatus.invalidInput
            }
        case .unreachable, .connectionLost, .serverUnavailable: ExitStatus.unreachable
        case .identity: ExitStatus.identity
        case .protocolError: ExitStatus.protocolError
        case .changesRefused: ExitStatus.changesRefused
        case .notJoined, .alreadyJoined: ExitStatus.notJoined
        case .storage: ExitStatus.failure
        case .notInStep: ExitStatus.notInStep
        }
    }

    public var description: String {
        switch self {
        case .notJoined(let home):
            "no Interno site in \(home): join a server first with `interno join BUNDLE --home \(home)`"
        case .alreadyJoined(let home):
            "\(home) already holds a joined site; nothing was changed. Use another --home to join again"
        case .invalidInput(let message), .notFound(let message), .unreachable(let message),
            .identity(let message), .protocolError(let message), .connectionLost(let message),
            .serverUnavailable(let message), .storage(let message), .notInStep(let message):
            message
        case .refused(let refusal):
            refusal.message
        case .changesRefused(let count):
            "the server refused \(count) change set\(count == 1 ? "" : "s") of this site; `interno status` shows why"
        }
    }

    /// Translates a store error at the boundary.
    static func from(_ error: StoreError) -> ClientError {
        switch error {
        case .refused(let refusal): .refused(refusal)
        case .notFound(let what): .notFound("\(what) was not found here; `interno sync` fetches what others wrote")
        case .notInitialized: .notJoined("this home")
        default: .storage(error.description)
        }
    }
}

/// The exit codes of `interno` (and `interno-server`), documented in the README.
public enum ExitStatus {
    /// Success.
    public static let success: Int32 = 0
    /// Anything else: the message says what.
    public static let failure: Int32 = 1
    /// A command-line usage error (sysexits EX_USAGE).
    public static let usage: Int32 = 64
    /// A value is invalid, or the lifecycle does not allow the step.
    public static let invalidInput: Int32 = 65
    /// No such request, department, field or file.
    public static let notFound: Int32 = 66
    /// This department may not do that.
    public static let notAllowed: Int32 = 67
    /// A conflict must be resolved first.
    public static let conflictPending: Int32 = 68
    /// The server cannot be reached, or the connection broke; retry.
    public static let unreachable: Int32 = 69
    /// TLS or identity failure: a certificate was refused, or the site was revoked.
    public static let identity: Int32 = 70
    /// The server and this client do not understand each other (version, malformed message).
    public static let protocolError: Int32 = 71
    /// The sync completed but the server refused some changes.
    public static let changesRefused: Int32 = 72
    /// The home directory holds no joined site, or already holds one.
    public static let notJoined: Int32 = 73
    /// `interno verify`: records differ from what the server says this site should hold, and
    /// were not repaired (or could not be compared now: sync first).
    public static let notInStep: Int32 = 74
}
