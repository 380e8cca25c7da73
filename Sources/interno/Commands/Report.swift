import ArgumentParser
import Foundation
import InternoClient
import InternoModel

extension Interno {
    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Report on service: sla, obligations, satisfaction, watermelon, matrix, survey, actions, kudos.",
            discussion: """
                Every report counts the requests submitted in a period (default: the last 30 \
                days), optionally of one provider, customer, standard or service, as this site knows \
                them: sync first for the latest. Clocks count business time in the calendar of \
                the side they measure. A table by default, --json or --csv for tools. The README \
                defines every figure.

                Examples:
                  interno report sla --from 2026-11-01 --to 2026-11-30
                  interno report obligations --customer HR
                  interno report satisfaction --provider IT --csv
                  interno report watermelon --by month --min-responses 5
                  interno report matrix --json
                  interno report survey "Laptops for new hires"
                  interno report actions --owner IT
                  interno report kudos --by month
                """,
            subcommands: [
                SLA.self, Obligations.self, Satisfaction.self, Watermelon.self, Matrix.self, Survey.self, Actions.self,
                Kudos.self,
            ]
        )

        struct ScopeOptions: ParsableArguments {
            @Option(help: "Start of the period: a date (start of that day, UTC) or ISO 8601 time.") var from: String?
            @Option(help: "End of the period: a date (included) or ISO 8601 time (default: now).") var to: String?
            @Option(help: "Only this provider department.") var provider: String?
            @Option(help: "Only this customer department.") var customer: String?
            @Option(help: "Only requests under this standard: the start of its id, or its service.") var standard:
                String?
            @Option(help: "Only requests for this catalogued service: its name, or the start of its id.")
            var service: String?
            @Flag(help: "Print comma-separated values with a header line.") var csv = false
            @OptionGroup var options: SiteOptions

            func validate() throws {
                if csv, options.json { throw ValidationError("choose one of --json and --csv") }
            }

            func scope(now: Timestamp) throws -> ReportScope {
                var scope = try Self.period(from: from, to: to, now: now)
                scope.provider = provider?.uppercased()
                scope.customer = customer?.uppercased()
                scope.standard = standard
                scope.service = service
                return scope
            }

            /// The period of `--from` and `--to`: by default the 30 days up to `now`.
            static func period(from: String?, to: String?, now: Timestamp) throws -> ReportScope {
                let end = try to.map { try TimeInput.parse($0, option: "--to") } ?? now
                let start =
                    try from.map { try TimeInput.parseStart($0, option: "--from") }
                    ?? Timestamp(millisecondsSince1970: end.millisecondsSince1970 - 30 * 86_400_000)
                return ReportScope(from: start, to: end)
            }

            /// Prints `rows` as the options ask.
            func render<Row: Encodable>(_ name: String, _ rows: [Row], _ columns: [Column<Row>], scope: ReportScope)
                throws
            {
                if options.json {
                    return try printJSON(Envelope(report: name, scope: scope, rows: rows))
                }
                if csv {
                    print(columns.flatMap(\.csvHeaders).joined(separator: ","))
                    for row in rows { print(columns.flatMap { $0.csv(row) }.map(csvField).joined(separator: ",")) }
                    return
                }
                print("\(name): requests submitted \(periodText(scope))")
                if rows.isEmpty { return print("no requests in this period") }
                printTable(columns.map(\.header), rows.map { row in columns.map { $0.table(row) } })
            }

            func facts() throws -> (ReportScope, [RequestFacts]) {
                let now = Timestamp.now()
                let scope = try scope(now: now)
                return (scope, try options.site().reportFacts(scope, now: now))
            }
        }

        struct SLA: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "sla",
                abstract:
                    "Per provider and standard (or service): % acknowledged and delivered within target, median and p90 times, open past due.",
                discussion: """
                    --by service gives one row per provider and service: the catalogued service a \
                    request names or its standard covers, else the service its standard names.

                    Examples:
                      interno report sla --from 2026-11-01 --provider IT
                      interno report sla --by service
                    """)
            @OptionGroup var scope: ScopeOptions
            @Option(help: "One row per provider and standard, or per provider and service.")
            var by = SLARow.Grouping.standard

            func run() async throws {
                try await reporting {
                    let (period, facts) = try scope.facts()
                    try scope.render(
                        "sla", SLARow.rows(facts, by: by),
                        [
                            .text("provider") { $0.provider }, .text("standard") { $0.standard ?? "none" },
                            .number("requests") { $0.requests },
                            .share("ack in target") { $0.acknowledgedWithinTarget },
                            .share("delivered in target") { $0.deliveredWithinTarget },
                            .target("target") { $0.complianceTarget },
                            .duration("ack median") { $0.acknowledgeMedian },
                            .duration("ack p90") { $0.acknowledgeP90 },
                            .duration("deliver median") { $0.deliverMedian },
                            .duration("deliver p90") { $0.deliverP90 }, .number("open past due") { $0.openPastDue },
                            .text("service") { $0.service ?? "" },
                        ], scope: period)
                }
            }
        }

        struct Obligations: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "obligations",
                abstract:
                    "Per customer: notice given, time waiting on the customer, answers and confirmations within target.",
                discussion: "Example:\n  interno report obligations --customer HR")
            @OptionGroup var scope: ScopeOptions

            func run() async throws {
                try await reporting {
                    let (period, facts) = try scope.facts()
                    try scope.render(
                        "obligations", ObligationsRow.rows(facts),
                        [
                            .text("customer") { $0.customer }, .number("requests") { $0.requests },
                            .share("notice given") { $0.noticeGiven }, .number("waits") { $0.waits },
                            .duration("waiting total") { $0.waitingTotal },
                            .share("answered in target") { $0.answeredWithinTarget },
                            .share("confirmed in target") { $0.confirmedWithinTarget },
                            .duration("confirm median") { $0.confirmMedian },
                        ], scope: period)
                }
            }
        }

        struct Satisfaction: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "satisfaction",
                abstract: "Per provider and customer: response rate, CSAT %, mean rating and effort; cooperation.",
                discussion: "Example:\n  interno report satisfaction --provider IT")
            @OptionGroup var scope: ScopeOptions

            func run() async throws {
                try await reporting {
                    let (period, facts) = try scope.facts()
                    try scope.render(
                        "satisfaction", SatisfactionRow.rows(facts),
                        [
                            .text("provider") { $0.provider }, .text("customer") { $0.customer },
                            .number("delivered") { $0.delivered }, .share("responses") { $0.responseRate },
                            .share("csat") { $0.csat }, .decimal("mean rating") { $0.meanRating },
                            .decimal("mean effort") { $0.meanEffort },
                            .number("cooperation ratings") { $0.cooperationResponses },
                            .decimal("mean cooperation") { $0.meanCooperation },
                        ], scope: period)
                }
            }
        }

        struct Watermelon: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "watermelon",
                abstract: "Per provider–customer pair: SLAs met while the customer is unhappy, and the reverse.",
                discussion: """
                    "watermelon": delivery compliance meets its target but the customer is \
                    unhappy (green outside, red inside): CSAT misses its target, or the pair's \
                    latest survey has an NPS below 0 or a dimension below the standard's survey \
                    target; "red inside" says which. "reverse": the other way round; "too few \
                    responses" when fewer ratings than --min-responses and no survey with at \
                    least --survey-min-responses answers.

                    Example:
                      interno report watermelon --by month --min-responses 5
                    """)
            @OptionGroup var scope: ScopeOptions
            @Option(help: "Split the period by month of submission (UTC), or not.") var by = ReportSplit.none
            @Option(help: "Fewer ratings than this are too few to judge.") var minResponses = 5
            @Option(help: "Fewer survey answers than this leave the survey out.") var surveyMinResponses = 3

            func validate() throws {
                guard minResponses >= 1 else { throw ValidationError("--min-responses must be at least 1") }
                guard surveyMinResponses >= 1 else {
                    throw ValidationError("--survey-min-responses must be at least 1")
                }
            }

            func run() async throws {
                try await reporting {
                    let (period, facts) = try scope.facts()
                    let label: (RequestFacts) -> String =
                        by == .month ? { String($0.submittedAt.description.prefix(7)) } : { _ in "all" }
                    let surveys = try scope.options.site().pairSurveys(minimum: surveyMinResponses)
                    try scope.render(
                        "watermelon",
                        WatermelonRow.rows(facts, period: label, minimum: minResponses, surveys: surveys),
                        [
                            .text("provider") { $0.provider }, .text("customer") { $0.customer },
                            .text("period") { $0.period }, .number("requests") { $0.requests },
                            .share("compliance") { $0.compliance }, .target("target") { $0.complianceTarget },
                            .share("csat") { $0.csat }, .target("csat target") { $0.csatTarget },
                            Column(
                                header: "survey nps", csvHeaders: ["survey_nps"],
                                table: { $0.surveyNPS.map { ($0 > 0 ? "+" : "") + String(format: "%.1f", $0) } ?? "—" },
                                csv: { [$0.surveyNPS.map { String(format: "%.1f", $0) } ?? ""] }),
                            .text("verdict") { $0.verdict.rawValue },
                            .text("red inside") { $0.redInside.joined(separator: "; ") },
                        ], scope: period)
                }
            }
        }

        struct Matrix: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "matrix",
                abstract: "Departments × departments: requests each way, with delivery compliance and CSAT.",
                discussion: """
                    The table has a row per customer and a column per provider; each cell reads \
                    requests / compliance / CSAT. --json and --csv give one record per cell.

                    Example:
                      interno report matrix --from 2026-11-01
                    """)
            @OptionGroup var scope: ScopeOptions

            func run() async throws {
                try await reporting {
                    let (period, facts) = try scope.facts()
                    let cells = MatrixCell.cells(facts)
                    if scope.options.json || scope.csv {
                        return try scope.render(
                            "matrix", cells,
                            [
                                .text("customer") { $0.customer }, .text("provider") { $0.provider },
                                .number("requests") { $0.requests }, .share("compliance") { $0.compliance },
                                .share("csat") { $0.csat },
                            ], scope: period)
                    }
                    print(
                        "matrix: requests submitted \(periodText(period)); cells are requests / compliance / CSAT"
                    )
                    let customers = Set(cells.map(\.customer)).sorted()
                    let providers = Set(cells.map(\.provider)).sorted()
                    guard !cells.isEmpty else { return print("no requests in this period") }
                    printTable(
                        ["customer \\ provider"] + providers,
                        customers.map { customer in
                            [customer]
                                + providers.map { provider in
                                    guard
                                        let cell = cells.first(where: {
                                            $0.customer == customer && $0.provider == provider
                                        })
                                    else { return "·" }
                                    return "\(cell.requests) / \(percent(cell.compliance)) / \(percent(cell.csat))"
                                }
                        })
                }
            }
        }
    }
}

