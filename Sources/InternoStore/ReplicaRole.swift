/// What a database is: one department site's replica, or the server's merged state.
public enum ReplicaRole: String, Sendable, Codable {
    /// A department site: it writes as its department and keeps an outbox and a cursor.
    case site
    /// The central server: it writes as the administrator and sequences every change.
    case server
}
