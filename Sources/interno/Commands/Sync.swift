import ArgumentParser
import Foundation
import InternoClient

extension Interno {
    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sync",
            abstract: "Push this site's changes to the server and pull everyone else's.",
            discussion: """
                Safe to interrupt and repeat: nothing is lost and nothing is applied twice. \
                Exits 72 if the server refused some of this site's changes (`interno status` \
                says why), 69 if it cannot be reached, the connection broke or a step timed \
                out, 70 if a certificate was refused or the server does not accept this site.

                No step waits without end: connecting gives up after 10 seconds, the TLS \
                handshake after 15, and each request after 60 for its whole answer (a full \
                16 MiB batch on a link of 2.3 Mbit/s or more). --timeout sets one limit for \
                all three; raise it on a slow link, lower it to fail fast.

                --server syncs once through another address: another instance of a server \
                that runs several, or a server that moved. Its certificate is checked as \
                always, against the CA and the server name in this site's bundle.

                Examples:
                  interno sync
                  interno sync --json
                  interno sync --timeout 300     # a slow link: give each step 5 minutes
                  interno sync --server interno-2.example.org:7443
                """)

        @OptionGroup var options: SiteOptions

        @OptionGroup var connection: ConnectionOptions

        @Option(
            help: ArgumentHelp(
                "Sync once through this address instead of the one in the site's bundle.", valueName: "host:port"),
            transform: { text in
                do { return try ServerAddress(text) } catch { throw ValidationError("\(error)") }
            })
        var server: ServerAddress?

        func run() async throws {
            try await reporting {
                let engine = try SyncEngine(home: options.siteHome, timeouts: connection.timeouts, server: server)
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
                    if report.serverRestored {
                        print(
                            "the server was restored from a backup since this site last synced: pulled everything again, and sent it what it had lost of this site's"
                        )
                    }
                    for request in report.renumbered {
                        print(
                            "request \(request.from) is now \(request.to): the server already had a request \(request.from), written here before this site was restored from a backup"
                        )
                    }
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
            commandName: "status",
            abstract: "Show pending and refused changes, conflicts, and the last sync.",
            discussion: """
                A change the server refused stays listed here with the reason until you deal \
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

extension Interno {
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "backup",
            abstract: "Write a consistent copy of this site's database.",
            discussion: """
                The copy (mode 0600) holds everything this site knows, its own changes included. \
                Keep it with a copy of the other files of the site's home, which change only at \
                join: site.json, ca.pem, client.pem and client-key.pem (the site's private key: \
                keep it secret).

                To restore: put the copy in place of replica.sqlite in the home (delete \
                replica.sqlite-wal and replica.sqlite-shm if they are there), then work as \
                usual. The next sync heals by itself: the site learns back what the server holds \
                of its own, and changes written since the copy under numbers it had already used \
                take new ones, with new request keys where needed; sync says which (README, \
                "Backups and restores").

                Example:
                  interno backup --out ~/backups/interno-hr-2026-12-01.sqlite
                """)

        @OptionGroup var options: SiteOptions
        @Option(help: "The file to write; it must not exist yet.") var out: String

        func run() async throws {
            try await reporting {
                try options.site().backup(to: out)
                print(
                    "wrote a copy of this site's database to \(out); keep it with site.json, ca.pem, client.pem and client-key.pem from \(options.siteHome.url.path)"
                )
            }
        }
    }
}