extension Interno.Report {
    struct Actions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "actions",
            abstract: "Every open improvement action, per owner department, with how late the overdue ones are.",
            discussion: """
                Open actions as this site knows them now, whatever their date: a row each, \
                by owner then due time. "days late" counts whole days of 24 hours since the due \
                time.

                Examples:
                  interno report actions
                  interno report survey "Laptops for new hires"
                  interno report actions --owner IT --csv
                """)
        @Option(help: "Only this owner department's actions.") var owner: String?
        @Flag(help: "Print comma-separated values with a header line.") var csv = false
        @OptionGroup var options: SiteOptions

        func validate() throws {
            if csv, options.json { throw ValidationError("choose one of --json and --csv") }
        }

        func run() async throws {
            try await reporting {
                let now = Timestamp.now()
                let rows = ActionRow.rows(try options.site().actionFacts(owner: owner), now: now)
                if options.json {
                    return try printJSON(ActionsEnvelope(report: "actions", at: now.description, rows: rows))
                }
                let columns: [Column<ActionRow>] = [
                    .text("owner") { $0.owner }, .text("action") { $0.ref },
                    .text("due") { $0.dueDate ?? shortTime($0.due) },
                    .text("overdue") { $0.overdue ? "yes" : "no" }, .number("days late") { $0.daysLate },
                    .text("about") { $0.about }, .text("title") { $0.title },
                ]
                if csv {
                    print(columns.flatMap(\.csvHeaders).joined(separator: ","))
                    for row in rows { print(columns.flatMap { $0.csv(row) }.map(csvField).joined(separator: ",")) }
                    return
                }
                print("actions: open as of \(shortTime(now.description))")
                if rows.isEmpty { return print("no open actions") }
                printTable(columns.map(\.header), rows.map { row in columns.map { $0.table(row) } })
            }
        }
    }

    struct Kudos: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "kudos",
            abstract: "Per period and department: kudos received and given, from whom, and the people thanked.",
            discussion: """
                Counts the kudos sent in the period (default: the last 30 days), by the UTC \
                month they were sent with --by month.

                Examples:
                  interno report kudos --from 2026-07-01 --to 2026-12-31 --by month
                """)
        @Option(help: "Start of the period: a date (start of that day, UTC) or ISO 8601 time.") var from: String?
        @Option(help: "End of the period: a date (included) or ISO 8601 time (default: now).") var to: String?
        @Option(help: "Split the period by month of sending (UTC), or not.") var by = ReportSplit.none
        @Flag(help: "Print comma-separated values with a header line.") var csv = false
        @OptionGroup var options: SiteOptions

        func validate() throws {
            if csv, options.json { throw ValidationError("choose one of --json and --csv") }
        }

        func run() async throws {
            try await reporting {
                let scope = try ScopeOptions.period(from: from, to: to, now: .now())
                let facts = try options.site().kudosFacts(scope)
                let label: (KudosFacts) -> String =
                    by == .month ? { String($0.at.description.prefix(7)) } : { _ in "all" }
                let rows = KudosRow.rows(facts, period: label)
                let columns: [Column<KudosRow>] = [
                    .text("period") { $0.period }, .text("department") { $0.department },
                    .number("received") { $0.received }, .number("given") { $0.given },
                    .text("from") { $0.from.joined(separator: " ") },
                    .text("people") { $0.people.joined(separator: ", ") },
                ]
                if options.json { return try printJSON(Envelope(report: "kudos", scope: scope, rows: rows)) }
                if csv {
                    print(columns.flatMap(\.csvHeaders).joined(separator: ","))
                    for row in rows { print(columns.flatMap { $0.csv(row) }.map(csvField).joined(separator: ",")) }
                    return
                }
                print("kudos: sent \(periodText(scope))")
                if rows.isEmpty { return print("no kudos in this period") }
                printTable(columns.map(\.header), rows.map { row in columns.map { $0.table(row) } })
            }
        }
    }
}

