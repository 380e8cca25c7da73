import Foundation
import InternoClient
import InternoServer
import InternoStore
import InternoTestSupport
import InternoWire
import Testing

/// The central store on PostgreSQL through the real binaries (DESIGN §4.1): `interno-server`
/// made and administered with `--database` or `INTERNO_DATABASE`, two `run` instances on one
/// database, each with its own copy of the data directory, and sites that sync through
/// either, switching between syncs.
@Suite(
    "Two interno-server instances on one PostgreSQL, end to end", .serialized,
    .enabled(if: TestPostgres.isAvailable, Comment(rawValue: TestPostgres.howToRun)))
struct PostgresDeploymentTests {
    /// Runs `interno-server` with `arguments`; it must succeed.
    @discardableResult
    func server(
        _ arguments: [String], environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let result = try await Executable("interno-server").run(arguments, environment: environment)
        #expect(
            result.status == 0, "interno-server \(arguments.joined(separator: " ")) failed: \(result.stderr)",
            sourceLocation: sourceLocation)
        return result.stdout
    }

    @Test func sitesSyncingThroughEitherInstanceConverge() async throws {
        let url = try await TestPostgres.newDatabase()
        let directory = try TemporaryDirectory()
        let data = directory.path("server")
        let database = ["INTERNO_DATABASE": url]
        try await server(["init", "--data", data, "--name", "localhost", "--port", "7443", "--database", url])
        #expect(!(try String(contentsOfFile: data + "/server.json", encoding: .utf8)).contains("postgres://"))
        #expect(!FileManager.default.fileExists(atPath: data + "/server.sqlite"))
        try await server(
            ["department", "add", "HR", "--name", "Human Resources", "--data", data], environment: database)
        try await server(["department", "add", "IT", "--name", "IT", "--data", data], environment: database)

        // Without the database, or with a wrong one, each command says so and changes nothing.
        let missing = try await Executable("interno-server").run(
            ["department", "list", "--data", data], environment: ["INTERNO_DATABASE": ""])
        #expect(missing.status == 65)
        #expect(missing.stderr.contains("keeps its data in PostgreSQL"), "\(missing.stderr)")
        let typo = try await Executable("interno-server").run(
            ["department", "list", "--data", data, "--database", "postgress://x@y/z"])
        #expect(typo.status == 65)
        #expect(typo.stderr.contains("not a PostgreSQL URL"), "\(typo.stderr)")
        let other = try await TestPostgres.newDatabase()
        let empty = try await Executable("interno-server").run(
            ["department", "list", "--data", data, "--database", other])
        #expect(empty.status == 73, "\(empty.stderr)")
        #expect(empty.stderr.contains("holds no Interno server"), "\(empty.stderr)")

        // The second instance's host has a copy of the data directory.
        let copy = directory.path("server-2")
        try FileManager.default.copyItem(atPath: data, toPath: copy)
        let first = try await ServerProcess(
            data: ServerDirectory(path: data), log: directory.path("first.log"), environment: database)
        let second = try await ServerProcess(
            data: ServerDirectory(path: copy), log: directory.path("second.log"), environment: database)
        defer {
            first.stop()
            second.stop()
        }

        func join(_ department: String, _ site: String, user: String, port: Int) async throws -> SiteCLI {
            let path = directory.path("\(department)-\(site).bundle")
            try await server(
                ["enroll", "--department", department, "--site", site, "--out", path, "--data", data],
                environment: database)
            var bundle = try EnrollmentBundle.decode(try Data(contentsOf: URL(fileURLWithPath: path)))
            bundle.port = port
            try SecureFile.write(try bundle.encoded(), to: path, mode: 0o600)
            let cli = SiteCLI(home: directory.path("site-\(department)-\(site)"), user: user)
            try await cli.ok("join", path)
            return cli
        }
        let hr = try await join("HR", "LIS", user: "ana", port: first.port)
        let it = try await join("IT", "OPO", user: "rui", port: second.port)

        let key = try await hr.ok("request", "new", "--to", "IT", "--title", "Laptop")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try await hr.sync()
        try await it.sync()
        try await it.ok("request", "ack", key, "--note", "ordering today")
        try await it.sync()
        // Each site moves to the other instance: HR once, by hand, IT for good.
        try await hr.ok("request", "edit", key, "--details", "16 GB")
        try await hr.ok("sync", "--server", "127.0.0.1:\(second.port)")
        try it.setServerPort(first.port)
        try await it.sync()
        try await hr.ok("sync", "--server", "127.0.0.1:\(second.port)")
        let badAddress = try await hr.run(["sync", "--server", "127.0.0.1"])
        #expect(badAddress.status == 64)
        #expect(badAddress.stderr.contains("is not HOST:PORT"), "\(badAddress.stderr)")
        let onHR = try await hr.json(RequestDetails.self, "request", "show", key)
        let onIT = try await it.json(RequestDetails.self, "request", "show", key)
        #expect(onHR == onIT)
        #expect(onHR.fields.first { $0.name == "state" }?.value == "acknowledged")
        #expect(onHR.fields.first { $0.name == "details" }?.value == "16 GB")

        // Both instances served, over TLS to the database (sslmode=prefer, the default), and
        // each lists every site.
        #expect(first.log.contains("push") && second.log.contains("push"))
        #expect(first.log.contains("tls=TLSv1.3") && second.log.contains("tls=TLSv1.3"), "\(first.log)")
        let replicas = try await server(["replicas", "--data", copy, "--json"], environment: database)
        #expect(replicas.contains("HR-LIS") && replicas.contains("IT-OPO"))
    }

    /// PostgreSQL stops while a real `interno-server` serves, and starts again: a site that
    /// syncs meanwhile is told why (exit 69, the server's message naming the database, within
    /// its request limit) and keeps its change; the instance keeps running, and the next sync
    /// after the restart goes through with nothing lost or repeated.
    @Test(.timeLimit(.minutes(5))) func aSiteSyncingWhilePostgreSQLRestartsIsToldWhyAndCarriesOnAfter() async throws {
        let own = try await OwnPostgres()
        let deployment = try await BinaryDeployment(database: own.url)
        let process = try await deployment.start()
        defer { process.stop() }
        let hr = try await deployment.join("HR", "LIS", user: "ana", server: process)
        let it = try await deployment.join("IT", "OPO", user: "rui", server: process)
        try await hr.ok("request", "new", "--to", "IT", "--title", "Laptop")
        try await hr.sync()

        try await own.pause()
        try await hr.ok("request", "new", "--to", "IT", "--title", "Badge")
        let during = try await hr.run(["sync"])
        #expect(during.status == 69, "\(during.stderr)")
        #expect(during.stderr.contains("central database postgres://interno@127.0.0.1"), "\(during.stderr)")
        #expect(during.stderr.contains("retry later"), "\(during.stderr)")
        #expect(try hr.site().status().pending == 1, "the site keeps its change")
        #expect(process.process.isRunning, "the instance keeps running: \(process.log)")

        try await own.resume()
        let after = try await hr.json(SyncReport.self, "sync")
        #expect(after.accepted == 1)
        try await it.sync()
        let keys = try await it.json([RequestSummary].self, "request", "list").map(\.key)
        #expect(keys.sorted() == ["HR-LIS-1", "HR-LIS-2"])
        #expect(try await hr.run(["status", "--json"]).stdout.contains("\"pending\" : 0"))
        try await own.stop()
    }

    /// `interno-server migrate`: a server that ran on SQLite moves to PostgreSQL; sites that
    /// synced before carry on after it, pulling only what is new, with nothing lost or repeated.
    @Test func aServerMovedFromSQLiteToPostgreSQLCarriesOnWithNothingLostOrRepeated() async throws {
        let deployment = try await BinaryDeployment()
        let data = deployment.data.url.path
        var process = try await deployment.start()
        let hr = try await deployment.join("HR", "LIS", user: "ana", server: process)
        let it = try await deployment.join("IT", "OPO", user: "rui", server: process)
        var keys: [String] = []
        for title in ["Laptop", "Badge", "Desk"] {
            keys.append(
                try await hr.ok("request", "new", "--to", "IT", "--title", title).trimmingCharacters(
                    in: .whitespacesAndNewlines))
        }
        try await hr.sync()
        try await it.sync()
        try await it.ok("request", "ack", keys[0], "--note", "ordered")
        try await it.sync()
        try await hr.sync()
        process.stop()

        let url = try await TestPostgres.newDatabase()
        let moved = try await server(["migrate", "--data", data, "--to", url])
        #expect(moved.contains("moved 7 changes, 6 records and 2 sites"), "\(moved)")
        let again = try await Executable("interno-server").run(["migrate", "--data", data, "--to", url])
        #expect(again.status == 65, "\(again.stderr)")
        #expect(again.stderr.contains("in PostgreSQL already"), "\(again.stderr)")

        process = try await ServerProcess(
            data: deployment.data, log: deployment.directory.path("after.log"), environment: ["INTERNO_DATABASE": url])
        defer { process.stop() }
        for site in [hr, it] { try site.setServerPort(process.port) }
        keys.append(
            try await hr.ok("request", "new", "--to", "IT", "--title", "Chair").trimmingCharacters(
                in: .whitespacesAndNewlines))
        let pushed = try await hr.json(SyncReport.self, "sync")
        #expect(pushed.accepted == 1 && !pushed.serverRestored)
        let pulled = try await it.json(SyncReport.self, "sync")
        #expect(pulled.pulled == 1, "only what is new: \(pulled)")
        #expect(!pulled.serverRestored)
        for site in [hr, it] {
            let list = try await site.json([RequestSummary].self, "request", "list")
            #expect(list.map(\.key).sorted() == keys.sorted())
            let verified = try await site.ok("verify")
            #expect(verified.contains("in step with the server"), "\(verified)")
        }
    }
}
