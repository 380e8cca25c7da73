import Foundation
import InternoModel

/// What the dashboard shows: every figure comes from the reports of `InternoModel`, as one
/// site knows them (DESIGN §8).
public struct Dashboard: Sendable {
    public var title: String
    public var subtitle: String
    public var watermelon: [WatermelonRow]
    public var monthly: [MonthlyCompliance]
    /// The latest survey round's report, which holds the round before it.
    public var survey: SurveyReport?
    public var matrix: [MatrixCell]
    public var actions: [ActionRow]
    /// The kudos to list, newest first.
    public var kudos: [KudosFacts]

    public init(
        title: String, subtitle: String, watermelon: [WatermelonRow], monthly: [MonthlyCompliance],
        survey: SurveyReport?, matrix: [MatrixCell], actions: [ActionRow], kudos: [KudosFacts]
    ) {
        self.title = title
        self.subtitle = subtitle
        self.watermelon = watermelon
        self.monthly = monthly
        self.survey = survey
        self.matrix = matrix
        self.actions = actions
        self.kudos = kudos
    }
}

/// The dashboard as one self-contained HTML page with inline SVG charts: no script, nothing
/// loaded from elsewhere, opens from a file and prints on A4.
public enum DashboardPage {
    public static func render(_ dashboard: Dashboard) -> String {
        var body = ""
        body += section("Watermelon: delivery against satisfaction", quadrant(dashboard.watermelon))
        body += section("Delivery compliance per month", monthly(dashboard.monthly))
        body += section("Perceived quality: the latest survey rounds", survey(dashboard.survey))
        body += section("Who serves whom: the matrix", heatMap(dashboard.matrix))
        body += section("Open improvement actions", actions(dashboard.actions))
        body += section("Recent kudos", kudos(dashboard.kudos))
        return HTMLPage.render(title: dashboard.title, subtitle: dashboard.subtitle, body: body)
    }

    static func section(_ title: String, _ content: String) -> String {
        "<section><h2>\(escapeHTML(title))</h2>\n\(content)\n</section>\n"
    }

    static func empty(_ text: String) -> String {
        "<p class=\"note\">\(escapeHTML(text))</p>"
    }

    static func number(_ value: Double) -> String {
        String(format: "%.1f", value)
    }

    // MARK: Charts

    /// Each pair as a point: delivery compliance across, CSAT up, with the target lines of the
    /// first pair that has targets.
    static func quadrant(_ rows: [WatermelonRow]) -> String {
        let points = rows.filter { $0.compliance.percent != nil && $0.csat.percent != nil }
        guard !points.isEmpty else { return empty("No pair has both delivered requests and ratings in this period.") }
        let (left, top, width, height) = (48.0, 16.0, 400.0, 260.0)
        func x(_ percent: Double) -> Double { left + percent / 100 * width }
        func y(_ percent: Double) -> Double { top + height - percent / 100 * height }
        var svg = svgOpen(width: left + width + 120, height: top + height + 44, label: "watermelon quadrant")
        svg +=
            "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(width)\" height=\"\(height)\" fill=\"#fafbfc\" stroke=\"#c9ced6\"/>"
        for tick in stride(from: 0, through: 100, by: 25) {
            let value = Double(tick)
            svg +=
                "<text x=\"\(x(value))\" y=\"\(top + height + 14)\" font-size=\"9\" text-anchor=\"middle\">\(tick)%</text>"
            svg += "<text x=\"\(left - 6)\" y=\"\(y(value) + 3)\" font-size=\"9\" text-anchor=\"end\">\(tick)%</text>"
        }
        svg +=
            "<text x=\"\(left + width / 2)\" y=\"\(top + height + 32)\" font-size=\"10\" text-anchor=\"middle\">delivery compliance (green outside)</text>"
        svg +=
            "<text x=\"12\" y=\"\(top + height / 2)\" font-size=\"10\" text-anchor=\"middle\" transform=\"rotate(-90 12 \(top + height / 2))\">CSAT (inside)</text>"
        if let targeted = rows.first(where: { $0.complianceTarget != nil && $0.csatTarget != nil }),
            let compliance = targeted.complianceTarget, let csat = targeted.csatTarget
        {
            let dash = "stroke=\"#7a8494\" stroke-dasharray=\"4 3\""
            svg +=
                "<line x1=\"\(x(Double(compliance)))\" y1=\"\(top)\" x2=\"\(x(Double(compliance)))\" y2=\"\(top + height)\" \(dash)/>"
            svg +=
                "<line x1=\"\(left)\" y1=\"\(y(Double(csat)))\" x2=\"\(left + width)\" y2=\"\(y(Double(csat)))\" \(dash)/>"
            svg +=
                "<text x=\"\(x(Double(compliance)) + 3)\" y=\"\(top + 10)\" font-size=\"8\" fill=\"#5b6473\">target \(compliance)%</text>"
            svg +=
                "<text x=\"\(left + width - 3)\" y=\"\(y(Double(csat)) - 3)\" font-size=\"8\" fill=\"#5b6473\" text-anchor=\"end\">target \(csat)%</text>"
        }
        for row in points {
            let px = x(row.compliance.percent!)
            let py = y(row.csat.percent!)
            let (fill, stroke) = colours(row.verdict)
            let label = "\(row.provider) → \(row.customer)" + (row.period == "all" ? "" : " \(row.period)")
            svg +=
                "<circle cx=\"\(px)\" cy=\"\(py)\" r=\"6\" fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"3\"><title>\(escapeHTML(label)): \(escapeHTML(row.verdict.rawValue))</title></circle>"
            svg +=
                "<text x=\"\(px + 10)\" y=\"\(py + 4)\" font-size=\"10\">\(escapeHTML(label)) · \(escapeHTML(row.verdict.rawValue))</text>"
        }
        svg += "</svg>"
        let red = rows.filter { !$0.redInside.isEmpty }.map { row in
            "\(row.provider) → \(row.customer): \(row.redInside.joined(separator: "; "))"
        }
        return svg
            + (red.isEmpty ? "" : "<p class=\"note\">Red inside: \(escapeHTML(red.joined(separator: " · ")))</p>")
    }

