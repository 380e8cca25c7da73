import Foundation
import InternoModel
import InternoTestSupport
import InternoWire
import Testing

/// The `interno-server` executable as an administrator uses it.
@Suite("interno-server, the executable", .serialized)
struct ServerBinaryTests {
    func server(_ arguments: String...) async throws -> Executable.Result {
        try await Executable("interno-server").run(arguments)
    }

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func initWritesKeysPrivatelyAndNeverOverwrites() async throws {
        let directory = try TemporaryDirectory()
        let data = directory.path("srv")
        let first = try await server("init", "--data", data, "--name", "localhost", "--port", "7443")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try mode(directory.path("srv/ca-key.pem")) == 0o600)
        #expect(try mode(directory.path("srv/server-key.pem")) == 0o600)
        let before = try Data(contentsOf: URL(fileURLWithPath: directory.path("srv/ca-key.pem")))
        let second = try await server("init", "--data", data, "--name", "other", "--port", "9000")
        #expect(second.status == 73)
        #expect(second.stderr.contains("already holds an Interno server"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory.path("srv/ca-key.pem"))) == before)
    }

    @Test func administrationErrorsSayWhatToDo() async throws {
        let directory = try TemporaryDirectory()
        let data = directory.path("srv")
        let missing = try await server("replicas", "--data", data)
        #expect(missing.status == 73)
        #expect(missing.stderr.contains("interno-server init"))
        _ = try await server("init", "--data", data, "--name", "localhost", "--port", "7443")
        let badHours = try await server(
            "department", "add", "IT", "--name", "IT", "--hours", "mon-fri 17:00-09:00", "--data", data)
        #expect(badHours.status == 65)
        #expect(badHours.stderr.contains("ends before it starts"))
        let badZone = try await server(
            "department", "add", "IT", "--name", "IT", "--time-zone", "Mars/Base", "--data", data)
        #expect(badZone.status == 65)
        #expect(badZone.stderr.contains("time zone"))
        let unknown = try await server("enroll", "--department", "HR", "--site", "LIS", "--data", data)
        #expect(unknown.status == 66)
        #expect(unknown.stderr.contains("department add HR"))
        #expect(try await server("department", "add", "HR", "--name", "HR", "--data", data).status == 0)
        let duplicate = try await server("department", "add", "HR", "--name", "HR again", "--data", data)
        #expect(duplicate.status == 65)
        let revoke = try await server("revoke", "not-a-uuid", "--data", data)
        #expect(revoke.status == 65)
        let typo = try await server("enrol", "--data", data)
        #expect(typo.status == 64)
        // A scope is department or all; anything else is a usage error that lists both.
        let scope = try await server(
            "enroll", "--department", "HR", "--site", "LIS", "--scope", "everything", "--data", data)
        #expect(scope.status == 64)
        #expect(scope.stderr.contains("'department'") && scope.stderr.contains("'all'"), "\(scope.stderr)")
        #expect(try await server("replicas", "--data", data).stdout.contains("HR") == false)
        let all = try await server(
            "enroll", "--department", "HR", "--site", "QA", "--scope", "all", "--out", directory.path("qa.bundle"),
            "--data", data)
        #expect(all.status == 0, "\(all.stderr)")
        let replicas = try await server("replicas", "--data", data)
        #expect(replicas.stdout.contains("scope") && replicas.stdout.contains(" all "), "\(replicas.stdout)")
    }

    @Test(arguments: Central.all) func enrolRunServeAndStopOnSIGTERM(central: Central) async throws {
        let directory = try TemporaryDirectory()
        let data = directory.path("srv")
        let environment = central == .postgres ? ["INTERNO_DATABASE": try await TestPostgres.newDatabase()] : [:]
        func server(_ arguments: String...) async throws -> Executable.Result {
            try await Executable("interno-server").run(arguments, environment: environment)
        }
        _ = try await server("init", "--data", data, "--name", "localhost", "--port", "7443")
        _ = try await server("department", "add", "HR", "--name", "Human Resources", "--data", data)
        _ = try await server("department", "add", "IT", "--name", "IT", "--data", data)
        let bundlePath = directory.path("HR-LIS.bundle")
        let enrolled = try await server(
            "enroll", "--department", "HR", "--site", "LIS", "--out", bundlePath, "--data", data)
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        #expect(enrolled.status == 0)
        #expect(try mode(bundlePath) == 0o600)

        // Run the real server on a free port, and read the port from its log.
        let process = Process()
        process.executableURL = try Executable("interno-server").url
        process.arguments = ["run", "--data", data, "--listen", "127.0.0.1:0"]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let log = Pipe()
        process.standardError = log
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var port = 0
        var seen = ""
        let deadline = Date().addingTimeInterval(20)
        while port == 0, Date() < deadline {
            let chunk = log.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
            // The `listening` line's address: on PostgreSQL an earlier line names the database's.
            if let line = seen.split(separator: "\n").first(where: { $0.contains("listening") }),
                let range = line.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression)
            {
                port = Int(line[range].split(separator: ":").last!) ?? 0
            }
        }
        #expect(port > 0, "no port in the log: \(seen)")

        var bundle = try EnrollmentBundle.decode(Data(contentsOf: URL(fileURLWithPath: bundlePath)))
        bundle.port = port
        try bundle.encoded().write(to: URL(fileURLWithPath: bundlePath))
        let site = SiteCLI(home: directory.path("hr"), user: "ana")
        try await site.ok("join", bundlePath)
        try await site.ok("request", "new", "--to", "IT", "--title", "Through the real binary")
        try await site.sync()
        let replicas = try await server("replicas", "--data", data, "--json")
        #expect(replicas.stdout.contains("HR-LIS") || replicas.stdout.contains("\"LIS\""))
        #expect(!replicas.stdout.contains("\"lastSeen\" : null"))

        // A site connected and idle when the server stops hears why: error 11, SHUTTING_DOWN.
        var hello = Interno_V1_Hello()
        hello.protocolVersion = WireLimits.protocolVersion
        hello.replicaID = UUID(uuidString: try site.site().settings.replicaID)!.wire
        hello.schemaVersion = Schema.version
        var helloFrame = Interno_V1_Frame()
        helloFrame.body = .hello(hello)
        let raw = try await RawConnection.connect(port: port, home: site.home)
        let idle = Task { try await raw.exchange([RawConnection.framed(helloFrame)], expected: 2) }
        // join and sync connected twice already; wait for the log of this third connection.
        var connected = seen.components(separatedBy: "site connected").count - 1
        while connected < 3, Date() < deadline.addingTimeInterval(20) {
            let chunk = log.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
            connected = seen.components(separatedBy: "site connected").count - 1
        }
        #expect(connected == 3, "the idle session did not connect: \(seen)")

        process.terminate()  // SIGTERM
        let frames = try await idle.value
        #expect(frames.count == 2, "\(frames)")
        guard case .error(let error) = frames.last?.body else {
            Issue.record("expected an Error frame, got \(frames)")
            return
        }
        #expect(error.code == WireError.Code.shuttingDown.rawValue)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let rest = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(rest.contains("stopped"))
        let unreachable = try await site.run(["sync"])
        #expect(unreachable.status == 69)
        #expect(unreachable.stderr.contains("cannot reach the server"))
    }
}
