import Foundation
import GRDB
import InternoModel
import Testing

@_spi(Database) @testable import InternoStore

/// `interno verify` at the store (DESIGN §3.10): a site's digests against what the server says
/// it should hold, and repairs from the server's logs.
@Suite("Verify: a site holds exactly what the server says it should")
struct VerifyTests {
    /// HR and IT sites, a Facilities site and a whole-organisation QA site; two requests from
    /// HR to IT, one acknowledged with a comment, everyone synced.
    struct Organisation {
        var hub: Hub
        let fac: SiteStore
        let qa: SiteStore
        let first: UUID
        let second: UUID
        let comment: UUID

        init(_ storage: Storage) throws {
            var hub = try Hub(storage)
            fac = try hub.addSite(department: "FAC", site: "LIS")
            try hub.addDepartment("QA")
            qa = try hub.addSite(department: "QA", site: "LIS", scope: .all)
            first = try hub.newRequest("Laptop").id
            second = try hub.newRequest("Badge").id
            try hub.sync(hub.hr)
            try hub.sync(hub.it)
            comment = UUID()
            // One instant for the step and the time it stamps: two calls of `now()` may fall in
            // two milliseconds, and the schema then refuses the stamp (check 9).
            let now = Timestamp.now()
            try hub.it.write(
                [
                    Edit(.request, first, ["state": .text("acknowledged"), "firstResponseAt": .time(now)]),
                    Edit(.comment, comment, ["request": .id(first), "body": .text("ordered")]),
                ], author: "eva", at: now)
            self.hub = hub
            try syncAll()
        }

        func syncAll() throws {
            for site in [hub.hr, hub.it, fac, qa, hub.hr, hub.it, fac, qa] { try hub.sync(site) }
        }

        /// What the server says `site` should hold, asked `limit` records at a time.
        func expected(_ site: SiteStore, limit: Int = .max) async throws -> [RecordDigest] {
            let position = try site.verifyPosition()
            var records: [RecordDigest] = []
            while true {
                let page = try #require(
                    try await hub.server.expectedDigests(
                        after: records.last?.id, limit: limit, cursor: position.cursor,
                        cursorEpoch: position.cursorEpoch, unacknowledged: position.unacknowledged,
                        from: hub.registry[try site.replica().id]!))
                records += page.records
                if !page.more { return records }
            }
        }

        /// Every record of `site` not in step, by id: `differs` with the parts, `missing`,
        /// `unexpected`, and `pending` when it is.
        func findings(_ site: SiteStore) async throws -> [UUID: String] {
            let findings = RecordDigest.compare(held: try site.digests().records, expected: try await expected(site))
            return Dictionary(
                uniqueKeysWithValues: findings.map { finding in
                    switch finding {
                    case .differs(let held, let expected):
                        (
                            held.id,
                            "differs \(held.differingParts(from: expected).joined(separator: ","))"
                                + (held.pending ? " pending" : "")
                        )
                    case .missing(let expected): (expected.id, "missing")
                    case .unexpected(let held): (held.id, "unexpected" + (held.pending ? " pending" : ""))
                    }
                })
        }

