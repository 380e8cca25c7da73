import Foundation
import GRDB
import InternoModel
import Testing

@_spi(Database) @testable import InternoStore

@Suite("Sites and the server through the store")
struct SyncStoreTests {
    /// The record tables of every replica agree, and so do the query tables.
    func expectConverged(_ hub: Hub, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let tables = ["record", "department", "standard", "request", "comment", "feedback"]
        func rows(_ store: some ReplicaStore) throws -> [String] {
            try dump(store).filter { line in tables.contains { line.hasPrefix("\($0): ") } }
        }
        let central = try rows(hub.server)
        #expect(try rows(hub.hr) == central, sourceLocation: sourceLocation)
        #expect(try rows(hub.it) == central, sourceLocation: sourceLocation)
        for store in [hub.server, hub.hr, hub.it] as [any ReplicaStore] {
            #expect(try store.timelineDrift() == [], sourceLocation: sourceLocation)
        }
    }

    /// "Last seen" is kept to the minute: a connection within a minute of the recorded one
    /// writes nothing (no commit, no fsync on the server's one writer), a later one moves it,
    /// and a revoked site's attempts never do (DESIGN §4).
    @Test func aSiteSeenWithinAMinuteIsNotWrittenDownAgain() async throws {
        let hub = try Hub(.walFile)
        let row = try #require(hub.registry.values.first { $0.code == "HR-LIS" })
        func stored() throws -> Int64? { try hub.server.registry().first { $0.code == "HR-LIS" }?.lastSeenAt }
        let start: Int64 = 1_800_000_000_000
        func at(_ seconds: Int64) -> Timestamp { Timestamp(millisecondsSince1970: start + seconds * 1000) }
        #expect(try await hub.server.connect(fingerprint: row.fingerprint, at: at(0))?.lastSeenAt == start)
        #expect(try stored() == start)
        #expect(try await hub.server.connect(fingerprint: row.fingerprint, at: at(59))?.lastSeenAt == start)
        #expect(try stored() == start, "a connection within the minute is not written down")
        #expect(try await hub.server.connect(fingerprint: row.fingerprint, at: at(60))?.lastSeenAt == start + 60_000)
        #expect(try stored() == start + 60_000)
        try hub.server.revoke(try #require(ReplicaID(uuidString: row.replicaID)))
        #expect(try await hub.server.connect(fingerprint: row.fingerprint, at: at(600))?.revoked == true)
        #expect(try stored() == start + 60_000, "a revoked site's attempt is not 'last seen'")
        #expect(try await hub.server.connect(fingerprint: "no such certificate", at: at(600)) == nil)
    }

    @Test(arguments: Storage.allCases)
    func editsOfDifferentFieldsMergeWhateverTheOrderOfSyncs(storage: Storage) throws {
        let hub = try Hub(storage)
        let (id, _) = try hub.newRequest()
        try hub.sync(hub.hr)
        try hub.sync(hub.it)
        // Offline: HR raises the priority, IT assigns and starts.
        try hub.hr.write([Edit(.request, id, ["priority": .text("high")])], author: "ana")
        try hub.it.write([Edit(.request, id, ["assignee": .text("rui")])], author: "rui")
        try take("start", on: id, at: hub.it, author: "rui")
        let (other, _) = try hub.newRequest("Desk chair")
        try hub.sync(hub.it)
        try hub.sync(hub.hr)
        try hub.sync(hub.it)
        try expectConverged(hub)
        #expect(try value(hub.hr, id, "priority") == .value(.text("high")))
        #expect(try value(hub.hr, id, "assignee") == .value(.text("rui")))
        #expect(try value(hub.it, id, "state") == .value(.text("in_progress")))
        #expect(try hub.it.record(other) != nil)
        #expect(try hub.hr.conflicts().isEmpty)
    }

    @Test(arguments: Storage.allCases)
    func twoSitesOfOneDepartmentEditingOneFieldMakeAManualConflict(storage: Storage) throws {
        var hub = try Hub(storage)
        let lisbon = try hub.addSite(department: "IT", site: "LIS")
        let (id, key) = try hub.newRequest()
        try hub.sync(hub.hr)
        try hub.sync(hub.it)
        try hub.sync(lisbon)
        try hub.it.write([Edit(.request, id, ["assignee": .text("rui")])], author: "rui")
        try lisbon.write([Edit(.request, id, ["assignee": .text("marta")])], author: "marta")
        try hub.sync(hub.it)
        try hub.sync(lisbon)
        try hub.sync(hub.it)
        try hub.pull(hub.hr)
        for site in [hub.hr, hub.it, lisbon, hub.server] as [any ReplicaStore] {
            let conflict = try #require(try site.conflicts().first)
            #expect(conflict.label == key)
            #expect(conflict.fields.map(\.field) == ["assignee"])
            #expect(Set(conflict.fields[0].siblings.map(\.value)) == [.text("rui"), .text("marta")])
            // Meanwhile the provisional value is the sibling with the highest dot, flagged.
            let provisional = conflict.fields[0].siblings.max { $0.dot < $1.dot }!.value
            #expect(
                try value(site, id, "assignee")
                    == .conflict(provisional: provisional, siblings: conflict.fields[0].siblings))
        }
        try expectConverged(hub)
        // Two concurrent resolutions make a new, smaller conflict; neither is lost.
        try hub.it.write([Edit(.request, id, ["assignee": .text("rui")])], author: "rui")
        try lisbon.write([Edit(.request, id, ["assignee": .text("marta")])], author: "marta")
        try hub.sync(hub.it)
        try hub.sync(lisbon)
        try hub.sync(hub.it)
        let again = try #require(try hub.it.conflicts().first?.fields.first)
        #expect(again.siblings.count == 2)
        try lisbon.write([Edit(.request, id, ["assignee": .text("rui")])], author: "marta")
        try hub.sync(lisbon)
        try hub.sync(hub.it)
        #expect(try hub.it.conflicts().isEmpty)
        #expect(try value(hub.it, id, "assignee") == .value(.text("rui")))
    }

