/// Why a server command failed, for a person.
public enum ServerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The data directory already holds a server.
    case alreadyInitialized(String)
    /// The data directory holds no server.
    case notInitialized(String)
    /// An argument is not acceptable.
    case invalidArgument(String)
    /// No such department, replica or file.
    case notFound(String)
    /// A file could not be read or written.
    case io(String)
    /// The listener could not start.
    case cannotListen(String)

    public var description: String {
        switch self {
        case .alreadyInitialized(let path):
            "\(path) already holds an Interno server; it is left untouched. Use another --data directory"
        case .notInitialized(let path):
            "\(path) holds no Interno server: run `interno-server init --data \(path) --name HOST --port PORT` first"
        case .invalidArgument(let message), .notFound(let message), .io(let message), .cannotListen(let message):
            message
        }
    }
}
