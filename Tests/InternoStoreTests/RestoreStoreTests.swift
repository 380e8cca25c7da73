import Foundation
import GRDB
import InternoModel
import Testing

@testable import InternoStore

/// A site restored from a backup heals through the store calls the sync engine makes
/// (DESIGN §3.9), on real WAL files.
@Suite("Restores, in the store")
struct RestoreStoreTests {
    /// A site's database (HR's by default) as a backup taken now, to open as the site looks
    /// after a restore.
    func backup(_ hub: Hub, _ name: String, of site: SiteStore? = nil) throws -> () throws -> SiteStore {
        let path = hub.directory.path("\(name)-backup.sqlite")
        try (site ?? hub.hr).backup(to: path)
        return { try SiteStore.open(path: path, concurrentReads: false) }
    }

    /// HR restored from a backup taken before its Badge reached the server, and then raising
    /// a Desk under the Badge's counter: its pull has set the Desk aside (DESIGN §3.9), and
    /// nothing has brought it back yet. Returns the hub and the Desk's id.
    func hubWithARequestSetAside() throws -> (hub: Hub, desk: UUID) {
        var hub = try Hub(.walFile)
        _ = try hub.newRequest("Laptop")
        try hub.sync(hub.hr)
        let restore = try backup(hub, "hr")
        _ = try hub.newRequest("Badge")
        try hub.sync(hub.hr)
        hub.hr = try restore()
        let (desk, _) = try hub.newRequest("Desk")
        _ = try hub.hr.prepare(
            heldCounters: try hub.server.heldCounters(of: try hub.hr.replica().id), cursorReset: false)
        try hub.pull(hub.hr)
        return (hub, desk)
    }

    /// A hub whose request, raised by HR, both sites hold, and a backup of IT's database taken
    /// then: the copy IT is restored from. Returns the hub, the request's id, and what opens
    /// the copy.
    func hubWithARequestBothSitesHold() throws -> (hub: Hub, id: UUID, restoreIT: () throws -> SiteStore) {
        let hub = try Hub(.walFile)
        let (id, _) = try hub.newRequest("Laptop")
        try hub.sync(hub.hr)
        try hub.sync(hub.it)
        return (hub, id, try backup(hub, "it", of: hub.it))
    }

    /// HR and IT hold request `id` exactly as the server does.
    func expectBothSitesHoldWhatTheServerHolds(
        _ id: UUID, _ hub: Hub, sourceLocation: SourceLocation = #_sourceLocation
    )
        throws
    {
        #expect(try hub.hr.record(id) == hub.server.record(id), sourceLocation: sourceLocation)
        #expect(try hub.it.record(id) == hub.server.record(id), sourceLocation: sourceLocation)
    }

    /// IT takes the lifecycle step `verb` on request `id` at `site`, with the fields it writes.
    func take(_ verb: String, on id: UUID, at site: SiteStore) throws {
        let record = try #require(try site.record(id))
        let at = Timestamp.now()
        var fields = Schema.stepWrites(Schema.requestLifecycle.step(named: verb)!, seen: record, at: at)
        if verb == "decline" { fields["declineReason"] = .text("out of stock") }
        try site.write([Edit(.request, id, fields)], author: "rui", at: at)
    }