    @Test(arguments: Storage.allCases)
    func aConflictIsVisibleOnBothSitesAndOneResolutionClearsItEverywhere(storage: Storage) throws {
        let hub = try Hub(storage)
        let (id, key) = try hub.newRequest()
        try hub.sync(hub.hr)
        try hub.sync(hub.it)
        try take("start", on: id, at: hub.it, author: "rui")
        try hub.sync(hub.it)
        try hub.pull(hub.hr)
        // Offline on both sides: IT delivers, HR cancels. Neither saw the other.
        try take("deliver", on: id, at: hub.it, author: "rui")
        try hub.hr.write([Edit(.request, id, ["state": .text("cancelled")])], author: "ana")
        try hub.sync(hub.hr)
        try hub.sync(hub.it)
        try hub.sync(hub.hr)
        for site in [hub.hr, hub.it, hub.server] as [any ReplicaStore] {
            let conflicts = try site.conflicts()
            #expect(conflicts.map(\.label) == [key])
            let field = try #require(conflicts.first?.fields.first)
            #expect(field.field == "state")
            #expect(Set(field.siblings.map(\.value)) == [.text("delivered"), .text("cancelled")])
            #expect(Set(field.siblings.map(\.author)) == ["rui", "ana"])
            #expect(Set(field.siblings.map(\.dot.replica)) == [try hub.hr.replica().id, try hub.it.replica().id])
            #expect(try site.requests().first?.conflicted == true)
        }
        try expectConverged(hub)
        // HR resolves by picking "cancelled"; after the next syncs the conflict is gone everywhere.
        try hub.hr.write([Edit(.request, id, ["state": .text("cancelled")])], author: "ana")
        #expect(try hub.hr.conflicts().isEmpty)
        try hub.sync(hub.hr)
        try hub.sync(hub.it)
        for site in [hub.hr, hub.it, hub.server] as [any ReplicaStore] {
            #expect(try site.conflicts().isEmpty)
            #expect(try value(site, id, "state") == .value(.text("cancelled")))
        }
        try expectConverged(hub)
        // The history shows the conflict and its resolution, with who and when.
        let history = try hub.it.history(of: id)
        #expect(history.contains { $0.conflicted == ["state"] })
        let resolution = try #require(history.last)
        #expect(resolution.resolved == ["state"])
        #expect(resolution.change.author == "ana")
    }

