import ArgumentParser
import Foundation
import InternoClient

extension Interno {
    struct Departments: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "departments",
            abstract: "List the departments this site knows: code, name, calendar and business day.",
            discussion: """
                The directory comes with the enrolment bundle, so a site knows the departments from the moment it joins, even before it can reach the server; each sync brings the administrator's changes. A business day is what 1d means in a target of that department's calendar.

                Examples:
                  interno departments
                  interno departments --json
                """)

        @OptionGroup var options: SiteOptions

        func run() async throws {
            try await reporting {
                let departments = try options.site().departments()
                if options.json { return try printJSON(departments) }
                if departments.isEmpty { return note("no departments here yet: run `interno sync`") }
                printTable(
                    ["code", "name", "time zone", "hours", "day", "holidays"],
                    departments.map {
                        [
                            $0.code + ($0.conflicted ? " (!)" : ""), $0.name, $0.timeZone, $0.hours, $0.businessDay,
                            $0.holidays ?? "",
                        ]
                    })
            }
        }
    }
}
