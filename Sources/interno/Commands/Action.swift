import ArgumentParser
import Foundation
import InternoClient
import InternoModel

extension Interno {
    struct ActionCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "action",
            abstract: "Improvement actions agreed between a provider and its customer, and followed up.",
            discussion: """
                An action is about a request, a standard or the pair itself, and either \
                department of the pair owns it: HR commits to give two weeks' notice of \
                hires, IT to keep six laptops in stock. Both departments see it; only the \
                owner marks it done or drops it. `interno report actions` lists the open ones.

                Name an action by the start of its id (see `interno action list`) or its title.

                Examples:
                  interno action new --about HR/IT --owner IT --due 2027-01-31 \\
                      --title "Keep six laptops in stock"
                  interno action new --about HR-LIS-4 --owner HR --due 2026-12-15 \\
                      --title "Two weeks' notice of hires"
                  interno action list --open
                  interno action done 7d3e9a10 --outcome "Stock of six since December"
                """,
            subcommands: [New.self, List.self, Show.self, Edit.self, Done.self, Drop.self]
        )

        struct New: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "new",
                abstract: "Agree an action with another department; prints its ref.",
                discussion: """
                    --about takes a request key, a standard (its ref or service), a survey round \
                    (its ref: the pair is its provider and the asked department that is this one, \
                    or else the owner), or a pair CUSTOMER/PROVIDER such as HR/IT (IT serving \
                    HR); this department must be one of the two, and --owner names which one \
                    commits to it.

                    Example:
                      interno action new --about HR/IT --owner IT --due 2027-01-31 \\
                          --title "Keep six laptops in stock"
                    """)

            @Option(help: "A request key, a standard, a survey round, or a pair CUSTOMER/PROVIDER.") var about: String
            @Option(help: "The department that commits to it: one of the pair.") var owner: String
            @Option(help: "When it is due: 2027-01-31 (end of that day, UTC) or an ISO 8601 time.") var due: String
            @Option(help: "What will be done, in a line.") var title: String
            @Option(help: "More about it.") var details: String?
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let action = try options.site().newAction(
                        about: about, owner: owner, due: try TimeInput.parse(due, option: "--due"), title: title,
                        details: details)
                    if options.json { return try printJSON(action) }
                    print(action.ref)
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "list",
                abstract: "List the actions this site knows, by owner and due date.",
                discussion: "Examples:\n  interno action list\n  interno action list --open --owner IT")

            @Flag(help: "Only open actions.") var open = false
            @Option(help: "Only this department's actions.") var owner: String?
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let actions = try options.site().actions(owner: owner, open: open)
                    if options.json { return try printJSON(actions) }
                    if actions.isEmpty { return note("no actions here: `interno action new` agrees one") }
                    printTable(
                        ["ref", "owner", "status", "due", "about", "title"],
                        actions.map {
                            [
                                $0.ref + ($0.conflicts.isEmpty ? "" : " (!)"), $0.owner,
                                $0.overdue ? "overdue" : $0.status, $0.dueDate ?? shortTime($0.due), $0.about,
                                $0.title,
                            ]
                        })
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "show",
                abstract: "Show an action: what it is about, who owns it, when it is due, what came of it.",
                discussion: "Example:\n  interno action show 7d3e9a10")

            @Argument(help: "The action: the start of its id, or its title.") var action: String
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let shown = try options.site().action(action)
                    if options.json { return try printJSON(shown) }
                    printAction(shown)
                }
            }
        }

        struct Edit: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "edit",
                abstract: "Change an open action's title, details or due date (either department).",
                discussion: "Example:\n  interno action edit 7d3e9a10 --due 2027-02-28")

            @Argument(help: "The action: the start of its id, or its title.") var action: String
            @Option(help: "A new title.") var title: String?
            @Option(help: "New details; \"\" clears them.") var details: String?
            @Option(help: "A new due date or time.") var due: String?
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let shown = try options.site().editAction(
                        action, title: title, details: details,
                        due: try due.map { try TimeInput.parse($0, option: "--due") })
                    if options.json { return try printJSON(shown) }
                    printAction(shown)
                }
            }
        }

        struct Done: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "done",
                abstract: "Mark an action of this department done (its owner only).",
                discussion: "Example:\n  interno action done 7d3e9a10 --outcome \"Six in stock since December\"")

            @Argument(help: "The action: the start of its id, or its title.") var action: String
            @Option(help: "What was done.") var outcome: String?
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let shown = try options.site().closeAction(action, as: Schema.ActionStatus.done, outcome: outcome)
                    if options.json { return try printJSON(shown) }
                    print("\(shown.ref) \(shown.status)")
                }
            }
        }

        struct Drop: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "drop",
                abstract: "Drop an action of this department (its owner only), saying why.",
                discussion: "Example:\n  interno action drop 7d3e9a10 --outcome \"Replaced by the new standard\"")

            @Argument(help: "The action: the start of its id, or its title.") var action: String
            @Option(help: "Why it is dropped.") var outcome: String?
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let shown = try options.site().closeAction(
                        action, as: Schema.ActionStatus.dropped, outcome: outcome)
                    if options.json { return try printJSON(shown) }
                    print("\(shown.ref) \(shown.status)")
                }
            }
        }
    }

    struct KudosCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "kudos",
            abstract: "Thank another department, or a person in it, for a request, an action or a period of service.",
            discussion: """
                What is celebrated is repeated. --for takes a request key, an action (its ref \
                or title) or a period: 2026, 2026-H2, 2026-Q4 or 2026-11. The two departments \
                see the kudos; `interno report kudos` counts them.

                Examples:
                  interno kudos IT --person Rui --for HR-LIS-4 --message "Ready before day one"
                  interno kudos IT --for 2026-H2 --message "Every laptop on time this half"
                """)

        @Argument(help: "The department thanked, e.g. IT.") var department: String
        @Option(help: "A person in it, by name.") var person: String?
        @Option(name: .customLong("for"), help: "A request key, an action, or a period like 2026-H2.") var reason:
            String
        @Option(help: "What for, in words.") var message: String
        @OptionGroup var options: SiteOptions

        func run() async throws {
            try await reporting {
                let sent = try options.site().sendKudos(
                    to: department, person: person, for: reason, message: message)
                if options.json { return try printJSON(sent) }
                print("kudos to \(sent.to)\(sent.person.map { " (\($0))" } ?? "") for \(sent.reason)")
            }
        }
    }
}

private func printAction(_ action: ActionView) {
    print("action \(action.ref): \(action.title)")
    let lines: [(String, String?)] = [
        ("about", action.about), ("owner", action.owner),
        ("status", action.overdue ? "open, overdue" : action.status),
        ("due", action.dueDate ?? shortTime(action.due)), ("details", action.details),
        ("outcome", action.outcome), ("closed", action.closedAt.map(shortTime)),
    ]
    for case (let label, let value?) in lines { print("  \(label): \(value)") }
    if !action.conflicts.isEmpty {
        note("in conflict: `interno conflicts show \(action.ref)` lists every value")
    }
}
