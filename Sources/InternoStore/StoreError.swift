import InternoModel

/// Why a store operation failed, for a person.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The database has no replica identity yet.
    case notInitialized
    /// The database already has a replica identity.
    case alreadyInitialized(ReplicaID)
    /// The write breaks a rule of the schema; nothing was written.
    case refused(Refusal)
    /// A change arrived before a change it depends on; nothing was written.
    case outOfOrder(ApplyError)
    /// No record with that id or key.
    case notFound(String)
    /// Stored bytes could not be decoded: the file is damaged or from an unknown version.
    case corrupt(String)
    /// The database is the other role's: a server's opened as a site's, or the reverse.
    case wrongRole(String)
    /// A file could not be written.
    case io(String)

    public var description: String {
        switch self {
        case .notInitialized:
            "this database has no replica identity yet: join a server (`interno join`) or initialise one (`interno-server init`)"
        case .alreadyInitialized(let id):
            "this database already belongs to replica \(id); use a new directory"
        case .refused(let refusal):
            refusal.message
        case .outOfOrder(let error):
            error.description
        case .notFound(let what):
            "\(what) was not found"
        case .corrupt(let what):
            "stored data could not be read (\(what)); the database file may be damaged: run `PRAGMA integrity_check` on it"
        case .wrongRole(let what), .io(let what):
            what
        }
    }
}
