import ArgumentParser
import InternoModel

// Every command names itself (`commandName:`): without a name, ArgumentParser derives one with
// `String(describing:)` for every command of the tree on every run, and the protocol
// conformance lookups behind it were 40% of the time a command took to start (DESIGN §9).
/// `interno`: a department site's command-line client.
@main
struct Interno: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interno",
        abstract: "Work with a department site's replica: standards, requests, feedback, reports, conflicts and sync.",
        discussion: """
            Each department site keeps its own SQLite replica and works offline; `interno sync` \
            exchanges changes with the central interno-server. The site is picked by --home, else \
            INTERNO_HOME, else ~/.interno. Results go to stdout (a table, or JSON with --json); \
            diagnostics go to stderr. Exit codes: 0 ok, 1 another failure, 64 usage (a word not among the choices too), \
            65 invalid value, 66 not found, 67 not allowed, 68 conflict pending, 69 server unreachable, connection \
            broken or timed out, 70 certificate or identity refused, 71 protocol error, 72 changes refused by the \
            server, 73 no joined site here, 74 records differ from the server (`interno verify`).

            Examples:
              interno join HR-LIS.bundle --home ~/interno-hr
              interno request new --to IT --title "Laptop for Marta" --needed-by 2026-12-01
              interno sync
              interno conflicts show HR-LIS-42
            """,
        version: InternoVersion.string,
        subcommands: [
            Join.self, WhoAmI.self, Sync.self, Verify.self, Status.self, RequestCommand.self, StandardCommand.self,
            ServiceCommand.self, SurveyCommand.self, ActionCommand.self, KudosCommand.self,
            Comment.self, Feedback.self, History.self, Conflicts.self, Report.self, Departments.self, Backup.self,
            Completions.self,
        ]
    )
}
