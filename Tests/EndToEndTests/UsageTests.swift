import Foundation
import InternoClient
import InternoModel
import Testing

/// Options that take one of a few words, and the exit codes the README documents (issue 14).
@Suite("Typed choices and exit codes")
struct UsageTests {
    /// The README's exit-code table: code → meaning.
    static func readmeExitCodes() throws -> [Int32: String] {
        let readme = try String(contentsOf: repositoryRoot().appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.range(of: "### Exit codes")).upperBound
        var table: [Int32: String] = [:]
        for line in readme[section...].split(separator: "\n").prefix(20) {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            if cells.count == 2, let code = Int32(cells[0]) { table[code] = cells[1] }
        }
        return table
    }

    @Test(arguments: [
        (
            ["request", "new", "--to", "IT", "--title", "T", "--priority", "asap"],
            ["low", "normal", "high", "urgent"]
        ),
        (["request", "edit", "HR-LIS-1", "--priority", "soon"], ["low", "normal", "high", "urgent"]),
        (
            ["request", "list", "--state", "opened"],
            [
                "open", "submitted", "acknowledged", "in_progress", "waiting_on_customer", "delivered", "closed",
                "declined", "cancelled",
            ]
        ),
        (["report", "watermelon", "--by", "week"], ["none", "month"]),
        (["completions", "tcsh"], ["bash", "zsh", "fish"]),
    ])
    func aWrongChoiceExits64AndListsTheChoices(arguments: [String], choices: [String]) async throws {
        let directory = try TemporaryDirectory()
        let result = try await SiteCLI(home: directory.path("nowhere"), user: "ana").run(arguments)
        #expect(result.status == ExitStatus.usage, "\(arguments): \(result.stderr)")
        for choice in choices {
            // argument-parser lists a few choices in a sentence, more one per line.
            #expect(
                result.stderr.contains("'\(choice)'") || result.stderr.contains("- \(choice)\n"),
                "\(arguments) does not list \(choice): \(result.stderr)")
        }
    }

    @Test func theServersChoicesAreTypedToo() async throws {
        let directory = try TemporaryDirectory()
        let result = try await Executable("interno-server").run([
            "run", "--data", directory.path("srv"), "--log-level", "loud",
        ])
        #expect(result.status == 64, "\(result.stderr)")
        for level in ["trace", "debug", "info", "notice", "warning", "error", "critical"] {
            #expect(result.stderr.contains("- \(level)\n"), "\(result.stderr)")
        }
        let scope = try await Executable("interno-server").run([
            "enroll", "--department", "HR", "--site", "LIS", "--scope", "everything", "--data", directory.path("srv"),
        ])
        #expect(scope.status == 64, "\(scope.stderr)")
        #expect(scope.stderr.contains("'department'") && scope.stderr.contains("'all'"), "\(scope.stderr)")
    }

    /// The choices are the schema's, so the CLI can never offer a word the schema refuses.
    @Test func theChoicesAreTheSchemas() {
        #expect(RequestPriority.allCases.map(\.rawValue) == Schema.priorities)
        #expect(
            RequestStateFilter.allCases.map(\.rawValue) == ["open"] + Schema.requestLifecycle.states)
    }

    /// Each code the table lists is one `ExitStatus` holds and `interno --help` names, and
    /// real commands end with the code whose meaning fits.
    @Test(arguments: Central.all) func theExitCodeTableHolds(central: Central) async throws {
        let table = try Self.readmeExitCodes()
        let constants: [Int32] = [
            ExitStatus.success, ExitStatus.failure, ExitStatus.usage, ExitStatus.invalidInput, ExitStatus.notFound,
            ExitStatus.notAllowed, ExitStatus.conflictPending, ExitStatus.unreachable, ExitStatus.identity,
            ExitStatus.protocolError, ExitStatus.changesRefused, ExitStatus.notJoined, ExitStatus.notInStep,
        ]
        #expect(Set(table.keys) == Set(constants), "README: \(table.keys.sorted())")
        let help = try await Executable("interno").run(["--help"], environment: ["COLUMNS": "200"]).stdout
        for code in constants {
            #expect(help.contains(" \(code) "), "`interno --help` does not name exit code \(code)")
        }

        func expect(_ result: Executable.Result, _ code: Int32, _ meaning: String, _ what: String) {
            #expect(result.status == code, "\(what): \(result.stderr)")
            #expect(table[code]?.contains(meaning) == true, "README row \(code) does not say '\(meaning)'")
        }
        let directory = try TemporaryDirectory()
        let nobody = SiteCLI(home: directory.path("nobody"), user: "eva")
        expect(try await nobody.run(["whoami"]), 73, "no joined site", "whoami with no site")
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            expect(try await hr.run(["request", "new", "--to", "IT", "--title", "T"]), 0, "success", "request new")
            expect(
                try await hr.run(["request", "new", "--to", "IT", "--title", "T", "--priority", "x"]), 64,
                "usage", "a wrong priority")
            expect(try await hr.run(["request", "list", "--verbose"]), 64, "unknown command or option", "a typo")
            expect(
                try await hr.run(["request", "new", "--to", "IT", "--title", "T", "--needed-by", "soon"]), 65,
                "invalid value", "a needed-by that is no date")
            expect(try await hr.run(["request", "show", "HR-LIS-99"]), 66, "not found", "an unknown request")
            expect(try await hr.run(["request", "ack", "HR-LIS-1"]), 67, "not allowed", "HR acknowledging for IT")
            await deployment.stop()
            expect(try await hr.run(["sync", "--timeout", "5"]), 69, "cannot be reached", "a stopped server")
        }
    }
}

/// The repository's root directory, found from this source file.
func repositoryRoot(file: String = #filePath) -> URL {
    URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
