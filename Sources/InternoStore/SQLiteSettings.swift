import CInternoSQLite

/// SQLite's process-wide settings, made once, before the process opens its first database.
///
/// - SQLite's memory statistics are off. With them on (Debian's build of SQLite), every
///   allocation and free inside SQLite takes one mutex shared by the whole process, to count
///   bytes that Interno never reads; the two threads of a sync (a site's and the server's, or
///   two sessions) then contend for it. Measured on 2026-12-03 on this 2-core machine, 20 000
///   requests, six alternating pairs of runs with and without: the floors of a pull and of a
///   push took 21% and 16% less CPU, local writes 10% less, push and pull 2–4% (DESIGN §9).
/// - A statement journal stays in memory up to ``statementJournalInMemory`` bytes, not
///   SQLite's 64 KiB. The server judges each Push of a group under a savepoint (DESIGN §4),
///   which keeps the first content of every page the Push changes; past 64 KiB SQLite wrote
///   it to a temporary file, a `pwrite` per page: a quarter of the CPU of judging 500 edits
///   (DESIGN §9). Beyond the bound it still goes to a file, so a huge Push cannot take the
///   server's memory with it.
public enum SQLiteSettings {
    /// How much of a statement journal is kept in memory before it goes to a temporary file:
    /// the pages a Push of some thousand edits changes.
    ///
    /// Below 32 MiB on purpose. With a bound above 0, SQLite allocates a statement journal
    /// as one chunk of exactly this size, for every statement or savepoint that journals a
    /// page, and frees it when it ends. glibc serves an allocation above its largest mmap
    /// threshold (32 MiB) with a mapping of its own every time, unmapped at the free: a
    /// page fault for each page touched, and a TLB flush across the process's threads. Below
    /// it, glibc keeps the chunk in its heap after the first free and hands it out again.
    /// At 200 sites that took 5% off the CPU per sync of the server and of the sites
    /// (DESIGN §9).
    public static let statementJournalInMemory = 31 * 1024 * 1024

    /// Makes the settings if SQLite has not started in this process yet; every store does
    /// this before it opens a database, and the benchmark at its start, so that raw SQLite
    /// is measured with the same settings. The first call decides; later calls return its
    /// answer.
    ///
    /// - Returns: `true` if the settings hold in this process; `false` if SQLite had started
    ///   before the first call (a database opened another way), when they change nothing.
    @discardableResult
    public static func apply() -> Bool { applied }

    private static let applied: Bool = {
        // Both are made, whatever the first answers.
        let statistics = interno_sqlite_disable_memory_statistics()
        let journal = interno_sqlite_statement_journal_spill(CInt(statementJournalInMemory))
        return statistics == 0 && journal == 0
    }()
}
