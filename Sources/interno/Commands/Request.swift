import ArgumentParser
import Foundation
import InternoClient
import InternoModel

extension Interno {
    struct RequestCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "request",
            abstract: "Raise, list, show, edit and move requests between departments.",
            discussion: """
                The customer raises and edits a request; the provider moves it through \
                ack, start, wait, resume, deliver or decline; the customer confirms, reopens \
                or cancels. Each step can carry a --note and an --at time for work done offline.

                Examples:
                  interno request new --to IT --title "Laptop for Marta" --priority high
                  interno request list
                  interno request show HR-LIS-42
                  interno request ack HR-LIS-42 --note "on it"
                """,
            subcommands: [
                New.self, List.self, Show.self, Edit.self, Assign.self, Step.Ack.self, Step.Start.self,
                Step.Wait.self, Step.Resume.self, Step.Deliver.self, Step.Confirm.self, Step.Reopen.self,
                Step.Cancel.self, Decline.self,
            ]
        )

        struct New: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "new",
                abstract: "Raise a request to another department; prints its key.",
                discussion: """
                    Examples:
                      interno request new --to IT --title "Laptop for Marta"
                      interno request new --to IT --title "Laptop" --details "16 GB" \\
                          --priority urgent --needed-by 2026-12-01
                      interno request new --service "Laptops for new hires" --title "Laptop for Rui"
                    """)

            @Option(help: "The provider department's code, e.g. IT (not needed with --service).") var to: String?
            @Option(help: "A service of the provider's catalogue: its name, or the start of its id.")
            var service: String?
            @Option(help: "A short title.") var title: String
            @Option(help: "Longer details.") var details: String?
            @Option(help: "How urgent it is for the customer.") var priority = RequestPriority.normal
            @Option(help: "When it is needed: 2026-12-01 (end of that day, UTC) or an ISO 8601 time.")
            var neededBy: String?
            @Option(help: "The agreed standard it falls under (default: the one agreed with the provider).")
            var standard: String?
            @Option(help: "When the request was raised, if earlier (offline work).") var at: String?
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let site = try options.site()
                    let raised = try site.raiseRequest(
                        to: to, service: service, title: title, details: details, priority: priority.rawValue,
                        neededBy: try neededBy.map { try TimeInput.parse($0, option: "--needed-by") },
                        standard: standard, at: try parseTime(at))
                    if options.json { return try printJSON(["key": raised.key, "standard": raised.standard]) }
                    print(raised.key)
                    if raised.standard == nil {
                        note(
                            "no agreed standard covers requests from here to \(raised.provider)\(service == nil ? "" : " for this service"): this one has no targets"
                        )
                    }
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "list",
                abstract: "List the requests this site knows, newest first, with the clock due next.",
                discussion: """
                    "due" is when the first clock past its target fell due, else when the running \
                    clock due next reaches its target; "left" is the business time left on it \
                    (negative once late). --overdue keeps the requests with a clock past its target.

                    Examples:
                      interno request list
                      interno request list --overdue --to IT
                      interno request list --state open --from HR
                      interno request list --json
                    """)

            @Flag(help: "Only requests with a running clock past its target.") var overdue = false
            @Option(help: "Only requests from this customer department.") var from: String?
            @Option(help: "Only requests to this provider department.") var to: String?
            @Option(help: "Only requests in this state, or open for every open state.")
            var state: RequestStateFilter?
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let requests = try options.site().requests(
                        overdueOnly: overdue, customer: from, provider: to, state: state?.rawValue)
                    if options.json { return try printJSON(requests) }
                    printTable(
                        [
                            "key", "state", "priority", "from", "to", "assignee", "needed by", "clock", "due", "left",
                            "title",
                        ],
                        requests.map {
                            [
                                $0.key + ($0.conflicted ? " (!)" : ""), $0.state, $0.priority, $0.customer, $0.provider,
                                $0.assignee ?? "", $0.neededByDate ?? $0.neededBy.map(shortTime) ?? "",
                                $0.clock ?? "",
                                $0.due.map(shortTime) ?? "",
                                $0.left.map { $0.hasPrefix("-") ? "LATE \($0)" : $0 } ?? "",
                                oneLine($0.title, limit: 50),
                            ]
                        })
                    if requests.contains(where: \.conflicted) {
                        note("(!) has a conflict: values shown are provisional; see `interno conflicts`")
                    }
                    if overdue, requests.isEmpty { note("no request is past a target") }
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "show",
                abstract: "Show one request: every field, its clocks, comments, feedback and conflicts.",
                discussion: "Examples:\n  interno request show HR-LIS-42\n  interno request show HR-LIS-42 --json")

            @Argument(help: "The request's key, e.g. HR-LIS-42.") var key: String
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let details = try options.site().requestDetails(key)
                    if options.json { return try printJSON(details) }
                    print("request \(details.key)")
                    for field in details.fields {
                        guard let value = field.date ?? field.value else { continue }
                        print(
                            "  \(field.label): \(value)"
                                + (field.conflicted ? "   (in conflict, provisional)" : ""))
                    }
                    print("clocks (business time\(details.standard.map { ", standard \($0)" } ?? ", no standard")):")
                    printTable(
                        ["  clock", "side", "status", "elapsed", "target", "due", "standing"],
                        details.clocks.map { clock in
                            [
                                "  " + clock.name, clock.side, clock.status, clock.elapsed, clock.target ?? "—",
                                clock.due.map(shortTime) ?? "",
                                standing(clock),
                            ]
                        })
                    if !details.feedback.isEmpty {
                        print("feedback:")
                        for given in details.feedback {
                            let what = given.side == "customer" ? "service" : "cooperation"
                            let effort = given.effort.map { ", effort \($0)/7" } ?? ""
                            let comment = given.comment.map { ": \($0)" } ?? ""
                            print(
                                "  \(what) \(given.rating.map(String.init) ?? "?")/5\(effort) by \(given.author)\(comment)"
                            )
                        }
                    }
                    if !details.comments.isEmpty {
                        print("comments:")
                        for comment in details.comments { print("  \(comment.at) \(comment.author): \(comment.text)") }
                    }
                    if !details.conflicts.isEmpty {
                        note("conflicts: `interno conflicts show \(details.key)` lists every value")
                    }
                }
            }
        }

        struct Edit: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "edit",
                abstract: "Change the title, details, priority or needed-by date of a request (customer, while open).",
                discussion:
                    "Examples:\n  interno request edit HR-LIS-42 --priority urgent\n  interno request edit HR-LIS-42 --title \"Laptop and dock\""
            )

            @Argument(help: "The request's key.") var key: String
            @Option(help: "A new title.") var title: String?
            @Option(help: "New details.") var details: String?
            @Option(help: "A new priority.") var priority: RequestPriority?
            @Option(help: "A new needed-by date or time; 'none' clears it.") var neededBy: String?
            @Option(help: "When the edit was made, if earlier.") var at: String?
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let needed: Timestamp?? =
                        try neededBy.map { $0 == "none" ? nil : try TimeInput.parse($0, option: "--needed-by") }
                    try options.site().editRequest(
                        key, title: title, details: details, priority: priority?.rawValue, neededBy: needed,
                        at: try parseTime(at)
                    )
                }
            }
        }

        struct Assign: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "assign",
                abstract: "Assign a request to a person at the provider ('none' unassigns).",
                discussion: "Examples:\n  interno request assign HR-LIS-42 --to rui")

            @Argument(help: "The request's key.") var key: String
            @Option(help: "The person's name, or 'none'.") var to: String
            @Option(help: "When it happened, if earlier (offline work).") var at: String?
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    try options.site().assign(key, to: to == "none" ? nil : to, at: try parseTime(at))
                }
            }
        }

        struct Decline: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "decline",
                abstract: "Decline a submitted or acknowledged request, with a reason (provider).",
                discussion: "Examples:\n  interno request decline HR-LIS-42 --reason \"Facilities handles chairs\"")

            @Argument(help: "The request's key.") var key: String
            @Option(help: "Why the request is declined.") var reason: String
            @Option(help: "A note kept as a comment.") var note: String?
            @Option(help: "When it happened, if earlier.") var at: String?
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    try options.site().transition(key, "decline", note: note, reason: reason, at: try parseTime(at))
                }
            }
        }
    }
}

