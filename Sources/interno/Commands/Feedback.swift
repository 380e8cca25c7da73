import ArgumentParser
import Foundation
import InternoClient
import InternoModel

extension Interno {
    struct Feedback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "feedback",
            abstract: "Rate a delivered request: the customer the service, the provider the cooperation.",
            discussion: """
                The customer department rates the service (1–5), optionally the effort it took \
                (1 very easy – 7 very hard) and a comment. The provider department rates the \
                customer's cooperation (1–5) with an optional comment: service is two-way. \
                Feedback is given after delivery; rating again replaces this side's rating.

                Examples:
                  interno feedback HR-LIS-42 --rating 4 --effort 2 --comment "no dock"
                  interno feedback HR-LIS-42 --rating 5 --comment "HR answered within the hour"
                """)

        @Argument(help: "The request's key.") var key: String
        @Option(help: "1 (very poor) to 5 (excellent).") var rating: Int
        @Option(help: "Customer only: 1 (very easy) to 7 (very hard).") var effort: Int?
        @Option(help: "A comment.") var comment: String?
        @Option(help: "When it was given, if earlier (offline work).") var at: String?
        @OptionGroup var options: SiteOptions

        func run() async throws {
            try await reporting {
                let side = try options.site().feedback(
                    key, rating: rating, effort: effort, comment: comment, at: try parseTime(at))
                if options.json { return try printJSON(["key": key.uppercased(), "side": side.rawValue]) }
                note(side == .customer ? "service rated" : "cooperation rated")
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "history",
            abstract: "The audit trail of a request: every change, comment and rating, with conflicts.",
            discussion: """
                Shows who did what and when (the time given with --at for offline work), which \
                changes put a field in conflict and which resolved it, and any change the \
                server refused.

                Examples:
                  interno history HR-LIS-42
                  interno history HR-LIS-42 --json
                """)

        @Argument(help: "The request's key.") var key: String
        @OptionGroup var options: SiteOptions

        func run() async throws {
            try await reporting {
                let items = try options.site().history(key)
                if options.json { return try printJSON(items) }
                printTable(
                    ["at", "who", "what", ""],
                    items.map { item in
                        var notes: [String] = []
                        if !item.conflicted.isEmpty {
                            notes.append("conflict on \(item.conflicted.joined(separator: ", "))")
                        }
                        if !item.resolved.isEmpty { notes.append("resolved \(item.resolved.joined(separator: ", "))") }
                        if let refused = item.refused { notes.append("refused by the server: \(refused)") }
                        return [
                            String(item.at.prefix(16)).replacingOccurrences(of: "T", with: " "), item.author,
                            oneLine(item.what), notes.joined(separator: "; "),
                        ]
                    })
            }
        }
    }
}

/// The first line of `text`, shortened for a table cell.
func oneLine(_ text: String, limit: Int = 60) -> String {
    let line = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
    return line.count > limit ? String(line.prefix(limit - 1)) + "…" : line
}
