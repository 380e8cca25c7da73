import Foundation
import InternoClient
import InternoModel
import InternoStore
import InternoWire
import Testing

/// Restores from backup heal by themselves (DESIGN §3.9): real server over TLS, real
/// `interno` and `interno-server` processes taking and restoring the backups.
@Suite("Restores from backup, end to end", .serialized)
struct RestoreTests {
    /// Every site holds what the server holds of the requests and comments it may see (all of
    /// them here: HR and IT are the parties), nothing is pending, deferred or refused anywhere,
    /// and the server holds every key in `keys`.
    func expectConverged(
        _ deployment: Deployment, _ sites: [SiteCLI], keys: Set<String>,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let requests = try await deployment.store.records(of: .request)
        let comments = try await deployment.store.records(of: .comment)
        #expect(try await deployment.store.requestKeys() == keys, sourceLocation: sourceLocation)
        for site in sites {
            let store = try site.site().store
            #expect(try store.records(of: .request) == requests, "\(site.home)", sourceLocation: sourceLocation)
            #expect(try store.records(of: .comment) == comments, "\(site.home)", sourceLocation: sourceLocation)
            let outbox = try store.outbox()
            #expect(outbox.isEmpty, "\(site.home) has \(outbox)", sourceLocation: sourceLocation)
        }
    }

    func newRequest(_ site: SiteCLI, to provider: String, _ title: String) async throws -> String {
        try await site.ok("request", "new", "--to", provider, "--title", title)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(arguments: Central.all)
    func aServerRestoredFromAnOlderCopyThenWrittenAgainLosesNothingAndSitesCatchUp(central: Central) async throws {
        try await Deployment.with(central) { first in
            let hr = try await first.join("HR", "LIS", user: "ana")
            let porto = try await first.join("HR", "POR", user: "rui")
            let it = try await first.join("IT", "OPO", user: "eva")
            var keys: Set<String> = []
            for title in ["Laptop", "Badge", "Desk"] { keys.insert(try await newRequest(hr, to: "IT", title)) }
            for site in [hr, it, porto] { try await site.sync() }

            // The operator's backup, taken by the real binary while the server serves
            // (`interno-server backup`, or `pg_dump`).
            let backup = first.directory.path("server-backup")
            try await first.backup(to: backup)
            if central == .sqlite {
                #expect(try FileManager.default.attributesOfItem(atPath: backup)[.posixPermissions] as? Int == 0o600)
            }

            // Work the backup will not hold, synced everywhere: the sites' cursors move past it.
            try await it.ok("request", "ack", "HR-LIS-1", "--note", "ordered")
            for title in ["Chair", "Monitor"] { keys.insert(try await newRequest(porto, to: "IT", title)) }
            for title in ["Printer", "Toner"] { keys.insert(try await newRequest(it, to: "HR", title)) }
            try await hr.ok("comment", "HR-LIS-2", "for Marta")
            for site in [porto, it, hr, porto, it, hr] { try await site.sync() }

            // The server is restored from the older copy; everyone works on before syncing.
            let restored = try await first.restored(from: backup, sites: [hr, porto, it])
            do {
                for title in ["Phone", "Headset", "Dock"] { keys.insert(try await newRequest(it, to: "HR", title)) }
                for title in ["Locker", "Parking"] { keys.insert(try await newRequest(porto, to: "IT", title)) }
                try await hr.ok("comment", "HR-LIS-3", "by Friday")
                // IT syncs first: its new changes take the sequence numbers the others pulled,
                // and go past HR's cursor, so only the stream's epoch tells HR it is not the
                // stream its cursor was read from.
                let itSite = try it.site()
                let hrCursor = try hr.site().store.replica().cursor
                for index in 0..<Int(hrCursor) {
                    keys.insert(try itSite.newRequest(to: "HR", title: "Chair \(index)"))
                }
                let told = try await it.ok("sync")
                #expect(told.contains("restored from a backup"), "\(told)")
                #expect(try await restored.latestSequence() > hrCursor)
                for site in [hr, porto, it, hr, porto, it] { try await site.sync() }
                try await expectConverged(restored, [hr, porto, it], keys: keys)
                #expect(try hr.site().store.records(of: .comment).count == 3)
            } catch {
                await restored.stop()
                throw error
            }
            await restored.stop()
        }
    }

    @Test(arguments: Central.all, [false, true])
    func aSiteRestoredFromAnOlderCopyGetsBackWhatItHadWrittenAndRenumbersWhatItWroteSince(
        central: Central, syncFirst: Bool
    ) async throws {
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let it = try await deployment.join("IT", "OPO", user: "eva")
            for index in 1...10 { _ = try await newRequest(hr, to: "IT", "Request \(index)") }
            try await hr.sync()
            let backup = deployment.directory.path("hr-backup.sqlite")
            try await hr.ok("backup", "--out", backup)
            let again = try await hr.run(["backup", "--out", backup])
            #expect(again.status != 0 && again.stderr.contains("exists already"), "\(again.stderr)")
            for index in 11...15 { _ = try await newRequest(hr, to: "IT", "Request \(index)") }
            try await hr.sync()
            try await it.sync()

            try hr.restore(from: backup)
            if syncFirst {
                // The path the README gives: sync first, then work.
                try await hr.sync()
                #expect(try await newRequest(hr, to: "IT", "After the restore") == "HR-LIS-16")
                try await hr.sync()
            } else {
                // Work first: the new request reuses the counter and the key of HR-LIS-11.
                #expect(try await newRequest(hr, to: "IT", "After the restore") == "HR-LIS-11")
                let told = try await hr.ok("sync")
                #expect(told.contains("request HR-LIS-11 is now HR-LIS-16"), "\(told)")
            }
            for site in [it, hr, it] { try await site.sync() }
            try await expectConverged(deployment, [hr, it], keys: Set((1...16).map { "HR-LIS-\($0)" }))
            let renamed = try hr.site().store.requests().first { $0.key == "HR-LIS-16" }
            #expect(renamed?.title == "After the restore")
            // And it goes on: the next request takes the next number.
            #expect(try await newRequest(hr, to: "IT", "Later") == "HR-LIS-17")
            try await hr.sync()
            #expect(try await hr.run(["status", "--json"]).stdout.contains("\"pending\" : 0"))
        }
    }