    @Test func whatBothStretchesWroteToOneFieldIsAConflictNotASilentWinner() throws {
        var hub = try Hub(.walFile)
        let (id, _) = try hub.newRequest("Laptop")
        try hub.sync(hub.hr)
        let restore = try backup(hub, "hr")
        // Written after the backup, and accepted: the stretch the restore loses.
        try hub.hr.write([Edit(.request, id, ["title": .text("Laptop, from the lost stretch")])], author: "ana")
        try hub.sync(hub.hr)
        // Restored, the site edits the same field before it syncs, and another one.
        hub.hr = try restore()
        try hub.hr.write([Edit(.request, id, ["title": .text("Laptop A")])], author: "ana")
        try hub.hr.write([Edit(.request, id, ["details": .text("16 GB")])], author: "ana")
        try hub.sync(hub.hr)
        try hub.sync(hub.it)
        // The lost stretch's title was never seen by the restored site's write: it stays, in
        // a conflict a person resolves, beside what the restored site wrote.
        let titles = Set(try #require(try hub.server.record(id)).siblings("title").compactMap(\.value.text))
        #expect(titles == ["Laptop, from the lost stretch", "Laptop A"])
        #expect(try value(hub.server, id, "details") == .value(.text("16 GB")))
        for site in [hub.hr, hub.it] {
            #expect(try site.record(id) == hub.server.record(id))
            #expect(try site.outbox().isEmpty)
        }
    }

    @Test func stepsTakenAfterARestoreFollowEachOtherWhateverTheLostStretchDid() throws {
        let (start, id, restore) = try hubWithARequestBothSitesHold()
        var hub = start
        // IT acknowledges, syncs, and is restored from before that.
        func step(_ verb: String) throws { try take(verb, on: id, at: hub.it) }
        try step("ack")
        try hub.sync(hub.it)
        hub.it = try restore()
        // Not knowing it had acknowledged, it starts the work and delivers it.
        try step("start")
        try step("deliver")
        try hub.sync(hub.it)
        try hub.sync(hub.hr)
        // Neither step is refused: each is judged against what its writer saw, the start
        // before the delivery included.
        #expect(try hub.it.outbox().isEmpty)
        #expect(try value(hub.server, id, "state") == .value(.text("delivered")))
        try expectBothSitesHoldWhatTheServerHolds(id, hub)
    }

    /// Found by the restore simulation (seed 108603204343212): IT declines a request, syncs,
    /// and is restored from before that; not knowing it, it assigns the request and then
    /// acknowledges it. Covering the assignment, the acknowledgement covered the decline too
    /// and was refused as "declined is final", stuck in the outbox. It depends on no step of
    /// its own, so it stays concurrent with the decline: a conflict on the state, for a person.
    @Test func aStepAfterAnUnrelatedEditIsConcurrentWithTheLostStretch() throws {
        let (start, id, restore) = try hubWithARequestBothSitesHold()
        var hub = start
        try take("decline", on: id, at: hub.it)
        try hub.sync(hub.it)
        hub.it = try restore()
        try hub.it.write([Edit(.request, id, ["assignee": .text("rui")])], author: "rui")
        try take("ack", on: id, at: hub.it)
        try hub.sync(hub.it)
        try hub.sync(hub.hr)
        try hub.sync(hub.it)
        #expect(try hub.it.outbox().isEmpty)
        let states = Set(try #require(try hub.server.record(id)).siblings("state").compactMap(\.value.text))
        #expect(states == ["declined", "acknowledged"])
        #expect(try value(hub.server, id, "assignee") == .value(.text("rui")))
        try expectBothSitesHoldWhatTheServerHolds(id, hub)
    }

    /// Found by the restore simulation (seed 119253653628367): IT assigns a request after
    /// pulling HR's new title, syncs, and is restored from before both. Not knowing either, it
    /// declines the request and then assigns it again. Depending on the decline, the
    /// assignment covers the lost stretch, the first assignment among it, but not the title
    /// that assignment had seen. Judged against a view rebuilt from exactly the changes its
    /// context covers, the first assignment waited for the title, which the server held: the
    /// set was deferred at every sync, forever. Having seen a change is having seen what it
    /// had seen, so the view takes that in too.
    @Test func aChangeCoveringTheLostStretchHasSeenWhatTheStretchSaw() throws {
        let (start, id, restore) = try hubWithARequestBothSitesHold()
        var hub = start
        try hub.hr.write([Edit(.request, id, ["title": .text("Laptop, 16 GB")])], author: "ana")
        try hub.sync(hub.hr)
        try hub.sync(hub.it)
        try hub.it.write([Edit(.request, id, ["assignee": .text("rui")])], author: "rui")
        try hub.sync(hub.it)
        hub.it = try restore()
        try take("decline", on: id, at: hub.it)
        try hub.it.write([Edit(.request, id, ["assignee": .text("eva")])], author: "rui")
        try hub.sync(hub.it)
        try hub.sync(hub.hr)
        try hub.sync(hub.it)
        #expect(try hub.it.outbox().isEmpty)
        #expect(try value(hub.server, id, "assignee") == .value(.text("eva")))
        #expect(try value(hub.server, id, "state") == .value(.text("declined")))
        #expect(try value(hub.server, id, "title") == .value(.text("Laptop, 16 GB")))
        try expectBothSitesHoldWhatTheServerHolds(id, hub)
    }

    /// Found by the restore simulation (seed 278590412404406): IT declines a request, syncs,
    /// and is restored from before that. Not knowing it, it starts the request and delivers
    /// it. The start is concurrent with the lost decline: a conflict on the state. The
    /// delivery depends on the start, so it covers the decline too (a version vector cannot
    /// cover the one without the other) and, like any resolution, must pick one of the values
    /// in conflict: it is refused, and says so. Nothing is lost: the delivery stays in the
    /// outbox as refused, both steps stand in the conflict, and once a person resolves it, the
    /// delivery taken again is accepted (DESIGN §3.9, limits).
    @Test func aStepAfterAStepConcurrentWithALostDeclineWaitsForThePersonToResolveIt() throws {
        let (start, id, restore) = try hubWithARequestBothSitesHold()
        var hub = start
        try take("decline", on: id, at: hub.it)
        try hub.sync(hub.it)
        hub.it = try restore()
        try take("start", on: id, at: hub.it)
        try take("deliver", on: id, at: hub.it)
        try hub.sync(hub.it)
        try hub.sync(hub.hr)
        let refused = try hub.it.outbox()
        #expect(refused.map(\.row.status) == [.refused])
        #expect(refused.first?.row.refusalCode == Refusal.Code.conflictPending.rawValue)
        #expect(refused.first?.row.refusalReason?.contains("in conflict (declined / in_progress)") == true)
        let states = Set(try #require(try hub.server.record(id)).siblings("state").compactMap(\.value.text))
        #expect(states == ["declined", "in_progress"])
        try expectBothSitesHoldWhatTheServerHolds(id, hub)
        // The person resolves the state and delivers again.
        try hub.it.write([Edit(.request, id, ["state": .text("in_progress")])], author: "rui")
        try take("deliver", on: id, at: hub.it)
        try hub.sync(hub.it)
        try hub.sync(hub.hr)
        #expect(try hub.it.outbox().map(\.row.status) == [.refused])
        #expect(try value(hub.server, id, "state") == .value(.text("delivered")))
        try expectBothSitesHoldWhatTheServerHolds(id, hub)
    }

    /// Found by the restore simulation (seed 153788949789751): IT starts a request, syncs, is
    /// restored from before that, assigns it and starts it again. Pushed renumbered, the
    /// second start covered the first (a version vector cannot leave it out) and was refused
    /// as "already in_progress", stuck in the outbox. It is the same step taken again: the
    /// first stands, with its times, and nothing is refused.
    @Test func aStepTakenAgainAfterARestoreIsTheStepTheServerHolds() throws {
        let (start, id, restore) = try hubWithARequestBothSitesHold()
        var hub = start
        func step(_ verb: String) throws { try take(verb, on: id, at: hub.it) }
        try step("start")
        try hub.sync(hub.it)
        let first = try #require(try hub.server.record(id)).value(of: "firstResponseAt")
        hub.it = try restore()
        try hub.it.write([Edit(.request, id, ["assignee": .text("eva")])], author: "rui")
        try step("start")
        try hub.sync(hub.it)
        try hub.sync(hub.hr)
        #expect(try hub.it.outbox().isEmpty)
        #expect(try value(hub.server, id, "state") == .value(.text("in_progress")))
        #expect(try value(hub.server, id, "assignee") == .value(.text("eva")))
        #expect(try #require(try hub.server.record(id)).value(of: "firstResponseAt") == first)
        #expect(
            try hub.server.log(of: id).filter { $0.fields["state"] != nil }.count == 2, "the creation and one start")
        try expectBothSitesHoldWhatTheServerHolds(id, hub)
    }

    /// Found by the restore simulation in CI (seed 218467043871200): IT declines a request
    /// straight from `submitted`, the server keeps it but the answer is lost, and IT is
    /// restored from before. Not knowing it had declined, IT acknowledges and then declines.
    /// The second decline takes another path to the same state, so it does not stamp
    /// `firstResponseAt` as the first did; it is still the same step taken again, and must not
    /// be refused as "already declined", stuck in the outbox.
    @Test func aStepTakenAgainByAnotherPathIsTheStepTheServerHolds() throws {
        let (start, id, restore) = try hubWithARequestBothSitesHold()
        var hub = start
        try take("decline", on: id, at: hub.it)
        try hub.sync(hub.it)
        let first = try #require(try hub.server.record(id)).value(of: "firstResponseAt")
        hub.it = try restore()
        try take("ack", on: id, at: hub.it)
        try take("decline", on: id, at: hub.it)
        try hub.sync(hub.it)
        try hub.sync(hub.hr)
        try hub.sync(hub.it)
        #expect(try hub.it.outbox().isEmpty)
        #expect(try value(hub.server, id, "state") == .value(.text("declined")))
        #expect(try #require(try hub.server.record(id)).value(of: "firstResponseAt") == first)
        try expectBothSitesHoldWhatTheServerHolds(id, hub)
    }

    @Test func aSetWhoseAnswerWasLostIsNotRenumberedAfterARestore() throws {
        var hub = try Hub(.walFile)
        let (id, _) = try hub.newRequest("Laptop")
        try hub.hr.write([Edit(.request, id, ["title": .text("Laptop, 16 GB")])], author: "ana")
        // Both sets pending in the backup; the server then accepts them.
        let restore = try backup(hub, "hr")
        try hub.sync(hub.hr)
        hub.hr = try restore()
        #expect(try hub.hr.pendingChangeSets().count == 2)
        let counter = try hub.hr.replica().counter
        try hub.sync(hub.hr)
        // They were the server's already: nothing renumbered, nothing pushed twice.
        #expect(try hub.hr.replica().counter == counter)
        #expect(try hub.server.heldCounters(of: try hub.hr.replica().id) == [1...2])
        #expect(try hub.hr.outbox().isEmpty)
        #expect(try hub.hr.record(id) == hub.server.record(id))
    }

    @Test func aCommentOnARequestTheRestoredServerLostWaitsForItInsteadOfBeingRefused() throws {
        var hub = try Hub(.walFile)
        let copy = hub.directory.path("server-copy.sqlite")
        try hub.server.backup(to: copy)
        // After the copy: HR raises a request and IT sees it.
        let (id, _) = try hub.newRequest("Laptop")
        try hub.sync(hub.hr)
        try hub.sync(hub.it)
        // The server is restored; IT comments before HR has sent the request again.
        hub.server = try ServerStore.open(path: copy)
        try hub.server.beginEpoch()
        let comment = UUID()
        try hub.it.write([Edit(.comment, comment, ["request": .id(id), "body": .text("on it")])], author: "rui")
        let first = try hub.push(hub.it)
        guard case .deferred = first.first else {
            Issue.record("the comment was not deferred: \(first)")
            return
        }
        // HR syncs: the server gets the request back, and then IT's comment is accepted.
        try hub.sync(hub.hr)
        try hub.sync(hub.it)
        try hub.sync(hub.hr)
        #expect(try hub.server.record(comment)?.exists == true)
        #expect(try hub.hr.record(comment) == hub.server.record(comment))
        #expect(try hub.it.outbox().isEmpty)
    }

    @Test func aCopyTakenBeforeAnEarlierHealDoesNotSendItsWorkTwice() throws {
        var hub = try Hub(.walFile)
        let first = try backup(hub, "hr-0")
        let (x, _) = try hub.newRequest("Laptop")
        try hub.sync(hub.hr)
        // Restored, the site raises a request under the counter and key the server holds.
        hub.hr = try first()
        let (y, key) = try hub.newRequest("Badge")
        #expect(key == "HR-LIS-1")
        let second = try backup(hub, "hr-1")
        try hub.sync(hub.hr)
        #expect(try hub.server.record(y)?.value(of: "key") == .text("HR-LIS-2"))
        // Restored again from the copy made before that heal: the badge request is the same
        // write the server holds renumbered, so it is done, not raised again.
        hub.hr = try second()
        try hub.sync(hub.hr)
        try hub.sync(hub.it)
        #expect(Set(try hub.server.requests().map(\.key)) == ["HR-LIS-1", "HR-LIS-2"])
        #expect(try hub.hr.outbox().isEmpty)
        for id in [x, y] {
            #expect(try hub.hr.record(id) == hub.server.record(id))
            #expect(try hub.it.record(id) == hub.server.record(id))
        }
        // Its next request takes the next free number.
        #expect(try hub.newRequest("Desk").key == "HR-LIS-3")
    }

    /// Replays the random scenario `INTERNO_SEED=122343637851393` found: a copy taken before
    /// an earlier heal hands out a request key that the heal kept for a request it moved to
    /// another counter, under a counter the server never received.
    @Test func aKeyAnEarlierHealKeptIsNotOfferedAgainByAnOlderCopy() throws {
        var hub = try Hub(.walFile)
        let (x, _) = try hub.newRequest("Laptop")
        try hub.sync(hub.hr)
        let first = try backup(hub, "hr-0")
        let (y, _) = try hub.newRequest("Badge")
        try hub.sync(hub.hr)
        let second = try backup(hub, "hr-1")
        // Restored from the first copy, the site writes counters 2 and 3, keys HR-LIS-2 and
        // HR-LIS-3. The server holds 2 (the badge): the heal moves both to counters 4 and 5,
        // and the desk, whose key is taken, becomes HR-LIS-4; the chair keeps HR-LIS-3.
        hub.hr = try first()
        let (desk, _) = try hub.newRequest("Desk")
        let (chair, _) = try hub.newRequest("Chair")
        try hub.sync(hub.hr)
        #expect(try hub.server.record(desk)?.value(of: "key") == .text("HR-LIS-4"))
        #expect(try hub.server.record(chair)?.value(of: "key") == .text("HR-LIS-3"))
        #expect(try hub.server.heldCounters(of: try hub.hr.replica().id) == [1...2, 4...5])
        // Restored from the second copy (counter 2, next key HR-LIS-3), the site raises a
        // request under counter 3, which the server never received, and key HR-LIS-3, which
        // the chair holds.
        hub.hr = try second()
        let (phone, phoneKey) = try hub.newRequest("Phone")
        #expect(phoneKey == "HR-LIS-3")
        try hub.sync(hub.hr)
        try hub.sync(hub.it)
        #expect(try hub.hr.outbox().isEmpty)
        #expect(try hub.server.record(phone)?.value(of: "key") == .text("HR-LIS-5"))
        #expect(
            Set(try hub.server.requests().map(\.key)) == ["HR-LIS-1", "HR-LIS-2", "HR-LIS-3", "HR-LIS-4", "HR-LIS-5"])
        for id in [x, y, desk, chair, phone] {
            #expect(try hub.hr.record(id) == hub.server.record(id))
            #expect(try hub.it.record(id) == hub.server.record(id))
        }
        #expect(try hub.newRequest("Dock").key == "HR-LIS-6")
    }

    /// A sync's last pulled batch records the end of the sync in its own transaction, unless
    /// own sets wait set aside: they are renumbered and pushed first, and the sync ends later.
    @Test func theLastPulledBatchRecordsTheSyncUnlessSetsWaitAside() throws {
        let (hub, _) = try hubWithARequestSetAside()
        func lastBatch() throws -> ChangeBatch {
            try hub.server.changes(
                after: try hub.hr.replica().cursor, limit: 100, scope: try hub.scope(of: hub.hr), leavingOut: nil)
        }
        // Not the last batch of a sync: nothing recorded, whatever waits.
        var summary = try hub.hr.applyPulled(try lastBatch())
        #expect(summary.setAsideSets == 1)
        #expect(!summary.completedSync)
        // The last one, with the Desk set aside: the sync is not over.
        summary = try hub.hr.applyPulled(try lastBatch(), completingSyncWith: "server-1")
        #expect(summary.setAsideSets == 1)
        #expect(!summary.completedSync)
        #expect(try hub.hr.replica().lastSyncAt == nil)
        #expect(try hub.hr.replica().serverEpoch == nil)
        // Once they are renumbered (the engine pushes them next), the last batch records it.
        _ = try hub.hr.restoreSetAside()
        summary = try hub.hr.applyPulled(try lastBatch(), completingSyncWith: "server-1")
        #expect(summary.setAsideSets == 0)
        #expect(summary.completedSync)
        #expect(try hub.hr.replica().lastSyncAt != nil)
        #expect(try hub.hr.replica().serverEpoch == "server-1")
    }

    @Test func whatStepsAsideSurvivesACrashBeforeItComesBack() throws {
        // The pull sets the new request aside; the process dies before it comes back.
        let setAside = try hubWithARequestSetAside()
        var hub = setAside.hub
        let desk = setAside.desk
        #expect(try hub.hr.setAsideCount() == 1)
        #expect(try hub.hr.record(desk) == nil)
        let path = hub.directory.path("hr-backup.sqlite")
        hub.hr = try SiteStore.open(path: path, concurrentReads: false)
        #expect(try hub.hr.setAsideCount() == 1)
        // The next sync brings it back, renumbered, with a new key.
        try hub.sync(hub.hr)
        #expect(try hub.hr.setAsideCount() == 0)
        #expect(try hub.server.record(desk)?.value(of: "key") == .text("HR-LIS-3"))
        #expect(Set(try hub.server.requests().map(\.key)) == ["HR-LIS-1", "HR-LIS-2", "HR-LIS-3"])
    }
}
