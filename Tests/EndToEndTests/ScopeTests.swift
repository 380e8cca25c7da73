import Foundation
import GRDB
import InternoClient
import InternoModel
@_spi(Database) import InternoStore
import InternoWire
import Testing

/// Privacy is a property of bytes (DESIGN §6.1): what a site may not see never reaches its
/// database file or its WAL. Real server over TLS, real `interno` processes.
@Suite("Scopes, end to end", .serialized)
struct ScopeEndToEndTests {
    /// Strings that appear only in the HR–Payroll request, its comments and its feedback.
    struct Markers {
        let tag = UUID().uuidString.prefix(8)
        var title: String { "salary-\(tag)-title" }
        var details: String { "contract-\(tag)-details" }
        var comment: String { "bonus-\(tag)-comment" }
        var note: String { "raise-\(tag)-note" }
        var reply: String { "payslip-\(tag)-reply" }
        var feedback: String { "grievance-\(tag)-feedback" }
        var all: [String] { [title, details, comment, note, reply, feedback] }
    }

    /// Which markers occur in `bytes`.
    func found(_ markers: Markers, in bytes: Data) -> [String] {
        markers.all.filter { bytes.range(of: Data($0.utf8)) != nil }
    }

    @Test(arguments: Central.all) func aRequestBetweenHRAndPayrollNeverReachesITsDiskAndReachesEveryoneElse(
        central: Central
    ) async throws {
        try await Deployment.with(central) { deployment in
            let administration = deployment.administration
            try await administration.addDepartment(code: "PAY", name: "Payroll", timeZone: "Europe/Lisbon")
            try await administration.addDepartment(code: "QA", name: "Quality Office", timeZone: "Europe/Lisbon")
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let it = try await deployment.join("IT", "OPO", user: "rui")
            let pay = try await deployment.join("PAY", "LIS", user: "joao")
            let qa = try await deployment.join("QA", "LIS", user: "rita", scope: .all)
            let markers = Markers()

            // HR and Payroll exchange a request, with comments, a conflict and its
            // resolution, and feedback.
            let key = try await hr.ok(
                "request", "new", "--to", "PAY", "--title", markers.title, "--details", markers.details
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            try await hr.ok("comment", key, markers.comment)
            try await hr.sync()
            try await pay.sync()
            try await pay.ok("request", "ack", key, "--note", markers.note)
            try await pay.ok("request", "start", key)
            try await pay.sync()
            try await hr.sync()
            try await pay.ok("request", "deliver", key)
            try await hr.ok("request", "cancel", key)
            try await pay.sync()
            try await hr.sync()
            try await pay.sync()
            #expect(try await hr.json([ConflictView].self, "conflicts").count == 1)
            try await hr.ok("conflicts", "resolve", key, "--theirs")
            try await hr.ok("feedback", key, "--rating", "2", "--comment", markers.feedback)
            try await pay.ok("comment", key, markers.reply)
            for site in [hr, pay, it, qa, hr, pay, it, qa] { try await site.sync() }
            #expect(try await pay.json([ConflictView].self, "conflicts").isEmpty)

            // The parties and the whole-organisation site hold every marker; IT none.
            for site in [hr, pay, qa] {
                #expect(found(markers, in: site.databaseBytes()) == markers.all, "\(site.home)")
            }
            #expect(found(markers, in: it.databaseBytes()).isEmpty)
            #expect(try it.site().store.requests().isEmpty)

            // Nothing of it shows anywhere on IT's site.
            #expect(try await it.json([RequestSummary].self, "request", "list").isEmpty)
            #expect(try await it.json([ConflictView].self, "conflicts").isEmpty)
            let history = try await it.run(["history", key])
            #expect(history.status == 66)
            let days = ISO8601DateFormatter()
            days.formatOptions = [.withFullDate]
            let period = [
                "--from", days.string(from: Date(timeIntervalSinceNow: -86_400)),
                "--to", days.string(from: Date(timeIntervalSinceNow: 86_400)), "--json",
            ]
            for report in ["sla", "obligations", "satisfaction", "watermelon", "matrix"] {
                let output = try await it.ok("report", report, "--json")
                #expect(!output.contains(key), "\(report)")
                #expect(found(markers, in: Data(output.utf8)).isEmpty)
                // From the whole-organisation site, the report counts it as HR's own does.
                let org = try await qa.run(["report", report] + period).stdout
                let own = try await hr.run(["report", report] + period).stdout
                #expect(org == own, "\(report)")
                #expect(["\"HR\"", "\"PAY\""].contains(where: org.contains), "\(report): \(org)")
            }

            // IT cannot write to it: refused as not found, its database untouched.
            let before = it.databaseBytes()
            for attempt in [["comment", key, "me too"], ["request", "ack", key], ["feedback", key, "--rating", "5"]] {
                let result = try await it.run(attempt)
                #expect(result.status == 66, "\(attempt): \(result.stderr)")
                #expect(result.stderr.contains("no request \(key)"), "\(result.stderr)")
            }
            #expect(it.databaseBytes() == before)

            // A tampered IT client that pushes anyway with its real certificate hears "not
            // found", as for a request that does not exist, and the server stores nothing.
            let request = try hr.site().store.requestID(key: key)
            let itReplica = try it.site().store.replica()
            let serverBefore = try await deployment.latestSequence()
            for (index, id) in [request, UUID()].enumerated() {
                let comment = Change(
                    dot: Dot(replica: itReplica.id, counter: UInt64(itReplica.counter) + 1 + UInt64(index * 2)),
                    kind: .comment, recordID: UUID(), context: VersionVector(),
                    fields: ["request": .id(id), "body": .text("forged")], author: "mallory", at: .now())
                let ack = Change(
                    dot: Dot(replica: itReplica.id, counter: comment.dot.counter + 1), kind: .request, recordID: id,
                    context: VersionVector(), fields: ["state": .text("acknowledged")], author: "mallory",
                    at: .now())
                let answers = try await RawConnection.push(
                    [ChangeSet([comment]), ChangeSet([ack])], as: it, port: deployment.port)
                #expect(answers.map(\.status) == [.refused, .refused])
                #expect(answers.map(\.refusal.code) == [4, 4])
                #expect(answers[0].refusal.reason == "the request of this comment does not exist")
                #expect(
                    answers[1].refusal.reason.hasPrefix(
                        "there is no request \(id.uuidString.lowercased()) that IT can see"))
            }
            #expect(try await deployment.latestSequence() == serverBefore)
            #expect(it.databaseBytes() == before)
            try await it.sync()
        }
    }