    @Test(arguments: Storage.allCases)
    func aRefusedChangeIsRolledBackOnItsSiteAndStaysVisible(storage: Storage) throws {
        let hub = try Hub(storage)
        let (id, _) = try hub.newRequest()
        try hub.sync(hub.hr)
        try hub.sync(hub.it)
        // IT acknowledges offline; meanwhile the server's admin retires... simpler: IT's site
        // was behind and the server refuses a forged change that the site did check — so forge
        // the site's log directly, as a buggy or tampered client would.
        let forged = try forgeChange(on: hub.it, record: id, fields: ["title": .text("Renamed by IT")])
        let counter = forged.dot.counter
        #expect(try value(hub.it, id, "title") == .value(.text("Renamed by IT")))
        let outcomes = try hub.push(hub.it)
        guard case .refused(let refusal, _) = outcomes.first else {
            Issue.record("expected a refusal, got \(outcomes)")
            return
        }
        // Rolled back on the site, and visible with the reason.
        #expect(try value(hub.it, id, "title") == .value(.text("Laptop for new hire")))
        let refused = try hub.it.outbox(statuses: [.refused])
        #expect(refused.count == 1)
        #expect(refused.first?.row.refusalReason == refusal.message)
        #expect(refused.first?.changeSet.changes.first?.fields["title"] == .text("Renamed by IT"))
        #expect(try hub.it.pendingChangeSets().isEmpty)
        try hub.pull(hub.it)
        try hub.sync(hub.hr)
        try expectConverged(hub)
        // A person discards it; the history keeps it, void, with the reason.
        try hub.it.discardRefused(firstCounter: counter)
        #expect(try hub.it.outbox().isEmpty)
        let history = try hub.it.history(of: id)
        #expect(history.contains { $0.change.refusal == refusal })
    }

    @Test func aSiteLearnsARefusalFromTheStreamWhenThePushResultWasLost() throws {
        let hub = try Hub(.memory)
        let (id, _) = try hub.newRequest()
        try hub.sync(hub.hr)
        try hub.pull(hub.it)
        let forged = try forgeChange(on: hub.it, record: id, fields: ["priority": .text("low")])
        // The server refuses, but the connection breaks before the site hears it.
        _ = try hub.server.receive(ChangeSet([forged]), from: hub.registry[forged.dot.replica]!)
        let summary = try hub.pull(hub.it)
        #expect(summary.refusals == [forged.dot])
        #expect(try value(hub.it, id, "priority") == .value(.text("normal")))
        #expect(try hub.it.outbox(statuses: [.refused]).count == 1)
        try hub.pull(hub.hr)
        try expectConverged(hub)
    }

    /// Protocol §5.4: a pull leaves out exactly the puller's own sets that it names, and the
    /// cursor moves over them as over any others.
    @Test(arguments: Storage.allCases)
    func aPullLeavesOutTheOwnSetsItNames(storage: Storage) throws {
        let hub = try Hub(storage)
        let (id, _) = try hub.newRequest()
        try hub.hr.write([Edit(.request, id, ["title": .text("Second")])], author: "ana")
        try hub.hr.write([Edit(.request, id, ["priority": .text("high")])], author: "ana")
        let hr = try hub.hr.replica().id
        let pushed = try hub.pushed(hub.hr)
        #expect(pushed.map(\.outcome) == [.accepted, .accepted, .accepted])
        try hub.pull(hub.it)
        try hub.it.write([Edit(.request, id, ["assignee": .text("rui")])], author: "rui")
        try hub.push(hub.it)

        let everything = try hub.server.changes(after: 0, limit: 100, scope: .all)
        #expect(everything.sets.filter { $0.replica == hr }.count == 3)
        // Sets 1 and 3 named (and a range of counters HR never wrote): set 2 still comes.
        let own = OwnSets(of: hr, [3...3, 1...1, 40...50])
        let leftOut = try hub.server.changes(after: 0, limit: 100, scope: .all, leavingOut: own)
        #expect(leftOut.sets.filter { $0.replica == hr }.map(\.firstCounter) == [2])
        #expect(leftOut.sets == everything.sets.filter { !($0.replica == hr && $0.firstCounter != 2) })
        #expect(leftOut.nextCursor == everything.nextCursor && leftOut.more == everything.more)
        // Another replica's counters are not the site's: IT's set 1 is not left out for HR.
        #expect(leftOut.sets.contains { $0.replica != hr && $0.firstCounter == 1 })
        // Paged one change at a time, the cursor moves over the left-out sets as over any.
        var cursor: Int64 = 0
        var paged: [ChangeSet] = []
        while true {
            let batch = try hub.server.changes(after: cursor, limit: 1, scope: .all, leavingOut: own)
            paged += batch.sets
            cursor = batch.nextCursor
            if !batch.more { break }
        }
        #expect(paged == leftOut.sets && cursor == everything.nextCursor)
    }

