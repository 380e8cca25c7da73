import ArgumentParser
import Foundation
import InternoModel
import InternoPostgres
import InternoServer
import InternoStore

extension InternoServerCommand {
    struct Initialize: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Create a server: its CA, its certificate for HOST, and its database.",
            discussion: """
                HOST:PORT is the address written into every enrolment bundle, so sites reach the \
                server there; the server certificate is issued for HOST. Private keys are written \
                with mode 0600. An existing server is never overwritten.

                With --database (or INTERNO_DATABASE), the merged state goes to that PostgreSQL \
                database, which must hold no server yet; every later command is given it too. \
                The data directory then holds the CA, the certificates and server.json, which \
                each instance's host needs a copy of (README, "PostgreSQL").

                Examples:
                  interno-server init --data /srv/interno --name interno.example.org \\
                      --port 7443
                  interno-server init --data /srv/interno --name interno.example.org \\
                      --database postgres://interno@db.example.org:5432/interno
                """)

        @OptionGroup var data: DataOptions
        @Option(help: "The host name or address sites connect to.") var name: String
        @Option(help: "The port sites connect to.") var port: Int = 7443

        func run() async throws {
            try await reporting {
                let directory = data.directory
                let (name, port) = (name, port)
                let settings: ServerDirectory.Settings
                if let location = try data.location() {
                    settings = try await PostgresServerStore.with(location) { store in
                        try await directory.initialize(name: name, port: port, postgres: store)
                    }
                } else {
                    settings = try await directory.initialize(name: name, port: port)
                }
                print("initialised server \(settings.serverID) for \(settings.name):\(settings.port) in \(data.data)")
            }
        }
    }

    struct Department: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "department",
            abstract: "Add, edit or list departments.",
            discussion: """
                Departments are the directory every site receives: each enrolment bundle carries it as of enrolment, and each sync brings the changes since.

                Examples:
                  interno-server department add HR --name "Human Resources" --data /srv/interno
                  interno-server department list --data /srv/interno
                """,
            subcommands: [Add.self, Edit.self, List.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "add",
                abstract: "Add a department, with its time zone, business hours and holidays.",
                discussion: """
                    Example:
                      interno-server department add IT --name "Information Technology" \\
                          --time-zone Europe/Lisbon --hours "mon-fri 09:00-17:30" \\
                          --holidays 2026-12-25,2026-12-26 --data /srv/interno
                    """)

            @Argument(help: "The code: an uppercase letter, then letters or digits, e.g. IT.") var code: String
            @Option(help: "The department's name.") var name: String
            @Option(help: "An IANA time zone, e.g. Europe/Lisbon.") var timeZone = "UTC"
            @Option(help: "Business hours per weekday, e.g. \"mon-fri 09:00-17:00; sat 10:00-13:00\".")
            var hours = "mon-fri 09:00-17:00"
            @Option(help: "Holidays, e.g. 2026-12-25,2026-12-26.") var holidays: String?
            @OptionGroup var data: DataOptions

            func run() async throws {
                try await reporting {
                    let (directory, code, name, timeZone, hours, holidays) = (
                        data.directory, code, name, timeZone, hours, holidays
                    )
                    let id = try await data.withStore { store in
                        try await ServerAdministration(directory: directory, store: store).addDepartment(
                            code: code, name: name, timeZone: timeZone, hours: hours, holidays: holidays)
                    }
                    print("added department \(code) (\(id.text))")
                }
            }
        }

        struct Edit: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "edit",
                abstract: "Change a department's name, time zone, business hours or holidays.",
                discussion: """
                    The change reaches every site at its next sync. Clocks are counted with the \
                    calendar as it is when they are read, so changing hours, or dropping a past \
                    holiday from the list, also changes how past requests measure. --holidays \
                    replaces the whole list: give the past holidays again with the new ones.

                    Examples:
                      interno-server department edit IT --holidays 2026-12-25,2027-01-01 \\
                          --data /srv/interno
                      interno-server department edit HR --hours "mon-thu 08:00-18:00" \\
                          --data /srv/interno
                    """)

            @Argument(help: "The department's code.") var code: String
            @Option(help: "A new name.") var name: String?
            @Option(help: "An IANA time zone, e.g. Europe/Lisbon.") var timeZone: String?
            @Option(help: "Business hours per weekday, e.g. \"mon-fri 09:00-17:00\".") var hours: String?
            @Option(help: "Every holiday, replacing the list, e.g. 2026-12-25,2027-01-01; 'none' clears.")
            var holidays: String?
            @OptionGroup var data: DataOptions

            func run() async throws {
                try await reporting {
                    let (directory, code, name, timeZone, hours, holidays) = (
                        data.directory, code.uppercased(), name, timeZone, hours, holidays
                    )
                    try await data.withStore { store in
                        try await ServerAdministration(directory: directory, store: store).editDepartment(
                            code: code, name: name, timeZone: timeZone, hours: hours, holidays: holidays)
                    }
                    print("changed department \(code.uppercased())")
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "list",
                abstract: "List the departments.",
                discussion:
                    "Examples:\n  interno-server department list --data /srv/interno\n  interno-server department list --json --data /srv/interno"
            )
            @OptionGroup var data: DataOptions
            @Flag(help: "Print JSON.") var json = false

            struct Row: Codable {
                var code: String
                var name: String
                var timeZone: String
                var hours: String
                var holidays: String?
            }

            func run() async throws {
                try await reporting {
                    let departments = try await data.withStore { store in try await store.records(of: .department) }
                    let rows = departments.map { record in
                        func text(_ field: String) -> String? {
                            record.resolve(field, policy: .manual).displayValue?.text
                        }
                        return Row(
                            code: text("code") ?? "", name: text("name") ?? "", timeZone: text("timeZone") ?? "",
                            hours: text("hours") ?? "", holidays: text("holidays"))
                    }.sorted { $0.code < $1.code }
                    if json { return try printJSON(rows) }
                    printTable(
                        ["code", "name", "time zone", "hours", "holidays"],
                        rows.map { [$0.code, $0.name, $0.timeZone, $0.hours, $0.holidays ?? ""] })
                }
            }
        }
    }

    struct Enroll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "enroll",
            abstract: "Enrol a department site: a new replica, its certificate, and one bundle file (mode 0600).",
            discussion: """
                Give the bundle to the site over a channel you trust: it holds the site's private \
                key. The site joins with `interno join BUNDLE`.

                A site receives only the records its department is a party to: the requests it \
                raised or serves, their comments and feedback, its standards, and the directory \
                of departments. --scope all enrols a site that receives everything (a quality \
                office, management, an auditor); it still writes only as its own department.

                Examples:
                  interno-server enroll --department HR --site LIS --out HR-LIS.bundle \\
                      --data /srv/interno
                  interno-server enroll --department QA --site LIS --scope all \\
                      --data /srv/interno
                """)

        @Option(help: "The department's code.") var department: String
        @Option(help: "The site's code, e.g. LIS.") var site: String
        @Option(help: "What the site receives: its department's records, or all of them.")
        var scope: Scope.Kind = .department
        @Option(help: "Where to write the bundle (default: DEPARTMENT-SITE.bundle).") var out: String?
        @OptionGroup var data: DataOptions

        func run() async throws {
            try await reporting {
                let (directory, department, site, scope) = (data.directory, department, site, scope)
                let bundle = try await data.withStore { store in
                    try await ServerAdministration(directory: directory, store: store).enroll(
                        department: department, site: site, scope: scope)
                }
                let path = out ?? "\(bundle.code).bundle"
                guard !FileManager.default.fileExists(atPath: path) else {
                    throw ServerError.invalidArgument("\(path) already exists; choose another --out")
                }
                try SecureFile.write(try bundle.encoded(), to: path, mode: 0o600)
                print(
                    "enrolled \(bundle.code) as replica \(bundle.replicaID) with scope \(scope.rawValue); bundle written to \(path)"
                )
            }
        }
    }

    struct Replicas: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "replicas",
            abstract: "List enrolled sites: replica id, department, site, scope, last seen (to the minute), revoked.",
            discussion: "Example:\n  interno-server replicas --data /srv/interno --json")
        @OptionGroup var data: DataOptions
        @Flag(help: "Print JSON.") var json = false

        struct Row: Codable {
            var replica: String
            var department: String
            var site: String
            var code: String
            var scope: String
            var lastSeen: String?
            var revoked: Bool
        }

        func run() async throws {
            try await reporting {
                let rows = try await data.withStore { store in try await store.registry() }.map {
                    Row(
                        replica: $0.replicaID, department: $0.departmentCode, site: $0.site, code: $0.code,
                        scope: $0.scope.rawValue,
                        lastSeen: $0.lastSeenAt.map { Timestamp(millisecondsSince1970: $0).description },
                        revoked: $0.revoked)
                }
                if json { return try printJSON(rows) }
                printTable(
                    ["replica", "department", "site", "scope", "last seen", "revoked"],
                    rows.map {
                        [$0.replica, $0.department, $0.site, $0.scope, $0.lastSeen ?? "never", $0.revoked ? "yes" : ""]
                    })
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke",
            abstract: "Revoke a site: its certificate is refused from now on; its changes stay.",
            discussion:
                "Example:\n  interno-server revoke 1b4e28ba-2fa1-11d2-883f-0016d3cca427 \\\n      --data /srv/interno")
        @Argument(help: "The replica id, as `replicas` lists it.") var replica: String
        @OptionGroup var data: DataOptions

        func run() async throws {
            try await reporting {
                guard let id = ReplicaID(uuidString: replica) else {
                    throw ServerError.invalidArgument(
                        "'\(replica)' is not a replica id (a UUID, as `replicas` lists it)")
                }
                try await data.withStore { store in try await store.revoke(id) }
                print("revoked \(replica)")
            }
        }
    }
}