    @Test(arguments: Central.all) func theCatalogueReachesEveryoneAndANeedOnlyItsTwoDepartments(central: Central)
        async throws
    {
        try await Deployment.with(central) { deployment in
            try await deployment.administration.addDepartment(code: "PAY", name: "Payroll", timeZone: "Europe/Lisbon")
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let it = try await deployment.join("IT", "OPO", user: "rui")
            let pay = try await deployment.join("PAY", "LIS", user: "joao")
            let tag = UUID().uuidString.prefix(8)
            let attribute = "ready-\(tag)-day-one"
            let need = "hires-\(tag)-in-september"

            let ref = try await it.ok(
                "service", "add", "Laptops for new hires", "--description", "A working laptop",
                "--attribute", attribute, "--attribute", "keeps me informed"
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            let twice = try await it.run(["service", "add", "laptops for new hires"])
            #expect(twice.status == 65, "\(twice.stderr)")
            #expect(twice.stderr.contains("IT already offers 'Laptops for new hires' (\(ref))"))
            try await it.sync()
            try await hr.sync()
            try await pay.sync()
            for site in [hr, pay] {
                let catalogue = try await site.json([ServiceView].self, "service", "list")
                #expect(catalogue.map(\.name) == ["Laptops for new hires"])
                #expect(catalogue.first?.attributes == [attribute, "keeps me informed"])
            }
            // PAY may not list a service in IT's catalogue, nor answer for HR.
            let notOwn = try await pay.run(["service", "edit", ref, "--name", "Mine"])
            #expect(notOwn.status == 67, "\(notOwn.stderr)")
            #expect(notOwn.stderr.contains("PAY may not set the name of service"))

            try await hr.ok("service", "need", "Laptops for new hires", "--note", need)
            try await hr.sync()
            try await it.sync()
            try await pay.sync()
            let shown = try await it.json(ServiceView.self, "service", "show", "Laptops for new hires")
            #expect(shown.needs.map(\.customer) == ["HR"])
            #expect(shown.needs.first?.note == need)
            #expect(try await hr.json([NeedView].self, "service", "list", "--used").map(\.note) == [need])

            // The catalogue is on every disk; the need only on HR's and IT's.
            for site in [hr, it, pay] {
                #expect(site.databaseBytes().range(of: Data(attribute.utf8)) != nil, "\(site.home)")
            }
            for site in [hr, it] {
                #expect(site.databaseBytes().range(of: Data(need.utf8)) != nil, "\(site.home)")
            }
            #expect(pay.databaseBytes().range(of: Data(need.utf8)) == nil)
            #expect(try await pay.json(ServiceView.self, "service", "show", ref).needs.isEmpty)

            // A request for the service falls under the standard that covers it.
            let proposed = try await it.json(
                StandardView.self, "standard", "propose", "--customer", "HR", "--service", "laptops for new hires",
                "--ack", "4h", "--deliver", "5d", "--csat", "80", "--compliance", "90")
            #expect(proposed.catalogService == ref)
            #expect(proposed.service == "Laptops for new hires")
            try await it.sync()
            try await hr.sync()
            try await hr.ok("standard", "sign", proposed.ref)
            let key = try await hr.ok("request", "new", "--service", "Laptops for new hires", "--title", "For Rui")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let details = try await hr.json(RequestDetails.self, "request", "show", key)
            #expect(details.standard == proposed.ref)
            #expect(details.fields.first { $0.name == "service" }?.value == "Laptops for new hires")
            try await hr.sync()
            try await it.sync()
            #expect(try await it.ok("report", "sla", "--by", "service", "--csv").contains("Laptops for new hires"))

            // Once retired, no new request names it.
            try await it.ok("service", "retire", ref)
            try await it.sync()
            try await hr.sync()
            let late = try await hr.run(["request", "new", "--service", ref, "--title", "Another"])
            #expect(late.status == 67, "\(late.stderr)")
            #expect(late.stderr.contains("is retired"))
        }
    }

    @Test(arguments: Central.all) func actionsAndKudosAreAgreedFollowedUpAndSeenOnlyByTheirTwoDepartments(
        central: Central
    ) async throws {
        try await Deployment.with(central) { deployment in
            try await deployment.administration.addDepartment(code: "PAY", name: "Payroll", timeZone: "Europe/Lisbon")
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let it = try await deployment.join("IT", "OPO", user: "rui")
            let pay = try await deployment.join("PAY", "LIS", user: "joao")
            let tag = UUID().uuidString.prefix(8)
            let stock = "stock-\(tag)-six-laptops"
            let outcome = "outcome-\(tag)-done"
            let thanks = "thanks-\(tag)-rui"

            let key = try await hr.ok("request", "new", "--to", "IT", "--title", "Laptop")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            try await hr.sync()
            try await it.sync()
            // Two-way: IT commits to stock (already late), HR to notice, about the request.
            let late = try await hr.json(
                ActionView.self, "action", "new", "--about", "HR/IT", "--owner", "IT", "--due", "2026-01-31",
                "--title", stock)
            #expect(late.overdue)
            let notice = try await it.json(
                ActionView.self, "action", "new", "--about", key, "--owner", "HR", "--due", "2099-12-31", "--title",
                "Two weeks' notice of hires")
            #expect(notice.about == "request \(key)")
            let stranger = try await pay.run([
                "action", "new", "--about", "HR/IT", "--owner", "IT", "--due", "2027-01-01", "--title", "x",
            ])
            #expect(stranger.status == 67, "\(stranger.stderr)")
            #expect(stranger.stderr.contains("PAY may not set an action between two other departments"))
            for site in [hr, it, pay, hr, it] { try await site.sync() }

            let report = try await hr.ok("report", "actions", "--csv")
            #expect(report.contains("IT,\(late.ref),2026-01-31,yes,"), "\(report)")
            #expect(report.contains("HR,\(notice.ref),2099-12-31,no,0,request \(key)"), "\(report)")
            let notOwner = try await hr.run(["action", "done", late.ref])
            #expect(notOwner.status == 67, "\(notOwner.stderr)")
            #expect(notOwner.stderr.contains("only its owner IT may"))
            try await it.ok("action", "done", late.ref, "--outcome", outcome)
            try await it.sync()
            try await hr.sync()
            #expect(try await hr.json(ActionView.self, "action", "show", late.ref).status == "done")

            try await hr.ok("kudos", "IT", "--person", "Rui", "--for", late.ref, "--message", thanks)
            let toSelf = try await hr.run(["kudos", "HR", "--for", "2026-H2", "--message", "us"])
            #expect(toSelf.status == 65, "\(toSelf.stderr)")
            #expect(toSelf.stderr.contains("cannot send kudos to itself"))
            let unseen = try await pay.run(["kudos", "IT", "--for", key, "--message", "x"])
            #expect(unseen.status == 66, "\(unseen.stderr)")
            try await pay.ok("kudos", "IT", "--for", "2026-11", "--message", "payslips on time")
            for site in [hr, pay, it] { try await site.sync() }
            let rows = try await it.json(KudosReport.self, "report", "kudos").rows
            #expect(rows.first { $0.department == "IT" }?.received == 2)
            #expect(rows.first { $0.department == "IT" }?.people == ["Rui"])

            for site in [hr, it] {
                let bytes = site.databaseBytes()
                for marker in [stock, outcome, thanks] {
                    #expect(bytes.range(of: Data(marker.utf8)) != nil, "\(site.home): \(marker)")
                }
            }
            let payBytes = pay.databaseBytes()
            for marker in [stock, outcome, thanks] {
                #expect(payBytes.range(of: Data(marker.utf8)) == nil, "\(marker)")
            }
        }
    }

    struct KudosReport: Decodable {
        var rows: [KudosRow]
    }

    @Test(arguments: Central.all) func aSiteThatHeldOtherDepartmentsRecordsForgetsThemAtItsFirstScopedSync(
        central: Central
    ) async throws {
        try await Deployment.with(central) { deployment in
            try await deployment.administration.addDepartment(code: "PAY", name: "Payroll", timeZone: "Europe/Lisbon")
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let pay = try await deployment.join("PAY", "LIS", user: "joao")
            let markers = Markers()
            let key = try await hr.ok(
                "request", "new", "--to", "PAY", "--title", markers.title, "--details", markers.details
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            try await hr.ok("comment", key, markers.comment)
            try await hr.sync()
            try await pay.sync()
            try await pay.ok("request", "ack", key, "--note", markers.note)
            try await pay.sync()

            // An IT site as the release before scopes left it: every change of the stream
            // applied, its scope never told, and a request of its own.
            let old = try await deployment.join("IT", "LIS", user: "rui")
            let store = try old.site().store
            let stream = try await deployment.store.changes(
                after: 0, limit: 100_000, scope: .all, leavingOut: nil, maximumBytes: .max, size: { _ in 0 })
            try store.applyPulled(stream)
            try await store.writer.write { (db: Database) in try db.execute(sql: "UPDATE replica SET scope = NULL") }
            let own = try await old.ok("request", "new", "--to", "HR", "--title", "Printer toner")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(found(markers, in: old.databaseBytes()).count == 4)

            let sync = try await old.ok("sync")
            #expect(sync.contains("removed"))
            #expect(found(markers, in: old.databaseBytes()).isEmpty)
            #expect(try store.requests().map(\.key) == [own])
            #expect(try await old.run(["request", "show", key]).status == 66)
            // It keeps working: its own request reached HR, and HR's answer comes back.
            try await hr.sync()
            try await hr.ok("comment", own, "which printer?")
            try await hr.sync()
            try await old.sync()
            let details = try await old.json(RequestDetails.self, "request", "show", own)
            #expect(details.comments.map(\.text) == ["which printer?"])
        }
    }
}