    /// A sync as the engine runs it pulls back none of the sets it pushed, and a site restored
    /// from a backup still gets back what it lost.
    @Test(arguments: Storage.allCases)
    func aSyncDoesNotPullBackWhatItPushedButARestoredSiteGetsItsLossBack(storage: Storage) throws {
        var hub = try Hub(storage)
        hub.pullLimit = 100
        let (id, _) = try hub.newRequest()
        try hub.hr.write([Edit(.request, id, ["title": .text("Second")])], author: "ana")
        let backup = try DatabaseQueue()
        try hub.hr.writer.backup(to: backup)
        try hub.hr.write([Edit(.request, id, ["priority": .text("high")])], author: "ana")
        let before = try hub.hr.replica().cursor
        let first = try hub.sync(hub.hr)
        // Nothing came back, yet the cursor reached the end of the stream.
        #expect(first.applied == 0 && first.alreadyHad == 0)
        #expect(try hub.hr.replica().cursor > before)
        #expect(try hub.hr.replica().cursor == hub.server.latestSequence())
        // As an earlier client, a site gets its own sets back and skips them.
        var old = hub
        old.leavesOutOwnSets = false
        try hub.hr.write([Edit(.request, id, ["title": .text("Third")])], author: "ana")
        #expect(try old.sync(hub.hr).alreadyHad == 1)
        hub.hr = try SiteStore(writer: backup)
        #expect(try hub.hr.record(id)?.value(of: "priority") == .text("normal"))
        // The copy still had its first two sets queued: pushed again they are duplicates, which
        // come back (only accepted sets are left out) and are skipped; the two it lost return.
        let restored = try hub.sync(hub.hr)
        #expect(restored.applied == 2 && restored.alreadyHad == 2)
        #expect(try hub.hr.record(id)?.value(of: "priority") == .text("high"))
        #expect(try hub.hr.record(id)?.value(of: "title") == .text("Third"))
        try hub.sync(hub.it)
        try expectConverged(hub)
    }

    @Test(arguments: Storage.allCases)
    func pullingIsAtomicAndIdempotent(storage: Storage) throws {
        let hub = try Hub(storage)
        let (id, _) = try hub.newRequest()
        try hub.hr.write([Edit(.request, id, ["title": .text("Second")])], author: "ana")
        try hub.push(hub.hr)
        let cursor = try hub.it.replica().cursor
        let batch = try hub.server.changes(after: cursor, limit: 100)
        #expect(batch.sets.count == 2)
        // Applying the batch twice: the second time changes nothing but the (same) cursor.
        let first = try hub.it.applyPulled(batch)
        #expect(first.applied == 2)
        let after = try dump(hub.it)
        let again = try hub.it.applyPulled(batch)
        #expect(again.applied == 0 && again.alreadyHad == 2)
        #expect(try dump(hub.it) == after)
        // A batch missing a causal predecessor throws and applies nothing, cursor included.
        let hub2 = try Hub(storage)
        let (id2, _) = try hub2.newRequest()
        try hub2.hr.write([Edit(.request, id2, ["title": .text("Second")])], author: "ana")
        try hub2.push(hub2.hr)
        let full = try hub2.server.changes(after: try hub2.it.replica().cursor, limit: 100)
        let gapped = ChangeBatch(sets: [full.sets[1]], nextCursor: full.nextCursor, more: false)
        let before = try dump(hub2.it)
        #expect(throws: StoreError.self) { try hub2.it.applyPulled(gapped) }
        #expect(try dump(hub2.it) == before)
    }

    @Test(arguments: Storage.allCases)
    func recordsAndQueryTablesRebuildFromTheLog(storage: Storage) throws {
        let hub = try Hub(storage)
        let (id, _) = try hub.newRequest()
        try hub.sync(hub.hr)
        try hub.sync(hub.it)
        try take("start", on: id, at: hub.it, author: "rui", extra: ["assignee": .text("rui")])
        try hub.hr.write([Edit(.comment, UUID(), ["request": .id(id), "body": .text("Thanks!")])], author: "ana")
        try hub.sync(hub.it)
        try hub.sync(hub.hr)
        for store in [hub.server, hub.hr, hub.it] as [any ReplicaStore] {
            let before = try dump(store)
            try store.writer.write { db in
                try db.execute(
                    sql: "DELETE FROM record; DELETE FROM request; DELETE FROM comment; DELETE FROM department")
            }
            try store.rebuildAll()
            #expect(try dump(store) == before)
        }
    }

