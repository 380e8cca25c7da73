import ArgumentParser
import InternoModel

/// `interno-server`: the central server that merges every site's changes.
@main
struct InternoServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interno-server",
        abstract: "Run and administer the central Interno server.",
        discussion: """
            Examples:
              interno-server --version
            """,
        version: InternoVersion.string
    )
}
