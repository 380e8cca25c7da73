import ArgumentParser
import Foundation
import InternoClient
import InternoWire

extension Interno {
    struct Join: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "join",
            abstract: "Join a server with the enrolment bundle its administrator gave you.",
            discussion: """
                Creates the site's replica in the home directory, keeps the certificates there \
                (the key with mode 0600), takes in the departments the bundle carries, so work can \
                start offline, and syncs once if the server can be reached.

                Examples:
                  interno join HR-LIS.bundle
                  interno join HR-LIS.bundle --home /srv/interno-hr
                """)

        @Argument(help: "The bundle file from `interno-server enroll`.")
        var bundle: String

        @OptionGroup var options: SiteOptions

        func run() async throws {
            try await reporting {
                guard let data = FileManager.default.contents(atPath: bundle) else {
                    throw ClientError.notFound("cannot read the bundle \(bundle): check the path")
                }
                let parsed: EnrollmentBundle
                do { parsed = try EnrollmentBundle.decode(data) } catch {
                    throw ClientError.invalidInput("\(bundle): \(error)")
                }
                let home = options.siteHome
                let settings = try home.join(parsed)
                note("joined \(settings.host):\(settings.port) as \(settings.code) in \(home.url.path)")
                let known = try Site(home: home).departments().map(\.code)
                if !known.isEmpty {
                    note("the bundle carried the departments \(known.joined(separator: ", ")): work can start offline")
                }
                do {
                    let report = try await SyncEngine(home: home).sync()
                    note("first sync done: \(report.pulled) changes received")
                } catch let error as ClientError {
                    note("not synced yet (\(error)); run `interno sync` when the server can be reached")
                }
                if options.json { try printJSON(try Site(home: home).whoami()) }
            }
        }
    }

    struct WhoAmI: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "whoami",
            abstract: "Show this site's replica, department, site code and server.",
            discussion: "Examples:\n  interno whoami\n  interno whoami --json")

        @OptionGroup var options: SiteOptions

        func run() async throws {
            try await reporting {
                let view = try options.site().whoami()
                if options.json { return try printJSON(view) }
                printTable(
                    ["replica", "department", "site", "code", "server", "author"],
                    [[view.replica, view.department, view.site, view.code, view.server, view.author]])
            }
        }
    }
}
