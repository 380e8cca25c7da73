import Foundation
import GRDB
import GRDBSQLite

/// The WAL checkpoints of a store's writer connection, run on a thread of their own (DESIGN §4).
///
/// SQLite's automatic checkpoint runs inside the commit that brings the WAL past 1000 pages,
/// on the committing connection: on the server that is the pool's writer, which judges every
/// Push, and a group's commit then also copies the WAL's pages into the database file and
/// fsyncs it before the next group is judged; on a site, the connection that applies a pulled
/// batch before it asks for the next. Here the writer's commit only asks for a checkpoint; a
/// thread of ``BlockingWorkers`` runs it on a connection of its own (`PASSIVE`, which never
/// waits for the writer or a reader), while the writer goes on.
///
/// The WAL starts again from its beginning only when a write transaction begins after a
/// checkpoint copied all of it, which a checkpoint beside a writer that commits all the time
/// may never do: past ``inlineFrames`` the writer checkpoints after its commit itself, as
/// SQLite would (after the checkpoint beside it ends, if one runs), and only what that one
/// has not copied yet is left for it.
/// A checkpoint that fails changes nothing but how soon the writer does it itself.
///
/// Durability is what it was: each commit still fsyncs the WAL (`synchronous = FULL`), and a
/// checkpoint fsyncs the WAL before it copies and the database file after.
final class BackgroundCheckpoints: @unchecked Sendable {
    /// The WAL's pages after a commit from which a checkpoint is asked for: SQLite's default
    /// for its automatic checkpoint.
    static let frames: CInt = 1_000
    /// The WAL's pages after a commit from which the writer checkpoints itself.
    static let inlineFrames: CInt = 8_000

    /// What the checkpoints did so far, for tests.
    struct Counts: Equatable, Sendable {
        /// Checkpoints run on a thread of their own.
        var background = 0
        /// Checkpoints the writer ran after its commit.
        var inline = 0
    }

    /// The database file.
    private let path: String
    /// ``frames`` and ``inlineFrames``, or a test's.
    private let frames: CInt
    private let inlineFrames: CInt

    /// Held while a checkpoint runs, beside the writer or on it: one at a time.
    private let copying = NSLock()
    /// The connection the checkpoints beside the writer run on, opened by the first of them
    /// (guarded by `copying`).
    private var connection: OpaquePointer?
    /// Whether the writer's connection closed: no checkpoint runs beside it any more
    /// (guarded by `copying`).
    private var closed = false
    /// The WAL's size when the writer last asked for a checkpoint; 0 once it started again.
    /// Read and written by the writer's hook only, which its connection calls one at a time.
    private var askedAt: CInt = 0
    /// Guards everything below.
    private let lock = NSLock()
    /// Whether a checkpoint is running or about to run.
    private var running = false
    /// Whether a commit asked for another while one ran.
    private var again = false
    private var counted = Counts()

    private init(path: String, frames: CInt, inlineFrames: CInt) {
        self.path = path
        self.frames = frames
        self.inlineFrames = inlineFrames
    }

    /// Called as the writer's connection closes (the destructor of its function, after
    /// SQLite closed the connection's files): waits for a checkpoint that runs, then closes
    /// the checkpoints' connection, so the store's close is done when it returns, as it was
    /// before. The file's last connection to close, the store's or this one, copies the
    /// whole WAL into the database and deletes it.
    private func writerClosed() {
        copying.lock()
        defer { copying.unlock() }
        closed = true
        sqlite3_close_v2(connection)
        connection = nil
    }

    /// Moves the checkpoints of `writer` (a pool's writer, or one connection) off it: its
    /// commits ask for them instead of running them. Called when the store opens; a later call
    /// replaces the earlier one.
    static func install(on writer: any DatabaseWriter, frames: CInt = frames, inlineFrames: CInt = inlineFrames)
        throws
    {
        let checkpoints = BackgroundCheckpoints(path: writer.path, frames: frames, inlineFrames: inlineFrames)
        try writer.writeWithoutTransaction { db in
            let connection = db.sqliteConnection
            // SQLite keeps the object as long as the connection: it calls the destructor when
            // it drops this function, which it does when the connection closes (or at once, if
            // the function cannot be made). SQLite 3.40 has no `sqlite3_set_clientdata`.
            let context = Unmanaged.passRetained(checkpoints).toOpaque()
            let code = sqlite3_create_function_v2(
                connection, functionName, 0, SQLITE_UTF8, context,
                { call, _, _ in
                    guard let context = sqlite3_user_data(call) else { return sqlite3_result_null(call) }
                    let counts = Unmanaged<BackgroundCheckpoints>.fromOpaque(context).takeUnretainedValue().counts
                    sqlite3_result_text(
                        call, "\(counts.background) \(counts.inline)", -1, Bindings.transient)
                }, nil, nil,
                { context in
                    guard let context else { return }
                    let checkpoints = Unmanaged<BackgroundCheckpoints>.fromOpaque(context)
                    checkpoints.takeUnretainedValue().writerClosed()
                    checkpoints.release()
                })
            guard code == SQLITE_OK else {
                throw StoreError.io("cannot set up the database's checkpoints (SQLite error \(code))")
            }
            // Replaces SQLite's automatic checkpoint, which is this same hook.
            sqlite3_wal_hook(connection, hook, context)
        }
    }

