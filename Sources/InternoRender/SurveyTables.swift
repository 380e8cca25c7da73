import Foundation
import InternoModel

/// `report survey` as tables: the round's scores beside the previous round, then its customer
/// departments, for the text and the HTML formats alike.
public enum SurveyTables {
    /// The line over the tables.
    public static func heading(_ report: SurveyReport) -> String {
        "survey \(report.round): \(report.service) (\(report.provider)), \(short(report.opens)) to \(short(report.closes)), \(report.figures.responses) responses"
    }

    /// The tables, each with its title: the scores (or why there are none) and the departments.
    public static func tables(_ report: SurveyReport) -> [(title: String, headers: [String], rows: [[String]])] {
        var tables: [(title: String, headers: [String], rows: [[String]])] = []
        let previous = report.previous
        if report.figures.tooFew {
            tables.append(
                (
                    "too few responses: fewer than \(report.minimumResponses), so no score is shown", [], []
                ))
        } else {
            var headers = ["dimension", "perception"]
            if report.form == "paired" { headers += ["expectation", "gap"] }
            if previous != nil { headers += ["previous \(report.previousRound ?? "")", "change"] }
            var rows: [[String]] = []
            for (index, dimension) in report.figures.dimensions.enumerated() {
                var row = [dimension.dimension, score(dimension.perception)]
                if report.form == "paired" { row += [score(dimension.expectation), signed(dimension.gap)] }
                if let previous { row += [score(previous.dimensions[index].perception), signed(dimension.change)] }
                rows.append(row)
            }
            var overall = ["overall", score(report.figures.overall)]
            if report.form == "paired" { overall += ["", signed(report.figures.overallGap)] }
            if let previous { overall += [score(previous.overall), signed(report.figures.overallChange)] }
            rows.append(overall)
            var nps = ["NPS", signed(report.figures.nps, places: 1)]
            if report.form == "paired" { nps += ["", ""] }
            if let previous { nps += [signed(previous.nps, places: 1), signed(report.figures.npsChange, places: 1)] }
            rows.append(nps)
            tables.append(("scores, 1 to 7", headers, rows))
        }
        tables.append(
            (
                "per customer department", ["customer", "responses", "invited", "rate", "overall", "NPS"],
                report.customers.map { row in
                    let shown = !row.figures.tooFew
                    return [
                        row.customer, String(row.figures.responses), row.invited.map(String.init) ?? "—",
                        row.responseRate?.percentText ?? "—", shown ? score(row.figures.overall) : "too few responses",
                        shown ? signed(row.figures.nps, places: 1) : "",
                    ]
                }
            ))
        return tables
    }

    /// The report as text: the heading, then each table under its title.
    public static func text(_ report: SurveyReport) -> String {
        ([heading(report)]
            + tables(report).map { table in
                table.headers.isEmpty ? table.title : table.title + ":\n" + TextTable.render(table.headers, table.rows)
            }).joined(separator: "\n")
    }

    /// The report as one HTML page.
    public static func html(_ report: SurveyReport) -> String {
        let body = tables(report).map { table in
            "<section><h2>\(escapeHTML(table.title))</h2>"
                + (table.headers.isEmpty ? "" : HTMLPage.table(table.headers, table.rows)) + "</section>"
        }.joined(separator: "\n")
        return HTMLPage.render(title: "Interno report: survey \(report.round)", subtitle: heading(report), body: body)
    }

    static func score(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "—" }

    static func signed(_ value: Double?, places: Int = 2) -> String {
        guard let value else { return "" }
        return (value > 0 ? "+" : "") + String(format: "%.\(places)f", value)
    }

    /// `2026-12-07T17:00:00.000Z` → `2026-12-07 17:00Z`.
    static func short(_ iso: String) -> String {
        String(iso.prefix(16)).replacingOccurrences(of: "T", with: " ") + "Z"
    }
}
