import Foundation
import GRDB
import InternoModel
import Testing

@_spi(Database) @testable import InternoStore

/// What each site receives and keeps (DESIGN §6.1): the server decides from the registry.
@Suite("Scopes: each site receives and keeps only what its department may see")
struct ScopeTests {
    /// HR and IT sites, a Facilities site that is party to nothing, and a whole-organisation
    /// QA site; one request from HR to IT with a comment, everyone synced.
    struct Organisation {
        var hub: Hub
        let fac: SiteStore
        let qa: SiteStore
        let request: UUID
        let key: String
        let comment: UUID

        init(_ storage: Storage) throws {
            var hub = try Hub(storage)
            try hub.addDepartment("QA")
            fac = try hub.addSite(department: "FAC", site: "LIS")
            qa = try hub.addSite(department: "QA", site: "LIS", scope: .all)
            (request, key) = try hub.newRequest("Salary review for Marta")
            comment = UUID()
            try hub.hr.write(
                [Edit(.comment, comment, ["request": .id(request), "body": .text("see her contract")])],
                author: "ana")
            self.hub = hub
            try syncAll()
        }

        func syncAll() throws {
            for site in [hub.hr, hub.it, fac, qa] { try hub.sync(site) }
            for site in [hub.hr, hub.it, fac, qa] { try hub.sync(site) }
        }

        /// A change by `site` with its next counter, as a tampered client would push it.
        func forged(
            by site: SiteStore, _ kind: RecordKind, _ id: UUID, context: VersionVector = VersionVector(),
            _ fields: [FieldName: FieldValue]
        ) throws -> ChangeSet {
            // The next counter neither the site nor the server has used; the tampered client
            // took it, so the site's own next write does not reuse it.
            let replica = try site.replica()
            let counter = max(UInt64(replica.counter), try hub.server.highestCounter(of: replica.id)) + 1
            try site.writer.write { db in
                try db.execute(sql: "UPDATE replica SET counter = ?", arguments: [Int64(counter)])
            }
            return ChangeSet([
                Change(
                    dot: Dot(replica: replica.id, counter: counter), kind: kind, recordID: id,
                    context: context, fields: fields, author: "mallory", at: .now())
            ])
        }

        func receive(_ set: ChangeSet, from site: SiteStore) throws -> PushOutcome {
            try hub.server.receive(set, from: hub.registry[try site.replica().id]!)
        }
    }

    @Test(arguments: Storage.allCases)
    func aSiteReceivesItsDepartmentsRecordsAndTheDirectoryOnly(storage: Storage) throws {
        let org = try Organisation(storage)
        for site in [org.hub.hr, org.hub.it, org.qa] {
            #expect(try site.record(org.request)?.exists == true)
            #expect(try site.record(org.comment)?.exists == true)
        }
        #expect(try org.fac.record(org.request) == nil)
        #expect(try org.fac.record(org.comment) == nil)
        #expect(try org.fac.requests().isEmpty)
        // Every site has the whole directory.
        for site in [org.hub.hr, org.hub.it, org.fac, org.qa] {
            #expect(try site.records(of: .department).count == 4)
        }
        // The whole-organisation site holds exactly what the server holds.
        #expect(try org.qa.records(of: .request) == org.hub.server.records(of: .request))
        #expect(try org.qa.records(of: .comment) == org.hub.server.records(of: .comment))
    }

    @Test func aSiteWithNothingNewInScopeStillMovesToTheEndOfTheStream() throws {
        let org = try Organisation(.memory)
        let facCursor = try org.fac.replica().cursor
        // Twenty more changes between HR and IT, none of them Facilities' business.
        for index in 0..<20 {
            try org.hub.hr.write(
                [Edit(.request, org.request, ["title": .text("Salary review \(index)")])], author: "ana")
        }
        try org.hub.push(org.hub.hr)
        let batch = try org.hub.server.changes(after: facCursor, limit: 5, scope: try org.hub.scope(of: org.fac))
        #expect(batch.sets.isEmpty)
        #expect(batch.more == false)
        #expect(batch.nextCursor == (try org.hub.server.latestSequence()))
        // IT, in scope, is told there is more after each batch of five.
        let it = try org.hub.server.changes(
            after: try org.hub.it.replica().cursor, limit: 5, scope: try org.hub.scope(of: org.hub.it))
        #expect(it.sets.count == 5)
        #expect(it.more)
    }