/// The JSON form of `report actions`: open as of a time, not over a period.
struct ActionsEnvelope: Encodable {
    var report: String
    var at: String
    var rows: [ActionRow]
}

/// The period as typed: `2026-11-01 to 2026-11-30` for dates, short times otherwise.
func periodText(_ scope: ReportScope) -> String {
    func short(_ text: String) -> String { text.count == 10 ? text : shortTime(text) }
    return "\(short(scope.fromText)) to \(short(scope.toText))"
}

/// The JSON form of a report.
struct Envelope<Row: Encodable>: Encodable {
    var report: String
    var scope: ReportScope
    var rows: [Row]
}

/// One column of a report: its table cell and its CSV fields.
struct Column<Row> {
    var header: String
    var csvHeaders: [String]
    var table: (Row) -> String
    var csv: (Row) -> [String]

    static func text(_ header: String, _ value: @escaping (Row) -> String) -> Column {
        Column(header: header, csvHeaders: [snake(header)], table: value, csv: { [value($0)] })
    }

    static func number(_ header: String, _ value: @escaping (Row) -> Int) -> Column {
        Column(header: header, csvHeaders: [snake(header)], table: { "\(value($0))" }, csv: { ["\(value($0))"] })
    }

    static func target(_ header: String, _ value: @escaping (Row) -> Int?) -> Column {
        Column(
            header: header, csvHeaders: [snake(header) + "_pct"], table: { value($0).map { "\($0)%" } ?? "—" },
            csv: { [value($0).map(String.init) ?? ""] })
    }

