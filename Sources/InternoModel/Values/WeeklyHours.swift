/// Business hours per weekday, e.g. `mon-fri 09:00-17:00; sat 10:00-13:00`.
///
/// Days are `mon`…`sun`; a day may have several ranges (`mon 09:00-12:00 13:00-17:00`); a day
/// not named has no business hours. Times are minutes after local midnight, end exclusive.
public struct WeeklyHours: Hashable, Sendable, CustomStringConvertible {
    /// Day names in week order, Monday first (ISO 8601).
    public static let dayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    /// For each day (0 = Monday … 6 = Sunday), sorted, non-overlapping minute ranges.
    public let days: [[Range<Int>]]

    /// Office hours, Monday to Friday, 09:00 to 17:00.
    public static let standard = WeeklyHours(
        days: Array(repeating: [540..<1020], count: 5) + [[], []]
    )

    /// Hours from explicit ranges; ranges are sorted and must not overlap.
    public init(days: [[Range<Int>]]) {
        precondition(days.count == 7, "a week has seven days")
        self.days = days.map { $0.sorted { $0.lowerBound < $1.lowerBound } }
    }

    /// Parses the text form; throws a message that says what is accepted.
    public init(parsing text: String) throws(ValueError) {
        let example = "e.g. 'mon-fri 09:00-17:00; sat 10:00-13:00'"
        var days: [[Range<Int>]] = Array(repeating: [], count: 7)
        let parts = text.split(whereSeparator: { $0 == ";" || $0 == "," }).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard !parts.isEmpty, parts.allSatisfy({ !$0.isEmpty }) else {
            throw ValueError("business hours are days then time ranges, \(example)")
        }
        for part in parts {
            let words = part.split(separator: " ").map(String.init)
            guard words.count >= 2 else { throw ValueError("'\(part)' names no time range, \(example)") }
            let dayIndices = try Self.parseDays(words[0], example: example)
            var ranges: [Range<Int>] = []
            for word in words.dropFirst() {
                ranges.append(try Self.parseRange(word, example: example))
            }
            for index in dayIndices {
                guard days[index].isEmpty else {
                    throw ValueError("\(Self.dayNames[index]) is given twice in '\(text)'")
                }
                days[index] = ranges.sorted { $0.lowerBound < $1.lowerBound }
                for (a, b) in zip(days[index], days[index].dropFirst()) where a.upperBound > b.lowerBound {
                    throw ValueError("the ranges of \(Self.dayNames[index]) overlap in '\(text)'")
                }
            }
        }
        self.days = days
    }

    private static func parseDays(_ word: String, example: String) throws(ValueError) -> [Int] {
        let ends = word.lowercased().split(separator: "-").map(String.init)
        let indices = ends.compactMap { dayNames.firstIndex(of: String($0.prefix(3))) }
        guard indices.count == ends.count, (1...2).contains(indices.count) else {
            throw ValueError("'\(word)' is not a day or day range (mon, tue, … sun; mon-fri), \(example)")
        }
        guard indices.count == 2 else { return indices }
        guard indices[0] <= indices[1] else { throw ValueError("the day range '\(word)' runs backwards") }
        return Array(indices[0]...indices[1])
    }

    private static func parseRange(_ word: String, example: String) throws(ValueError) -> Range<Int> {
        let ends = word.split(separator: "-").map(String.init)
        guard ends.count == 2, let start = parseTime(ends[0]), let end = parseTime(ends[1]) else {
            throw ValueError("'\(word)' is not a time range like 09:00-17:00, \(example)")
        }
        guard start < end else { throw ValueError("the time range '\(word)' ends before it starts") }
        return start..<end
    }

    /// Minutes after midnight for `HH:MM` (24:00 allowed as an end); `nil` otherwise.
    static func parseTime(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count <= 2, parts[1].count == 2,
            let hours = Int(parts[0]), let minutes = Int(parts[1]),
            (0...24).contains(hours), (0..<60).contains(minutes), hours * 60 + minutes <= 1440
        else { return nil }
        return hours * 60 + minutes
    }

    /// The canonical text: consecutive days with the same hours are grouped.
    public var description: String {
        func time(_ minutes: Int) -> String {
            let hours = minutes / 60
            let rest = minutes % 60
            return (hours < 10 ? "0" : "") + "\(hours):" + (rest < 10 ? "0" : "") + "\(rest)"
        }
        var groups: [String] = []
        var index = 0
        while index < 7 {
            let ranges = days[index]
            var end = index
            while end + 1 < 7, days[end + 1] == ranges { end += 1 }
            if !ranges.isEmpty {
                let dayText = index == end ? Self.dayNames[index] : "\(Self.dayNames[index])-\(Self.dayNames[end])"
                let rangeText = ranges.map { "\(time($0.lowerBound))-\(time($0.upperBound))" }.joined(separator: " ")
                groups.append("\(dayText) \(rangeText)")
            }
            index = end + 1
        }
        return groups.isEmpty ? "none" : groups.joined(separator: "; ")
    }
}

/// A value a person typed that does not parse, with a sentence saying what is accepted.
public struct ValueError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was wrong and what would be accepted.
    public let message: String

    /// An error explained by `message`.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
