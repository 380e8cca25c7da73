import GRDB

/// The server's `stream_epoch` table: where each epoch of the stream begins (DESIGN §3.9).
enum StreamEpochTable {
    /// The columns of `stream_epoch`.
    enum Columns {
        /// The sequence number of the first change logged in the epoch.
        static let firstSeq = Column("firstSeq")
        /// The epoch, a random non-zero number.
        static let epoch = Column("epoch")
    }

    /// Both columns, in the order the export reads them.
    static let all = [Columns.firstSeq, Columns.epoch]
}

/// A site's `respondent` table: who has answered which survey round here, so that each
/// person answers once (DESIGN §7).
enum RespondentTable {
    /// The columns of `respondent`.
    enum Columns {
        /// The round's record id.
        static let round = Column("round")
        /// The person, as the site's user names them.
        static let person = Column("person")
    }

    /// Both columns, in the order a site writes them.
    static let all = [Columns.round, Columns.person]
}
