/*
 * What-if floors of the sync path (DESIGN §9): SQLite alone writing the rows that a push or
 * a pull of new requests writes, in today's tables and in variants of them that no
 * migration makes, each as a ratio to the raw insert of one row per request in the same run.
 *
 * The floor of record is `interno-benchmark`'s (`Tools/Benchmarks/SchemaFloor.swift`), which
 * writes through the tables Interno's own migrations make. This program answers a different
 * question: what would a change of what the tables keep be worth, before anyone writes the
 * migration for it. Its "text" variant copies today's tables (`v11-conflicted-any-field`) by
 * hand; it should give the Swift floor's ratios, and is the check that the copy is faithful.
 *
 *   text    today's tables: every record, replica and department id a 36-character TEXT UUID
 *   blob    the same tables with those ids as 16-byte BLOBs
 *   +aud    with the server's two audience rows per change (a push); without: a pull
 *
 * Run it with `Tools/floor-variants [requests] [runs]` (100 000 requests, 5 runs by default).
 * Every run writes each variant once, in turn, in one transaction each, WAL with
 * synchronous=FULL, in the directory given by $TMPDIR (or /tmp). The values bound are made
 * before the clock starts, and bound through SQLite's C API, as the Swift floor binds them.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void fail(sqlite3 *db, const char *what) {
    fprintf(stderr, "floor-variants: %s: %s\n", what, sqlite3_errmsg(db));
    exit(1);
}

static void run(sqlite3 *db, const char *sql) {
    char *error = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &error) != SQLITE_OK) {
        fprintf(stderr, "floor-variants: %s\n  in: %s\n", error, sql);
        exit(1);
    }
}

static void step(sqlite3 *db, sqlite3_stmt *statement) {
    if (sqlite3_step(statement) != SQLITE_DONE) fail(db, "insert");
    sqlite3_reset(statement);
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql) {
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, NULL) != SQLITE_OK) fail(db, sql);
    return statement;
}

/* A version 7 UUID (RFC 9562) for millisecond `ms`, as the store makes new records' ids. */
static void time_ordered(uint8_t id[16], int64_t ms) {
    for (int i = 0; i < 16; i++) id[i] = (uint8_t)rand();
    for (int i = 0; i < 6; i++) id[i] = (uint8_t)(ms >> (8 * (5 - i)));
    id[6] = (uint8_t)((id[6] & 0x0f) | 0x70);
    id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
}

/* The lowercase text form, as today's tables keep ids: 36 characters and a NUL. */
static void as_text(const uint8_t id[16], char text[37]) {
    static const char hex[] = "0123456789abcdef";
    int j = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text[j++] = '-';
        text[j++] = hex[id[i] >> 4];
        text[j++] = hex[id[i] & 15];
    }
    text[j] = 0;
}

/* One id, in both forms. */
typedef struct {
    uint8_t bytes[16];
    char text[37];
} Id;

static Id make_id(int64_t ms) {
    Id id;
    time_ordered(id.bytes, ms);
    as_text(id.bytes, id.text);
    return id;
}

static void bind_id(sqlite3_stmt *statement, int index, const Id *id, int blob) {
    if (blob) sqlite3_bind_blob(statement, index, id->bytes, 16, SQLITE_STATIC);
    else sqlite3_bind_text(statement, index, id->text, 36, SQLITE_STATIC);
}

/* What each request's rows hold besides ids, made before any clock starts. */
typedef struct {
    Id id;
    char key[24];
    char title[32];
} Request;

static sqlite3 *open_fresh(const char *directory, const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", directory, name);
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char file[1100];
        snprintf(file, sizeof file, "%s%s", path, suffixes[i]);
        unlink(file);
    }
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) fail(db, path);
    run(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
    return db;
}

static void close_and_remove(sqlite3 *db, const char *directory, const char *name) {
    sqlite3_close(db);
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char file[1100];
        snprintf(file, sizeof file, "%s/%s%s", directory, name, suffixes[i]);
        unlink(file);
    }
}