/// The lifecycle steps that take only a key, a note and a time.
enum Step {
    /// The shared body of every step command.
    struct Arguments: ParsableArguments {
        @Argument(help: "The request's key, e.g. HR-LIS-42.") var key: String
        @Option(help: "A note, kept as a comment on the request.") var note: String?
        @Option(help: "When it happened, if earlier (offline work): 2026-11-20T15:00:00Z.") var at: String?
        @OptionGroup var options: SiteOptions

        func take(_ verb: String) async throws {
            try await reporting { try options.site().transition(key, verb, note: note, at: try parseTime(at)) }
        }
    }

    struct Ack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ack",
            abstract: "Acknowledge a submitted request (provider).",
            discussion: "Example:\n  interno request ack HR-LIS-42")
        @OptionGroup var arguments: Arguments
        func run() async throws { try await arguments.take("ack") }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "start",
            abstract: "Start work on a request (provider).", discussion: "Example:\n  interno request start HR-LIS-42")
        @OptionGroup var arguments: Arguments
        func run() async throws { try await arguments.take("start") }
    }

    struct Wait: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "wait",
            abstract: "Wait on the customer: the provider's clock pauses (provider).",
            discussion: "Example:\n  interno request wait HR-LIS-42 --note \"which model?\"")
        @OptionGroup var arguments: Arguments
        func run() async throws { try await arguments.take("wait") }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resume",
            abstract: "Resume work after waiting on the customer (provider).",
            discussion: "Example:\n  interno request resume HR-LIS-42")
        @OptionGroup var arguments: Arguments
        func run() async throws { try await arguments.take("resume") }
    }

    struct Deliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "deliver",
            abstract: "Deliver a request (provider).", discussion: "Example:\n  interno request deliver HR-LIS-42")
        @OptionGroup var arguments: Arguments
        func run() async throws { try await arguments.take("deliver") }
    }

    struct Confirm: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "confirm",
            abstract: "Confirm a delivery and close the request (customer).",
            discussion: "Example:\n  interno request confirm HR-LIS-42")
        @OptionGroup var arguments: Arguments
        func run() async throws { try await arguments.take("confirm") }
    }

    struct Reopen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reopen",
            abstract: "Reopen a delivered request: work resumes (customer).",
            discussion: "Example:\n  interno request reopen HR-LIS-42 --note \"the dock is missing\"")
        @OptionGroup var arguments: Arguments
        func run() async throws { try await arguments.take("reopen") }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cancel",
            abstract: "Cancel an open request (customer).", discussion: "Example:\n  interno request cancel HR-LIS-42")
        @OptionGroup var arguments: Arguments
        func run() async throws { try await arguments.take("cancel") }
    }
}

extension Interno {
    struct Comment: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "comment",
            abstract: "Comment on a request (customer or provider). Comments never conflict.",
            discussion: "Example:\n  interno comment HR-LIS-42 \"Marta starts Monday\"")

        @Argument(help: "The request's key.") var key: String
        @Argument(help: "The text.") var text: String
        @OptionGroup var options: SiteOptions

        func run() async throws {
            try await reporting { try options.site().comment(key, text) }
        }
    }
}

/// How a clock stands against its target: time left or LATE while it runs, held while paused,
/// met or missed once stopped.
private func standing(_ clock: ClockView) -> String {
    guard let left = clock.left else { return "" }
    let late = left.hasPrefix("-")
    switch clock.status {
    case "running": return late ? "LATE \(left)" : left
    case "paused": return late ? "past target, held" : "\(left), held"
    default: return late ? "missed by \(left.dropFirst())" : "met"
    }
}