    /// A watermelon is green outside and red inside: so is its point.
    static func colours(_ verdict: WatermelonRow.Verdict) -> (fill: String, stroke: String) {
        switch verdict {
        case .watermelon: ("#d64545", "#3a9d5d")
        case .healthy: ("#3a9d5d", "#3a9d5d")
        case .failing: ("#d64545", "#d64545")
        case .reverse: ("#3a9d5d", "#d64545")
        case .tooFewResponses, .noTarget: ("#b8bec8", "#8a93a0")
        }
    }

    /// One line per provider across the months.
    static func monthly(_ rows: [MonthlyCompliance]) -> String {
        let counted = rows.filter { $0.compliance.percent != nil }
        guard !counted.isEmpty else { return empty("No delivered request in this period.") }
        let months = Array(Set(counted.map(\.month))).sorted()
        let providers = Array(Set(counted.map(\.provider))).sorted()
        let (left, top, width, height) = (48.0, 12.0, 420.0, 150.0)
        let step = months.count > 1 ? width / Double(months.count - 1) : 0
        func x(_ month: String) -> Double {
            left + Double(months.firstIndex(of: month)!) * step + (months.count > 1 ? 0 : width / 2)
        }
        func y(_ percent: Double) -> Double { top + height - percent / 100 * height }
        var svg = svgOpen(width: left + width + 90, height: top + height + 30, label: "compliance per month")
        for tick in stride(from: 0, through: 100, by: 50) {
            svg +=
                "<line x1=\"\(left)\" y1=\"\(y(Double(tick)))\" x2=\"\(left + width)\" y2=\"\(y(Double(tick)))\" stroke=\"#e3e6eb\"/>"
            svg +=
                "<text x=\"\(left - 6)\" y=\"\(y(Double(tick)) + 3)\" font-size=\"9\" text-anchor=\"end\">\(tick)%</text>"
        }
        for month in months {
            svg +=
                "<text x=\"\(x(month))\" y=\"\(top + height + 14)\" font-size=\"9\" text-anchor=\"middle\">\(escapeHTML(month))</text>"
        }
        let palette = ["#2f6fb3", "#c2692b", "#6b4fa3", "#2b8a8a", "#a33b62", "#5e7d2a"]
        for (index, provider) in providers.enumerated() {
            let colour = palette[index % palette.count]
            let points = counted.filter { $0.provider == provider }.map {
                "\(x($0.month)),\(y($0.compliance.percent!))"
            }
            svg +=
                "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"/>"
            for row in counted where row.provider == provider {
                svg +=
                    "<circle cx=\"\(x(row.month))\" cy=\"\(y(row.compliance.percent!))\" r=\"3\" fill=\"\(colour)\"><title>\(escapeHTML(provider)) \(escapeHTML(row.month)): \(row.compliance.percentText)</title></circle>"
            }
            svg +=
                "<text x=\"\(left + width + 10)\" y=\"\(top + 12 + Double(index) * 14)\" font-size=\"10\" fill=\"\(colour)\">\(escapeHTML(provider))</text>"
        }
        return svg + "</svg>"
    }

