import ArgumentParser
import Foundation
import InternoClient
import InternoModel

extension Interno {
    struct StandardCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "standard",
            abstract: "Agree two-way service standards between departments.",
            discussion: """
                A standard sets the provider's targets (time to acknowledge, to deliver, optionally \
                per priority), the customer's obligations (notice before the needed-by date, time \
                to answer while a request waits on them, time to confirm a delivery), a CSAT \
                target and a compliance target. It is agreed once both departments have signed \
                its current terms; each signs from its own site, and the agreement shows after \
                both have synced. In targets a day (1d) is one business day of the calendar the \
                clock counts in; hours and minutes are business hours and minutes.

                Name a standard by the start of its id (see `interno standard list`) or by its \
                service.

                Examples:
                  interno standard propose --provider IT --service "Laptops for new hires" \\
                      --ack 4h --deliver 5d --notice 10d --answer 1d --confirm 2d \\
                      --csat 80 --compliance 90
                  interno standard list
                  interno standard sign 3f2a9c1e
                  interno standard edit 3f2a9c1e --deliver 4d
                  interno standard retire 3f2a9c1e
                """,
            subcommands: [Propose.self, Edit.self, Sign.self, List.self, Show.self, Retire.self]
        )

        /// The terms, as options shared by propose and edit.
        struct TermOptions: ParsableArguments {
            @Option(help: "The service covered: one of the provider's catalogue, or free text.") var service: String?
            @Option(help: "Time to acknowledge, e.g. 4h.") var ack: String?
            @Option(help: "Time to deliver, e.g. 5d.") var deliver: String?
            @Option(help: "Targets per priority (ack/deliver), e.g. \"urgent=30m/4h, high=2h/2d\"; 'none' clears.")
            var priorityTargets: String?
            @Option(help: "Notice the customer gives before the needed-by date, e.g. 10d; 'none' clears.")
            var notice: String?
            @Option(help: "Time the customer takes to answer while a request waits on them; 'none' clears.")
            var answer: String?
            @Option(help: "Time the customer takes to confirm a delivery; 'none' clears.") var confirm: String?
            @Option(help: "CSAT target: % of ratings of 4 or 5, 0–100.") var csat: Int?
            @Option(help: "Compliance target: % of requests within target, 0–100.") var compliance: Int?
            @Option(help: "Survey target: the lowest score, 1–7, a survey dimension may have; 0 clears.")
            var surveyTarget: Int?

            var terms: StandardTerms {
                StandardTerms(
                    service: service, acknowledge: ack, deliver: deliver, priorityTargets: priorityTargets,
                    notice: notice, answer: answer, confirm: confirm, csat: csat, compliance: compliance,
                    survey: surveyTarget)
            }
        }

        struct Propose: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "propose",
                abstract: "Propose a standard with another department; this side signs it at once.",
                discussion: """
                    Give --provider when this department is the customer, --customer when it \
                    provides the service. The other department signs with `interno standard sign`.

                    Examples:
                      interno standard propose --provider IT --service "Laptops" --ack 4h \\
                          --deliver 5d --csat 80 --compliance 90
                      interno standard propose --customer HR --service "Laptops" --ack 2h \\
                          --deliver 3d --priority-targets "urgent=30m/4h" --csat 85 \\
                          --compliance 95 --supersedes 3f2a9c1e
                    """)

            @Option(help: "The provider department, when this department is the customer.") var provider: String?
            @Option(help: "The customer department, when this department provides the service.") var customer: String?
            @OptionGroup var termOptions: TermOptions
            @Option(help: "The standard this one replaces once agreed.") var supersedes: String?
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let standard = try options.site().proposeStandard(
                        provider: provider, customer: customer, terms: termOptions.terms, supersedes: supersedes)
                    if options.json { return try printJSON(standard) }
                    print(standard.ref)
                    let other = standard.providerSignature == "current" ? standard.customer : standard.provider
                    note(
                        "proposed and signed for this side; \(other) signs with `interno standard sign \(standard.ref)`"
                    )
                }
            }
        }

        struct Edit: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "edit",
                abstract: "Change the terms of a proposed standard; this side signs the new terms.",
                discussion: """
                    An agreed standard is never edited: propose a new one with --supersedes. \
                    After an edit the other department must sign again.

                    Example:
                      interno standard edit 3f2a9c1e --deliver 4d --csat 85
                    """)

            @Argument(help: "The standard: the start of its id, or its service.") var standard: String
            @OptionGroup var termOptions: TermOptions
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let shown = try options.site().editStandard(standard, terms: termOptions.terms)
                    if options.json { return try printJSON(shown) }
                    printStandard(shown)
                }
            }
        }

        struct Sign: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "sign",
                abstract: "Sign the current terms of a standard for this department.",
                discussion: "Example:\n  interno standard sign 3f2a9c1e")

            @Argument(help: "The standard: the start of its id, or its service.") var standard: String
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let (shown, already) = try options.site().signStandard(standard)
                    if options.json { return try printJSON(shown) }
                    if already { note("this department had already signed these terms") }
                    print("\(shown.ref) \(shown.status)")
                    if shown.status == "proposed" {
                        note("agreed once both sides have signed these terms and synced")
                    }
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "list",
                abstract: "List the standards this site knows.",
                discussion: "Examples:\n  interno standard list\n  interno standard list --json")

            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let standards = try options.site().standards()
                    if options.json { return try printJSON(standards) }
                    printTable(
                        [
                            "ref", "status", "provider", "customer", "ack", "deliver", "csat", "compliance", "signed",
                            "service",
                        ],
                        standards.map {
                            [
                                $0.ref + ($0.conflicts.isEmpty ? "" : " (!)"), $0.status, $0.provider, $0.customer,
                                $0.acknowledge ?? "", $0.deliver ?? "", $0.csatTarget.map { "\($0)%" } ?? "",
                                $0.complianceTarget.map { "\($0)%" } ?? "", signatures($0), $0.service,
                            ]
                        })
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "show",
                abstract: "Show a standard: its terms, signatures and status.",
                discussion: "Example:\n  interno standard show 3f2a9c1e")

            @Argument(help: "The standard: the start of its id, or its service.") var standard: String
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let shown = try options.site().standard(standard)
                    if options.json { return try printJSON(shown) }
                    printStandard(shown)
                }
            }
        }

        struct Retire: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "retire",
                abstract: "Retire a standard (either department): later requests no longer fall under it.",
                discussion: "Example:\n  interno standard retire 3f2a9c1e")

            @Argument(help: "The standard: the start of its id, or its service.") var standard: String
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let shown = try options.site().retireStandard(standard)
                    if options.json { return try printJSON(shown) }
                    print("\(shown.ref) \(shown.status)")
                }
            }
        }
    }
}

