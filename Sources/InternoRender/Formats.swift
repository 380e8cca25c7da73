import Foundation
import InternoModel

/// A plain text table: columns padded to their widest cell, two spaces apart, no trailing
/// spaces; one line per row, headers first.
public enum TextTable {
    public static func render(_ headers: [String], _ rows: [[String]]) -> String {
        let widths = headers.indices.map { column in
            ([headers[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }

    /// `rows` under `columns`.
    public static func render<Row>(_ rows: [Row], _ columns: [Column<Row>]) -> String {
        render(columns.map(\.header), rows.map { row in columns.map { $0.table(row) } })
    }
}

/// Comma-separated values (RFC 4180): a header line, then a line per row.
public enum CSV {
    public static func render<Row>(_ rows: [Row], _ columns: [Column<Row>]) -> String {
        ([columns.flatMap(\.csvHeaders).map(field).joined(separator: ",")]
            + rows.map { row in columns.flatMap { $0.csv(row) }.map(field).joined(separator: ",") })
            .joined(separator: "\n")
    }

    /// A field, quoted when it holds a comma, a quote or a line break.
    public static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Text made safe for HTML: `&`, `<`, `>`, `"` and `'` escaped, so nothing a person typed
/// (a title, a comment) is ever read as markup.
public func escapeHTML(_ text: String) -> String {
    var result = ""
    result.reserveCapacity(text.utf8.count)
    for character in text {
        switch character {
        case "&": result += "&amp;"
        case "<": result += "&lt;"
        case ">": result += "&gt;"
        case "\"": result += "&quot;"
        case "'": result += "&#39;"
        default: result.append(character)
        }
    }
    return result
}

/// One self-contained HTML page: no script, no file or font from elsewhere; it prints on A4.
public enum HTMLPage {
    /// A page with `title`, a line under it, and `body` (already HTML).
    public static func render(title: String, subtitle: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escapeHTML(title))</title>
        <style>\(style)</style>
        </head>
        <body>
        <header><h1>\(escapeHTML(title))</h1><p class="sub">\(escapeHTML(subtitle))</p></header>
        \(body)
        </body>
        </html>

        """
    }

    /// `rows` under `columns` as an HTML table.
    public static func table<Row>(_ rows: [Row], _ columns: [Column<Row>]) -> String {
        table(columns.map(\.header), rows.map { row in columns.map { $0.table(row) } })
    }

    /// A table of text cells, every cell escaped.
    public static func table(_ headers: [String], _ rows: [[String]]) -> String {
        let head = headers.map { "<th>\(escapeHTML($0))</th>" }.joined()
        let body = rows.map { row in "<tr>" + row.map { "<td>\(escapeHTML($0))</td>" }.joined() + "</tr>" }
            .joined(separator: "\n")
        return "<table><thead><tr>\(head)</tr></thead><tbody>\n\(body)\n</tbody></table>"
    }

    static let style = """
        @page { size: A4; margin: 12mm; }
        body { font: 10pt/1.35 -apple-system, "Segoe UI", "DejaVu Sans", Arial, sans-serif; color: #1d2330; margin: 16px auto; max-width: 186mm; }
        h1 { font-size: 17pt; margin: 0; } h2 { font-size: 12.5pt; margin: 18px 0 6px; border-bottom: 1px solid #d5d9e0; padding-bottom: 2px; }
        .sub { color: #5b6473; margin: 2px 0 10px; }
        section { break-inside: avoid; page-break-inside: avoid; }
        table { border-collapse: collapse; width: 100%; font-size: 9pt; }
        th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #e3e6eb; vertical-align: top; }
        th { background: #f2f4f7; font-weight: 600; }
        svg { display: block; max-width: 100%; height: auto; }
        svg text { font-family: inherit; }
        .note { color: #5b6473; font-size: 8.5pt; }
        .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
        @media print { body { margin: 0; max-width: none; } }
        """
}

/// The matrix as people read it: a row per customer, a column per provider, each cell
/// `requests / compliance / CSAT`, `·` where no request went that way.
public enum MatrixTable {
    public static func pivot(_ cells: [MatrixCell]) -> (headers: [String], rows: [[String]]) {
        let customers = Set(cells.map(\.customer)).sorted()
        let providers = Set(cells.map(\.provider)).sorted()
        let rows = customers.map { customer in
            [customer]
                + providers.map { provider in
                    guard let cell = cells.first(where: { $0.customer == customer && $0.provider == provider }) else {
                        return "·"
                    }
                    return "\(cell.requests) / \(cell.compliance.percentText) / \(cell.csat.percentText)"
                }
        }
        return (["customer \\ provider"] + providers, rows)
    }
}
