import Foundation

/// Finds what double wrapping leaves in a `--help` screen (issue 14): a paragraph broken where
/// it need not be (its source was hard-wrapped and argument-parser wrapped it again), and an
/// example broken inside a command. argument-parser fills each line greedily, breaking at the
/// last space of the next `width` columns, so a line that plus a space and the next word fits
/// in `width - 1` columns was broken by hand.
struct HelpLayout {
    let text: String
    let width: Int
    /// The executable's name: every example starts with it.
    let command: String

    /// Every problem, one sentence each, naming the line.
    var problems: [String] {
        var problems: [String] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var section = ""
        var inExamples = false
        for (index, line) in lines.enumerated() {
            let previous = index > 0 ? lines[index - 1] : ""
            if let header = line.firstMatch(of: /^(OVERVIEW|USAGE|ARGUMENTS|OPTIONS|SUBCOMMANDS):/) {
                section = String(header.1)
            }
            // argument-parser never wraps the usage line; everything else it wraps to the width.
            if section != "USAGE", line.count > width {
                problems.append("line \(index + 1) is \(line.count) columns wide: '\(line)'")
            }
            if line.isEmpty {
                inExamples = false
                continue
            }
            let indent = line.prefix { $0 == " " }.count
            if section == "OVERVIEW", indent == 0, line.hasSuffix("Examples:") || line.hasSuffix("Example:") {
                inExamples = true
                continue
            }
            if inExamples {
                let content = line.dropFirst(indent)
                // `source <(interno completions bash)` is an example too.
                let startsCommand = indent == 2 && (content.hasPrefix(command) || content.contains("(\(command) "))
                let continues = indent > 2 && previous.hasSuffix(" \\")
                if !startsCommand && !continues {
                    problems.append("an example is broken before line \(index + 1): '\(previous)' / '\(line)'")
                }
                continue
            }
            if previous.hasSuffix(" \\") {
                problems.append("line \(index) ends in a continuation outside an example: '\(previous)'")
            }
            guard !previous.isEmpty, !previous.hasSuffix(":") else { continue }
            let previousIndent = previous.prefix { $0 == " " }.count
            let isContinuation: Bool
            switch section {
            case "OVERVIEW":
                // Prose: lines that start at the margin, one after another.
                isContinuation = indent == 0 && previousIndent == 0
            case "USAGE":
                isContinuation = false
            default:
                // An option's, argument's or subcommand's help wraps under its help column, after
                // a line that holds help (not a label alone, whose help starts below it).
                isContinuation =
                    indent >= 20 && (previousIndent >= 20 || previous.dropFirst(previousIndent).contains("  "))
            }
            guard isContinuation, let word = line.dropFirst(indent).split(separator: " ").first else { continue }
            if previous.count + 1 + word.count <= width - 1 {
                problems.append(
                    "a paragraph is broken by hand at line \(index): '\(previous)' could have taken '\(word)'")
            }
        }
        return problems
    }
}