    /// What the checkpoints of `db`'s connection did so far, `nil` if they do not run here;
    /// for tests. The function that keeps the object alive answers it.
    static func counts(_ db: Database) throws -> Counts? {
        guard
            try Bool.fetchOne(
                db, sql: "SELECT 1 FROM pragma_function_list WHERE name = ?", arguments: [functionName]) == true,
            let answer = try String.fetchOne(db, sql: "SELECT \(functionName)()")
        else { return nil }
        let numbers = answer.split(separator: " ").compactMap { Int($0) }
        guard numbers.count == 2 else { return nil }
        return Counts(background: numbers[0], inline: numbers[1])
    }

    /// The function on the writer's connection whose destructor releases the object; called,
    /// it answers the counts ("background inline").
    private static let functionName = "interno_background_checkpoints"

    /// The writer's WAL hook: its context is the connection's ``BackgroundCheckpoints``.
    private static let hook:
        @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, UnsafePointer<CChar>?, CInt)
            -> CInt = { context, connection, name, frames in
                guard let context else { return SQLITE_OK }
                Unmanaged<BackgroundCheckpoints>.fromOpaque(context).takeUnretainedValue()
                    .committed(frames: frames, connection, name)
                return SQLITE_OK
            }

    /// What the checkpoints did so far.
    private var counts: Counts {
        lock.lock()
        defer { lock.unlock() }
        return counted
    }

    /// Called by SQLite on the writer after each commit, with the WAL's size in pages: asks
    /// for a checkpoint each time another ``frames`` pages were written since it last asked
    /// (a WAL that does not start again stays past the first thousand, and a checkpoint per
    /// commit would only fsync the files again for a few pages).
    private func committed(frames: CInt, _ connection: OpaquePointer?, _ name: UnsafePointer<CChar>?) {
        if frames < askedAt { askedAt = 0 }
        if frames >= inlineFrames {
            askedAt = 0
            // After the checkpoint running beside it, if any, which copies what was there when
            // it began; a passive checkpoint meeting another one would do nothing. As SQLite's
            // own hook does, an error leaves the WAL for the next commit to try.
            copying.lock()
            _ = sqlite3_wal_checkpoint_v2(connection, name, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            copying.unlock()
            lock.lock()
            counted.inline += 1
            lock.unlock()
            return
        }
        guard frames - askedAt >= self.frames else { return }
        askedAt = frames
        lock.lock()
        guard !running else {
            again = true
            lock.unlock()
            return
        }
        running = true
        lock.unlock()
        BlockingWorkers.shared.run { [self] in run() }
    }

    /// Checkpoints until no commit asked for another meanwhile.
    private func run() {
        while true {
            let ran = checkpoint()
            lock.lock()
            if ran { counted.background += 1 }
            if again {
                again = false
                lock.unlock()
                continue
            }
            running = false
            lock.unlock()
            return
        }
    }

    /// One passive checkpoint of the database on the checkpoints' own connection, opened by
    /// the first (which also reads the schema, for the pragma: a connection per checkpoint
    /// spent 40% of the checkpoints' time there).
    ///
    /// - Returns: `false` if none ran: the writer's connection closed, or this one cannot open.
    private func checkpoint() -> Bool {
        copying.lock()
        defer { copying.unlock() }
        guard !closed else { return false }
        if connection == nil {
            var opened: OpaquePointer?
            guard sqlite3_open_v2(path, &opened, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK,
                sqlite3_busy_timeout(opened, 1_000) == SQLITE_OK,
                // A checkpoint fsyncs the WAL before it copies and the database file after
                // (`synchronous = FULL`, as every connection of the store has it).
                sqlite3_exec(opened, "PRAGMA synchronous = FULL", nil, nil, nil) == SQLITE_OK
            else {
                sqlite3_close_v2(opened)
                return false
            }
            connection = opened
        }
        _ = sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        return true
    }
}
