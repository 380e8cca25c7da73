import CInternoSQLite

/// SQLite's process-wide settings, made once, before the process opens its first database.
///
/// Only one today: SQLite's memory statistics are off. With them on (Debian's build of
/// SQLite), every allocation and free inside SQLite takes one mutex shared by the whole
/// process, to count bytes that Interno never reads; the two threads of a sync (a site's and
/// the server's, or two sessions) then contend for it. Measured on 2026-12-03 on this 2-core
/// machine, 20 000 requests, six alternating pairs of runs with and without: the floors of a
/// pull and of a push took 21% and 16% less CPU, local writes 10% less, push and pull 2–4%
/// (DESIGN §9).
public enum SQLiteSettings {
    /// Makes the settings if SQLite has not started in this process yet; every store does
    /// this before it opens a database, and the benchmark at its start, so that raw SQLite
    /// is measured with the same settings. The first call decides; later calls return its
    /// answer.
    ///
    /// - Returns: `true` if the settings hold in this process; `false` if SQLite had started
    ///   before the first call (a database opened another way), when they change nothing.
    @discardableResult
    public static func apply() -> Bool { applied }

    private static let applied = interno_sqlite_disable_memory_statistics() == 0
}
