import Foundation
import InternoClient
import InternoModel
import InternoStore
import Testing

/// Two department sites working offline and syncing through the real server over loopback TLS.
@Suite("Sync over TLS, end to end", .serialized)
struct SyncTests {
    /// Everything a person sees of the requests, on one site.
    func view(_ site: SiteCLI) async throws -> [RequestDetails] {
        var details: [RequestDetails] = []
        for summary in try await site.json([RequestSummary].self, "request", "list") {
            details.append(try await site.json(RequestDetails.self, "request", "show", summary.key))
        }
        return details.sorted { $0.key < $1.key }
    }

    @Test(arguments: Central.all, [true, false])
    func twoSitesEditOfflineAndConvergeInEitherOrder(central: Central, hrFirst: Bool) async throws {
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let it = try await deployment.join("IT", "OPO", user: "rui")
            let key = try await hr.ok("request", "new", "--to", "IT", "--title", "Laptop for Marta").trimmingCharacters(
                in: .whitespacesAndNewlines)
            #expect(key == "HR-LIS-1")
            try await hr.sync()
            try await it.sync()
            // Offline on both sides: different fields of one request, and new requests.
            try await hr.ok("request", "edit", key, "--priority", "urgent", "--details", "16 GB, with a dock")
            try await hr.ok("request", "new", "--to", "IT", "--title", "Monitor")
            try await it.ok("request", "ack", key, "--note", "ordering today")
            try await it.ok("request", "assign", key, "--to", "rui")
            try await it.ok("comment", key, "Which keyboard layout?")
            let order = hrFirst ? [hr, it, hr] : [it, hr, it]
            for site in order { try await site.sync() }

            let left = try await view(hr)
            let right = try await view(it)
            #expect(left == right)
            #expect(left.count == 2)
            let request = try #require(left.first { $0.key == key })
            func value(_ name: String) -> String? { request.fields.first { $0.name == name }?.value }
            #expect(value("priority") == "urgent")
            #expect(value("details") == "16 GB, with a dock")
            #expect(value("state") == "acknowledged")
            #expect(value("assignee") == "rui")
            #expect(request.comments.map(\.text) == ["ordering today", "Which keyboard layout?"])
            #expect(request.conflicts.isEmpty)
            // The server holds the same records as both sites.
            let server = try await deployment.store.records(of: .request)
            for site in [hr, it] {
                let local = try site.site().store
                for record in server {
                    #expect(try local.record(record.id) == record)
                }
            }
        }
    }

    /// A site is not sent back the change sets of its own that it holds (Protocol §5.4): its
    /// sync pushes them and pulls nothing back, while the other site pulls them all. Restored
    /// from a backup, it gets back exactly the sets it lost.
    @Test(arguments: Central.all) func aSiteGetsItsOwnChangesBackOnlyWhenItLostThem(central: Central) async throws {
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let it = try await deployment.join("IT", "OPO", user: "rui")
            for title in ["Laptop", "Desk", "Badge"] {
                try await hr.ok("request", "new", "--to", "IT", "--title", title)
            }
            let first = try await hr.json(SyncReport.self, "sync")
            #expect(first.accepted == 3)
            #expect(first.pulled == 0 && first.alreadyHad == 0, "HR was sent its own requests back: \(first)")
            let toIT = try await it.json(SyncReport.self, "sync")
            #expect(toIT.pulled == 3)

            // A copy of HR with the three, then two more requests that only the server keeps.
            let backup = deployment.directory.path("hr-backup.sqlite")
            try await hr.ok("backup", "--out", backup)
            for title in ["Chair", "Monitor"] {
                try await hr.ok("request", "new", "--to", "IT", "--title", title)
            }
            let second = try await hr.json(SyncReport.self, "sync")
            #expect(second.accepted == 2 && second.pulled == 0 && second.alreadyHad == 0)
            try hr.restore(from: backup)
            #expect(try hr.site().store.requests().count == 3)
            let restored = try await hr.json(SyncReport.self, "sync")
            #expect(restored.pulled == 2 && restored.alreadyHad == 0, "\(restored)")
            #expect(
                try hr.site().store.requests().compactMap(\.title).sorted() == [
                    "Badge", "Chair", "Desk", "Laptop", "Monitor",
                ])
            let again = try await hr.json(SyncReport.self, "sync")
            #expect(again.pulled == 0 && again.alreadyHad == 0)
        }
    }

    @Test(arguments: Central.all) func morePulledDataThanOneFrameHoldsComesInSeveralFrames(central: Central)
        async throws
    {
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let it = try await deployment.join("IT", "OPO", user: "rui")
            // 1 000 requests with 20 000 characters of details each: about 20 MB, more than
            // the 16 MiB frame limit, written as 40 sets of 25.
            let site = try hr.site()
            let provider = try site.store.departmentID(code: "IT")
            let customer = try site.store.departmentID(code: "HR")
            let details = String(repeating: "x", count: 20_000)
            for _ in 0..<40 {
                let edits = (0..<25).map { _ in
                    Edit(
                        .request, UUID(),
                        [
                            "customer": .id(customer), "provider": .id(provider), "title": .text("Laptop"),
                            "details": .text(details), "priority": .text("normal"), "state": .text("submitted"),
                        ])
                }
                try site.store.write(edits, author: "ana@HR-LIS")
            }
            try await hr.sync()
            try await it.sync()
            #expect(try it.site().store.requests().count == 1_000)
            #expect(try it.site().store.pendingChangeSets().isEmpty)
        }
    }

    @Test(arguments: Central.all) func theSameFieldOnTwoSitesIsAConflictEverywhereAndOneResolutionClearsIt(
        central: Central
    ) async throws {
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let lisbon = try await deployment.join("IT", "LIS", user: "marta")
            let porto = try await deployment.join("IT", "OPO", user: "rui")
            let key = try await hr.ok("request", "new", "--to", "IT", "--title", "Laptop").trimmingCharacters(
                in: .whitespacesAndNewlines)
            for site in [hr, lisbon, porto] { try await site.sync() }
            // Both IT sites assign the request, offline: the same field, concurrently.
            try await lisbon.ok("request", "assign", key, "--to", "marta")
            try await porto.ok("request", "assign", key, "--to", "rui")
            for site in [lisbon, porto, lisbon, hr] { try await site.sync() }
            for site in [hr, lisbon, porto] {
                let conflicts = try await site.json([ConflictView].self, "conflicts")
                #expect(conflicts.map(\.key) == [key])
                let field = try #require(conflicts.first?.fields.first)
                #expect(field.field == "assignee")
                #expect(Set(field.siblings.compactMap(\.value)) == ["marta", "rui"])
                #expect(Set(field.siblings.map(\.site)) == ["IT-LIS", "IT-OPO"])
                #expect(Set(field.siblings.map(\.author)) == ["marta", "rui"])
                let list = try await site.json([RequestSummary].self, "request", "list")
                #expect(list.first?.conflicted == true)
            }
            let shown = try await porto.ok("conflicts", "show", key)
            #expect(shown.contains("marta") && shown.contains("rui") && shown.contains("IT-LIS"))
            // Porto keeps Lisbon's value; after the syncs no site has a conflict.
            try await porto.ok("conflicts", "resolve", key, "--field", "assignee", "--theirs")
            for site in [porto, lisbon, hr] { try await site.sync() }
            for site in [hr, lisbon, porto] {
                #expect(try await site.json([ConflictView].self, "conflicts").isEmpty)
                let details = try await site.json(RequestDetails.self, "request", "show", key)
                #expect(details.fields.first { $0.name == "assignee" }?.value == "marta")
            }
        }
    }

    /// Cuts the connection after `bytes` bytes in `direction`, syncs through the cut, then
    /// syncs directly; returns the failed sync's result.
    func syncThroughCut(
        _ site: SiteCLI, deployment: Deployment, bytes: Int, direction: CuttingProxy.Direction
    ) async throws -> Executable.Result {
        let proxy = try await CuttingProxy.start(target: deployment.port, cutAfter: bytes, direction: direction)
        try site.setServerPort(proxy.port)
        let result = try await site.run(["sync"])
        await proxy.stop()
        try site.setServerPort(deployment.port)
        return result
    }

    @Test(arguments: Central.all) func aConnectionDroppedInThePushLosesNothingAndDuplicatesNothing(central: Central)
        async throws
    {
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let site = try hr.site()
            var keys: [String] = []
            for index in 0..<300 { keys.append(try site.newRequest(to: "IT", title: "Request \(index)")) }
            // Cut at several points of the push, each time after a few more bytes.
            var cuts = 0
            for bytes in [600, 2_000, 8_000, 30_000] {
                let result = try await syncThroughCut(hr, deployment: deployment, bytes: bytes, direction: .toServer)
                if result.status != 0 {
                    cuts += 1
                    // A broken connection, never a certificate failure (70).
                    #expect(result.status == 69, "\(result.stderr)")
                    #expect(result.stderr.contains("run `interno sync` again"), "\(result.stderr)")
                }
            }
            #expect(cuts > 0, "no cut interrupted the sync")
            // Cut the way back during the answer: the server has committed, the site never hears.
            var committedUnheard = 0
            for bytes in [1_200, 1_800, 2_400, 3_000, 3_600] {
                let result = try await syncThroughCut(hr, deployment: deployment, bytes: bytes, direction: .toClient)
                let held = try await deployment.store.records(of: .request).count
                if result.status != 0, held == 300, try !site.store.pendingChangeSets().isEmpty {
                    committedUnheard += 1
                }
                if result.status == 0 { break }
            }
            #expect(committedUnheard > 0, "no cut fell between the server's commit and its answer")
            let report = try await hr.json(SyncReport.self, "sync")
            #expect(report.duplicates > 0 || committedUnheard == 0)
            try await hr.sync()
            let server = deployment.store
            let onServer = try await server.records(of: .request).compactMap { $0.value(of: "key")?.text }.sorted()
            #expect(onServer == keys.sorted())
            #expect(try site.store.pendingChangeSets().isEmpty)
            // Every change is in the server's log once: its dot is unique there, and the count matches.
            let replica = try site.store.replica()
            let position = try await server.syncPosition(of: replica.id, cursor: 0, cursorEpoch: 0)
            #expect(position.heldCounters == [1...UInt64(replica.counter)])
            let stream = try await server.changes(
                after: 0, limit: 10_000, scope: .all, leavingOut: nil, maximumBytes: .max, size: { _ in 0 })
            #expect(stream.sets.flatMap(\.changes).filter { $0.dot.replica == replica.id }.count == 300)
        }
    }

    @Test(arguments: Central.all) func aConnectionDroppedInThePullLosesNothingAndDuplicatesNothing(central: Central)
        async throws
    {
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let it = try await deployment.join("IT", "OPO", user: "rui")
            let site = try hr.site()
            for index in 0..<300 {
                _ = try site.newRequest(
                    to: "IT", title: "Request \(index)", details: String(repeating: "x", count: 200))
            }
            try await hr.sync()
            var cuts = 0
            for bytes in [1_500, 5_000, 20_000, 60_000] {
                let result = try await syncThroughCut(it, deployment: deployment, bytes: bytes, direction: .toClient)
                if result.status != 0 { cuts += 1 }
                // Whatever was applied before the cut is whole batches: cursor and data agree.
                let local = try it.site().store
                let cursor = try local.replica().cursor
                let expected = try await deployment.store.changes(
                    after: 0, limit: Int(max(cursor, 1)), scope: .all, leavingOut: nil, maximumBytes: .max,
                    size: { _ in 0 }
                ).sets.flatMap(\.changes).filter { $0.kind == .request }.count
                #expect(try local.requests().count == (cursor == 0 ? 0 : expected))
            }
            #expect(cuts > 0)
            try await it.sync()
            let onIT = try await it.json([RequestSummary].self, "request", "list")
            let onHR = try await hr.json([RequestSummary].self, "request", "list")
            #expect(onIT.count == 300)
            #expect(onIT == onHR)
        }
    }
}
