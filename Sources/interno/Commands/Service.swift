import ArgumentParser
import Foundation
import InternoClient
import InternoModel

extension Interno {
    struct ServiceCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "service",
            abstract: "The services catalogue: what each department offers, and what its customers need.",
            discussion: """
                A provider department lists its services with what its customers care about \
                (attributes, one per --attribute). Every site sees the whole catalogue. A \
                customer department says which services it uses and what it needs from each \
                with `interno service need`; only it and the provider see that. A standard \
                and a request can name a catalogued service (`--service`), and `interno report \
                sla --by service` groups by it.

                Name a service by its name or by the start of its id (see `interno service list`).

                Examples:
                  interno service add "Laptops for new hires" \\
                      --description "A working laptop on the first day" \\
                      --attribute "ready on day one" --attribute "keeps me informed"
                  interno service list --provider IT
                  interno service show "Laptops for new hires"
                  interno service need "Laptops for new hires" --note "ten in September"
                  interno service retire 5c1e0a9b
                """,
            subcommands: [Add.self, Edit.self, List.self, Show.self, Retire.self, Need.self]
        )

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "add",
                abstract: "Add a service to this department's catalogue; prints its ref.",
                discussion: """
                    Example:
                      interno service add "Laptops for new hires" --attribute "ready on day one"
                    """)

            @Argument(help: "The service's name, e.g. \"Laptops for new hires\".") var name: String
            @Option(help: "What the service is.") var description: String?
            @Option(help: "Something its customers care about; repeat for each.") var attribute: [String] = []
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let shown = try options.site().addService(
                        name: name, description: description, attributes: attribute)
                    if options.json { return try printJSON(shown) }
                    print(shown.ref)
                }
            }
        }

        struct Edit: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "edit",
                abstract: "Change a service of this department: its name, description or attributes.",
                discussion: """
                    --attribute replaces the whole list; --no-attributes clears it, and an empty \
                    --description clears the description.

                    Example:
                      interno service edit "Laptops for new hires" --attribute "ready on day one" \\
                          --attribute "set up with my accounts"
                    """)

            @Argument(help: "The service: its name, or the start of its id.") var service: String
            @Option(help: "A new name.") var name: String?
            @Option(help: "A new description; \"\" clears it.") var description: String?
            @Option(help: "An attribute; repeat for each. Replaces the list.") var attribute: [String] = []
            @Flag(help: "Clear the attributes.") var noAttributes = false
            @OptionGroup var options: SiteOptions

            func validate() throws {
                if noAttributes, !attribute.isEmpty {
                    throw ValidationError("choose one of --attribute and --no-attributes")
                }
            }

            func run() async throws {
                try await reporting {
                    let shown = try options.site().editService(
                        service, name: name, description: description,
                        attributes: noAttributes ? [] : attribute.isEmpty ? nil : attribute)
                    if options.json { return try printJSON(shown) }
                    printService(shown)
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "list",
                abstract: "List the catalogue this site knows, or the services this department uses.",
                discussion: """
                    Examples:
                      interno service list
                      interno service list --provider IT --retired
                      interno service list --used
                    """)

            @Option(help: "Only this provider department's services.") var provider: String?
            @Flag(help: "Show retired services too.") var retired = false
            @Flag(help: "Only the services this department uses, with what it needs from each.") var used = false
            @OptionGroup var options: SiteOptions

            func validate() throws {
                if used, provider != nil || retired {
                    throw ValidationError("--used lists this department's needs; it takes no --provider or --retired")
                }
            }

            func run() async throws {
                try await reporting {
                    let site = try options.site()
                    if used {
                        let needs = try site.needs()
                        if options.json { return try printJSON(needs) }
                        if needs.isEmpty {
                            return note(
                                "\(site.settings.departmentCode) uses no catalogued service yet: `interno service need SERVICE --note ...` says it does"
                            )
                        }
                        return printTable(
                            ["provider", "service", "ref", "status", "need"],
                            needs.map {
                                [
                                    $0.provider, $0.service, $0.serviceRef, $0.dropped ? "dropped" : "uses",
                                    $0.note ?? "",
                                ]
                            })
                    }
                    let services = try site.services(provider: provider, retired: retired)
                    if options.json { return try printJSON(services) }
                    if services.isEmpty {
                        return note(
                            "no services in the catalogue here: `interno sync` fetches them, `interno service add` adds one"
                        )
                    }
                    printTable(
                        ["ref", "provider", "status", "standards", "users", "service"],
                        services.map {
                            [
                                $0.ref + ($0.conflicts.isEmpty ? "" : " (!)"), $0.provider, $0.status,
                                $0.standards.joined(separator: " "), String($0.needs.filter { !$0.dropped }.count),
                                $0.name,
                            ]
                        })
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "show",
                abstract: "Show a service: its attributes, the standards that cover it, and what its users need.",
                discussion: "Example:\n  interno service show \"Laptops for new hires\"")

            @Argument(help: "The service: its name, or the start of its id.") var service: String
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let shown = try options.site().service(service)
                    if options.json { return try printJSON(shown) }
                    printService(shown)
                }
            }
        }

        struct Retire: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "retire",
                abstract: "Retire a service of this department: no new standard, request or need names it.",
                discussion: "Example:\n  interno service retire 5c1e0a9b")

            @Argument(help: "The service: its name, or the start of its id.") var service: String
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let shown = try options.site().retireService(service)
                    if options.json { return try printJSON(shown) }
                    print("\(shown.ref) \(shown.status)")
                }
            }
        }

        struct Need: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "need",
                abstract: "Say that this department uses a service, and what it needs from it.",
                discussion: """
                    Only this department and the service's provider see it. --drop says the \
                    department no longer uses the service; --no-drop that it does again.

                    Examples:
                      interno service need "Laptops for new hires" --note "ten in September"
                      interno service need "Laptops for new hires" --drop
                    """)

            @Argument(help: "The service: its name, or the start of its id.") var service: String
            @Option(help: "What this department needs from it; \"\" clears it.") var note: String?
            @Flag(inversion: .prefixedNo, help: "This department no longer uses the service.") var drop: Bool?
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let need = try options.site().need(service, note: self.note, dropped: drop)
                    if options.json { return try printJSON(need) }
                    print(
                        "\(need.customer) \(need.dropped ? "no longer uses" : "uses") \(need.provider)'s '\(need.service)'"
                            + (need.note.map { ": \($0)" } ?? ""))
                }
            }
        }
    }
}

private func printService(_ service: ServiceView) {
    print("service \(service.ref): \(service.name)")
    let lines: [(String, String?)] = [
        ("provider", service.provider), ("status", service.status), ("description", service.description),
        ("standards", service.standards.isEmpty ? nil : service.standards.joined(separator: ", ")),
    ]
    for case (let label, let value?) in lines { print("  \(label): \(value)") }
    if !service.attributes.isEmpty {
        print("  what its customers care about:")
        for attribute in service.attributes { print("    - \(attribute)") }
    }
    for need in service.needs {
        let note = need.note.map { ": \($0)" } ?? ""
        print("  \(need.customer) \(need.dropped ? "used it (dropped)" : "uses it")\(note)")
    }
    if !service.conflicts.isEmpty {
        note("in conflict: `interno conflicts show \(service.name)` lists every value")
    }
}