extension InternoServerCommand {
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "backup",
            abstract: "Write a consistent copy of the server's database, while it runs and serves.",
            discussion: """
                The copy (mode 0600) holds every change, the registry of sites and the server's \
                identity. Keep it with a copy of the other files of the data directory, which \
                change only at init: ca.pem, ca-key.pem, server.pem, server-key.pem (private \
                keys: keep them as secret as the CA) and server.json.

                To restore: stop the server, put the copy in place of server.sqlite, delete \
                server.sqlite-wal and server.sqlite-shm if they are there, and start it. Sites \
                notice at their next sync and heal by themselves: they send the server what it \
                lost of theirs and pull what they missed (README, "Backups and restores").

                Example:
                  interno-server backup --data /srv/interno \\
                      --out /backups/interno-2026-12-01.sqlite
                """)

        @OptionGroup var data: DataOptions
        @Option(help: "The file to write; it must not exist yet.") var out: String

        func run() async throws {
            try await reporting {
                guard try data.location() == nil, !(try data.directory.settings().usesPostgres) else {
                    throw ServerError.invalidArgument(
                        "this server keeps its data in PostgreSQL: back it up with pg_dump (README, \"PostgreSQL\")")
                }
                try data.directory.store().backup(to: out)
                print(
                    "wrote a copy of the server's database to \(out); keep it with ca.pem, ca-key.pem, server.pem, server-key.pem and server.json from \(data.data)"
                )
            }
        }
    }
}

