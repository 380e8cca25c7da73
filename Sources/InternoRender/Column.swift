import Foundation
import InternoModel

/// One column of a report: its header, its table cell, its CSV fields and its HTML cell.
/// Every report defines its columns once, and every format renders them (DESIGN §8).
public struct Column<Row> {
    public var header: String
    public var csvHeaders: [String]
    public var table: (Row) -> String
    public var csv: (Row) -> [String]

    public init(
        header: String, csvHeaders: [String], table: @escaping (Row) -> String, csv: @escaping (Row) -> [String]
    ) {
        self.header = header
        self.csvHeaders = csvHeaders
        self.table = table
        self.csv = csv
    }

    public static func text(_ header: String, _ value: @escaping (Row) -> String) -> Column {
        Column(header: header, csvHeaders: [snake(header)], table: value, csv: { [value($0)] })
    }

    public static func number(_ header: String, _ value: @escaping (Row) -> Int) -> Column {
        Column(header: header, csvHeaders: [snake(header)], table: { "\(value($0))" }, csv: { ["\(value($0))"] })
    }

    public static func target(_ header: String, _ value: @escaping (Row) -> Int?) -> Column {
        Column(
            header: header, csvHeaders: [snake(header) + "_pct"], table: { value($0).map { "\($0)%" } ?? "—" },
            csv: { [value($0).map(String.init) ?? ""] })
    }

    public static func decimal(_ header: String, _ value: @escaping (Row) -> Double?) -> Column {
        Column(
            header: header, csvHeaders: [snake(header)], table: { value($0).map { String(format: "%.2f", $0) } ?? "—" },
            csv: { [value($0).map { String(format: "%.2f", $0) } ?? ""] })
    }

    /// A signed figure with `places` decimals (`+25.0`), `—` in the table and empty in CSV
    /// when absent.
    public static func signed(_ header: String, places: Int = 1, _ value: @escaping (Row) -> Double?) -> Column {
        Column(
            header: header, csvHeaders: [snake(header)],
            table: { value($0).map { ($0 > 0 ? "+" : "") + String(format: "%.\(places)f", $0) } ?? "—" },
            csv: { [value($0).map { String(format: "%.\(places)f", $0) } ?? ""] })
    }

    /// Business time in seconds: hours and minutes in the table, seconds in CSV.
    public static func duration(_ header: String, _ value: @escaping (Row) -> Int64?) -> Column {
        Column(
            header: header, csvHeaders: [snake(header) + "_seconds"],
            table: { value($0).map { DurationText.formatHours(milliseconds: $0 * 1_000) } ?? "—" },
            csv: { [value($0).map(String.init) ?? ""] })
    }

    /// A share: "50% (2/4)" in the table; percent, count and total in CSV.
    public static func share(_ header: String, _ value: @escaping (Row) -> Share) -> Column {
        let name = snake(header)
        return Column(
            header: header, csvHeaders: [name + "_pct", name + "_count", name + "_of"],
            table: { row in
                let share = value(row)
                return share.of == 0 ? "—" : "\(share.percentText) (\(share.count)/\(share.of))"
            },
            csv: { row in
                let share = value(row)
                return [share.percent.map { String(format: "%.1f", $0) } ?? "", "\(share.count)", "\(share.of)"]
            })
    }
}

/// `ack median` → `ack_median`.
func snake(_ header: String) -> String {
    header.lowercased().replacingOccurrences(of: " ", with: "_")
}
