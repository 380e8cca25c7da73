import ArgumentParser
import Foundation
import InternoClient
import InternoModel
import InternoRender

/// `--priority`: a wrong word is a usage error (64) that lists the choices, and completion
/// offers them. Upper case is accepted, as people type it.
extension RequestPriority: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

/// `--state`: one state of the lifecycle, or open.
extension RequestStateFilter: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

/// `--by`: none or month.
extension ReportSplit: ExpressibleByArgument {}

/// `--by` of `report sla`: standard or service.
extension SLARow.Grouping: ExpressibleByArgument {}

/// How long a command that talks to the server waits (`sync`, `verify`).
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .long, parsing: .unconditional,
        help: ArgumentHelp(
            "Give up on connecting, on the TLS handshake and on each request after this many seconds (default: 10, 15 and 60).",
            valueName: "seconds"),
        transform: { text in
            do { return try SyncTimeouts(seconds: text) } catch { throw ValidationError("\(error)") }
        })
    var timeout: SyncTimeouts?

    /// The timeouts given, or the defaults.
    var timeouts: SyncTimeouts { timeout ?? .standard }
}

/// The options every site command takes.
struct SiteOptions: ParsableArguments {
    @Option(name: .long, help: "The site's home directory (default: INTERNO_HOME, else ~/.interno).")
    var home: String?

    @Flag(name: .long, help: "Print stable JSON instead of a table.")
    var json = false

    var siteHome: SiteHome { SiteHome.resolve(home) }

    /// Opens the joined site.
    func site() throws -> Site {
        try Site(home: siteHome)
    }
}

/// Runs a command body, printing a failure for a person and exiting with its documented code.
func reporting(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ClientError {
        printError(error.description)
        throw ExitCode(error.exitCode)
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch {
        printError("\(error)")
        throw ExitCode(ExitStatus.failure)
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
}

func note(_ message: String) {
    FileHandle.standardError.write(Data("\(message)\n".utf8))
}

/// Prints `value` as JSON with sorted keys: the stable machine-readable form.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Parses `--at`: when the event happened; `nil` for now (``TimeInput/event(_:option:now:)``).
func parseTime(_ text: String?) throws -> Timestamp? {
    try TimeInput.event(text)
}

/// A plain text table: columns padded to their widest cell (`TextTable`).
func printTable(_ headers: [String], _ rows: [[String]]) {
    print(TextTable.render(headers, rows))
}

/// An ISO time shortened for a table: `2026-12-07 17:00Z`.
func shortTime(_ iso: String) -> String {
    String(iso.prefix(16)).replacingOccurrences(of: "T", with: " ") + "Z"
}