    /// A department's stream is read through its audience entries, its changes a few hundred
    /// at a time: across those reads it is exactly the department's share of the whole stream,
    /// in the stream's order, none left out or read twice.
    @Test func aDepartmentsStreamIsItsShareOfTheWholeStreamInOrder() throws {
        let org = try Organisation(.walFile)
        let cursor = try org.hub.it.replica().cursor
        // HR's requests to IT and to Facilities, interleaved: 700 changes, 400 of them IT's.
        let toFacilities = UUID()
        try org.hub.hr.write(
            [
                Edit(
                    .request, toFacilities,
                    [
                        "key": .text(try org.hub.hr.nextRequestKey()), "customer": org.hub.department("HR"),
                        "provider": org.hub.department("FAC"), "title": .text("Keys for Marta"),
                        "priority": .text("normal"), "state": .text("submitted"),
                    ])
            ], author: "ana")
        for index in 0..<699 {
            let request = index % 7 < 4 ? org.request : toFacilities
            try org.hub.hr.write([Edit(.request, request, ["title": .text("Version \(index)")])], author: "ana")
        }
        try org.hub.push(org.hub.hr)
        let everything = try org.hub.server.changes(after: cursor, limit: 10_000, scope: .all).sets.flatMap(\.changes)
        let its = try org.hub.server.changes(after: cursor, limit: 10_000, scope: try org.hub.scope(of: org.hub.it))
            .sets.flatMap(\.changes)
        #expect(everything.count == 700)
        #expect(its.map(\.dot) == everything.filter { $0.recordID == org.request }.map(\.dot))
        #expect(its.count == 400)
    }

    @Test(arguments: Storage.allCases)
    func aPushTouchingARecordOutsideTheScopeIsRefusedAsIfItDidNotExist(storage: Storage) throws {
        let org = try Organisation(storage)
        let before = try dump(org.hub.server)
        let clock = try #require(try org.hub.server.record(org.request)).clock
        let unknown = UUID()
        func refusal(_ outcome: PushOutcome) -> Refusal? {
            if case .refused(let refusal, _) = outcome { return refusal }
            return nil
        }
        // Acknowledge it, with what the request's clock really is, and with nothing.
        for (id, context) in [(org.request, clock), (org.request, VersionVector()), (unknown, VersionVector())] {
            let set = try org.forged(
                by: org.fac, .request, id, context: context,
                ["state": .text("acknowledged"), "firstResponseAt": .time(.now())])
            let refused = try #require(refusal(try org.receive(set, from: org.fac)))
            #expect(refused.code == .notFound)
            #expect(refused.message.hasPrefix("there is no request \(id.uuidString.lowercased()) that FAC can see"))
        }
        // Comment on it, and rate it: the same answer as for a request that does not exist.
        for request in [org.request, unknown] {
            let comment = try org.forged(by: org.fac, .comment, UUID(), ["request": .id(request), "body": .text("x")])
            let feedback = try org.forged(
                by: org.fac, .feedback, Schema.feedbackID(request: request, by: .customer),
                ["request": .id(request), "by": .text("customer"), "rating": .integer(1)])
            for set in [comment, feedback] {
                let refused = try #require(refusal(try org.receive(set, from: org.fac)))
                #expect(refused.code == .notFound)
                #expect(refused.message.contains("does not exist"))
            }
        }
        // Nothing of it is stored: no void, no log entry, no row.
        #expect(try dump(org.hub.server) == before)
        // The whole-organisation site may see it, but writes only as QA: not permitted.
        let qaComment = try org.forged(
            by: org.qa, .comment, UUID(), ["request": .id(org.request), "body": .text("audit note")])
        #expect(refusal(try org.receive(qaComment, from: org.qa))?.code == .notPermitted)
    }