/* The baseline, as `interno-benchmark` inserts it: one row per request. */
static double raw_insert(const char *directory, const Request *requests, int count, const Id *customer,
                         const Id *provider) {
    sqlite3 *db = open_fresh(directory, "raw.sqlite");
    run(db, "CREATE TABLE request (id TEXT PRIMARY KEY, key TEXT, customer TEXT, provider TEXT, title TEXT,"
            " priority TEXT, state TEXT, createdAt INTEGER)");
    double start = now();
    run(db, "BEGIN");
    sqlite3_stmt *insert = prepare(
        db, "INSERT INTO request (id, key, customer, provider, title, priority, state, createdAt)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    for (int i = 0; i < count; i++) {
        bind_id(insert, 1, &requests[i].id, 0);
        sqlite3_bind_text(insert, 2, requests[i].key, -1, SQLITE_STATIC);
        bind_id(insert, 3, customer, 0);
        bind_id(insert, 4, provider, 0);
        sqlite3_bind_text(insert, 5, requests[i].title, -1, SQLITE_STATIC);
        sqlite3_bind_text(insert, 6, "normal", -1, SQLITE_STATIC);
        sqlite3_bind_text(insert, 7, "submitted", -1, SQLITE_STATIC);
        sqlite3_bind_int64(insert, 8, 1795426200000 + i);
        step(db, insert);
    }
    sqlite3_finalize(insert);
    run(db, "COMMIT");
    double spent = now() - start;
    close_and_remove(db, directory, "raw.sqlite");
    return spent;
}

/* Today's tables as the migrations leave them on a server (the log, the audience, the
 * request's query row holding its state, and their indexes), with ids of type `id`. */
static void create_tables(sqlite3 *db, const char *id) {
    char sql[4096];
    snprintf(sql, sizeof sql,
             "CREATE TABLE change (seq INTEGER PRIMARY KEY AUTOINCREMENT, replica %s NOT NULL,"
             " counter INTEGER NOT NULL, setStart INTEGER NOT NULL, setEnd INTEGER NOT NULL, kind TEXT NOT NULL,"
             " record %s NOT NULL, context BLOB NOT NULL, fields BLOB NOT NULL, author TEXT NOT NULL,"
             " at INTEGER NOT NULL, refusalCode INTEGER, refusalReason TEXT, requires BLOB,"
             " UNIQUE (replica, counter));"
             "CREATE INDEX change_by_record ON change (record, seq);"
             "CREATE TABLE audience (department %s NOT NULL, seq INTEGER NOT NULL,"
             " PRIMARY KEY (department, seq)) WITHOUT ROWID;"
             "CREATE TABLE request (id %s PRIMARY KEY NOT NULL, key TEXT NOT NULL, customer %s NOT NULL,"
             " provider %s NOT NULL, standard %s, title TEXT, priority TEXT, state TEXT, neededBy INTEGER,"
             " assignee TEXT, createdAt INTEGER NOT NULL, updatedAt INTEGER NOT NULL, conflicted INTEGER NOT NULL,"
             " service TEXT, submittedAt INTEGER, timeline BLOB, clock BLOB, fields BLOB,"
             " stateConflicted BOOLEAN NOT NULL DEFAULT 0) WITHOUT ROWID;"
             "CREATE INDEX request_by_key ON request (key);"
             "CREATE INDEX request_by_submission ON request (submittedAt);"
             "CREATE INDEX request_state_conflicted ON request (id) WHERE stateConflicted;",
             id, id, id, id, id, id, id);
    run(db, sql);
}

/* The log entry, the audience rows (when `audience`) and the query row of every request,
 * with ids as BLOBs when `blob`. The encoded cells have the sizes the store's encodings give
 * a new request of the benchmark (fields 160 bytes, siblings 170, clock 20, timeline 24). */
