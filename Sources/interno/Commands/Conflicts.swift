import ArgumentParser
import Foundation
import InternoClient

extension Interno {
    struct Conflicts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "conflicts",
            abstract: "List, inspect and resolve fields edited concurrently on two sites.",
            discussion: """
                While a field is in conflict every site shows a provisional value, flagged. \
                Resolving writes one value over all of them; it reaches every site with the \
                next syncs.

                Examples:
                  interno conflicts
                  interno conflicts show HR-LIS-42
                  interno conflicts resolve HR-LIS-42 --field assignee --pick 2
                """,
            subcommands: [List.self, Show.self, Resolve.self],
            defaultSubcommand: List.self)

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "list",
                abstract: "List every record with a conflict.", discussion: "Example:\n  interno conflicts list --json")
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let conflicts = try options.site().conflicts()
                    if options.json { return try printJSON(conflicts) }
                    if conflicts.isEmpty { return print("no conflicts") }
                    printTable(
                        ["key", "kind", "fields"],
                        conflicts.map { [$0.key, $0.kind, $0.fields.map(\.field).joined(separator: ", ")] })
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "show",
                abstract: "Show every value of each conflicted field of a request: who, from which site, when.",
                discussion: "Example:\n  interno conflicts show HR-LIS-42")
            @Argument(help: "The request's key.") var key: String
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let view = try options.site().conflicts(ofRequest: key)
                    if options.json { return try printJSON(view) }
                    if view.fields.isEmpty { return print("request \(view.key) has no conflict") }
                    for field in view.fields {
                        print("\(view.key) \(field.field) (\(field.label)):")
                        printTable(
                            ["#", "value", "author", "site", "at", ""],
                            field.siblings.map {
                                ["\($0.number)", $0.value ?? "—", $0.author, $0.site, $0.at, $0.mine ? "mine" : ""]
                            })
                    }
                }
            }
        }

        struct Resolve: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "resolve",
                abstract: "Resolve a conflicted field: keep one value, or write a new one.",
                discussion: """
                    Examples:
                      interno conflicts resolve HR-LIS-42 --mine
                      interno conflicts resolve HR-LIS-42 --field title --theirs
                      interno conflicts resolve HR-LIS-42 --field assignee --pick 2
                      interno conflicts resolve HR-LIS-42 --field title --value "Laptop and dock"
                    """)

            @Argument(help: "The request's key.") var key: String
            @Option(help: "The field; needed when more than one is in conflict.") var field: String?
            @Flag(help: "Keep this site's value.") var mine = false
            @Flag(help: "Keep the other site's value.") var theirs = false
            @Option(help: "Keep value number N, as `conflicts show` numbers them.") var pick: Int?
            @Option(help: "Write this value instead.") var value: String?
            @OptionGroup var options: SiteOptions

            func validate() throws {
                let chosen = [mine, theirs, pick != nil, value != nil].filter { $0 }.count
                guard chosen == 1 else {
                    throw ValidationError("choose exactly one of --mine, --theirs, --pick N, --value V")
                }
            }

            func run() async throws {
                try await reporting {
                    let choice: Resolution =
                        mine ? .mine : theirs ? .theirs : pick.map(Resolution.pick) ?? .value(value ?? "")
                    try options.site().resolve(key, field: field, choice)
                    note("resolved; `interno sync` takes the resolution to the other sites")
                }
            }
        }
    }
}
