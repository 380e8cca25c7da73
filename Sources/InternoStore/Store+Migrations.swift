import Foundation
import GRDB
import InternoModel

/// The schema both roles' databases share, as named migrations (DESIGN §4).
enum StoreSchema {
    /// The migrations, by fixed name; a shipped migration is never edited, only followed.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-initial") { db in
            try db.execute(
                sql: """
                    CREATE TABLE replica (
                        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                        replicaID TEXT NOT NULL,
                        role TEXT NOT NULL CHECK (role IN ('site', 'server')),
                        department TEXT,
                        code TEXT,
                        counter INTEGER NOT NULL DEFAULT 0,
                        cursor INTEGER NOT NULL DEFAULT 0,
                        serverEpoch TEXT,
                        nextRequestNumber INTEGER NOT NULL DEFAULT 1,
                        lastSyncAt INTEGER
                    );

                    -- The log: every change this replica has applied, in the order it applied
                    -- them. On the server, seq is the server sequence that sites pull by.
                    -- A row with a refusal is void: its fields are kept for the record but
                    -- never applied.
                    CREATE TABLE change (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        replica TEXT NOT NULL,
                        counter INTEGER NOT NULL,
                        setStart INTEGER NOT NULL,
                        setEnd INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        record TEXT NOT NULL,
                        context BLOB NOT NULL,
                        fields BLOB NOT NULL,
                        author TEXT NOT NULL,
                        at INTEGER NOT NULL,
                        refusalCode INTEGER,
                        refusalReason TEXT,
                        UNIQUE (replica, counter)
                    );
                    CREATE INDEX change_by_record ON change (record, seq);

                    -- Record states: a projection of the log that can be rebuilt from it.
                    CREATE TABLE record (
                        id TEXT PRIMARY KEY NOT NULL,
                        kind TEXT NOT NULL,
                        clock BLOB NOT NULL,
                        fields BLOB NOT NULL,
                        present INTEGER NOT NULL,
                        conflicted INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX record_conflicted ON record (kind) WHERE conflicted;

                    -- Query tables, kept in the same transaction as the record states.
                    CREATE TABLE department (
                        id TEXT PRIMARY KEY NOT NULL,
                        code TEXT NOT NULL,
                        name TEXT,
                        timeZone TEXT,
                        hours TEXT,
                        holidays TEXT,
                        conflicted INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX department_by_code ON department (code);

                    CREATE TABLE standard (
                        id TEXT PRIMARY KEY NOT NULL,
                        provider TEXT NOT NULL,
                        customer TEXT NOT NULL,
                        service TEXT,
                        ackTarget INTEGER,
                        deliverTarget INTEGER,
                        csatTarget INTEGER,
                        complianceTarget INTEGER,
                        status TEXT NOT NULL CHECK (status IN ('proposed', 'agreed', 'retired')),
                        conflicted INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX standard_by_pair ON standard (provider, customer);

                    CREATE TABLE request (
                        id TEXT PRIMARY KEY NOT NULL,
                        key TEXT NOT NULL,
                        customer TEXT NOT NULL,
                        provider TEXT NOT NULL,
                        standard TEXT,
                        title TEXT,
                        priority TEXT,
                        state TEXT,
                        neededBy INTEGER,
                        assignee TEXT,
                        createdAt INTEGER NOT NULL,
                        updatedAt INTEGER NOT NULL,
                        conflicted INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX request_by_key ON request (key);
                    CREATE INDEX request_by_provider ON request (provider, state);
                    CREATE INDEX request_by_customer ON request (customer, state);

                    CREATE TABLE comment (
                        id TEXT PRIMARY KEY NOT NULL,
                        request TEXT NOT NULL,
                        body TEXT NOT NULL,
                        author TEXT NOT NULL,
                        at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX comment_by_request ON comment (request, at);

                    CREATE TABLE feedback (
                        id TEXT PRIMARY KEY NOT NULL,
                        request TEXT NOT NULL,
                        side TEXT NOT NULL,
                        rating INTEGER,
                        effort INTEGER,
                        comment TEXT,
                        conflicted INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX feedback_by_request ON feedback (request);

                    -- Sites: local change sets the server has not acknowledged.
                    CREATE TABLE outbox (
                        firstCounter INTEGER PRIMARY KEY NOT NULL,
                        lastCounter INTEGER NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('pending', 'deferred', 'refused')),
                        refusalCode INTEGER,
                        refusalReason TEXT,
                        createdAt INTEGER NOT NULL
                    );

                    -- Server: enrolled sites, bound to their certificates.
                    CREATE TABLE replica_registry (
                        replicaID TEXT PRIMARY KEY NOT NULL,
                        department TEXT NOT NULL,
                        departmentCode TEXT NOT NULL,
                        site TEXT NOT NULL,
                        code TEXT NOT NULL UNIQUE,
                        fingerprint TEXT NOT NULL UNIQUE,
                        revoked INTEGER NOT NULL DEFAULT 0,
                        enrolledAt INTEGER NOT NULL,
                        lastSeenAt INTEGER
                    );
                    """)
        }
        migrator.registerMigration("v2-scopes") { db in
            try db.execute(
                sql: """
                    -- Server: what each enrolled site receives (DESIGN §6.1).
                    ALTER TABLE replica_registry ADD COLUMN scope TEXT NOT NULL DEFAULT 'department'
                        CHECK (scope IN ('department', 'all'));

                    -- Sites: the scope the server last said this site has; NULL until it has.
                    ALTER TABLE replica ADD COLUMN scope TEXT CHECK (scope IN ('department', 'all'));

                    -- Server: who may receive each logged change. One row per department that
                    -- may see it, or one row with department '*' for everyone (the directory).
                    -- A pull reads it by (department, seq), so a site's pull costs what it
                    -- receives, whatever the rest of the log holds.
                    CREATE TABLE audience (
                        department TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        PRIMARY KEY (department, seq)
                    ) WITHOUT ROWID;
                    """)
            // A server made by an earlier release: every logged change gets its audience now.
            if try Bool.fetchOne(db, sql: "SELECT role = 'server' FROM replica") == true {
                try Audiences.backfill(db)
            }
        }
        migrator.registerMigration("v3-restores") { db in
            try db.execute(
                sql: """
                    -- Server: the stream's epochs. Every process that opens the server's database
                    -- starts a new epoch at the next sequence number, with a random id. A site
                    -- keeps the epoch of its cursor; a server restored from a backup logs anew
                    -- under a new epoch, so a site can tell its cursor names another stream
                    -- (DESIGN §3.9).
                    CREATE TABLE stream_epoch (
                        firstSeq INTEGER PRIMARY KEY NOT NULL,
                        epoch INTEGER NOT NULL
                    );

                    -- Sites: the epoch of the cursor, as the server gave it.
                    ALTER TABLE replica ADD COLUMN cursorEpoch INTEGER NOT NULL DEFAULT 0;

                    -- What a change was written against in other records (the clock of the
                    -- request a comment is on, say), as dots; NULL for none (DESIGN §3.3).
                    ALTER TABLE change ADD COLUMN requires BLOB;

                    -- Sites: own change sets set aside while the site heals from a restore:
                    -- the server holds their counters with other content, so they are moved
                    -- out of the log, the server's changes are pulled, and they come back under
                    -- new counters (DESIGN §3.9). Durable, so a crash in between loses nothing.
                    CREATE TABLE stash (
                        replica TEXT NOT NULL,
                        counter INTEGER NOT NULL,
                        setStart INTEGER NOT NULL,
                        setEnd INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        record TEXT NOT NULL,
                        context BLOB NOT NULL,
                        fields BLOB NOT NULL,
                        author TEXT NOT NULL,
                        at INTEGER NOT NULL,
                        refusalCode INTEGER,
                        refusalReason TEXT,
                        requires BLOB,
                        outboxStatus TEXT NOT NULL,
                        outboxCreatedAt INTEGER NOT NULL,
                        PRIMARY KEY (replica, counter)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v4-timelines") { db in
            try db.execute(
                sql: """
                    -- What each request's clocks need from its log (DESIGN §4, §7.3): when it was
                    -- submitted and the states it entered with their times, kept with its query
                    -- row in the same transaction as every change to its log, so listings and
                    -- reports do not replay every request's log.
                    ALTER TABLE request ADD COLUMN submittedAt INTEGER;
                    ALTER TABLE request ADD COLUMN timeline BLOB;
                    CREATE INDEX request_by_submission ON request (submittedAt);
                    """)
            // Requests logged by an earlier release: their timelines, from their logs. Only the
            // two columns added here are written: the rest of the row is as that release wrote
            // it, and today's projection writes columns that later migrations add.
            for id in try String.fetchAll(db, sql: "SELECT id FROM request") {
                guard let uuid = UUID(text: id) else { throw StoreError.corrupt("request id \(id)") }
                let log = try ChangeLog.entries(ofRecord: uuid, db).map(\.change)
                guard let timeline = RequestTimeline(log: log) else { continue }
                try db.execute(
                    sql: "UPDATE request SET submittedAt = ?, timeline = ? WHERE id = ?",
                    arguments: [timeline.submittedAt.millisecondsSince1970, Data(timeline.encoded), id])
            }
        }
        migrator.registerMigration("v5-roles") { db in
            // Each role keeps its own tables only (DESIGN §4): until now every database had
            // both roles' tables, the other role's empty. A database with no identity yet keeps
            // them until `initialize` gives it one.
            if let role = try String.fetchOne(db, sql: "SELECT role FROM replica").flatMap(ReplicaRole.init) {
                try dropTables(notKeptBy: role, db)
            }
        }
        migrator.registerMigration("v6-record-kinds") { db in
            try db.execute(
                sql: """
                    -- The records of one kind that exist, in id order (the departments and
                    -- standards a CLI command looks up): without it, each such lookup read
                    -- the whole record table, 14 000 pages on a site of 100 000 requests.
                    CREATE INDEX record_by_kind ON record (kind, id) WHERE present;
                    """)
        }
        migrator.registerMigration("v7-schema-2") { db in
            // Schema version 2: the services catalogue, improvement actions and kudos, survey
            // rounds and answers (DESIGN §7.6 to §7.8). No earlier release wrote these kinds, so
            // the new columns of older rows stay empty and nothing is rebuilt.
            try db.execute(
                sql: """
                    CREATE TABLE service (
                        id TEXT PRIMARY KEY NOT NULL,
                        provider TEXT NOT NULL,
                        name TEXT NOT NULL,
                        description TEXT,
                        attributes TEXT,
                        status TEXT NOT NULL CHECK (status IN ('offered', 'retired')),
                        conflicted INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX service_by_provider ON service (provider, name);

                    CREATE TABLE need (
                        id TEXT PRIMARY KEY NOT NULL,
                        service TEXT NOT NULL,
                        customer TEXT NOT NULL,
                        provider TEXT NOT NULL,
                        note TEXT,
                        dropped INTEGER NOT NULL,
                        conflicted INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX need_by_service ON need (service);

                    CREATE TABLE action (
                        id TEXT PRIMARY KEY NOT NULL,
                        customer TEXT NOT NULL,
                        provider TEXT NOT NULL,
                        owner TEXT NOT NULL,
                        request TEXT,
                        standard TEXT,
                        round TEXT,
                        title TEXT NOT NULL,
                        due INTEGER,
                        status TEXT NOT NULL,
                        closedAt INTEGER,
                        conflicted INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX action_by_owner ON action (owner, status, due);

                    CREATE TABLE kudos (
                        id TEXT PRIMARY KEY NOT NULL,
                        giver TEXT NOT NULL,
                        receiver TEXT NOT NULL,
                        person TEXT,
                        message TEXT NOT NULL,
                        request TEXT,
                        action TEXT,
                        period TEXT,
                        author TEXT NOT NULL,
                        at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX kudos_by_time ON kudos (at);

                    CREATE TABLE round (
                        id TEXT PRIMARY KEY NOT NULL,
                        provider TEXT NOT NULL,
                        service TEXT NOT NULL,
                        customers TEXT NOT NULL,
                        form TEXT NOT NULL,
                        opens INTEGER,
                        closes INTEGER,
                        status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
                        conflicted INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX round_by_service ON round (service, opens);

                    CREATE TABLE answer (
                        id TEXT PRIMARY KEY NOT NULL,
                        round TEXT NOT NULL,
                        customer TEXT NOT NULL,
                        provider TEXT NOT NULL,
                        tangibles INTEGER,
                        reliability INTEGER,
                        responsiveness INTEGER,
                        assurance INTEGER,
                        empathy INTEGER,
                        expectTangibles INTEGER,
                        expectReliability INTEGER,
                        expectResponsiveness INTEGER,
                        expectAssurance INTEGER,
                        expectEmpathy INTEGER,
                        nps INTEGER,
                        comment TEXT,
                        at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX answer_by_round ON answer (round);

                    -- Sites only: who at this site has answered which round, so a person
                    -- answers once. Never logged, never synced: answers carry no names.
                    CREATE TABLE respondent (
                        round TEXT NOT NULL,
                        person TEXT NOT NULL,
                        PRIMARY KEY (round, person)
                    ) WITHOUT ROWID;

                    ALTER TABLE standard ADD COLUMN catalogService TEXT;
                    ALTER TABLE request ADD COLUMN service TEXT;
                    """)
            // A server keeps no `respondent` table (v5-roles).
            if let role = try String.fetchOne(db, sql: "SELECT role FROM replica").flatMap(ReplicaRole.init) {
                try dropTables(notKeptBy: role, db)
            }
        }
        migrator.registerMigration("v8-request-indexes") { db in
            // No query reads requests by provider or by customer: a listing reads every row and
            // filters in memory, a report reads by submission time (`request_by_submission`),
            // a key by `request_by_key`. The two indexes only cost writes: two B-tree entries
            // for every new request and four for every change of state, on every replica (§9).
            try db.execute(
                sql: """
                    DROP INDEX request_by_provider;
                    DROP INDEX request_by_customer;
                    """)
        }
        migrator.registerMigration("v9-kinds-by-query-table") { db in
            // The records of one kind that exist are read through the kind's query table, which
            // holds a row for exactly those, in id order (`RecordTable.existing(of:)`). The
            // index on the record table's kind only cost writes: one more B-tree entry for
            // every new record on every replica, 7% of the rows' cost of a pulled request (§9).
            try db.execute(sql: "DROP INDEX record_by_kind")
        }
        migrator.registerMigration("v10-request-states-in-rows") { db in
            // A request that exists keeps its state (clock, siblings, whether any field is in
            // conflict) in its query row, so writing a request writes one row of one B-tree,
            // not two rows of two (§4, §9). The states of the other records, and of a request
            // that does not exist, stay in `record_state`, the old `record` table; `record` is
            // now a view of both, which every reader keeps reading, and which hand-written SQL
            // can still change through its triggers (the store writes the tables themselves).
            try db.execute(
                sql: """
                    ALTER TABLE record RENAME TO record_state;
                    ALTER TABLE request ADD COLUMN clock BLOB;
                    ALTER TABLE request ADD COLUMN fields BLOB;
                    ALTER TABLE request ADD COLUMN stateConflicted BOOLEAN NOT NULL DEFAULT 0;
                    UPDATE request SET (clock, fields, stateConflicted) = (
                        SELECT s.clock, s.fields, s.conflicted FROM record_state AS s WHERE s.id = request.id
                    ) WHERE id IN (SELECT id FROM record_state WHERE kind = 'request' AND present);
                    DELETE FROM record_state
                    WHERE kind = 'request' AND present AND id IN (SELECT id FROM request WHERE clock IS NOT NULL);
                    CREATE INDEX request_state_conflicted ON request (id) WHERE stateConflicted;

                    CREATE VIEW record (id, kind, clock, fields, present, conflicted) AS
                        SELECT id, kind, clock, fields, present, conflicted FROM record_state
                        UNION ALL
                        SELECT id, 'request', clock, fields, 1, stateConflicted FROM request
                        WHERE clock IS NOT NULL;
                    CREATE TRIGGER record_insert INSTEAD OF INSERT ON record BEGIN
                        INSERT INTO record_state (id, kind, clock, fields, present, conflicted)
                        VALUES (NEW.id, NEW.kind, NEW.clock, NEW.fields, NEW.present, NEW.conflicted);
                    END;
                    CREATE TRIGGER record_update INSTEAD OF UPDATE ON record BEGIN
                        UPDATE record_state SET id = NEW.id, kind = NEW.kind, clock = NEW.clock,
                            fields = NEW.fields, present = NEW.present, conflicted = NEW.conflicted
                        WHERE id = OLD.id;
                        UPDATE request SET clock = NEW.clock, fields = NEW.fields, stateConflicted = NEW.conflicted
                        WHERE id = OLD.id AND clock IS NOT NULL;
                    END;
                    CREATE TRIGGER record_delete INSTEAD OF DELETE ON record BEGIN
                        DELETE FROM record_state WHERE id = OLD.id;
                        UPDATE request SET clock = NULL, fields = NULL, stateConflicted = 0 WHERE id = OLD.id;
                    END;
                    """)
        }
        migrator.registerMigration("v11-conflicted-any-field") { db in
            // A query row's `conflicted` is 1 when any field of its record is in conflict, as
            // Protocol/README.md 5.9 says and `interno verify` digests, not only a field the
            // row shows: a request whose `details` two sites rewrote at once was listed as
            // clean. Earlier releases flagged the shown fields' conflicts only, so the rows of
            // the other conflicted records are flagged here; the record states already say.
            try db.execute(sql: "UPDATE request SET conflicted = 1 WHERE stateConflicted AND NOT conflicted")
            // The query tables with a `conflicted` column, as this migration found them.
            for table in ["department", "standard", "feedback", "service", "need", "action", "round"] {
                try db.execute(
                    sql: """
                        UPDATE \(table) SET conflicted = 1 WHERE NOT conflicted
                        AND id IN (SELECT id FROM record_state WHERE kind = ? AND conflicted)
                        """, arguments: [table])
            }
        }
        return migrator
    }

    /// The tables only a site keeps: its outbox, the stash of a restore, and who has answered
    /// which survey round.
    static let siteTables = ["outbox", "stash", "respondent"]
    /// The tables only the server keeps: the registry, each change's audience, the stream's epochs.
    static let serverTables = ["replica_registry", "audience", "stream_epoch"]

    /// Drops the other role's tables from a database of `role`. Later migrations touch a
    /// role's tables only in that role's databases. A table that is not empty is kept: no
    /// release wrote the other role's tables, but if one ever did, nothing is lost.
    static func dropTables(notKeptBy role: ReplicaRole, _ db: Database) throws {
        for table in role == .site ? serverTables : siteTables where try db.tableExists(table) {
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") == 0 else { continue }
            try db.execute(sql: "DROP TABLE \(table)")
        }
    }
}
