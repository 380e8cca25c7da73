/// An error on the wire: a stable numeric code and a message for a person.
///
/// Codes are defined in Protocol/README.md, "Error codes"; an `Error` frame carries one and the
/// sender closes the connection after it.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The stable numeric codes.
    public enum Code: UInt32, Sendable, CaseIterable {
        /// The peer speaks a protocol version this end does not.
        case unsupportedProtocolVersion = 1
        /// The site's schema version differs from the server's.
        case schemaMismatch = 2
        /// The client certificate is valid but enrolled to no replica here.
        case unknownReplica = 3
        /// The replica has been revoked.
        case revoked = 4
        /// The Hello names another replica than the certificate.
        case identityMismatch = 5
        /// A frame that does not decode, or a message whose fields are invalid.
        case malformedFrame = 6
        /// A frame longer than the limit.
        case frameTooLarge = 7
        /// A message that is not expected at this point of the conversation.
        case unexpectedMessage = 8
        /// A batch over the limit.
        case batchTooLarge = 9
        /// The server failed; nothing was committed for the request that failed. Retry later.
        case internalError = 10
        /// The server is shutting down; retry later.
        case shuttingDown = 11
    }

    /// A frame body longer than the limit.
    case frameTooLarge(Int, limit: Int)
    /// The stream ended in the middle of a frame.
    case truncatedFrame(Int)
    /// A frame or message that does not decode or whose fields are invalid.
    case malformed(String)
    /// An `Error` frame from the peer, or one to send.
    case remote(Code, String)

    /// The code this error is sent or was received with.
    public var code: Code {
        switch self {
        case .frameTooLarge: .frameTooLarge
        case .truncatedFrame, .malformed: .malformedFrame
        case .remote(let code, _): code
        }
    }

    public var description: String {
        switch self {
        case .frameTooLarge(let length, let limit):
            "a frame of \(length) bytes is over the limit of \(limit) bytes"
        case .truncatedFrame(let bytes):
            "the connection closed in the middle of a frame (\(bytes) bytes left over)"
        case .malformed(let what):
            "malformed message: \(what)"
        case .remote(_, let message):
            message
        }
    }
}
