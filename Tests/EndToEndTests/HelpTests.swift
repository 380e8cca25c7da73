import Foundation
import Testing

/// `--help` of every command and subcommand of both executables, at 80 and 200 columns: paragraphs
/// are filled by argument-parser alone, and no example is broken inside a command (issue 14).
@Suite("Help, as a person reads it")
struct HelpTests {
    /// A command path and its subcommands, from the executable's own description of itself.
    struct Node: Decodable {
        var commandName: String
        var subcommands: [Node]?
    }

    struct Dump: Decodable {
        var command: Node
    }

    /// Every command path of `name`, the root first: `[]`, `["request"]`, `["request", "new"]`, …
    static func paths(of name: String) async throws -> [[String]] {
        let dump = try await Executable(name).run(["--experimental-dump-help"])
        let root = try JSONDecoder().decode(Dump.self, from: Data(dump.stdout.utf8)).command
        func walk(_ node: Node, _ path: [String]) -> [[String]] {
            [path]
                + (node.subcommands ?? []).filter { $0.commandName != "help" }.flatMap {
                    walk($0, path + [$0.commandName])
                }
        }
        return walk(root, [])
    }

    /// At 80 columns, and at 200, where a line broken by hand in the source can no longer hide
    /// behind argument-parser's own wrapping near 80.
    @Test(arguments: ["interno", "interno-server"], [80, 200])
    func everyHelpReadsWell(name: String, width: Int) async throws {
        let paths = try await Self.paths(of: name)
        #expect(paths.count > (name == "interno" ? 40 : 10), "the command tree was read: \(paths)")
        for path in paths {
            let result = try await Executable(name).run(path + ["--help"], environment: ["COLUMNS": "\(width)"])
            let shown = ([name] + path).joined(separator: " ")
            #expect(result.status == 0, "\(shown) --help failed: \(result.stderr)")
            #expect(result.stdout.contains("USAGE:"), "\(shown) --help printed no usage")
            let problems = HelpLayout(text: result.stdout, width: width, command: name).problems
            #expect(problems.isEmpty, "\(shown) --help at \(width) columns:\n\(problems.joined(separator: "\n"))")
            if !path.isEmpty {
                #expect(result.stdout.contains("Example"), "\(shown) --help shows no example")
            }
        }
    }

    /// The checker itself finds both faults, so a pass means something.
    @Test func theLayoutCheckFindsHardBreaksAndBrokenExamples() {
        let ragged = """
            OVERVIEW: Something.

            This paragraph was wrapped in the source
            and again by the parser.

            Examples:
              interno request new --to IT
            --title broken
            """
        let problems = HelpLayout(text: ragged, width: 80, command: "interno").problems
        #expect(problems.count == 2, "\(problems)")
        let filled = """
            OVERVIEW: Something.

            Examples:
              interno request new --to IT \\
                  --title "Laptop"
            """
        #expect(HelpLayout(text: filled, width: 80, command: "interno").problems.isEmpty)
    }
}
