import Foundation
import Testing

/// Programs from Debian's packages that some end-to-end tests drive. A missing one fails the
/// test with the command that installs it, never skips it: `.ci/run` and `Tools/setup` install
/// them.
enum TerminalTools {
    /// The path of `program` on PATH, or a recorded failure saying how to install `package`.
    static func require(_ program: String, package: String, sourceLocation: SourceLocation = #_sourceLocation)
        -> String?
    {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        Issue.record(
            "\(program) is not installed, and this test needs it: run `Tools/setup` (or `apt-get install \(package)`) and test again",
            sourceLocation: sourceLocation)
        return nil
    }

    /// Runs `program` with `arguments`, `input` on its stdin, and returns what it printed.
    static func run(_ program: String, _ arguments: [String], input: String? = nil, environment: [String: String] = [:])
        throws -> Executable.Result
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        let inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inPipe
        try process.run()
        if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
        try inPipe.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Executable.Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }
}
