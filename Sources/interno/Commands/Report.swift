import ArgumentParser
import Foundation
import InternoClient
import InternoModel
import InternoRender

extension Interno {
    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract:
                "Report on service: sla, obligations, satisfaction, watermelon, matrix, survey, actions, kudos, dashboard.",
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
                  interno report dashboard --out interno-dashboard.html
                """,
            subcommands: [
                SLA.self, Obligations.self, Satisfaction.self, Watermelon.self, Matrix.self, Survey.self, Actions.self,
                Kudos.self, DashboardCommand.self,
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
            @OptionGroup var format: FormatOptions
            @OptionGroup var options: SiteOptions

            func validate() throws {
                try format.check(json: options.json)
            }

            func scope(now: Timestamp) throws -> ReportScope {
                var scope = try Self.period(from: from, to: to, now: now)
                scope.provider = provider?.uppercased()
                scope.customer = customer?.uppercased()
                scope.standard = standard
                scope.service = service
                return scope
            }

            /// The period of `--from` and `--to` (``ReportScope/period(from:to:)``).
            static func period(from: String?, to: String?, now: Timestamp) throws -> ReportScope {
                ReportScope.period(
                    from: try from.map { try TimeInput.parseStart($0, option: "--from") },
                    to: try to.map { try TimeInput.parse($0, option: "--to") } ?? now)
            }

            /// Prints `rows` as the options ask.
            func render<Row: Encodable>(_ name: String, _ rows: [Row], _ columns: [Column<Row>], scope: ReportScope)
                throws
            {
                if options.json {
                    return try printJSON(Envelope(report: name, scope: scope, rows: rows))
                }
                format.emit(
                    rows, columns, title: "Interno report: \(name)",
                    heading: "\(name): requests submitted \(periodText(scope))", empty: "no requests in this period")
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
                        by == .month ? { $0.submittedAt.monthLabel } : { _ in "all" }
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
                    if scope.options.json || scope.format.csv || scope.format.html {
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
                    guard !cells.isEmpty else { return print("no requests in this period") }
                    let pivot = MatrixTable.pivot(cells)
                    printTable(pivot.headers, pivot.rows)
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
                  interno report actions --owner IT --csv
                """)
        @Option(help: "Only this owner department's actions.") var owner: String?
        @OptionGroup var format: FormatOptions
        @OptionGroup var options: SiteOptions

        func validate() throws {
            try format.check(json: options.json)
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
                format.emit(
                    rows, columns, title: "Interno report: actions",
                    heading: "actions: open as of \(shortTime(now.description))", empty: "no open actions")
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
        @OptionGroup var format: FormatOptions
        @OptionGroup var options: SiteOptions

        func validate() throws {
            try format.check(json: options.json)
        }

        func run() async throws {
            try await reporting {
                let scope = try ScopeOptions.period(from: from, to: to, now: .now())
                let facts = try options.site().kudosFacts(scope)
                let label: (KudosFacts) -> String =
                    by == .month ? { $0.at.monthLabel } : { _ in "all" }
                let rows = KudosRow.rows(facts, period: label)
                let columns: [Column<KudosRow>] = [
                    .text("period") { $0.period }, .text("department") { $0.department },
                    .number("received") { $0.received }, .number("given") { $0.given },
                    .text("from") { $0.from.joined(separator: " ") },
                    .text("people") { $0.people.joined(separator: ", ") },
                ]
                if options.json { return try printJSON(Envelope(report: "kudos", scope: scope, rows: rows)) }
                format.emit(
                    rows, columns, title: "Interno report: kudos",
                    heading: "kudos: sent \(periodText(scope))", empty: "no kudos in this period")
            }
        }
    }
}

