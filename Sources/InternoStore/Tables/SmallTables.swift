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

/// The query table `department`: the directory's departments, as shown.
enum DepartmentTable {
    /// The columns of `department` after `id`.
    enum Columns {
        /// The department's code, `HR`: how people name it.
        static let code = Column("code")
        static let name = Column("name")
        static let timeZone = Column("timeZone")
        static let hours = Column("hours")
        static let holidays = Column("holidays")
        static let conflicted = Column("conflicted")
    }
}

/// The query table `feedback`: each side's rating of a request (DESIGN §7).
enum FeedbackTable {
    /// The columns of `feedback` after `id`.
    enum Columns {
        /// The request's record id.
        static let request = Column("request")
        /// `customer` or `provider`: who rated.
        static let side = Column("side")
        static let rating = Column("rating")
        static let effort = Column("effort")
        static let comment = Column("comment")
        static let conflicted = Column("conflicted")
    }
}

/// The query table `answer`: the survey answers a site holds (DESIGN §7.8).
enum AnswerTable {
    /// The columns of `answer` after `id` that are not a survey dimension's.
    enum Columns {
        /// The round's record id.
        static let round = Column("round")
        static let customer = Column("customer")
        static let provider = Column("provider")
        static let nps = Column("nps")
        static let comment = Column("comment")
        static let at = Column("at")
    }
}