    /// Each dimension's mean perception (1–7), this round beside the previous one.
    static func survey(_ report: SurveyReport?) -> String {
        guard let report else { return empty("No survey round here yet.") }
        let title =
            "Round \(report.round) of \(report.service) (\(report.provider)): \(report.figures.responses) responses"
            + (report.previousRound.map { ", beside round \($0)" } ?? "")
        guard !report.figures.tooFew else {
            return empty(title + ": too few responses to show a score.")
        }
        let (left, top, barWidth) = (110.0, 8.0, 300.0)
        let rowHeight = 26.0
        var svg = svgOpen(
            width: left + barWidth + 110, height: top + rowHeight * Double(report.figures.dimensions.count) + 24,
            label: "survey dimensions")
        func bar(_ score: Double, y: Double, colour: String) -> String {
            let length = (score - 1) / 6 * barWidth
            return "<rect x=\"\(left)\" y=\"\(y)\" width=\"\(max(length, 1))\" height=\"9\" fill=\"\(colour)\"/>"
        }
        for (index, dimension) in report.figures.dimensions.enumerated() {
            let y = top + Double(index) * rowHeight
            svg +=
                "<text x=\"\(left - 8)\" y=\"\(y + 12)\" font-size=\"10\" text-anchor=\"end\">\(escapeHTML(dimension.dimension))</text>"
            if let now = dimension.perception {
                svg += bar(now, y: y, colour: "#2f6fb3")
                svg +=
                    "<text x=\"\(left + barWidth + 6)\" y=\"\(y + 8)\" font-size=\"9\">\(String(format: "%.2f", now))</text>"
            }
            if let before = report.previous?.dimensions[index].perception {
                svg += bar(before, y: y + 11, colour: "#b8c7dc")
                svg +=
                    "<text x=\"\(left + barWidth + 6)\" y=\"\(y + 19)\" font-size=\"9\" fill=\"#5b6473\">\(String(format: "%.2f", before))</text>"
            }
        }
        let axis = top + rowHeight * Double(report.figures.dimensions.count) + 6
        for score in 1...7 {
            let x = left + Double(score - 1) / 6 * barWidth
            svg +=
                "<text x=\"\(x)\" y=\"\(axis + 8)\" font-size=\"8\" text-anchor=\"middle\" fill=\"#5b6473\">\(score)</text>"
        }
        svg += "</svg>"
        var note = title
        if let nps = report.figures.nps { note += "; NPS \(nps > 0 ? "+" : "")\(number(nps))" }
        if let before = report.previous?.nps { note += " (before: \(before > 0 ? "+" : "")\(number(before)))" }
        if let overall = report.figures.overall { note += "; overall \(String(format: "%.2f", overall)) of 7" }
        return "<p class=\"note\">\(escapeHTML(note)). Dark: this round; light: the round before.</p>" + svg
    }

    /// Customers down, providers across; each cell coloured by delivery compliance.
    static func heatMap(_ cells: [MatrixCell]) -> String {
        guard !cells.isEmpty else { return empty("No requests in this period.") }
        let customers = Array(Set(cells.map(\.customer))).sorted()
        let providers = Array(Set(cells.map(\.provider))).sorted()
        let (left, top, cellWidth, cellHeight) = (70.0, 22.0, 110.0, 34.0)
        var svg = svgOpen(
            width: left + cellWidth * Double(providers.count) + 8,
            height: top + cellHeight * Double(customers.count) + 8,
            label: "matrix heat map")
        for (column, provider) in providers.enumerated() {
            svg +=
                "<text x=\"\(left + (Double(column) + 0.5) * cellWidth)\" y=\"\(top - 8)\" font-size=\"10\" text-anchor=\"middle\">\(escapeHTML(provider))</text>"
        }
        for (row, customer) in customers.enumerated() {
            let y = top + Double(row) * cellHeight
            svg +=
                "<text x=\"\(left - 8)\" y=\"\(y + cellHeight / 2 + 4)\" font-size=\"10\" text-anchor=\"end\">\(escapeHTML(customer))</text>"
            for (column, provider) in providers.enumerated() {
                let x = left + Double(column) * cellWidth
                guard let cell = cells.first(where: { $0.customer == customer && $0.provider == provider }) else {
                    svg +=
                        "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cellWidth - 2)\" height=\"\(cellHeight - 2)\" fill=\"#f2f4f7\"/>"
                    continue
                }
                let fill = cell.compliance.percent.map { "hsl(\(Int($0 * 1.2)), 55%, 80%)" } ?? "#e3e6eb"
                svg +=
                    "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cellWidth - 2)\" height=\"\(cellHeight - 2)\" fill=\"\(fill)\"/>"
                let text = "\(cell.requests) · \(cell.compliance.percentText) · \(cell.csat.percentText)"
                svg +=
                    "<text x=\"\(x + cellWidth / 2)\" y=\"\(y + cellHeight / 2 + 3)\" font-size=\"9\" text-anchor=\"middle\">\(escapeHTML(text))</text>"
            }
        }
        return "<p class=\"note\">Each cell: requests · delivery compliance · CSAT.</p>" + svg + "</svg>"
    }

    static func actions(_ rows: [ActionRow]) -> String {
        guard !rows.isEmpty else { return empty("No open action.") }
        return HTMLPage.table(
            ["owner", "due", "late", "about", "action"],
            rows.map { row in
                [
                    row.owner, row.dueDate ?? row.due, row.overdue ? "\(row.daysLate) days" : "", row.about,
                    row.title,
                ]
            })
    }

    static func kudos(_ items: [KudosFacts]) -> String {
        guard !items.isEmpty else { return empty("No kudos in this period.") }
        return HTMLPage.table(
            ["when", "from", "to", "for", "message"],
            items.map { item in
                [
                    String(item.at.description.prefix(10)), item.from,
                    item.to + (item.person.map { " (\($0))" } ?? ""), item.reason, item.message,
                ]
            })
    }

    static func svgOpen(width: Double, height: Double, label: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(escapeHTML(label))\">"
    }
}
