import InternoModel
import Testing

@Suite("The executables")
struct VersionTests {
    @Test(arguments: ["interno", "interno-server"])
    func printTheirVersion(name: String) async throws {
        let result = try await Executable(name).run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == InternoVersion.string)
    }

    @Test(arguments: ["interno", "interno-server"])
    func aTypoIsAUsageErrorWithExitCode64(name: String) async throws {
        let result = try await Executable(name).run(["--verison"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--verison"))
    }
}
