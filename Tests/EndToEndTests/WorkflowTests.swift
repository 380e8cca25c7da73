import Foundation
import InternoClient
import Testing

/// The department workflow through the real `interno` binary and the server over TLS.
@Suite("The department workflow, end to end")
struct WorkflowEndToEndTests {
    @Test(arguments: Central.all) func eachSideSignsOfflineAndTheAgreementShowsAfterSync(central: Central) async throws
    {
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let it = try await deployment.join("IT", "OPO", user: "rui")
            let fac = try await deployment.join("FAC", "LIS", user: "eva")
            let proposed = try await it.json(
                StandardView.self, "standard", "propose", "--customer", "HR", "--service", "Laptops", "--ack", "4h",
                "--deliver", "2d", "--csat", "80", "--compliance", "90")
            try await it.sync()
            try await hr.sync()
            try await fac.sync()
            // Facilities is party to nothing: the standard never reaches it (DESIGN §6.1).
            let third = try await fac.run(["standard", "sign", proposed.ref])
            #expect(third.status == 66)
            #expect(third.stderr.contains("there is no standard"))
            #expect(try fac.site().store.records(of: .standard).isEmpty)
            #expect(try fac.site().store.pendingChangeSets().isEmpty)

            try await hr.ok("standard", "sign", proposed.ref)
            #expect(try await it.json(StandardView.self, "standard", "show", proposed.ref).status == "proposed")
            try await hr.sync()
            try await it.sync()
            let agreed = try await it.json(StandardView.self, "standard", "show", proposed.ref)
            #expect(agreed.status == "agreed")
            #expect(agreed.customerSignature == "current")

            // A request under the standard, worked through its lifecycle with --at and notes.
            let raised = try await hr.ok(
                "request", "new", "--to", "IT", "--title", "Laptop", "--at", "2026-11-16T09:00:00Z")
            let key = raised.trimmingCharacters(in: .whitespacesAndNewlines)
            try await hr.sync()
            try await it.sync()
            try await it.ok("request", "ack", key, "--at", "2026-11-16T09:30:00Z", "--note", "on it")
            try await it.ok("request", "start", key, "--at", "2026-11-16T10:00:00Z")
            try await it.ok("request", "deliver", key, "--at", "2026-11-16T15:00:00Z")
            try await it.sync()
            try await hr.sync()
            let confirmBad = try await hr.run(["feedback", key, "--rating", "0"])
            #expect(confirmBad.status == 65)
            #expect(confirmBad.stderr.contains("from 1 to 5"))
            try await hr.ok("request", "confirm", key, "--at", "2026-11-16T16:00:00Z")
            try await hr.ok("feedback", key, "--rating", "2", "--effort", "6", "--comment", "slow answers")
            try await hr.sync()
            try await it.sync()

            let details = try await it.json(RequestDetails.self, "request", "show", key)
            #expect(details.standard == proposed.ref)
            #expect(details.feedback.first?.rating == 2)
            let deliver = try #require(details.clocks.first { $0.name == "deliver" })
            #expect(deliver.elapsed == "6h", "09:00 to 15:00 Lisbon on a Monday")
            #expect(deliver.met == true)

            let history = try await it.json([HistoryItemView].self, "history", key)
            #expect(history.map(\.what).contains("rated the service 2/5"))
            #expect(history.first?.author == "ana@HR-LIS")

            let csv = try await it.ok(
                "report", "watermelon", "--from", "2026-11-01", "--to", "2026-11-30", "--min-responses", "1", "--csv")
            let lines = csv.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("provider,customer,period,requests,compliance_pct") == true)
            #expect(lines.count == 2)
            #expect(lines.last?.hasSuffix(",,watermelon,CSAT 0% < 80%") == true, "no survey; CSAT made it red: \(csv)")
            let table = try await it.ok("report", "sla", "--from", "2026-11-01", "--to", "2026-11-30")
            #expect(table.contains("100% (1/1)"))
            let matrix = try await it.ok("report", "matrix", "--from", "2026-11-01", "--to", "2026-11-30")
            #expect(matrix.contains("1 / 100% / 0%"), "\(matrix)")
            let satisfaction = try await it.ok(
                "report", "satisfaction", "--from", "2026-11-01", "--to", "2026-11-30", "--csv")
            #expect(
                satisfaction.hasPrefix(
                    "provider,customer,delivered,responses_pct,responses_count,responses_of,csat_pct"))
            #expect(satisfaction.contains("IT,HR,1,100.0,1,1,0.0,0,1,2.00,6.00,0,"), "\(satisfaction)")
            let obligations = try await it.ok(
                "report", "obligations", "--from", "2026-11-01", "--to", "2026-11-30", "--customer", "hr", "--json")
            let decoded = try #require(
                try JSONSerialization.jsonObject(with: Data(obligations.utf8)) as? [String: Any])
            #expect(decoded["report"] as? String == "obligations")
            let rows = try #require(decoded["rows"] as? [[String: Any]])
            #expect(rows.count == 1)
            #expect(rows.first?["customer"] as? String == "HR")
            #expect(rows.first?["confirmMedian"] as? Int == 3_600, "delivered 15:00, confirmed 16:00")

            // Bad input on the command line: clear errors, documented codes.
            let unknown = try await it.run(["history", "HR-LIS-999"])
            #expect(unknown.status == 66)
            let badDuration = try await it.run([
                "standard", "propose", "--customer", "HR", "--service", "x", "--ack", "soon", "--deliver", "1d",
                "--csat", "80", "--compliance", "90",
            ])
            #expect(badDuration.status == 65)
            #expect(badDuration.stderr.contains("'soon' is not a duration"))
            let badTime = try await it.run(["report", "sla", "--from", "last week"])
            #expect(badTime.status == 65)
            let badStep = try await it.run(["request", "resume", key])
            #expect(badStep.status == 65)
            #expect(badStep.stderr.contains("cannot go from closed to in_progress"))
        }
    }

    /// What `interno request new` says of the standard that covers the new request: on
    /// stderr, that none does while none is agreed; with `--json`, the standard's reference
    /// once one is, and `null` before.
    @Test func aNewRequestSaysWhichStandardCoversIt() async throws {
        struct Raised: Decodable {
            var key: String
            var standard: String?
        }
        try await Deployment.with { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let it = try await deployment.join("IT", "OPO", user: "rui")
            let uncovered = try await hr.run(["request", "new", "--to", "it", "--title", "Before"])
            #expect(uncovered.status == 0)
            #expect(uncovered.stdout == "HR-LIS-1\n")
            #expect(
                uncovered.stderr.contains("no agreed standard covers requests from here to IT: this one has no targets")
            )
            let none = try await hr.json(Raised.self, "request", "new", "--to", "IT", "--title", "Before, as JSON")
            #expect(none.key == "HR-LIS-2")
            #expect(none.standard == nil)

            let proposed = try await it.proposeLaptops(to: hr)
            try await hr.sync()
            try await it.sync()
            try await hr.sync()

            let covered = try await hr.run(["request", "new", "--to", "IT", "--title", "After"])
            #expect(covered.status == 0)
            #expect(covered.stdout == "HR-LIS-3\n")
            #expect(!covered.stderr.contains("no agreed standard"))
            let json = try await hr.json(Raised.self, "request", "new", "--to", "IT", "--title", "After, as JSON")
            #expect(json.key == "HR-LIS-4")
            #expect(json.standard == proposed.ref)
            #expect(try await hr.json(RequestDetails.self, "request", "show", json.key).standard == proposed.ref)
        }
    }

    @Test func theDemoRunsAndCleansUp() async throws {
        let interno = try Executable("interno").url
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let demo = Executable(url: URL(fileURLWithPath: "/bin/bash"))
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let dashboard = scratch.appendingPathComponent("interno-dashboard.html")
        let result = try await demo.run(
            [root.appendingPathComponent("Tools/demo").path],
            environment: ["INTERNO_BIN": interno.deletingLastPathComponent().path, "INTERNO_DASHBOARD": dashboard.path])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("agreed"))
        #expect(result.stdout.contains("kept delivered (resolving the conflict)"))
        #expect(result.stdout.contains("LATE"))
        // The watermelon row names what made the pair red inside.
        #expect(
            result.stdout.split(separator: "\n").contains { $0.contains(" watermelon ") && $0.contains("CSAT ") },
            "\(result.stdout)")
        let removed = try #require(result.stdout.split(separator: "\n").last { $0.contains("removing ") })
        let directory = String(removed.split(separator: " ").last!)
        #expect(!FileManager.default.fileExists(atPath: directory))

        // The whole story: the survey says what the ratings say, each side commits to an
        // action, the next round improves, kudos, and the dashboard outlives the demo.
        #expect(result.stdout.contains("NPS -66.7 < 0"), "the first round makes the pair red inside")
        #expect(result.stdout.contains("responsiveness  5.33        2.33               +3.00"))
        #expect(result.stdout.contains("kudos to IT (Rui)"))
        #expect(result.stdout.contains("the dashboard: \(dashboard.path)"))
        let page = try String(contentsOf: dashboard, encoding: .utf8)
        #expect(page.components(separatedBy: "<svg").count - 1 == 4)
        try await Self.expectChromiumRenders(dashboard, in: scratch)
    }

    /// Renders `page` in headless Chromium (Debian's `chromium`, which `Tools/setup` installs)
    /// and checks it makes a screenshot without a console message.
    static func expectChromiumRenders(_ page: URL, in scratch: URL) async throws {
        guard
            let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        else {
            Issue.record("headless Chromium checks the dashboard: run Tools/setup, which installs Debian's chromium")
            return
        }
        let screenshot = scratch.appendingPathComponent("dashboard.png")
        let browser = Executable(url: URL(fileURLWithPath: chromium))
        let result = try await browser.run(
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=900,2200",
                "--enable-logging=stderr", "--v=0", "--user-data-dir=\(scratch.appendingPathComponent("profile").path)",
                "--screenshot=\(screenshot.path)", page.absoluteString,
            ], environment: ["HOME": scratch.path])
        #expect(result.status == 0, "\(result.stderr)")
        let png = try Data(contentsOf: screenshot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
        #expect(png.count > 20_000, "the page has content: \(png.count) bytes")
        let console = result.stderr.split(separator: "\n").filter {
            $0.contains("CONSOLE") || $0.contains("Uncaught") || $0.contains("Failed to load")
                || $0.contains("net::ERR")
        }
        #expect(console.isEmpty, "console: \(console)")
    }
}
