import Foundation
import InternoClient
import Testing

/// A date typed as a date comes back as that date, in tables and messages, while `--json`
/// keeps the exact instant beside it (issue 14; DESIGN §8, "Dates").
@Suite("Dates as typed")
struct DateTests {
    @Test(arguments: Central.all) func neededByIsShownAsTheDateTyped(central: Central) async throws {
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let key = try await hr.ok(
                "request", "new", "--to", "IT", "--title", "Laptop", "--needed-by", "2026-11-27"
            ).trimmingCharacters(in: .whitespacesAndNewlines)

            let shown = try await hr.ok("request", "show", key)
            #expect(shown.contains("needed-by date: 2026-11-27\n"), "\(shown)")
            #expect(!shown.contains("2026-11-28"), "\(shown)")
            let details = try await hr.json(RequestDetails.self, "request", "show", key)
            let field = try #require(details.fields.first { $0.name == "neededBy" })
            #expect(field.value == "2026-11-28T00:00:00.000Z", "the exact instant: the end of the 27th")
            #expect(field.date == "2026-11-27")

            let listed = try await hr.ok("request", "list")
            #expect(listed.contains("needed by") && listed.contains("2026-11-27"), "\(listed)")
            let summary = try #require(try await hr.json([RequestSummary].self, "request", "list").first)
            #expect(summary.neededBy == "2026-11-28T00:00:00.000Z")
            #expect(summary.neededByDate == "2026-11-27")

            // A time stays a time; history says the date as it was typed.
            try await hr.ok("request", "edit", key, "--needed-by", "2026-12-01T14:30:00Z")
            let timed = try await hr.json(RequestDetails.self, "request", "show", key)
            #expect(timed.fields.first { $0.name == "neededBy" }?.date == nil)
            #expect(try await hr.ok("request", "show", key).contains("needed-by date: 2026-12-01T14:30:00.000Z"))
            try await hr.ok("request", "edit", key, "--needed-by", "2026-12-04")
            let history = try await hr.json([HistoryItemView].self, "history", key)
            #expect(history.last?.what == "set needed-by date to 2026-12-04", "\(history.map(\.what))")
            #expect(history.last?.fields["neededBy"] == "2026-12-05T00:00:00.000Z")
        }
    }

    @Test(arguments: Central.all) func aReportPeriodIsEchoedAsTyped(central: Central) async throws {
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let empty = try await hr.run(["report", "sla", "--from", "2025-03-05", "--to", "2025-03-04"])
            #expect(empty.status == 65)
            #expect(empty.stderr.contains("--from 2025-03-05 is not before --to 2025-03-04"), "\(empty.stderr)")

            let report = try await hr.ok("report", "sla", "--from", "2026-11-01", "--to", "2026-11-30")
            #expect(report.contains("requests submitted 2026-11-01 to 2026-11-30"), "\(report)")

            struct Scope: Decodable {
                var from: String
                var to: String
                var fromDate: String?
                var toDate: String?
            }
            struct Envelope: Decodable { var scope: Scope }
            let json = try await hr.json(Envelope.self, "report", "sla", "--from", "2026-11-01", "--to", "2026-11-30")
            #expect(json.scope.from == "2026-11-01T00:00:00.000Z")
            #expect(json.scope.to == "2026-12-01T00:00:00.000Z", "the 30th is included: the period ends after it")
            #expect(json.scope.fromDate == "2026-11-01")
            #expect(json.scope.toDate == "2026-11-30")
            let timed = try await hr.json(
                Envelope.self, "report", "sla", "--from", "2026-11-01T09:00:00Z", "--to", "2026-11-30")
            #expect(timed.scope.fromDate == nil)
        }
    }
}
