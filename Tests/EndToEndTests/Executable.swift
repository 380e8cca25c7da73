import Foundation

/// Runs one of the package's real executables and collects what it printed.
struct Executable {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    let url: URL

    /// The program at `url`.
    init(url: URL) {
        self.url = url
    }

    /// The built executable `name`, next to this test bundle in the build directory.
    init(_ name: String) throws {
        var directory = Bundle.main.bundleURL
        // swift-testing on Linux runs from `<build>/debug/InternoPackageTests.xctest`.
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path) {
            let parent = directory.deletingLastPathComponent()
            guard parent != directory else {
                throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: name])
            }
            directory = parent
        }
        url = directory.appendingPathComponent(name)
    }

    /// The installed program `name`: PostgreSQL's own (`pg_dump`, `pg_restore`) from the newest
    /// `/usr/lib/postgresql/*/bin`, the version `Tools/postgres` runs, else the first on `PATH`.
    static func system(_ name: String) throws -> Executable {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        let postgres = versions.sorted { $0.compare($1, options: .numeric) == .orderedDescending }
            .map { "/usr/lib/postgresql/\($0)/bin" }
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(
            String.init)
        for directory in postgres + path {
            let candidate = (directory as NSString).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate) {
                return Executable(url: URL(fileURLWithPath: candidate))
            }
        }
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: name])
    }

    /// Runs with `arguments` and `environment` added to this process's, and waits for it on a
    /// thread of its own: blocking a cooperative thread would starve the in-process server's
    /// sessions that the child talks to (the pool has one thread per core).
    func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Swift.Result { try runBlocking(arguments, environment: environment) })
            }
            thread.start()
        }
    }

    private func runBlocking(_ arguments: [String], environment: [String: String]) throws -> Result {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting, so a large output cannot fill the pipe and block the child.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }
}
