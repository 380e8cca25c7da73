import Foundation
import GRDB
import InternoClient
import InternoModel
@_spi(Database) import InternoStore
import InternoWire
import NIOCore
import Testing

@testable import InternoServer

/// `interno verify` (DESIGN §3.10): a site whose database was altered behind its back, with the
/// sqlite3 tool and with GRDB, is told exactly which records differ and is repaired. Real
/// server over TLS, real `interno` processes.
@Suite("Verify, end to end", .serialized)
struct VerifyEndToEndTests {
    func newRequest(_ site: SiteCLI, to provider: String, _ title: String) async throws -> String {
        try await site.ok("request", "new", "--to", provider, "--title", title)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `sql` on the site's database with the sqlite3 tool, as someone behind its back would.
    func sqlite(_ site: SiteCLI, _ sql: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let database = (site.home as NSString).appendingPathComponent("replica.sqlite")
        let result = try await Executable(url: URL(fileURLWithPath: "/usr/bin/sqlite3")).run([database, sql])
        #expect(result.status == 0, "sqlite3: \(result.stderr)", sourceLocation: sourceLocation)
    }

    func report(_ site: SiteCLI, _ arguments: String...) async throws -> (status: Int32, report: VerifyReport) {
        let result = try await site.run(["verify", "--json"] + arguments)
        let report = try JSONDecoder().decode(VerifyReport.self, from: Data(result.stdout.utf8))
        return (result.status, report)
    }

    @Test(arguments: Central.all) func aSiteAlteredBehindItsBackIsToldWhichRecordsDifferAndRepaired(central: Central)
        async throws
    {
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let it = try await deployment.join("IT", "OPO", user: "eva")
            var keys: [String] = []
            for title in ["Laptop", "Badge", "Desk", "Chair", "Phone"] {
                keys.append(try await newRequest(hr, to: "IT", title))
            }
            try await hr.sync()
            try await it.sync()
            try await it.ok("request", "ack", keys[2], "--note", "ordered")
            try await it.sync()
            try await hr.sync()
            for site in [hr, it] {
                let output = try await site.ok("verify")
                #expect(output.contains("in step with the server: 9 records held"), "\(output)")
            }

            let store = try it.site().store
            let ids = try keys.map { try store.requestID(key: $0).uuidString.lowercased() }
            let good = try store.requests()
            let itReplica = try store.replica().replicaID
            let bogus = UUID().uuidString.lowercased()
            // A title in the query table; IT's own acknowledgement out of the log; a request
            // gone whole; a request that never was.
            try await sqlite(it, "UPDATE request SET title = 'Printer' WHERE id = '\(ids[0])'")
            try await sqlite(it, "DELETE FROM change WHERE record = '\(ids[2])' AND replica = '\(itReplica)'")
            try await sqlite(
                it,
                "DELETE FROM change WHERE record = '\(ids[3])'; DELETE FROM record WHERE id = '\(ids[3])'; DELETE FROM request WHERE id = '\(ids[3])'"
            )
            try await sqlite(
                it,
                """
                INSERT INTO record (id, kind, clock, fields, present, conflicted) VALUES ('\(bogus)', 'request', X'00', X'00', 1, 0);
                INSERT INTO request (id, key, customer, provider, title, priority, state, createdAt, updatedAt, conflicted)
                    VALUES ('\(bogus)', 'HR-LIS-99', 'x', 'y', 'Free lunch', 'normal', 'submitted', 0, 0, 0);
                """)
            // The title in the stored record state, re-encoded.
            try await store.writer.write { db in
                let row = try #require(
                    try Row.fetchOne(db, sql: "SELECT fields FROM record WHERE id = ?", arguments: [ids[1]]))
                var reader = BinaryReader([UInt8](row["fields"] as Data))
                var fields = try reader.readSiblings()
                let title = try #require(fields["title"]?.first)
                fields["title"] = [Sibling(dot: title.dot, value: .text("Bagde"), author: title.author, at: title.at)]
                var writer = BinaryWriter()
                writer.write(siblings: fields)
                try db.execute(
                    sql: "UPDATE record SET fields = ? WHERE id = ?", arguments: [Data(writer.bytes), ids[1]])
            }

            let (status, found) = try await report(it)
            #expect(status == 74)
            #expect(!found.inStep && found.repaired == 0)
            let summary = found.differences.map { "\($0.problem.rawValue) \($0.label ?? $0.id) \($0.parts)" }
            #expect(
                Set(summary) == [
                    "differs \(keys[0]) [\"shown\"]", "differs \(keys[1]) [\"state\"]", "differs \(keys[2]) [\"log\"]",
                    "missing \(ids[3]) []", "unexpected \(bogus) []",
                ], "\(summary)")
            let told = try await it.run(["verify"])
            #expect(told.status == 74)
            #expect(told.stdout.contains("differs     request \(keys[0]): shown"), "\(told.stdout)")
            #expect(told.stdout.contains("5 records differ from the server"), "\(told.stdout)")