private func signatures(_ standard: StandardView) -> String {
    let signed = [("provider", standard.providerSignature), ("customer", standard.customerSignature)]
        .filter { $0.1 == "current" }.map(\.0)
    return signed.isEmpty ? "none" : signed.joined(separator: "+")
}

private func printStandard(_ standard: StandardView) {
    print("standard \(standard.ref): \(standard.service)")
    var lines: [(String, String?)] = [
        ("status", standard.status), ("catalogued service", standard.catalogService),
        ("provider", standard.provider), ("customer", standard.customer),
        ("time to acknowledge", standard.acknowledge), ("time to deliver", standard.deliver),
        ("targets per priority", standard.priorityTargets), ("notice before needed-by", standard.notice),
        ("time to answer while waiting", standard.answer), ("time to confirm", standard.confirm),
        ("CSAT target", standard.csatTarget.map { "\($0)%" }),
        ("compliance target", standard.complianceTarget.map { "\($0)%" }),
        ("survey target", standard.surveyTarget.map { "every dimension at least \($0) of 7" }),
        ("terms", standard.terms ?? "in conflict"),
        ("provider's signature", standard.providerSignature), ("customer's signature", standard.customerSignature),
    ]
    lines.append(("supersedes", standard.supersedes))
    lines.append(("superseded by", standard.supersededBy))
    for case (let label, let value?) in lines { print("  \(label): \(value)") }
    if !standard.conflicts.isEmpty {
        note("terms in conflict: `interno conflicts show \(standard.service)` lists every value")
    }
}