    @Test(arguments: Central.all)
    func aSetThatTheServerHoldsInPartIsJudgedWholeAndNothingWaitsForever(central: Central) async throws {
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let it = try await deployment.join("IT", "OPO", user: "eva")
            let key = try await newRequest(hr, to: "IT", "Laptop")
            try await hr.sync()
            try await it.sync()
            let store = try hr.site().store
            let request = try store.requestID(key: key)
            let hrReplica = try store.replica().id
            var counter = UInt64(try store.replica().counter)
            func change(_ fields: [FieldName: FieldValue], context: VersionVector, kind: RecordKind = .request)
                -> Change
            {
                counter += 1
                return Change(
                    dot: Dot(replica: hrReplica, counter: counter), kind: kind,
                    recordID: kind == .request ? request : UUID(), context: context, fields: fields, author: "ana",
                    at: .now())
            }
            var clock = try #require(try store.record(request)).clock
            // A comment, accepted on its own.
            let comment = change(["request": .id(request), "body": .text("first")], context: [:], kind: .comment)
            // Pushed again with a change that is refused (an over-long title): the server held
            // the comment already, so it stands and is reported kept; the title becomes void.
            let tooLong = change(["title": .text(String(repeating: "x", count: 201))], context: clock)
            // A later edit whose context names the refused one applies: nothing waits for it.
            clock.add(tooLong.dot)
            let later = change(["title": .text("Laptop, 16 GB")], context: clock)
            // A counter used again with other content, with a new change: refused, and the new
            // change's counter still voided, so an edit that names it applies too.
            let reused = Change(
                dot: later.dot, kind: .request, recordID: request, context: clock,
                fields: ["title": .text("Laptop, 8 GB")], author: "ana", at: .now())
            let stranded = change(["priority": .text("urgent")], context: clock.adding(later.dot))
            let after = change(["details": .text("with a dock")], context: clock.adding(stranded.dot))
            let answers = try await RawConnection.push(
                [
                    [comment], [comment, tooLong], [later], [reused, stranded], [after],
                ].map(ChangeSet.init), as: hr, port: deployment.port)
            #expect(answers.map(\.status) == [.accepted, .refused, .accepted, .refused, .accepted])
            #expect(answers[1].keptCounters == [comment.dot.counter])
            #expect(answers[1].refusal.code == 2)
            #expect(answers[3].keptCounters.isEmpty)
            #expect(answers[3].refusal.code == 8)
            // Pushed again, each gets the same answer, and nothing is deferred.
            let again = try await RawConnection.push(
                [[comment, tooLong], [reused, stranded]].map(ChangeSet.init), as: hr, port: deployment.port)
            #expect(again.map(\.status) == [.refused, .refused])
            #expect(again[0].keptCounters == [comment.dot.counter])

            // Every site converges on the server, HR learning its own changes back.
            for site in [hr, it, hr, it] { try await site.sync() }
            try await expectConverged(deployment, [hr, it], keys: [key])
            let details = try await it.json(RequestDetails.self, "request", "show", key)
            #expect(details.fields.first { $0.name == "title" }?.value == "Laptop, 16 GB")
            #expect(details.fields.first { $0.name == "details" }?.value == "with a dock")
            #expect(details.fields.first { $0.name == "priority" }?.value == "normal")
            // HR's next write takes a counter past all of them.
            _ = try await newRequest(hr, to: "IT", "Monitor")
            let sync = try await hr.run(["sync", "--json"])
            #expect(sync.status == 0, "\(sync.stderr)")
            #expect(try store.replica().counter > Int64(counter))
        }
    }
}

extension VersionVector: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (ReplicaID, UInt64)...) {
        self.init(Dictionary(uniqueKeysWithValues: elements))
    }

    /// This clock with `dot` added.
    func adding(_ dot: Dot) -> VersionVector {
        var clock = self
        clock.add(dot)
        return clock
    }
}
