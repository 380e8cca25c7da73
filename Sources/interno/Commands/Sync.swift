import ArgumentParser
import Foundation
import InternoClient

extension Interno {
    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Push this site's changes to the server and pull everyone else's.",
            discussion: """
                Safe to interrupt and repeat: nothing is lost and nothing is applied twice.
                Exits 72 if the server refused some of this site's changes (`interno status`
                says why), 69 if it cannot be reached, 70 if it does not accept this site.

                Examples:
                  interno sync
                  interno sync --json
                """)

        @OptionGroup var options: SiteOptions

        func run() async throws {
            try await reporting {
                let engine = try SyncEngine(home: options.siteHome)
                let terminal = isatty(STDERR_FILENO) == 1
                let report = try await engine.sync { progress in
                    guard terminal else { return }
                    switch progress {
                    case .pushing(let sent, let total):
                        FileHandle.standardError.write(Data("\rpushing \(sent)/\(total) change sets   ".utf8))
                    case .pulling(let cursor, let total):
                        FileHandle.standardError.write(Data("\rpulling \(cursor)/\(total)                 ".utf8))
                    }
                }
                if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
                if options.json {
                    try printJSON(report)
                } else {
                    print(
                        "pushed \(report.accepted) change sets (\(report.duplicates) already there, \(report.deferred) deferred, \(report.refused.count) refused); pulled \(report.pulled) changes"
                    )
                    for refused in report.refused { print("refused: \(refused.reason)") }
                    if report.removedOutOfScope > 0 {
                        print(
                            "removed \(report.removedOutOfScope) records of other departments: this site keeps only what its department is a party to"
                        )
                    }
                    let conflicts = try options.site().status().conflicts
                    if !conflicts.isEmpty {
                        print("\(conflicts.count) field(s) in conflict: `interno conflicts` lists them")
                    }
                }
                if !report.refused.isEmpty { throw ClientError.changesRefused(report.refused.count) }
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show pending and refused changes, conflicts, and the last sync.",
            discussion: """
                A change the server refused stays listed here with the reason until you deal
                with it: redo what is right, then forget the refused one with --discard.

                Examples:
                  interno status
                  interno status --json
                  interno status --discard 17
                """)

        @OptionGroup var options: SiteOptions

        @Option(help: "Forget the refused change set with this number (it stays in the history).")
        var discard: UInt64?

        func run() async throws {
            try await reporting {
                let site = try options.site()
                if let discard { try site.discardRefused(discard) }
                let status = try site.status()
                if options.json { return try printJSON(status) }
                print("site \(status.site) of \(status.department) (replica \(status.replica))")
                print("server \(status.server); last sync \(status.lastSync ?? "never")")
                print(
                    "pending change sets: \(status.pending)"
                        + (status.deferred > 0 ? ", deferred: \(status.deferred)" : ""))
                if status.refused.isEmpty {
                    print("refused changes: none")
                } else {
                    print("refused changes (redo them as needed, then `interno status --discard N`):")
                    for refused in status.refused {
                        print("  [\(refused.firstCounter)] \(refused.reason)")
                        for change in refused.changes { print("      tried: \(change)") }
                    }
                }
                print("conflicts: " + (status.conflicts.isEmpty ? "none" : status.conflicts.joined(separator: "; ")))
            }
        }
    }
}