            let repair = try await it.run(["verify", "--repair"])
            #expect(repair.status == 0, "\(repair.stderr)")
            #expect(repair.stdout.contains("missing     request \(keys[3])"), "\(repair.stdout)")
            #expect(repair.stdout.contains("repaired 5 records: now in step with the server"), "\(repair.stdout)")
            let again = try await it.ok("verify")
            #expect(again.contains("in step with the server: 9 records held"), "\(again)")
            #expect(try store.requests() == good)
            let integrity = try await store.writer.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
            #expect(integrity == "ok")

            // It goes on syncing from the repaired log.
            try await hr.ok("request", "edit", keys[2], "--title", "Standing desk")
            try await hr.sync()
            try await it.sync()
            let details = try await it.json(RequestDetails.self, "request", "show", keys[2])
            #expect(details.fields.first { $0.name == "title" }?.value == "Standing desk")
            #expect(details.comments.map(\.text) == ["ordered"])
            let (_, last) = try await report(it)
            #expect(last.inStep && last.differences.isEmpty)
        }
    }

    @Test(arguments: Central.all) func aRepairKeepsTheChangesTheSiteHasNotSentYet(central: Central) async throws {
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let it = try await deployment.join("IT", "OPO", user: "eva")
            let key = try await newRequest(hr, to: "IT", "Laptop")
            try await hr.sync()
            try await it.sync()
            try await it.ok("request", "ack", key)
            try await it.sync()
            try await hr.sync()
            // Work not sent yet, then IT's acknowledgement out of HR's log behind its back.
            try await hr.ok("request", "edit", key, "--title", "Laptop, 16 GB")
            let fresh = try await newRequest(hr, to: "IT", "Monitor")
            let store = try hr.site().store
            let id = try store.requestID(key: key).uuidString.lowercased()
            let itReplica = try it.site().store.replica().replicaID
            try await sqlite(hr, "DELETE FROM change WHERE record = '\(id)' AND replica = '\(itReplica)'")
            let outbox = try store.outbox()

            let (status, found) = try await report(hr)
            #expect(status == 74)
            #expect(found.pending == 2)
            #expect(found.differences.map(\.label) == [key])
            #expect(found.differences.first?.pending == true)
            #expect(found.differences.first?.parts.contains("log") == true)
            let repair = try await hr.run(["verify", "--repair"])
            #expect(repair.status == 0, "\(repair.stderr)")
            #expect(repair.stdout.contains("(has changes not yet sent, kept); repaired"), "\(repair.stdout)")
            #expect(try store.outbox() == outbox)
            let details = try await hr.json(RequestDetails.self, "request", "show", key)
            #expect(details.fields.first { $0.name == "title" }?.value == "Laptop, 16 GB")
            #expect(details.fields.first { $0.name == "state" }?.value == "acknowledged")

            // The kept work goes with the next sync; everyone is in step.
            let sync = try await hr.ok("sync")
            #expect(sync.contains("pushed 2 change sets (0 already there, 0 deferred, 0 refused)"), "\(sync)")
            try await it.sync()
            #expect(try await it.json(RequestDetails.self, "request", "show", fresh).fields.isEmpty == false)
            for site in [hr, it] {
                let (status, report) = try await report(site)
                #expect(status == 0 && report.inStep && report.differences.isEmpty && report.pending == 0)
            }
        }
    }

    @Test(arguments: Central.all) func aServerThatDoesNotKnowVerifyIsNamedAsOlderAndNothingChanges(central: Central)
        async throws
    {
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            _ = try await newRequest(hr, to: "IT", "Laptop")
            try await hr.sync()
            // A server of the release before Verify, with this server's identity: it greets,
            // then reads a message it does not know as a frame with no message (section 9).
            let configuration = try ServerConfiguration(
                directory: deployment.data, store: deployment.store, host: "127.0.0.1", port: 0)
            let held = try await deployment.store.syncPosition(
                of: try hr.site().store.replica().id, cursor: 0, cursorEpoch: 0
            ).heldCounters
            let server = try await ScriptedServer(configuration)
            let port = server.port
            let older = server.serveOne { frames, outbound in
                guard try await frames.next() != nil else { return }
                try await outbound.write(server.welcome(held: held).serializedBuffer())
                guard let request = try await frames.next() else { return }
                var unknown = try Interno_V1_Frame(body: request)
                #expect(unknown.messageName == "Verify")
                unknown = Interno_V1_Frame.error(.malformedFrame, "malformed message: the frame has no message in it")
                try await outbound.write(unknown.serializedBuffer())
            }
            try hr.setServerPort(port)
            let before = hr.databaseBytes()
            let result = try await hr.run(["verify"])
            #expect(result.status == 71)
            #expect(
                result.stderr.contains(
                    "the server does not know `interno verify`: it runs an older interno-server; upgrade it, then verify again"
                ), "\(result.stderr)")
            #expect(hr.databaseBytes() == before)
            older.cancel()
            _ = await older.result
        }
    }
}
