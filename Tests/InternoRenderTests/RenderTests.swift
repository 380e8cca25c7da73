import Foundation
import Testing

@testable import InternoModel
@testable import InternoRender

private struct Row {
    var name: String
    var count: Int
    var share: Share
}

private var columns: [Column<Row>] {
    [
        .text("name") { $0.name }, .number("count") { $0.count }, .share("in target") { $0.share },
    ]
}

/// Every format renders the same columns (DESIGN §8): text tables, CSV, HTML, the dashboard.
@Suite("Rendering reports")
struct RenderTests {
    @Test func aTextTablePadsEachColumnToItsWidestCell() {
        let rows = [
            Row(name: "IT", count: 12, share: Share(1, of: 3)), Row(name: "Payroll", count: 3, share: Share(0, of: 0)),
        ]
        #expect(
            TextTable.render(rows, columns) == """
                name     count  in target
                IT       12     33.3% (1/3)
                Payroll  3      —
                """)
    }

    @Test func csvQuotesWhatNeedsQuotingAndSplitsShares() {
        let rows = [Row(name: "a, \"b\"\nc", count: 1, share: Share(1, of: 2))]
        #expect(
            CSV.render(rows, columns) == """
                name,count,in_target_pct,in_target_count,in_target_of
                "a, ""b""
                c",1,50.0,1,2
                """)
    }

    @Test func htmlEscapesWhatPeopleTyped() {
        let page = HTMLPage.render(
            title: "<b>x</b>", subtitle: "a & b",
            body: HTMLPage.table([Row(name: "<script>alert(1)</script>", count: 1, share: Share(1, of: 1))], columns))
        #expect(!page.contains("<script>"))
        #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(page.contains("<title>&lt;b&gt;x&lt;/b&gt;</title>"))
        #expect(page.contains("@page { size: A4"))
        #expect(escapeHTML("'\"") == "&#39;&quot;")
    }

    @Test func theDashboardIsOnePageOfInlineChartsWithNothingFromElsewhere() {
        let watermelon = WatermelonRow(
            provider: "IT", customer: "HR<x>", period: "all", requests: 4, compliance: Share(3, of: 3),
            complianceTarget: 90, csat: Share(0, of: 3), csatTarget: 80, survey: "r1", surveyNPS: -66.7,
            surveyLowest: 2.33, surveyTarget: nil, verdict: .watermelon, redInside: ["CSAT 0% < 80%", "NPS -66.7 < 0"])
        let dimensions = Schema.surveyDimensions.map { DimensionScore(dimension: $0, perception: 4.5) }
        let figures = SurveyFigures(
            responses: 3, tooFew: false, dimensions: dimensions, overall: 4.5, overallGap: nil, nps: 10,
            promoters: 1, passives: 2, detractors: 0)
        let survey = SurveyReport(
            round: "r2", service: "Laptops", provider: "IT", form: "perceptions", opens: "2026-12-01T00:00:00.000Z",
            closes: "2026-12-15T00:00:00.000Z", minimumResponses: 3, figures: figures, customers: [],
            previousRound: nil, previous: nil)
        let page = DashboardPage.render(
            Dashboard(
                title: "Interno", subtitle: "test", watermelon: [watermelon],
                monthly: [
                    MonthlyCompliance(provider: "IT", month: "2026-10", compliance: Share(1, of: 2)),
                    MonthlyCompliance(provider: "IT", month: "2026-11", compliance: Share(3, of: 3)),
                ],
                survey: survey,
                matrix: [
                    MatrixCell(
                        customer: "HR", provider: "IT", requests: 4, compliance: Share(3, of: 3), csat: Share(0, of: 3))
                ],
                actions: [
                    ActionRow(
                        owner: "IT", ref: "a1", title: "Six laptops in stock", about: "HR/IT",
                        due: "2026-12-31T23:59:59.999Z", dueDate: "2026-12-31", overdue: false, daysLate: 0)
                ],
                kudos: [
                    KudosFacts(
                        from: "HR", to: "IT", person: "Rui", at: Timestamp(millisecondsSince1970: 1_795_000_000_000),
                        message: "thanks & well done", reason: "period 2026-H2")
                ]))
        #expect(page.components(separatedBy: "<svg").count - 1 == 4, "quadrant, trend, survey, heat map")
        #expect(!page.contains("<script"))
        #expect(!page.contains("http://") || page.contains("xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(!page.contains("https://"))
        #expect(!page.contains("src="), "no image, font or script from elsewhere")
        #expect(page.contains("HR&lt;x&gt;"), "names are escaped")
        #expect(page.contains("Red inside: IT → HR&lt;x&gt;: CSAT 0% &lt; 80%; NPS -66.7 &lt; 0"))
        #expect(page.contains("target 90%") && page.contains("target 80%"))
        #expect(page.contains("Six laptops in stock"))
        #expect(page.contains("thanks &amp; well done"))
    }
}

@Suite("The matrix pivot")
struct MatrixTableTests {
    @Test func customersDownProvidersAcrossAndADotWhereNothingWent() {
        let cells = [
            MatrixCell(customer: "HR", provider: "IT", requests: 4, compliance: Share(3, of: 4), csat: Share(1, of: 3)),
            MatrixCell(
                customer: "IT", provider: "FAC", requests: 1, compliance: Share(0, of: 0), csat: Share(0, of: 0)),
        ]
        let pivot = MatrixTable.pivot(cells)
        #expect(pivot.headers == ["customer \\ provider", "FAC", "IT"])
        #expect(pivot.rows == [["HR", "·", "4 / 75% / 33.3%"], ["IT", "1 / — / —", "·"]])
    }
}