        /// Repairs `ids` at `site` with the logs the server hands it.
        @discardableResult
        func repair(_ site: SiteStore, _ ids: [UUID]) async throws -> [RepairOutcome] {
            let position = try site.verifyPosition()
            let logs = try await hub.server.expectedLogs(
                of: ids, cursor: position.cursor, cursorEpoch: position.cursorEpoch,
                from: hub.registry[try site.replica().id]!)
            return try site.repair(try #require(logs))
        }

        /// Expects `site` in step with the server, which says it should hold `expected` records.
        func inStep(_ site: SiteStore, expected count: Int, sourceLocation: SourceLocation = #_sourceLocation)
            async throws
        {
            #expect(try await findings(site) == [:], sourceLocation: sourceLocation)
            #expect(try await expected(site).count == count, sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: Storage.allCases)
    func everySiteInStepMatchesTheServerRecordForRecord(_ storage: Storage) async throws {
        let org = try Organisation(storage)
        // Four departments, two requests and a comment; Facilities only the directory; QA all.
        try await org.inStep(org.hub.hr, expected: 7)
        try await org.inStep(org.hub.it, expected: 7)
        try await org.inStep(org.fac, expected: 4)
        try await org.inStep(org.qa, expected: 7)
        #expect(try org.hub.it.digests().records.count == 7)
    }

    @Test func aDigestFromStoredBytesIsTheDigestOfTheModelValues() throws {
        let org = try Organisation(.memory)
        let store = org.hub.it
        try store.writer.read { db in
            var hashes: [UInt64] = []
            var scratch = DigestHasher()
            try StoredDigests.scan(
                db, "SELECT \(StoredDigests.entryColumns()) FROM change WHERE record = ? ORDER BY seq",
                arguments: [org.first.uuidString.lowercased()]
            ) { hashes.append(StoredDigests.entry($0, using: &scratch)) }
            let log = try ChangeLog.entries(ofRecord: org.first, db).map(\.change)
            #expect(log.count >= 2)
            #expect(hashes == log.map(RecordDigest.entry))
            let record = try #require(try RecordTable.load(org.first, db))
            var state: [UInt64] = []
            try StoredDigests.scan(
                db, "SELECT \(StoredDigests.stateColumns) FROM record WHERE id = ?",
                arguments: [org.first.uuidString.lowercased()]
            ) { state.append(StoredDigests.state($0, using: &scratch)) }
            #expect(state == [RecordDigest.state(record)])
            var shown: [UInt64] = []
            try StoredDigests.scan(
                db, StoredDigests.shownQuery(.request) + " WHERE id = ?", arguments: [org.first.uuidString.lowercased()]
            ) { shown.append(StoredDigests.shown($0, kind: .request, using: &scratch)) }
            #expect(shown == [StoredDigests.shown(of: record)])
            // A record id is read as its bytes, in their order.
            let key = try #require(Array(org.first.uuidString.lowercased().utf8).withUnsafeBytes(RecordKey.init(text:)))
            #expect(key == RecordKey(org.first) && key.uuid == org.first)
            #expect(Array(org.first.uuidString.utf8).withUnsafeBytes(RecordKey.init(text:)) == nil)
        }
        // A void counts what every replica keeps of it, whatever content the refused write had.
        let write = try #require(try store.log(of: org.first).first)
        let refusal = Refusal(.invalidValue, "no")
        var refusedHere = write
        refusedHere.refusal = refusal
        #expect(RecordDigest.entry(refusedHere) == RecordDigest.entry(write.voided(refusal)))
        #expect(RecordDigest.entry(write) != RecordDigest.entry(write.voided(refusal)))
    }

    @Test(arguments: Storage.allCases)
    func recordsAlteredBehindTheSitesBackAreFoundPartByPartAndRepaired(_ storage: Storage) async throws {
        let org = try Organisation(storage)
        let third = try org.hub.newRequest("Desk").id
        _ = try org.hub.newRequest("Chair")  // untouched: never reported
        try org.syncAll()
        let it = org.hub.it
        let bogus = UUID()
        let good = try it.records(of: .request)
        try await it.writer.write { db in
            // A title changed in the query table only.
            try db.execute(
                sql: "UPDATE request SET title = 'Printer' WHERE id = ?", arguments: [org.first.uuidString.lowercased()]
            )
            // A title changed in the stored record state only.
            var record = try #require(try RecordTable.load(org.second, db))
            let title = try #require(record.fields["title"]?.first)
            var fields = record.fields
            fields["title"] = [Sibling(dot: title.dot, value: .text("Bagde"), author: title.author, at: title.at)]
            record = RecordState(kind: .request, id: org.second, clock: record.clock, fields: fields)
            var bytes = BinaryWriter()
            bytes.write(siblings: record.fields)
            try db.execute(
                sql: "UPDATE record SET fields = ? WHERE id = ?",
                arguments: [Data(bytes.bytes), org.second.uuidString.lowercased()])
            // IT's own acknowledgement of the first request, gone from the log only.
            try db.execute(
                sql: "DELETE FROM change WHERE record = ? AND replica = ?",
                arguments: [org.first.uuidString.lowercased(), try SiteStore.replicaRow(db).replicaID])
            // A request lost whole, and one that never was.
            for table in ["change", "record", "request"] {
                let column = table == "change" ? "record" : "id"
                try db.execute(
                    sql: "DELETE FROM \(table) WHERE \(column) = ?", arguments: [third.uuidString.lowercased()])
            }
            try db.execute(
                sql: """
                    INSERT INTO request (id, key, customer, provider, title, priority, state, createdAt, updatedAt,
                        conflicted)
                    VALUES (?, 'HR-LIS-99', 'x', 'y', 'Free lunch', 'normal', 'submitted', 0, 0, 0)
                    """, arguments: [bogus.uuidString.lowercased()])
        }
        #expect(
            try await org.findings(it) == [
                org.first: "differs log,shown", org.second: "differs state", third: "missing", bogus: "unexpected",
            ])
        // Asked two records at a time, the server says the same.
        #expect(try await org.expected(it, limit: 2) == org.expected(it))

        let repaired = try await org.repair(it, [org.first, org.second, third, bogus])
        #expect(repaired == Array(repeating: .repaired(kept: 0), count: 4))
        try await org.inStep(it, expected: 9)
        #expect(try it.records(of: .request) == good)
        #expect(try it.requests() == org.hub.server.requests())
        // The repaired log applies later changes as before, and the site goes on syncing.
        try org.hub.hr.write([Edit(.request, org.second, ["title": .text("Badge, blue")])], author: "ana")
        try org.syncAll()
        #expect(try it.requests().first { $0.id == org.second.uuidString.lowercased() }?.title == "Badge, blue")
        try await org.inStep(it, expected: 9)
    }

    /// A request's state left in `record_state` with its query row gone, damage no write of
    /// the store makes: its writes are refused as a damaged database (`DamagedCellTests`), and
    /// verify finds it and a repair rebuilds it, after which the site writes and syncs it as
    /// before.
    @Test func aRequestStateOutOfItsQueryRowIsFoundAndRepaired() async throws {
        let org = try Organisation(.walFile)
        let it = org.hub.it
        try moveStateOutOfQueryRow(of: org.first, at: it)
        #expect(try await org.findings(it) == [org.first: "differs shown"])
        #expect(throws: StoreError.self) {
            try it.write([Edit(.request, org.first, ["assignee": .text("rui")])], author: "rui")
        }
        #expect(try await org.repair(it, [org.first]) == [.repaired(kept: 0)])
        try await org.inStep(it, expected: 7)
        try it.write([Edit(.request, org.first, ["assignee": .text("rui")])], author: "rui")
        try org.syncAll()
        #expect(try it.requests() == org.hub.server.requests())
        #expect(try it.requests().first { $0.id == org.first.text }?.assignee == "rui")
        try await org.inStep(it, expected: 7)
    }

    @Test func pendingChangesAreComparedByTheirLogCheckedHereAndKeptByARepair() async throws {
        let org = try Organisation(.walFile)
        let hr = org.hub.hr
        // Work not yet sent: an edit of the first request and a new request.
        try hr.write([Edit(.request, org.first, ["title": .text("Laptop, 16 GB")])], author: "ana")
        let fresh = try org.hub.newRequest("Monitor").id
        try await org.inStep(hr, expected: 7)
        let outbox = try hr.outbox()
        #expect(outbox.count == 2)

        // The query row of the new request, changed behind HR's back: the server cannot tell
        // (it does not know the request yet), the site can.
        try await hr.writer.write { db in
            try db.execute(
                sql: "UPDATE request SET priority = 'urgent' WHERE id = ?", arguments: [fresh.uuidString.lowercased()])
        }
        #expect(try hr.digests().inconsistent == [fresh: ["shown"]])
        try await org.inStep(hr, expected: 7)
        // IT's acknowledgement leaves HR's log: the server tells by the log, the site because its
        // own edit, which had seen it, no longer replays.
        try await hr.writer.write { db in
            try db.execute(
                sql: "DELETE FROM change WHERE record = ? AND replica = ?",
                arguments: [org.first.uuidString.lowercased(), try org.hub.it.replica().id.description])
        }
        #expect(try await org.findings(hr) == [org.first: "differs log pending"])
        #expect(try hr.digests().inconsistent[org.first] == ["state", "shown"])

        #expect(try await org.repair(hr, [org.first, fresh]) == [.repaired(kept: 1), .repaired(kept: 1)])
        try await org.inStep(hr, expected: 7)
        #expect(try hr.digests().inconsistent.isEmpty)
        #expect(try hr.outbox() == outbox)
        let shown = try #require(try hr.requests().first { $0.id == org.first.uuidString.lowercased() })
        #expect(shown.title == "Laptop, 16 GB" && shown.state == "acknowledged")
        #expect(try hr.requests().first { $0.id == fresh.uuidString.lowercased() }?.priority == "normal")
        // The kept edit goes with the next sync, and everyone converges.
        try org.syncAll()
        #expect(try hr.outbox().isEmpty)
        #expect(try org.hub.it.requests() == org.hub.server.requests())
        #expect(try org.hub.it.requests().contains { $0.id == fresh.uuidString.lowercased() })
        try await org.inStep(hr, expected: 8)
    }

    @Test func whatTheSiteHasNotPulledYetIsNoDifference() async throws {
        let org = try Organisation(.memory)
        // HR pushes an edit and a comment, and does not pull: its cursor is behind its own
        // changes, and IT's behind all of them.
        try org.hub.hr.write([Edit(.request, org.first, ["title": .text("Laptop, 16 GB")])], author: "ana")
        try org.hub.hr.write(
            [Edit(.comment, UUID(), ["request": .id(org.first), "body": .text("and a bag")])], author: "ana")
        try org.hub.push(org.hub.hr)
        try await org.inStep(org.hub.hr, expected: 8)
        try await org.inStep(org.hub.it, expected: 7)
        try await org.inStep(org.qa, expected: 7)
        try org.syncAll()
        try await org.inStep(org.hub.it, expected: 8)
        try await org.inStep(org.qa, expected: 8)
    }

    @Test func aRecordOutsideTheSitesScopeIsUnexpectedAndARepairDeletesIt() async throws {
        let org = try Organisation(.walFile)
        let fac = org.fac
        // HR and IT's request and its comment, slipped into Facilities' database.
        let replica = try fac.replica()
        let everything = try org.hub.server.changes(after: 0, limit: 10_000, scope: .all)
        try fac.applyPulled(
            ChangeBatch(
                sets: everything.sets, nextCursor: replica.cursor, more: false, cursorEpoch: replica.cursorEpochValue))
        #expect(try fac.requests().count == 2)
        #expect(
            try await org.findings(fac) == [
                org.first: "unexpected", org.second: "unexpected", org.comment: "unexpected",
            ])
        #expect(
            try await org.repair(fac, [org.first, org.second, org.comment]).allSatisfy { $0 == .repaired(kept: 0) })
        #expect(try fac.requests().isEmpty)
        try await org.inStep(fac, expected: 4)
    }

    /// A request keeps its state in its query row (DESIGN §4, `v10-request-states-in-rows`):
    /// deleted by hand through view `record`, the state goes and the row stays, and verify finds
    /// and repairs it as it did a missing row of the record table.
    @Test func aRequestsStateDeletedByHandIsFoundAndRebuilt() async throws {
        let org = try Organisation(.walFile)
        let it = org.hub.it
        let before = try it.records(of: .request)
        try await it.writer.write { db in
            try db.execute(sql: "DELETE FROM record WHERE id = ?", arguments: [org.first.uuidString.lowercased()])
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM request") == 2, "the query row stays")
        }
        #expect(try it.record(org.first) == nil)
        #expect(try await org.findings(it) == [org.first: "differs state"])
        #expect(try await org.repair(it, [org.first]) == [.repaired(kept: 0)])
        try await org.inStep(it, expected: 7)
        #expect(try it.records(of: .request) == before)
    }

    @Test func aWholeOrganisationSiteIsComparedWithTheWholeLog() async throws {
        let org = try Organisation(.walFile)
        let qa = org.qa
        let it = try #require(try org.hub.server.records(of: .department).first { $0.value(of: "code") == .text("IT") })
        try await qa.writer.write { db in
            try db.execute(
                sql: "UPDATE comment SET body = 'shipped' WHERE id = ?",
                arguments: [org.comment.uuidString.lowercased()])
            try db.execute(sql: "DELETE FROM record WHERE id = ?", arguments: [it.id.uuidString.lowercased()])
        }
        #expect(try await org.findings(qa) == [org.comment: "differs shown", it.id: "differs state"])
        try await org.repair(qa, [org.comment, it.id])
        try await org.inStep(qa, expected: 7)
    }

    @Test func aVoidOnlyItsWritersSiteReceivesIsInStepEverywhere() async throws {
        let org = try Organisation(.memory)
        let hr = org.hub.hr
        // A creation the server refuses (a title over 200 characters, past HR's own checks):
        // its void goes to HR alone, which holds the record as a void only.
        let replica = try hr.replica()
        let counter = max(UInt64(replica.counter), try org.hub.server.highestCounter(of: replica.id)) + 1
        try await hr.writer.write { db in
            try db.execute(sql: "UPDATE replica SET counter = ?", arguments: [Int64(counter)])
        }
        let refused = UUID()
        let outcomes = try org.hub.server.receive(
            [
                ChangeSet([
                    Change(
                        dot: Dot(replica: replica.id, counter: counter), kind: .request, recordID: refused,
                        context: VersionVector(),
                        fields: [
                            "key": .text("HR-LIS-50"), "customer": org.hub.department("HR"),
                            "provider": org.hub.department("IT"), "title": .text(String(repeating: "x", count: 201)),
                            "priority": .text("normal"), "state": .text("submitted"),
                        ], author: "ana", at: .now())
                ])
            ], from: org.hub.registry[replica.id]!)
        guard case .refused = outcomes.first else {
            Issue.record("the server accepted \(outcomes)")
            return
        }
        try org.syncAll()
        #expect(try hr.record(refused)?.exists == false)
        #expect(try org.hub.it.record(refused) == nil)
        try await org.inStep(hr, expected: 8)
        try await org.inStep(org.hub.it, expected: 7)
        // QA sees every record, the void-only one too.
        try await org.inStep(org.qa, expected: 8)
    }
}
