import GRDB

/// A row of the query table `comment`: an immutable remark on a request.
public struct CommentRow: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "comment"

    /// The columns of `comment`.
    public enum Columns {
        static let id = Column(CodingKeys.id)
        static let request = Column(CodingKeys.request)
        static let body = Column(CodingKeys.body)
        static let author = Column(CodingKeys.author)
        static let at = Column(CodingKeys.at)
    }

    /// The record id.
    public var id: String
    /// The request's id.
    public var request: String
    /// The text.
    public var body: String
    /// Who wrote it, `ana@HR-LIS`.
    public var author: String
    /// When, milliseconds since 1970.
    public var at: Int64
}
