import Foundation
import InternoClient
import Testing

/// Writes the databases of `Tests/Fixtures/<last migration>/` with the real binaries of this
/// release, so that later releases can prove they open, migrate and sync on what this one
/// wrote (`ReleaseFixtureTests`). Skipped unless `INTERNO_WRITE_FIXTURES` names the folder:
///
///     INTERNO_WRITE_FIXTURES=$PWD/Tests/Fixtures/v3-restores swift test --filter ReleaseFixtureWriter
///
/// What the databases hold: departments HR, IT and FAC; an agreed standard; requests worked
/// through their lifecycle with comments and feedback; an unresolved conflict; a request
/// raised at HR and not yet pushed. From `v7-schema-2` on, the standard covers IT's catalogued
/// service "Laptops", which HR says it needs; IT owns an open action, HR has thanked IT for
/// the first request, and HR has answered IT's survey round of the service.
@Suite("Release fixtures")
struct ReleaseFixtureWriter {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["INTERNO_WRITE_FIXTURES"] != nil))
    func writeTheDatabasesOfThisRelease() async throws {
        let folder = try #require(ProcessInfo.processInfo.environment["INTERNO_WRITE_FIXTURES"])
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try await Deployment.with { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let it = try await deployment.join("IT", "OPO", user: "rui")
            let fac = try await deployment.join("FAC", "LIS", user: "eva")
            try await it.ok("service", "add", "Laptops", "--attribute", "ready on day one")
            try await it.sync()
            try await hr.sync()
            try await hr.ok("service", "need", "Laptops", "--note", "two a month")
            try await it.ok(
                "survey", "open", "Laptops", "--customer", "HR=12", "--opens", "2026-01-01", "--closes", "2099-12-31")
            try await it.sync()
            try await hr.sync()
            try await hr.ok(
                "survey", "answer", "Laptops", "--tangibles", "5", "--reliability", "6", "--responsiveness", "3",
                "--assurance", "6", "--empathy", "4", "--nps", "6")
            try await hr.sync()
            _ = try await it.proposeLaptops(to: hr)
            var keys: [String] = []
            for title in ["Laptop for Marta", "VPN access", "New phone"] {
                let raised = try await hr.ok("request", "new", "--to", "IT", "--title", title)
                keys.append(raised.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            try await hr.sync()
            try await it.sync()
            for key in keys.prefix(2) {
                try await it.ok("request", "ack", key, "--note", "on it")
                try await it.ok("request", "start", key)
            }
            try await it.ok("request", "deliver", keys[0])
            try await it.ok("comment", keys[0], "left at the front desk")
            try await it.sync()
            try await hr.sync()
            try await hr.ok("request", "confirm", keys[0])
            try await hr.ok("feedback", keys[0], "--rating", "4", "--effort", "2", "--comment", "quick")
            try await hr.ok("kudos", "IT", "--person", "Rui", "--for", keys[0], "--message", "thank you")
            try await it.ok(
                "action", "new", "--about", "HR/IT", "--owner", "IT", "--due", "2027-01-31", "--title",
                "Keep six laptops in stock")
            // The same field on both sides, offline: a conflict left for people to resolve.
            try await it.ok("request", "deliver", keys[1])
            try await hr.ok("request", "cancel", keys[1])
            try await hr.sync()
            try await it.sync()
            try await hr.sync()
            try await fac.sync()
            // Raised and not yet pushed: the new release must push it.
            try await hr.ok("request", "new", "--to", "IT", "--title", "Written before the upgrade")

            let server = try await Executable("interno-server").run([
                "backup", "--data", deployment.data.url.path, "--out", folder + "/server.sqlite",
            ])
            #expect(server.status == 0, "\(server.stderr)")
            for (site, name) in [(hr, "hr-lis"), (it, "it-opo"), (fac, "fac-lis")] {
                try await site.ok("backup", "--out", folder + "/\(name).sqlite")
            }
        }
    }
}
