import Foundation
import InternoClient
import InternoModel
import Testing

/// Survey rounds end to end (DESIGN §7.8): real server over TLS, real `interno` processes.
/// Answers are anonymous inside the department: the name of the person who answers reaches
/// no disk but its own site's, and there only in the list of who has answered.
@Suite("Surveys, end to end", .serialized)
struct SurveyEndToEndTests {
    @Test(arguments: Central.all) func customersAnswerOnceAnonymouslyAndTheProviderReadsTheRound(central: Central)
        async throws
    {
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let it = try await deployment.join("IT", "OPO", user: "rui")
            let fac = try await deployment.join("FAC", "LIS", user: "eva")
            let tag = UUID().uuidString.prefix(8).lowercased()
            let people = ["first-\(tag)", "second-\(tag)", "third-\(tag)"]
            let comment = "comment-\(tag)-slow"
            try await it.ok("service", "add", "Laptops")
            try await it.sync()
            let days = ISO8601DateFormatter()
            days.formatOptions = [.withFullDate]
            let round = try await it.json(
                RoundView.self, "survey", "open", "Laptops", "--customer", "HR=12", "--customer", "FAC",
                "--opens", days.string(from: Date(timeIntervalSinceNow: -86_400)),
                "--closes", days.string(from: Date(timeIntervalSinceNow: 10 * 86_400)))
            #expect(round.status == "open")
            for site in [it, hr, fac] { try await site.sync() }
            let fromHR = try await hr.run([
                "survey", "open", "Laptops", "--customer", "FAC", "--opens", "2026-12-01", "--closes", "2026-12-09",
            ])
            #expect(fromHR.status == 67, "\(fromHR.stderr)")
            #expect(fromHR.stderr.contains("HR may not open a survey round for IT"))

            // Three people at HR answer; the first cannot answer twice.
            let scores = [
                ("5", "6", "3", "6", "4", "9"), ("4", "6", "2", "5", "4", "6"), ("6", "7", "4", "6", "5", "10"),
            ]
            for (person, score) in zip(people, scores) {
                let site = SiteCLI(home: hr.home, user: person)
                try await site.ok(
                    "survey", "answer", "Laptops", "--tangibles", score.0, "--reliability", score.1, "--responsiveness",
                    score.2, "--assurance", score.3, "--empathy", score.4, "--nps", score.5, "--comment", comment)
            }
            let again = try await SiteCLI(home: hr.home, user: people[0]).run([
                "survey", "answer", round.ref, "--tangibles", "1", "--reliability", "1", "--responsiveness", "1",
                "--assurance", "1", "--empathy", "1", "--nps", "0",
            ])
            #expect(again.status == 65, "\(again.stderr)")
            #expect(again.stderr.contains("has already answered this survey round"))
            let outOfRange = try await hr.run([
                "survey", "answer", round.ref, "--tangibles", "8", "--reliability", "1", "--responsiveness", "1",
                "--assurance", "1", "--empathy", "1", "--nps", "0",
            ])
            #expect(outOfRange.status == 65, "\(outOfRange.stderr)")
            #expect(outOfRange.stderr.contains("must be a whole number from 1 to 7; got 8"))
            #expect(try await hr.json(RoundView.self, "survey", "show", round.ref).answeredByMe == false)
            try await fac.ok(
                "survey", "answer", round.ref, "--tangibles", "5", "--reliability", "5", "--responsiveness", "5",
                "--assurance", "5", "--empathy", "5", "--nps", "7")
            for site in [hr, fac, it] { try await site.sync() }

            let report = try await it.json(SurveyReport.self, "report", "survey", "Laptops")
            #expect(report.figures.responses == 4)
            #expect(report.figures.overall == 4.90)
            #expect(report.figures.nps == 25.0)
            let hrRow = try #require(report.customers.first { $0.customer == "HR" })
            #expect(hrRow.responseRate == Share(3, of: 12))
            #expect(report.customers.first { $0.customer == "FAC" }?.figures.tooFew == true)
            let table = try await it.ok("report", "survey", round.ref)
            #expect(table.contains("too few responses"), "\(table)")
            // Every report prints one HTML page with --html, and one format at a time.
            for report in [["survey", round.ref], ["sla"], ["matrix"], ["actions"], ["kudos"]] {
                let result = try await it.run(["report"] + report + ["--html"])
                #expect(result.status == 0, "\(report): \(result.stderr)")
                let page = result.stdout
                #expect(page.hasPrefix("<!DOCTYPE html>"), "\(report)")
                #expect(page.contains("</html>") && !page.contains("<script"), "\(report)")
            }
            #expect(try await it.ok("report", "survey", round.ref, "--html").contains("too few responses"))
            #expect(try await it.run(["report", "sla", "--csv", "--html"]).status == 64)
            #expect(try await it.run(["report", "dashboard", "--out", "x.html", "--json"]).status == 64)
            // HR sees its own department's answers only.
            #expect(try await hr.json(SurveyReport.self, "report", "survey", round.ref).figures.responses == 3)

            // The answers travelled as HR-LIS's, never a person's: no name on any other disk.
            let answers = try await deployment.store.stream().flatMap(\.changes).filter { $0.kind == .answer }
            #expect(answers.count == 4)
            #expect(Set(answers.map(\.author)) == ["HR-LIS", "FAC-LIS"])
            let serverBytes = try await deployment.databaseBytes()
            for bytes in [serverBytes, it.databaseBytes(), fac.databaseBytes()] {
                for person in people {
                    #expect(bytes.range(of: Data(person.utf8)) == nil, "\(person)")
                    // A PostgreSQL dump prints bytea columns in hex.
                    #expect(bytes.range(of: Data(Data(person.utf8).hex.utf8)) == nil, "\(person) in hex")
                }
            }
            #expect(fac.databaseBytes().range(of: Data(comment.utf8)) == nil, "HR's answers never reach FAC")
            #expect(it.databaseBytes().range(of: Data(comment.utf8)) != nil)

            // An action about the round, agreed by HR, owned by IT.
            let action = try await hr.json(
                ActionView.self, "action", "new", "--about", round.ref, "--owner", "IT", "--due", "2099-01-31",
                "--title", "Answer within the hour")
            #expect(action.about == "survey round \(round.ref) ('Laptops')")
            #expect([action.customer, action.provider] == ["HR", "IT"])

            // A quality office's whole-organisation site runs a round of IT's service too, and
            // reads every answer.
            try await deployment.administration.addDepartment(
                code: "QA", name: "Quality Office", timeZone: "Europe/Lisbon")
            let qa = try await deployment.join("QA", "LIS", user: "rita", scope: .all)
            try await qa.sync()
            let quality = try await qa.json(
                RoundView.self, "survey", "open", "Laptops", "--customer", "HR", "--opens", "2026-01-01", "--closes",
                "2099-12-31")
            #expect(quality.provider == "IT")
            #expect(try await qa.json(SurveyReport.self, "report", "survey", round.ref).figures.responses == 4)
            try await qa.sync()
            try await hr.sync()
            #expect(try await hr.json([RoundView].self, "survey", "list").contains { $0.ref == quality.ref })

            // A closed round takes no more answers.
            try await it.ok("survey", "close", round.ref)
            try await it.sync()
            try await fac.sync()
            let closed = try await SiteCLI(home: fac.home, user: "other").run([
                "survey", "answer", round.ref, "--tangibles", "5", "--reliability", "5", "--responsiveness", "5",
                "--assurance", "5", "--empathy", "5", "--nps", "7",
            ])
            #expect(closed.status == 67, "\(closed.stderr)")
            #expect(closed.stderr.contains("this survey round is closed"))
        }
    }
}
