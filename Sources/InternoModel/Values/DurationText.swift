/// Durations as people type them: `90m`, `4h`, `2d`, `1h30m`, `1w` (weeks of 7 days).
///
/// Units: `w` 7 days, `d` 24 hours, `h`, `m`, `s`. Service targets count business time, so
/// `1d` there means one business day of the provider's calendar; the conversion belongs to the
/// calendar, not to this parser.
public enum DurationText {
    private static let units: [(suffix: Character, seconds: Int64)] = [
        ("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1),
    ]

    /// Parses `text` into seconds; `nil` if it is not a sequence of number-unit pairs.
    public static func parse(_ text: String) -> Int64? {
        var total: Int64 = 0
        var digits = ""
        var sawPair = false
        for character in text.lowercased() where !character.isWhitespace {
            if character.isASCII, character.isNumber {
                digits.append(character)
            } else if let unit = units.first(where: { $0.suffix == character }) {
                guard let number = Int64(digits) else { return nil }
                let (product, overflowA) = number.multipliedReportingOverflow(by: unit.seconds)
                let (sum, overflowB) = total.addingReportingOverflow(product)
                guard !overflowA, !overflowB else { return nil }
                total = sum
                digits = ""
                sawPair = true
            } else {
                return nil
            }
        }
        guard sawPair, digits.isEmpty else { return nil }
        return total
    }

    /// The shortest exact text for `seconds`, e.g. `1d4h`; `0s` for zero.
    public static func format(seconds: Int64) -> String {
        guard seconds != 0 else { return "0s" }
        var rest = seconds.magnitude
        var text = seconds < 0 ? "-" : ""
        for unit in units where unit.suffix != "w" {
            let count = rest / UInt64(unit.seconds)
            if count > 0 {
                text += "\(count)\(unit.suffix)"
                rest -= count * UInt64(unit.seconds)
            }
        }
        return text
    }

    /// Business time in hours and minutes, never days (a business day is not 24 hours):
    /// `26h30m`, `45m`, `0m`; negative with a leading `-`. Seconds are dropped.
    public static func formatHours(milliseconds: Int64) -> String {
        let minutes = milliseconds.magnitude / 60_000
        let sign = milliseconds < 0 && minutes > 0 ? "-" : ""
        let hours = minutes / 60
        let rest = minutes % 60
        switch (hours, rest) {
        case (0, _): return "\(sign)\(rest)m"
        case (_, 0): return "\(sign)\(hours)h"
        default: return "\(sign)\(hours)h\(rest)m"
        }
    }
}
