import ArgumentParser
import Foundation
import InternoClient

extension Interno {
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check that this site holds exactly what the server says it should.",
            discussion: """
                Compares digests of every record this site holds (its changes, its state and \
                what it shows) with those of what the server says it should hold: the records \
                its scope covers, as far as this site has pulled, and its own changes. Says "in \
                step", or lists each record that differs (and in what), is missing, or should \
                not be here. Nothing is pushed or pulled; run it after a sync to check \
                everything.

                --repair fetches the changes of those records from the server again and \
                rebuilds them from those: their log, their state and their query rows. Changes \
                of this site's not yet sent are kept as they are, and go with the next sync.

                Exits 0 when in step (or everything was repaired), 74 when records differ and \
                were not repaired, 69, 70 or 71 as `interno sync` does. With a server older \
                than this command, it says the server does not know it (71).

                Examples:
                  interno verify
                  interno verify --repair
                  interno verify --json
                """)

        @OptionGroup var options: SiteOptions

        @Flag(help: "Fetch the records that differ from the server again and rebuild them.")
        var repair = false

        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await reporting {
                let engine = try SyncEngine(home: options.siteHome, timeouts: connection.timeouts)
                let report = try await engine.verify(repair: repair)
                if options.json {
                    try printJSON(report)
                } else {
                    for difference in report.differences { print(describe(difference)) }
                    let pending = report.pending > 0 ? ", \(report.pending) with changes not yet sent" : ""
                    if report.differences.isEmpty {
                        print("in step with the server: \(report.held) records held\(pending)")
                    } else if report.inStep {
                        print("repaired \(report.repaired) records: now in step with the server")
                    } else if repair {
                        print(
                            "\(report.differences.count - report.repaired) of \(report.differences.count) records still differ from the server"
                        )
                    } else {
                        print(
                            "\(report.differences.count) records differ from the server: `interno verify --repair` fetches them again"
                        )
                    }
                }
                if !report.inStep {
                    throw ClientError.notInStep("this site does not hold what the server says it should")
                }
            }
        }

        /// One line per record: what is wrong, the record, and what was done.
        func describe(_ difference: RecordDifference) -> String {
            let name = [difference.kind, difference.label ?? difference.id].compactMap { $0 }.joined(separator: " ")
            var line: String
            switch difference.problem {
            case .differs: line = "differs     \(name): \(difference.parts.joined(separator: ", "))"
            case .missing: line = "missing     \(name): this site should hold it"
            case .unexpected: line = "unexpected  \(name): this site should not hold it"
            }
            if difference.pending { line += " (has changes not yet sent, kept)" }
            if difference.repaired { line += "; repaired" }
            if let note = difference.note { line += "; not repaired: \(note)" }
            return line
        }
    }
}
