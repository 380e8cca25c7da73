import Foundation
import InternoClient
import InternoModel
import InternoPostgres
import InternoServer
import InternoStore
import InternoTestSupport
import Testing

/// A site joined while its server cannot be reached works at once, from the directory its
/// bundle carried, and its first sync merges as usual (issue 14; DESIGN §6.2).
@Suite("Joining offline", .serialized)
struct OfflineJoinTests {
    /// A loopback port nothing listens on now; the server is started on it later.
    ///
    /// Below the kernel's ephemeral range (`ip_local_port_range`): every other server and
    /// connection of the test run binds port 0 and gets its port from that range, so none of
    /// them can take this one in the minute before this test's server starts. (One from the
    /// range did: a sync that was to find no server met another test's, with another CA.)
    /// Never the same port twice in one run.
    static func freePort() throws -> Int {
        let range = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))?
            .split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        let ephemeralStart = range?.first ?? 32_768
        return try portLock.withLock {
            for port in (10_000..<max(10_001, ephemeralStart)).shuffled() where !givenPorts.contains(port) {
                guard canBind(port) else { continue }
                givenPorts.insert(port)
                return port
            }
            throw POSIXError(.EADDRINUSE)
        }
    }

    private static let portLock = NSLock()
    nonisolated(unsafe) private static var givenPorts: Set<Int> = []

    /// `true` if a socket can bind 127.0.0.1:`port` now.
    private static func canBind(_ port: Int) -> Bool {
        let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in bind(socket, generic, length) == 0 }
        }
    }

    @Test(arguments: Central.all)
    func aSiteJoinedBeforeTheServerStartsRaisesRequestsAndProposesStandardsThenMerges(central: Central)
        async throws
    {
        let directory = try TemporaryDirectory()
        let data = directory.path("srv")
        let port = try Self.freePort()
        let admin = try Executable("interno-server")
        let database = central == .postgres ? try await TestPostgres.newDatabase() : nil
        let environment = database.map { ["INTERNO_DATABASE": $0] } ?? [:]
        for arguments in [
            ["init", "--data", data, "--name", "localhost", "--port", "\(port)"],
            ["department", "add", "HR", "--name", "Human Resources", "--data", data],
            [
                "department", "add", "IT", "--name", "Information Technology", "--hours", "mon-fri 08:00-18:00",
                "--data", data,
            ],
            [
                "enroll", "--department", "HR", "--site", "LIS", "--out", directory.path("HR-LIS.bundle"), "--data",
                data,
            ],
            [
                "enroll", "--department", "IT", "--site", "OPO", "--out", directory.path("IT-OPO.bundle"), "--data",
                data,
            ],
        ] {
            let result = try await admin.run(arguments, environment: environment)
            #expect(result.status == 0, "interno-server \(arguments.joined(separator: " ")): \(result.stderr)")
        }

        // The server is not running: joining still works, and says the directory came along.
        let hr = SiteCLI(home: directory.path("hr"), user: "ana")
        let joined = try await hr.run(["join", directory.path("HR-LIS.bundle")])
        #expect(joined.status == 0, "\(joined.stderr)")
        #expect(joined.stderr.contains("not synced yet"), "\(joined.stderr)")
        #expect(joined.stderr.contains("carried the departments HR, IT"), "\(joined.stderr)")
        let it = SiteCLI(home: directory.path("it"), user: "rui")
        #expect(try await it.run(["join", directory.path("IT-OPO.bundle")]).status == 0)
        #expect(try hr.site().store.replica().cursor == 0, "the directory does not move the cursor")

        // Work starts at once, from what the bundle carried.
        let departments = try await hr.json([DepartmentView].self, "departments")
        #expect(departments.map(\.code) == ["HR", "IT"])
        #expect(departments.first { $0.code == "IT" }?.businessDay == "10h")
        let key = try await hr.ok("request", "new", "--to", "IT", "--title", "Laptop for Marta", "--priority", "high")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key == "HR-LIS-1")
        let standard = try await hr.json(
            StandardView.self, "standard", "propose", "--provider", "IT", "--service", "Laptops", "--ack", "4h",
            "--deliver", "2d", "--csat", "80", "--compliance", "90")
        #expect(standard.provider == "IT")
        let offline = try await hr.run(["sync", "--timeout", "5"])
        #expect(offline.status == 69, "\(offline.stderr)")

        // The server starts; the first syncs push the work, and pull the directory again as had.
        let server = try await ServerProcess(
            data: ServerDirectory(path: data), log: directory.path("server.log"), listen: "127.0.0.1:\(port)",
            environment: environment)
        defer { server.stop() }
        // Nothing to compare with before a first sync: the directory came by bundle, not by pull.
        let early = try await hr.run(["verify"])
        #expect(early.status == 74 && early.stderr.contains("run `interno sync`"), "\(early.stderr)")
        let first = try await hr.json(SyncReport.self, "sync")
        #expect(first.accepted == 2)
        #expect(first.alreadyHad >= 2, "the departments came back and were already here")
        #expect(first.pulled == 0, "nothing new to HR: its own work and the directory it had")
        try await it.sync()
        let seen = try await it.json(RequestDetails.self, "request", "show", key)
        #expect(seen.fields.first { $0.name == "title" }?.value == "Laptop for Marta")
        try await it.ok("standard", "sign", standard.ref)
        try await it.sync()
        try await hr.sync()
        #expect(try await hr.json(StandardView.self, "standard", "show", standard.ref).status == "agreed")

        // Converged: both sites hold exactly the server's records, departments included.
        let kinds = [RecordKind.department, .standard, .request]
        let central = try await ServerDirectory(path: data).withStore(
            database: try database.map { try PostgresLocation(url: $0) }
        ) { store in
            var records: [RecordKind: [RecordState]] = [:]
            for kind in kinds { records[kind] = try await store.records(of: kind) }
            return records
        }
        for site in [hr, it] {
            let local = try site.site().store
            #expect(try local.pendingChangeSets().isEmpty)
            for kind in kinds {
                #expect(try local.records(of: kind) == central[kind], "\(site.home) \(kind)")
            }
        }
        let verified = try await hr.run(["verify"])
        #expect(verified.status == 0 && verified.stdout.contains("in step"), "\(verified.stdout)\(verified.stderr)")
    }
}
