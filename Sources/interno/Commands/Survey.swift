import ArgumentParser
import Foundation
import InternoClient
import InternoModel
import InternoRender

extension Interno {
    struct SurveyCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "survey",
            abstract: "Perception surveys of a service among its customers, answered anonymously, offline.",
            discussion: """
                A provider opens a round of one of its services for its customer departments, \
                with a window. Each person at a customer site answers once: a score from 1 \
                (strongly disagree) to 7 (strongly agree) for each of the five SERVQUAL \
                dimensions, how likely they are to recommend the service (0–10), and a \
                comment. With --paired, they also score what they expect. Answers carry the \
                department and site, never the person's name; only the provider and the \
                answering department see them. `interno report survey ROUND` reads them.

                Name a round by the start of its id, or by its service for the latest round.

                Examples:
                  interno survey open "Laptops for new hires" --customer HR=12 --customer FAC \\
                      --opens 2026-12-01 --closes 2026-12-15
                  interno survey show "Laptops for new hires"
                  interno survey answer 5a7c9e01 --tangibles 5 --reliability 6 \\
                      --responsiveness 3 --assurance 6 --empathy 4 --nps 6
                  interno survey close 5a7c9e01
                """,
            subcommands: [Open.self, List.self, Show.self, Answer.self, Close.self]
        )

        struct Open: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "open",
                abstract: "Open a survey round of one of this department's services; prints its ref.",
                discussion: """
                    Example:
                      interno survey open "Laptops for new hires" --customer HR=12 \\
                          --opens 2026-12-01 --closes 2026-12-15 --paired
                    """)

            @Argument(help: "The service: its name, or the start of its id.") var service: String
            @Option(help: "A department asked, optionally with the people invited (HR=12); repeat for each.")
            var customer: [String] = []
            @Option(help: "When answers open: a date (start of that day, UTC) or an ISO 8601 time.") var opens: String
            @Option(help: "When answers close: a date (end of that day, UTC) or an ISO 8601 time.") var closes: String
            @Flag(help: "Ask what people expect as well as what they perceive.") var paired = false
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let round = try options.site().openRound(
                        service: service, customers: customer,
                        opens: try TimeInput.parseStart(opens, option: "--opens"),
                        closes: try TimeInput.parse(closes, option: "--closes"), paired: paired)
                    if options.json { return try printJSON(round) }
                    print(round.ref)
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "list",
                abstract: "List the survey rounds this site knows, newest first.",
                discussion: "Example:\n  interno survey list --json")

            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let rounds = try options.site().rounds()
                    if options.json { return try printJSON(rounds) }
                    if rounds.isEmpty { return note("no survey rounds here: `interno sync` fetches them") }
                    printTable(
                        ["ref", "status", "provider", "opens", "closes", "responses", "answered", "service"],
                        rounds.map {
                            [
                                $0.ref, $0.status, $0.provider, shortTime($0.opens), shortTime($0.closes),
                                String($0.responses), $0.answeredByMe ? "yes" : "no", $0.service,
                            ]
                        })
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "show",
                abstract: "Show a round and its questionnaire.",
                discussion: "Example:\n  interno survey show \"Laptops for new hires\"")

            @Argument(help: "The round: the start of its id, or its service.") var round: String
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let shown = try options.site().round(round)
                    if options.json { return try printJSON(shown) }
                    print("survey round \(shown.ref): \(shown.service) (\(shown.provider))")
                    print("  status: \(shown.status), from \(shortTime(shown.opens)) to \(shortTime(shown.closes))")
                    let asked = shown.customers.map { $0.customer + ($0.invited.map { " (\($0) invited)" } ?? "") }
                    print("  asks: \(asked.joined(separator: ", "))")
                    print(
                        "  responses held here: \(shown.responses); you have \(shown.answeredByMe ? "" : "not ")answered"
                    )
                    print(
                        "  questionnaire (\(shown.form == "paired" ? "expected and perceived" : "perceived"), 1 = strongly disagree … 7 = strongly agree):"
                    )
                    for dimension in Schema.surveyDimensions {
                        print("    --\(dimension): \(Schema.surveyStatements[dimension] ?? "")")
                    }
                    print("    --nps: \(Schema.npsQuestion) 0 … 10")
                    print("    --comment: anything else (optional)")
                }
            }
        }

        struct Answer: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "answer",
                abstract: "Answer a round for this department, anonymously; each person once.",
                discussion: """
                    Scores from 1 (strongly disagree) to 7 (strongly agree) for each dimension \
                    (`interno survey show ROUND` prints the statements), and 0–10 for --nps. In \
                    a paired round, also give each --expect-... score. The answer carries this \
                    site's code, never your name; this site alone remembers that you answered.

                    Example:
                      interno survey answer 5a7c9e01 --tangibles 5 --reliability 6 \\
                          --responsiveness 3 --assurance 6 --empathy 4 --nps 6 \\
                          --comment "Good kit, slow to answer"
                    """)

            @Argument(help: "The round: the start of its id, or its service.") var round: String
            @Option(help: "Tools, equipment, documents, 1–7.") var tangibles: Int
            @Option(help: "Does what it promised, 1–7.") var reliability: Int
            @Option(help: "Willing to help, prompt, 1–7.") var responsiveness: Int
            @Option(help: "Competent, courteous, trusted, 1–7.") var assurance: Int
            @Option(help: "Individual attention, 1–7.") var empathy: Int
            @Option(help: "How likely you are to recommend it to a colleague, 0–10.") var nps: Int
            @Option(help: "Expected tangibles, 1–7 (paired rounds).") var expectTangibles: Int?
            @Option(help: "Expected reliability, 1–7 (paired rounds).") var expectReliability: Int?
            @Option(help: "Expected responsiveness, 1–7 (paired rounds).") var expectResponsiveness: Int?
            @Option(help: "Expected assurance, 1–7 (paired rounds).") var expectAssurance: Int?
            @Option(help: "Expected empathy, 1–7 (paired rounds).") var expectEmpathy: Int?
            @Option(help: "Anything else.") var comment: String?
            @Option(help: "When you answered, if earlier (offline work).") var at: String?
            @OptionGroup var options: SiteOptions

            func validate() throws {
                let expected = [
                    expectTangibles, expectReliability, expectResponsiveness, expectAssurance, expectEmpathy,
                ]
                let given = expected.compactMap { $0 }.count
                if given != 0, given != expected.count {
                    throw ValidationError(
                        "give all five expected scores (--expect-tangibles … --expect-empathy) or none")
                }
            }

            func run() async throws {
                try await reporting {
                    let expected = [
                        expectTangibles, expectReliability, expectResponsiveness, expectAssurance, expectEmpathy,
                    ]
                    let shown = try options.site().answerRound(
                        round, perceptions: [tangibles, reliability, responsiveness, assurance, empathy],
                        expectations: expected.contains(nil) ? nil : expected.compactMap { $0 }, nps: nps,
                        comment: comment, at: try parseTime(at))
                    if options.json { return try printJSON(shown) }
                    print("answered survey round \(shown.ref); `interno sync` sends the answer, without your name")
                }
            }
        }

        struct Close: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "close",
                abstract: "Close a round of this department before its window ends.",
                discussion: "Example:\n  interno survey close 5a7c9e01")

            @Argument(help: "The round: the start of its id, or its service.") var round: String
            @OptionGroup var options: SiteOptions

            func run() async throws {
                try await reporting {
                    let shown = try options.site().closeRound(round)
                    if options.json { return try printJSON(shown) }
                    print("\(shown.ref) \(shown.status)")
                }
            }
        }
    }
}

extension Interno.Report {
    struct Survey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "survey",
            abstract:
                "A survey round: each dimension's score, the overall score, internal NPS, and per customer department, beside the previous round.",
            discussion: """
                Scores are means of 1–7 (per respondent, then across respondents); the overall \
                score is the unweighted mean of the five dimensions; NPS is % of 9–10 minus % \
                of 0–6. A group with fewer answers than --min-responses shows "too few \
                responses", never a number. The README defines every figure.

                Example:
                  interno report survey "Laptops for new hires" --min-responses 3
                """)
        @Argument(help: "The round: the start of its id, or its service for the latest.") var round: String
        @Option(help: "Fewer answers than this show no score.") var minResponses = 3
        @Flag(help: "Print one self-contained HTML page.") var html = false
        @OptionGroup var options: SiteOptions

        func validate() throws {
            guard minResponses >= 1 else { throw ValidationError("--min-responses must be at least 1") }
            try validateFormat(json: options.json, csv: false, html: html)
        }

        func run() async throws {
            try await reporting {
                let report = try options.site().surveyReport(round, minimum: minResponses)
                if options.json { return try printJSON(report) }
                if html { return print(SurveyTables.html(report), terminator: "") }
                print(SurveyTables.text(report))
            }
        }
    }
}