extension InternoServerCommand {
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate",
            abstract: "Move a server's data from its SQLite file to an empty PostgreSQL database.",
            discussion: """
                Stop the server first. Everything it stores is copied in one transaction: the \
                log with its sequence numbers, the record states, the registry of sites and the \
                server's identity. Sites carry on at their next sync without enrolling again, \
                and pull only what is new. server.json then says that the data is in \
                PostgreSQL, so every later command needs --database or INTERNO_DATABASE; \
                server.sqlite is left as it was.

                Example:
                  interno-server migrate --data /srv/interno \\
                      --to postgres://interno@db.example.org:5432/interno
                """)

        @Option(help: "The server's data directory.") var data: String
        @Option(help: ArgumentHelp("The empty PostgreSQL database to move to.", valueName: "url")) var to: String

        func run() async throws {
            try await reporting {
                let directory = ServerDirectory(path: data)
                _ = try directory.settings()
                let location = try PostgresLocation(url: to)
                let summary = try await PostgresServerStore.with(location) { store in
                    try await directory.migrate(to: store)
                }
                print(
                    "moved \(summary.changes) changes, \(summary.records) records and \(summary.sites) sites to \(location); start the server with --database \(location) (or INTERNO_DATABASE); \(directory.databasePath) is left as it was"
                )
            }
        }
    }
}