static double floor_insert(const char *directory, const Request *requests, int count, const Id *customer,
                           const Id *provider, const Id *replica, int blob, int audience) {
    static uint8_t fields[160], siblings[170], clock[20], timeline[24], context[1];
    for (size_t i = 0; i < sizeof fields; i++) fields[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof siblings; i++) siblings[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof clock; i++) clock[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof timeline; i++) timeline[i] = (uint8_t)i;
    sqlite3 *db = open_fresh(directory, "floor.sqlite");
    create_tables(db, blob ? "BLOB" : "TEXT");
    const Id *departments[2] = {customer, provider};
    if (strcmp(customer->text, provider->text) > 0) {
        departments[0] = provider;
        departments[1] = customer;
    }
    const int64_t at = 1795426200000;
    double start = now();
    run(db, "BEGIN");
    sqlite3_stmt *log = prepare(
        db, "INSERT INTO change (replica, counter, setStart, setEnd, kind, record, context, fields, author, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    sqlite3_stmt *heard = prepare(db, "INSERT INTO audience (department, seq) VALUES (?, ?)");
    sqlite3_stmt *shown = prepare(
        db, "INSERT INTO request (id, key, customer, provider, title, priority, state, createdAt, updatedAt,"
            " conflicted, submittedAt, timeline, clock, fields, stateConflicted)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (int i = 0; i < count; i++) {
        const Request *request = &requests[i];
        bind_id(log, 1, replica, blob);
        sqlite3_bind_int64(log, 2, i + 1);
        sqlite3_bind_int64(log, 3, i / 100 * 100 + 1);
        sqlite3_bind_int64(log, 4, i / 100 * 100 + 100);
        sqlite3_bind_text(log, 5, "request", -1, SQLITE_STATIC);
        bind_id(log, 6, &request->id, blob);
        sqlite3_bind_blob(log, 7, context, sizeof context, SQLITE_STATIC);
        sqlite3_bind_blob(log, 8, fields, sizeof fields, SQLITE_STATIC);
        sqlite3_bind_text(log, 9, "bench@HR-LIS", -1, SQLITE_STATIC);
        sqlite3_bind_int64(log, 10, at);
        step(db, log);
        sqlite3_int64 seq = sqlite3_last_insert_rowid(db);
        for (int d = 0; audience && d < 2; d++) {
            bind_id(heard, 1, departments[d], blob);
            sqlite3_bind_int64(heard, 2, seq);
            step(db, heard);
        }
        bind_id(shown, 1, &request->id, blob);
        sqlite3_bind_text(shown, 2, request->key, -1, SQLITE_STATIC);
        bind_id(shown, 3, customer, blob);
        bind_id(shown, 4, provider, blob);
        sqlite3_bind_text(shown, 5, request->title, -1, SQLITE_STATIC);
        sqlite3_bind_text(shown, 6, "normal", -1, SQLITE_STATIC);
        sqlite3_bind_text(shown, 7, "submitted", -1, SQLITE_STATIC);
        sqlite3_bind_int64(shown, 8, at);
        sqlite3_bind_int64(shown, 9, at);
        sqlite3_bind_int(shown, 10, 0);
        sqlite3_bind_int64(shown, 11, at);
        sqlite3_bind_blob(shown, 12, timeline, sizeof timeline, SQLITE_STATIC);
        sqlite3_bind_blob(shown, 13, clock, sizeof clock, SQLITE_STATIC);
        sqlite3_bind_blob(shown, 14, siblings, sizeof siblings, SQLITE_STATIC);
        sqlite3_bind_int(shown, 15, 0);
        step(db, shown);
    }
    sqlite3_finalize(log);
    sqlite3_finalize(heard);
    sqlite3_finalize(shown);
    run(db, "COMMIT");
    double spent = now() - start;
    close_and_remove(db, directory, "floor.sqlite");
    return spent;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int count = argc > 1 ? atoi(argv[1]) : 100000;
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (count < 1 || runs < 1 || runs > 64) {
        fprintf(stderr, "usage: floor-variants [requests ≥ 1] [runs 1–64]\n");
        return 64;
    }
    const char *directory = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    srand(1);
    Id customer = make_id(1), provider = make_id(2), replica = make_id(3);
    Request *requests = malloc(sizeof(Request) * (size_t)count);
    if (!requests) return 71;
    for (int i = 0; i < count; i++) {
        requests[i].id = make_id(1795426200000 + i / 10);
        snprintf(requests[i].key, sizeof requests[i].key, "HR-LIS-%d", i + 1);
        snprintf(requests[i].title, sizeof requests[i].title, "Request number %d", i);
    }
    const char *names[4] = {"text+aud (push)", "blob+aud (push)", "text (pull)", "blob (pull)"};
    double ratios[4][64];
    printf("%d requests, %d runs; SQLite %s; ratios to the raw insert of the same run\n", count, runs,
           sqlite3_libversion());
    for (int r = 0; r < runs; r++) {
        double raw = raw_insert(directory, requests, count, &customer, &provider);
        double spent[4] = {
            floor_insert(directory, requests, count, &customer, &provider, &replica, 0, 1),
            floor_insert(directory, requests, count, &customer, &provider, &replica, 1, 1),
            floor_insert(directory, requests, count, &customer, &provider, &replica, 0, 0),
            floor_insert(directory, requests, count, &customer, &provider, &replica, 1, 0),
        };
        printf("run %d: raw %.3f s", r + 1, raw);
        for (int v = 0; v < 4; v++) {
            ratios[v][r] = spent[v] / raw;
            printf("  %s %.2f×", names[v], ratios[v][r]);
        }
        printf("\n");
        fflush(stdout);
    }
    printf("min, median and max of %d runs:\n", runs);
    for (int v = 0; v < 4; v++) {
        qsort(ratios[v], (size_t)runs, sizeof(double), by_value);
        printf("  %-16s %.2f–%.2f–%.2f× raw\n", names[v], ratios[v][0], ratios[v][runs / 2], ratios[v][runs - 1]);
    }
    free(requests);
    return 0;
}
