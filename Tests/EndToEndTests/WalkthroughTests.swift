import Foundation
import Testing

/// The README's by-hand quick start, typed key by key into a real terminal (tmux), the screen
/// checked after every command (issue 14). The commands are read from README.md when the test
/// runs, so the README cannot drift from what works: the block after the walk-through marker,
/// with one substitution, a free port for 7443, so the test never collides with a server of
/// yours. The binaries come from this build, as the README's `export PATH=...` line says.
@Suite("The README's walk-through, in a terminal")
struct WalkthroughTests {
    /// One command as typed: its lines (continuations included) and what it must print.
    struct Step {
        var lines: [String]
        var expected: String?
        var background: Bool
    }

    /// The README's walk-through block, as steps.
    static func steps() throws -> [Step] {
        let readme = try String(contentsOf: repositoryRoot().appendingPathComponent("README.md"), encoding: .utf8)
        let marker = try #require(readme.range(of: "WalkthroughTests.swift types the next block"))
        let fence = try #require(readme.range(of: "```sh\n", range: marker.upperBound..<readme.endIndex))
        let end = try #require(readme.range(of: "\n```", range: fence.upperBound..<readme.endIndex))
        var steps: [Step] = []
        var current: [String] = []
        for line in readme[fence.upperBound..<end.lowerBound].split(separator: "\n").map(String.init) {
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            current.append(line)
            if line.hasSuffix("\\") { continue }
            let expected = line.range(of: "# prints ").map { String(line[$0.upperBound...]) }
            let command = line.split(separator: "#").first.map(String.init) ?? line
            steps.append(
                Step(
                    lines: current, expected: expected,
                    background: command.trimmingCharacters(in: .whitespaces).hasSuffix("&")))
            current = []
        }
        return steps
    }

    /// A tmux server of the test's own, on a socket in its directory.
    struct Terminal {
        let tmux: String
        let socket: String

        func run(_ arguments: [String]) throws -> Executable.Result {
            try TerminalTools.run(tmux, ["-S", socket] + arguments)
        }

        /// Starts the server with a first command; returns the client's exit status.
        ///
        /// Foundation learns that a child ended when a socket the child inherited is closed; the
        /// tmux server would inherit it too and keep it open, so `bash` closes every descriptor
        /// above 2 before it becomes tmux.
        func start(_ arguments: [String]) throws -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            let closeAll = #"for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; "#
            process.arguments = ["-c", closeAll + #"exec "$0" "$@""#, tmux, "-S", socket] + arguments
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }

        /// Types `text` one key at a time, then Enter: every character is its own key, which
        /// tmux writes to the terminal in order as keystrokes. One tmux call per line, not per
        /// key, so the walk-through costs seconds even while the rest of the suite loads the
        /// machine.
        func type(_ text: String) throws {
            let keys = text.map(String.init)
            let typed = try run(["send-keys", "-t", "walk", "-l", "--"] + keys)
            #expect(typed.status == 0, "tmux send-keys: \(typed.stderr)")
            let entered = try run(["send-keys", "-t", "walk", "Enter"])
            #expect(entered.status == 0, "tmux send-keys Enter: \(entered.stderr)")
        }

        /// Everything the terminal has shown, scrollback included.
        func screen() throws -> String {
            try run(["capture-pane", "-p", "-J", "-t", "walk", "-S", "-"]).stdout
        }
    }

    static var prompt: Regex<(Substring, Substring)> { #/\[(\d+)\] walk> /# }

    @Test func theQuickStartByHandWorksAsWritten() async throws {
        guard let tmux = TerminalTools.require("tmux", package: "tmux") else { return }
        let steps = try Self.steps()
        #expect(steps.count >= 15, "the walk-through was read from the README: \(steps.map(\.lines))")
        let directory = try TemporaryDirectory()
        let port = try OfflineJoinTests.freePort()
        let binaries = try Executable("interno").url.deletingLastPathComponent().path
        let terminal = Terminal(tmux: tmux, socket: directory.path("tmux.sock"))
        let shell = [
            "env", "-i", "HOME=\(directory.path)", "USER=ana", "TERM=xterm", "TMPDIR=\(directory.path)",
            "PATH=\(binaries):/usr/local/bin:/usr/bin:/bin", "PS1=[$?] walk> ", "bash", "--norc", "--noprofile", "-i",
        ]
        // The first client forks the tmux server, which keeps every descriptor the client had:
        // its output goes to /dev/null, and the others are closed before tmux starts.
        let started = try terminal.start(
            ["new-session", "-d", "-s", "walk", "-x", "200", "-y", "50", "-c", directory.path] + shell)
        #expect(started == 0, "tmux did not start")
        defer { _ = try? terminal.run(["kill-server"]) }
        _ = try terminal.run(["set-option", "-t", "walk", "history-limit", "20000"])
        try await waitForPrompts(1, terminal)

        for (number, step) in steps.enumerated() {
            let before = try terminal.screen()
            let typed = step.lines.map { $0.replacingOccurrences(of: "7443", with: "\(port)") }
            for line in typed { try terminal.type(line) }
            let screen = try await waitForPrompts(number + 2, terminal)
            let shown = String(screen.dropFirst(before.count > 0 ? commonPrefix(before, screen) : 0))
            // What the command printed: after the echo of its last line, before the next prompt
            // (the echo holds the README's `# prints` comment, which must not count as output).
            let afterEcho = shown.range(of: typed.last!).map { shown[$0.upperBound...] } ?? shown[...]
            let output = afterEcho.range(of: "] walk> ").map { afterEcho[..<$0.lowerBound] } ?? afterEcho
            let command = step.lines.joined(separator: "\n")
            let status = screen.matches(of: Self.prompt).last.map { String($0.1) }
            #expect(status == "0", "`\(command)` ended with status \(status ?? "?"):\n\(shown)")
            if let expected = step.expected {
                #expect(output.contains(expected), "`\(command)` did not print '\(expected)':\n\(shown)")
            }
            if step.background {
                // The server says it listens before anything is asked of it. Its log line, not
                // the address: the echo of the typed command holds the address already, and a
                // loaded machine then ran the next `interno join` before the server listened.
                try await waitFor("[InternoServer] listening", terminal)
            }
            #expect(!shown.contains("error:"), "`\(command)` printed an error:\n\(shown)")
        }
    }

    /// Waits until the terminal shows `count` prompts; returns the screen.
    @discardableResult
    func waitForPrompts(_ count: Int, _ terminal: Terminal) async throws -> String {
        // A bound on a hang, not a timing: a loaded 2-core machine running the whole suite has
        // taken over a minute for one command here.
        let deadline = ContinuousClock.now + .seconds(180)
        var screen = ""
        while true {
            screen = try terminal.screen()
            if screen.matches(of: Self.prompt).count >= count { return screen }
            // Looked at once more after the deadline, for a task that woke late (ServerProcess).
            guard ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the terminal did not come back to its prompt:\n\(screen)")
        throw CancellationError()
    }

    func waitFor(_ text: String, _ terminal: Terminal) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            if try terminal.screen().contains(text) { return }
            guard ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the terminal never showed '\(text)':\n\(try terminal.screen())")
    }

    func commonPrefix(_ a: String, _ b: String) -> Int {
        zip(a, b).prefix { $0 == $1 }.count
    }
}