    @Test func editsOfARecordWhoseCreationWasRefusedAreRefusedWithTheReason() throws {
        let hub = try Hub(.memory)
        let (id, _) = try hub.newRequest()
        let set = try #require(try hub.hr.pendingChangeSets().first)
        try hub.hr.markRefused(
            firstCounter: set.firstCounter, Refusal(.notPermitted, "HR may not raise requests to IT today"))
        #expect(try hub.hr.record(id)?.exists == false)
        #expect(try hub.hr.requests().isEmpty)
        do {
            try hub.hr.write([Edit(.request, id, ["title": .text("Again")])], author: "ana")
            Issue.record("an edit of a refused creation was accepted")
        } catch StoreError.refused(let refusal) {
            #expect(refusal.code == .creationRefused)
            #expect(refusal.message.contains("HR may not raise requests to IT today"))
        }
    }

    @Test func departmentCodesAndRequestKeysAreUnique() throws {
        let hub = try Hub(.memory)
        #expect(throws: StoreError.refused(Refusal(.duplicate, "a department with code IT already exists"))) {
            try hub.server.write(
                [
                    Edit(
                        .department, UUID(),
                        [
                            "code": .text("IT"), "name": .text("IT again"), "timeZone": .text("UTC"),
                            "hours": .text("mon-fri 09:00-17:00"),
                        ])
                ], author: "admin")
        }
        let (_, key) = try hub.newRequest()
        #expect(throws: StoreError.self) {
            try hub.hr.write(
                [
                    Edit(
                        .request, UUID(),
                        [
                            "key": .text(key), "customer": hub.department("HR"), "provider": hub.department("IT"),
                            "title": .text("dup"), "priority": .text("low"), "state": .text("submitted"),
                        ])
                ], author: "ana")
        }
        // A site may only use its own key prefix.
        #expect(throws: StoreError.self) {
            try hub.hr.write(
                [
                    Edit(
                        .request, UUID(),
                        [
                            "key": .text("IT-OPO-1"), "customer": hub.department("HR"),
                            "provider": hub.department("IT"),
                            "title": .text("forged key"), "priority": .text("low"), "state": .text("submitted"),
                        ])
                ], author: "ana")
        }
    }

    /// Request keys are unique as the database compares them, byte for byte, within one write
    /// and one Push as across them. Two keys equal to Swift's `==` but not in their bytes are
    /// two keys to SQLite: a batch that held them in a `String`-keyed table refused the second
    /// as a duplicate, which the same two writes in two batches were not.
    @Test func requestKeysAreComparedByTheirBytesWithinOneBatch() throws {
        let hub = try Hub(.memory)
        let composed = "HR-LIS-\u{C5}"  // Å as one code point
        let decomposed = "HR-LIS-A\u{30A}"  // A and a combining ring
        #expect(composed == decomposed && !composed.utf8.elementsEqual(decomposed.utf8))
        func edit(_ key: String) -> Edit {
            Edit(
                .request, UUID.timeOrdered(),
                [
                    "key": .text(key), "customer": hub.department("HR"), "provider": hub.department("IT"),
                    "title": .text("Key \(key.unicodeScalars.count)"), "priority": .text("low"),
                    "state": .text("submitted"),
                ])
        }
        // One write: one change set, judged as one batch on the site.
        try hub.hr.write([edit(composed), edit(decomposed)], author: "ana")
        // One Push: judged as one batch on the server.
        #expect(try hub.push(hub.hr) == [.accepted])
        for store in [hub.hr as any ReplicaStore, hub.server] {
            let keys = try store.requests().map(\.key)
            #expect(keys.count == 2)
            #expect(keys.contains { $0.utf8.elementsEqual(composed.utf8) }, "\(keys)")
            #expect(keys.contains { $0.utf8.elementsEqual(decomposed.utf8) }, "\(keys)")
        }
        // The same bytes again are one key: refused, in a batch of their own or beside a new key.
        #expect(throws: StoreError.self) { try hub.hr.write([edit(decomposed)], author: "ana") }
        #expect(throws: StoreError.self) { try hub.hr.write([edit("HR-LIS-NEW"), edit(composed)], author: "ana") }
        #expect(try hub.hr.requests().count == 2)
    }
}