    @Test func aPushNamingAStandardOutsideTheScopeMeetsNotFound() throws {
        let org = try Organisation(.memory)
        // A standard between IT and Facilities: not HR's business.
        let standard = UUID()
        let terms: [FieldName: FieldValue] = [
            "service": .text("Desks"), "ackTarget": .duration(3600), "deliverTarget": .duration(86_400),
            "csatTarget": .integer(80), "complianceTarget": .integer(90),
        ]
        try org.hub.it.write(
            [
                Edit(
                    .standard, standard,
                    terms.merging(["provider": org.hub.department("IT"), "customer": org.hub.department("FAC")]) {
                        $1
                    })
            ], author: "rui")
        try org.syncAll()
        #expect(try org.hub.hr.record(standard) == nil)
        let before = try dump(org.hub.server)
        // HR names it: a request under it, and a standard that supersedes it.
        let request = try org.forged(
            by: org.hub.hr, .request, UUID(),
            [
                "key": .text("HR-LIS-90"), "customer": org.hub.department("HR"), "provider": org.hub.department("IT"),
                "title": .text("x"), "priority": .text("low"), "state": .text("submitted"), "standard": .id(standard),
            ])
        let superseding = try org.forged(
            by: org.hub.hr, .standard, UUID(),
            terms.merging([
                "provider": org.hub.department("IT"), "customer": org.hub.department("HR"), "supersedes": .id(standard),
            ]) { $1 })
        for set in [request, superseding] {
            guard case .refused(let refusal, _) = try org.receive(set, from: org.hub.hr) else {
                Issue.record("a push naming a standard HR cannot see was not refused")
                continue
            }
            #expect(refusal.code == .notFound, "\(refusal.message)")
            #expect(refusal.message.contains("does not exist"), "\(refusal.message)")
        }
        // As for a standard that does not exist at all, the refusal of a creation is kept
        // for HR alone; nothing of the standard it named is touched.
        #expect(try org.hub.server.record(standard) == org.hub.it.record(standard))
        #expect(
            try dump(org.hub.server).filter { $0.hasPrefix("standard: ") }
                == before.filter { $0.hasPrefix("standard: ") })
    }

    @Test func aRecordsPartiesNeverChangeNotEvenThroughASecondCreation() throws {
        let org = try Organisation(.memory)
        // IT is a party and writes a second "creation" of HR's request, naming itself customer.
        let second = try org.forged(
            by: org.hub.it, .request, org.request,
            [
                "key": .text("IT-OPO-1"), "customer": org.hub.department("IT"), "provider": org.hub.department("HR"),
                "title": .text("mine now"), "priority": .text("low"), "state": .text("submitted"),
            ])
        guard case .refused(let refusal, _) = try org.receive(second, from: org.hub.it) else {
            Issue.record("a second creation with other parties was accepted")
            return
        }
        #expect(refusal.code == .immutable)
        #expect(try value(org.hub.server, org.request, "customer") == .value(org.hub.department("HR")))
        // Two sites of one department rating offline write the same fixed fields: both stand.
        try take("start", on: org.request, at: org.hub.it, author: "rui")
        try take("deliver", on: org.request, at: org.hub.it, author: "rui")
        try org.syncAll()
        var hub = org.hub
        let hrPorto = try hub.addSite(department: "HR", site: "POR")
        let feedback = Schema.feedbackID(request: org.request, by: .customer)
        for (site, rating) in [(hub.hr, 4), (hrPorto, 2)] {
            try site.write(
                [
                    Edit(
                        .feedback, feedback,
                        ["request": .id(org.request), "by": .text("customer"), "rating": .integer(Int64(rating))])
                ], author: "ana")
        }
        #expect(try hub.push(hub.hr) == [.accepted])
        #expect(try hub.push(hrPorto) == [.accepted])
        #expect(try value(hub.server, feedback, "rating").isConflict)
    }

    @Test func aVoidGoesToWhoeverMaySeeItsRecordAndARefusedCreationToItsWriterOnly() throws {
        let org = try Organisation(.memory)
        // IT's refused title edit (only the customer edits titles) reaches HR and IT, not FAC.
        let clock = try #require(try org.hub.it.record(org.request)).clock
        let edit = try org.forged(by: org.hub.it, .request, org.request, context: clock, ["title": .text("x")])
        guard case .refused = try org.receive(edit, from: org.hub.it) else {
            Issue.record("IT's title edit was not refused")
            return
        }
        // HR's refused creation (a request to itself) reaches HR only.
        let selfRequest = UUID()
        let creation = try org.forged(
            by: org.hub.hr, .request, selfRequest,
            [
                "key": .text("HR-LIS-99"), "customer": org.hub.department("HR"), "provider": org.hub.department("HR"),
                "title": .text("to myself"), "priority": .text("low"), "state": .text("submitted"),
            ])
        guard case .refused = try org.receive(creation, from: org.hub.hr) else {
            Issue.record("a request to itself was not refused")
            return
        }
        let latest = try org.hub.server.latestSequence()
        func voids(for site: SiteStore) throws -> Set<Dot> {
            let batch = try org.hub.server.changes(after: latest - 2, limit: 10, scope: try org.hub.scope(of: site))
            return Set(batch.sets.flatMap(\.changes).filter(\.isVoid).map(\.dot))
        }
        let editDot = edit.changes[0].dot
        let creationDot = creation.changes[0].dot
        #expect(try voids(for: org.hub.it) == [editDot])
        #expect(try voids(for: org.hub.hr) == [editDot, creationDot])
        #expect(try voids(for: org.fac).isEmpty)
        #expect(try voids(for: org.qa) == [editDot, creationDot])
    }

    @Test func aRefusedRequestsIdIsNotTakenAgainBySomeoneItsVoidNeverReached() throws {
        let org = try Organisation(.memory)
        let id = UUID()
        var fields: [FieldName: FieldValue] = [
            "key": .text("HR-LIS-98"), "customer": org.hub.department("HR"), "provider": org.hub.department("IT"),
            "title": .text(String(repeating: "x", count: 201)), "priority": .text("low"), "state": .text("submitted"),
        ]
        guard case .refused = try org.receive(try org.forged(by: org.hub.hr, .request, id, fields), from: org.hub.hr)
        else {
            Issue.record("an over-long title was accepted")
            return
        }
        // The void went to HR alone; a creation under the same id would reach IT, which never
        // got it, so the id is not taken again.
        fields["title"] = .text("fine now")
        fields["key"] = .text("HR-LIS-97")
        guard
            case .refused(let refusal, _) = try org.receive(
                try org.forged(by: org.hub.hr, .request, id, fields), from: org.hub.hr)
        else {
            Issue.record("a creation under a refused request's id was accepted")
            return
        }
        #expect(refusal.code == .duplicate)
        #expect(refusal.message.contains("takes a new id"))
    }

    @Test(arguments: Storage.allCases)
    func aSiteThatHeldOtherDepartmentsDataKeepsOnlyItsScopeAfterItsFirstScopedSync(storage: Storage) throws {
        let org = try Organisation(storage)
        // A Facilities site as an earlier release left it: every department's changes applied.
        var hub = org.hub
        let old = try hub.addSite(department: "FAC", site: "OPO")
        let everything = try hub.server.changes(after: 0, limit: 10_000, scope: .all)
        try old.applyPulled(everything)
        try old.writer.write { db in try db.execute(sql: "UPDATE replica SET scope = NULL") }
        #expect(try old.record(org.request)?.exists == true)
        // Its own work stays, whatever happens.
        try old.write(
            [
                Edit(
                    .standard, UUID(),
                    [
                        "provider": hub.department("FAC"), "customer": hub.department("IT"), "service": .text("Desks"),
                        "ackTarget": .duration(3600), "deliverTarget": .duration(86_400), "csatTarget": .integer(80),
                        "complianceTarget": .integer(90),
                    ])
            ], author: "eva")
        try hub.sync(old)
        #expect(try old.record(org.request) == nil)
        #expect(try old.record(org.comment) == nil)
        #expect(try old.requests().isEmpty)
        let rows = try old.writer.read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM change WHERE record IN (?, ?)",
                arguments: [org.request.uuidString.lowercased(), org.comment.uuidString.lowercased()])
        }
        #expect(rows == 0)
        #expect(try old.records(of: .standard).count == 1)
        #expect(try old.records(of: .department).count == 4)
        #expect(try old.pendingChangeSets().isEmpty)
        // It now holds what a Facilities site enrolled today holds, and its own standard.
        #expect(try old.records(of: .department) == org.fac.records(of: .department))
        if storage == .walFile {
            let bytes = fileBytes(hub.directory, "FAC-OPO").compactMap { $0 }.reduce(Data(), +)
            #expect(bytes.range(of: Data("Salary review".utf8)) == nil)
            #expect(bytes.range(of: Data("see her contract".utf8)) == nil)
        }
    }
}