extension Interno.Report {
    struct DashboardCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dashboard",
            abstract: "Write one self-contained HTML page of every report, with charts, as this site knows them.",
            discussion: """
                The watermelon quadrant (delivery compliance against CSAT per pair, with the \
                target lines), compliance per month per provider, the dimensions of the latest \
                survey round beside the previous one, the matrix as a heat map, open actions \
                and recent kudos. No script and nothing from elsewhere: it opens from the file \
                and prints on A4. Requests and kudos count over the period (default: the last \
                30 days); actions as of now.

                Example:
                  interno report dashboard --out interno-dashboard.html --from 2026-07-01
                """)
        @Option(help: "The HTML file to write (replaced if it exists).") var out: String
        @Option(help: "Start of the period: a date (start of that day, UTC) or ISO 8601 time.") var from: String?
        @Option(help: "End of the period: a date (included) or ISO 8601 time (default: now).") var to: String?
        @Option(help: "Fewer ratings than this are too few to judge a pair.") var minResponses = 5
        @Option(help: "Fewer survey answers than this show no survey score.") var surveyMinResponses = 3
        @OptionGroup var options: SiteOptions

        func validate() throws {
            if options.json {
                throw ValidationError("report dashboard writes HTML to --out; --json is for the other reports")
            }
            guard minResponses >= 1, surveyMinResponses >= 1 else {
                throw ValidationError("--min-responses and --survey-min-responses must be at least 1")
            }
        }

        func run() async throws {
            try await reporting {
                let now = Timestamp.now()
                let site = try options.site()
                let scope = try ScopeOptions.period(from: from, to: to, now: now)
                let facts = try site.reportFacts(scope, now: now)
                let surveys = try site.pairSurveys(minimum: surveyMinResponses, now: now)
                let latest = try site.rounds(now: now).first { $0.status != "upcoming" }
                let kudos = try site.kudosFacts(scope).sorted { $0.at > $1.at }
                let dashboard = Dashboard(
                    title: "Interno: service between departments",
                    subtitle:
                        "As site \(site.settings.code) knows it on \(shortTime(now.description)); requests submitted \(periodText(scope))",
                    watermelon: WatermelonRow.rows(
                        facts, period: { _ in "all" }, minimum: minResponses, surveys: surveys),
                    monthly: MonthlyCompliance.rows(facts),
                    survey: try latest.map { try site.surveyReport($0.ref, minimum: surveyMinResponses) },
                    matrix: MatrixCell.cells(facts), actions: ActionRow.rows(try site.actionFacts(), now: now),
                    kudos: Array(kudos.prefix(12)))
                let url = URL(fileURLWithPath: out)
                do {
                    try Data(DashboardPage.render(dashboard).utf8).write(to: url, options: .atomic)
                } catch {
                    throw ClientError.invalidInput(
                        "cannot write the dashboard to \(out): \(error.localizedDescription); give a file in a directory you can write"
                    )
                }
                print(url.standardizedFileURL.path)
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

/// Refuses two output formats at once.
func validateFormat(json: Bool, csv: Bool, html: Bool) throws {
    let chosen = [json ? "--json" : nil, csv ? "--csv" : nil, html ? "--html" : nil].compactMap { $0 }
    if chosen.count > 1 { throw ValidationError("choose one of \(chosen.joined(separator: " and "))") }
}

/// `--csv` and `--html`: the formats of a report besides its table and `--json`.
struct FormatOptions: ParsableArguments {
    @Flag(help: "Print comma-separated values with a header line.") var csv = false
    @Flag(help: "Print one self-contained HTML page.") var html = false

    /// Refuses two formats at once, `--json` among them.
    func check(json: Bool) throws {
        try validateFormat(json: json, csv: csv, html: html)
    }

    /// Prints `rows` as CSV, as one HTML page, or as a table under `heading`.
    func emit<Row>(_ rows: [Row], _ columns: [Column<Row>], title: String, heading: String, empty: String) {
        if csv { return print(CSV.render(rows, columns)) }
        if html {
            let body = rows.isEmpty ? "<p>\(escapeHTML(empty))</p>" : HTMLPage.table(rows, columns)
            return print(HTMLPage.render(title: title, subtitle: heading, body: body), terminator: "")
        }
        print(heading)
        if rows.isEmpty { return print(empty) }
        print(TextTable.render(rows, columns))
    }
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

/// `50%`, `33.3%`, or `—` when nothing counts.
func percent(_ share: Share) -> String {
    share.percentText
}