    static func decimal(_ header: String, _ value: @escaping (Row) -> Double?) -> Column {
        Column(
            header: header, csvHeaders: [snake(header)], table: { value($0).map { String(format: "%.2f", $0) } ?? "—" },
            csv: { [value($0).map { String(format: "%.2f", $0) } ?? ""] })
    }

    /// Business time in seconds: hours and minutes in the table, seconds in CSV.
    static func duration(_ header: String, _ value: @escaping (Row) -> Int64?) -> Column {
        Column(
            header: header, csvHeaders: [snake(header) + "_seconds"],
            table: { value($0).map { DurationText.formatHours(milliseconds: $0 * 1_000) } ?? "—" },
            csv: { [value($0).map(String.init) ?? ""] })
    }

    /// A share: "50% (2/4)" in the table; percent, count and total in CSV.
    static func share(_ header: String, _ value: @escaping (Row) -> Share) -> Column {
        let name = snake(header)
        return Column(
            header: header, csvHeaders: [name + "_pct", name + "_count", name + "_of"],
            table: { row in
                let share = value(row)
                return share.of == 0 ? "—" : "\(percent(share)) (\(share.count)/\(share.of))"
            },
            csv: { row in
                let share = value(row)
                return [share.percent.map { String(format: "%.1f", $0) } ?? "", "\(share.count)", "\(share.of)"]
            })
    }
}

private func snake(_ header: String) -> String {
    header.lowercased().replacingOccurrences(of: " ", with: "_")
}

/// `50%`, `33.3%`, or `—` when nothing counts.
func percent(_ share: Share) -> String {
    share.percentText
}

/// A CSV field, quoted when it holds a comma, quote or line break.
func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
