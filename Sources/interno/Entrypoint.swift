import ArgumentParser
import InternoModel

/// `interno`: a department site's command-line client.
@main
struct Interno: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interno",
        abstract: "Work with a department site's replica: requests, standards, feedback and sync.",
        discussion: """
            Each department site keeps its own SQLite replica and works offline; `interno sync`
            exchanges changes with the central interno-server.

            Examples:
              interno --version
            """,
        version: InternoVersion.string
    )
}
