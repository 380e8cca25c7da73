import Foundation
import Testing

/// `interno completions SHELL`, `interno-server completions SHELL` and the manual pages that
/// `interno-manual` writes (issue 14).
@Suite("Completions and the manual")
struct CompletionAndManualTests {
    /// What bash offers after `words` (the last one being typed), with the script `name`
    /// prints for bash loaded.
    func bashCompletes(_ name: String, _ words: [String]) async throws -> [String] {
        guard let bash = TerminalTools.require("bash", package: "bash") else { return [] }
        let directory = try TemporaryDirectory()
        let script = try await Executable(name).run(["completions", "bash"])
        #expect(script.status == 0, "\(script.stderr)")
        let path = directory.path("\(name).bash")
        try script.stdout.write(toFile: path, atomically: true, encoding: .utf8)
        let line = words.joined(separator: " ")
        let quoted = words.map { "'\($0)'" }.joined(separator: " ")
        let program = """
            PATH='\(try Executable(name).url.deletingLastPathComponent().path)':"$PATH"
            source '\(path)'
            function=$(complete -p \(name) | sed -E 's/.*-F ([^ ]+).*/\\1/')
            COMP_WORDS=(\(quoted))
            COMP_CWORD=\(words.count - 1)
            COMP_LINE='\(line)'
            COMP_POINT=${#COMP_LINE}
            "$function" \(name) '\(words.last ?? "")' '\(words.dropLast().last ?? "")'
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        let result = try TerminalTools.run(bash, ["--norc", "--noprofile"], input: program)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    @Test func bashOffersTheChoicesOfAnOption() async throws {
        let priorities = try await bashCompletes("interno", ["interno", "request", "new", "--priority", ""])
        #expect(Set(priorities) == ["low", "normal", "high", "urgent"], "\(priorities)")
        let splits = try await bashCompletes("interno", ["interno", "report", "watermelon", "--by", ""])
        #expect(Set(splits) == ["none", "month"], "\(splits)")
        let levels = try await bashCompletes("interno-server", ["interno-server", "run", "--log-level", ""])
        #expect(Set(levels) == ["trace", "debug", "info", "notice", "warning", "error", "critical"], "\(levels)")
        let commands = try await bashCompletes("interno", ["interno", "req"])
        #expect(commands == ["request"], "\(commands)")
    }

    @Test(arguments: ["interno", "interno-server"])
    func everyShellGetsAScript(name: String) async throws {
        for shell in ["bash", "zsh", "fish"] {
            let script = try await Executable(name).run(["completions", shell])
            #expect(script.status == 0, "\(name) completions \(shell): \(script.stderr)")
            #expect(script.stdout.contains(name) && script.stdout.count > 500, "\(name) completions \(shell)")
        }
    }

    @Test func theManualPagesSayWhatTheHelpSays() async throws {
        guard let man = TerminalTools.require("man", package: "man-db groff-base") else { return }
        let directory = try TemporaryDirectory()
        let written = try await Executable("interno-manual").run([
            "--output", directory.path("man1"), "--date", "2026-12-01",
        ])
        #expect(written.status == 0, "\(written.stderr)")
        for name in ["interno", "interno-server"] {
            let page = directory.path("man1/\(name).1")
            let rendered = try TerminalTools.run(
                man, ["-l", page], environment: ["MANWIDTH": "80", "MANPAGER": "cat", "PAGER": "cat"])
            #expect(rendered.status == 0, "man -l \(page): \(rendered.stderr)")
            // man justifies filled text with extra spaces; examples are not filled.
            let text = rendered.stdout
            let filled = text.replacing(/\s+/, with: " ")
            #expect(
                text.contains("NAME") && text.contains("COMMANDS") && text.contains("SEE ALSO"), "\(text.prefix(400))")
            #expect(!text.contains("\\-") && !text.contains("\\e"), "escapes leaked into \(name)(1)")
            let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            if name == "interno" {
                // Examples stay one command per line, continuation and all; options read as typed.
                #expect(
                    lines.contains("interno request new --to IT --title \"Laptop\" --details \"16 GB\" \\"), "\(text)")
                #expect(lines.contains("interno completions bash > /etc/bash_completion.d/interno"))
                #expect(filled.contains("--priority <priority>"))
                #expect(filled.contains("low, normal, high, urgent"))
                #expect(filled.contains("interno report watermelon"))
            } else {
                #expect(filled.contains("interno-server department add"))
                #expect(filled.contains("trace, debug, info, notice, warning, error, critical"))
            }
        }
    }
}
