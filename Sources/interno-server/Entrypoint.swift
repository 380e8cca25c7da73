import ArgumentParser
import InternoModel

// Every command names itself (`commandName:`): without a name, ArgumentParser derives one with
// `String(describing:)` for every command of the tree on every run, and the protocol
// conformance lookups behind it were 40% of the time a command took to start (DESIGN §9).
/// `interno-server`: the central server that merges every site's changes.
@main
struct InternoServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interno-server",
        abstract: "Run and administer the central Interno server.",
        discussion: """
            Every command takes --data DIR, the server's data directory. Exit codes: 0 ok, 1 another failure, \
            64 usage, 65 invalid value, 66 not found, 69 cannot listen, 73 no server in DIR \
            (or one already there, for init).

            Examples:
              interno-server init --data /srv/interno --name interno.example.org
              interno-server department add IT --name "Information Technology" \\
                  --data /srv/interno
              interno-server enroll --department HR --site LIS --data /srv/interno
              interno-server run --data /srv/interno
              interno-server backup --data /srv/interno --out /backups/interno.sqlite
            """,
        version: InternoVersion.string,
        subcommands: [
            Initialize.self, Department.self, Enroll.self, Replicas.self, Revoke.self, Backup.self, Migrate.self,
            Run.self,
            Completions.self,
        ]
    )
}
