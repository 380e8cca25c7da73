#ifndef C_INTERNO_SQLITE_H
#define C_INTERNO_SQLITE_H

/// Turns off SQLite's memory statistics for this process: sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0).
/// Swift cannot call sqlite3_config, a variadic C function, so it is wrapped here.
///
/// With them on (Debian's build), every sqlite3_malloc and sqlite3_free takes a process-wide
/// mutex to count bytes that Interno never reads. It must run before SQLite initializes,
/// that is before the process opens its first database; later it changes nothing and
/// returns SQLITE_MISUSE (21). Returns SQLite's result code, SQLITE_OK (0) when it took effect.
int interno_sqlite_disable_memory_statistics(void);

/// Keeps a statement journal (what a savepoint needs to roll back: the first content of each
/// page it changes) in memory up to `bytes`, then in a temporary file:
/// sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, bytes). SQLite's default keeps 64 KiB in
/// memory. With `bytes` above 0 SQLite keeps the journal as one allocation of `bytes`, so
/// SQLiteSettings keeps it below glibc's largest mmap threshold (32 MiB). Like the call
/// above, it must run before SQLite initializes, and returns SQLite's result code, SQLITE_OK
/// (0) when it took effect.
int interno_sqlite_statement_journal_spill(int bytes);

/// Returns the free memory of every arena of glibc's allocator to the system: malloc_trim(0),
/// which Swift's Glibc module does not declare. The threads beside a store's writer each
/// allocate in an arena of their own, and an arena keeps what is freed in it (BlockingWorkers).
/// Returns 1 if memory was returned, 0 if not; 0 where the allocator is not glibc's.
int interno_release_free_memory(void);

#endif
