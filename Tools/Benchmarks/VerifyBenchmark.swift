import Foundation
import GRDB
import InternoClient
import InternoModel
import InternoServer
@_spi(Database) import InternoStore
import Logging

/// DESIGN §3.10: `interno verify` costs at most a few hundred milliseconds for 100k records. An
/// IT site holding `records` requests from HR digests what it holds, the server works out the
/// digests of what it should hold (for a department and for a whole-organisation scope), and
/// the whole command's round trip is timed; then `tampered` of its records are changed behind
/// its back and `--repair` is timed.
enum VerifyBenchmark {
    static func run(root: URL, records: Int, tampered: Int, repeats: Int) async throws {
        print(
            "verify: an IT site holding \(records) requests from HR (median of \(repeats), wall and process CPU time)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let data = ServerDirectory(path: root.appendingPathComponent("server").path)
        _ = try await data.initialize(name: "localhost", port: 7443)
        let administration = try ServerAdministration(directory: data)
        let hrID = try await administration.addDepartment(code: "HR", name: "HR")
        let itID = try await administration.addDepartment(code: "IT", name: "IT")
        let (port, serverTask) = try await Benchmark.startServer(data)
        defer { serverTask.cancel() }
        func join(_ department: String, _ site: String) async throws -> SiteHome {
            try await Benchmark.join(department, site, administration: administration, port: port, root: root)
        }
        let hrHome = try await join("HR", "LIS")
        let itHome = try await join("IT", "OPO")
        // The sites learn the directory first: a request names departments they know.
        _ = try await SyncEngine(home: hrHome).sync()
        _ = try await SyncEngine(home: itHome).sync()
        let hr = try Site(home: hrHome, user: "bench")
        let setupStart = Date()
        try Benchmark.writeRequests(records, at: hr, from: hrID, to: itID)
        _ = try await SyncEngine(home: hrHome).sync()
        _ = try await SyncEngine(home: itHome).sync()
        print(String(format: "  (setup: written, pushed and pulled in %.1f s)", Date().timeIntervalSince(setupStart)))

        let it = try Site(home: itHome, user: "bench")
        let serverStore = try data.store()
        let itEntry = try require(try serverStore.registry().first { $0.code == "IT-OPO" })
        // A whole-organisation site's comparison reads the log without the audience index.
        let all = try await administration.enroll(department: "HR", site: "ALL", scope: .all)
        let allEntry = try require(try serverStore.registry().first { $0.replicaID == all.replicaID })

        // Wall time, and the process's CPU time: on a machine shared with other work, the CPU
        // time says what verifying costs, the wall time what it took then.
        func cpu() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
        func measure(_ body: () async throws -> Void) async throws -> (wall: Double, cpu: Double) {
            let (start, startCPU) = (Date(), cpu())
            try await body()
            return (Date().timeIntervalSince(start), cpu() - startCPU)
        }
        func median(_ body: () async throws -> Void) async throws -> (wall: Double, cpu: Double) {
            var times: [(wall: Double, cpu: Double)] = []
            for _ in 0..<repeats { times.append(try await measure(body)) }
            return (times.map(\.wall).sorted()[repeats / 2], times.map(\.cpu).sorted()[repeats / 2])
        }
        func line(_ label: String, _ time: (wall: Double, cpu: Double)) {
            Figures.shared.record("verify.\(label).wall_ms", time.wall * 1000)
            Figures.shared.record("verify.\(label).cpu_ms", time.cpu * 1000)
            print(
                "  " + label.padding(toLength: 44, withPad: " ", startingAt: 0)
                    + String(format: "%8.1f ms wall %8.1f ms CPU", time.wall * 1000, time.cpu * 1000))
        }
        var digests = try it.store.digests()
        line("site: digest \(digests.records.count) records", try await median { digests = try it.store.digests() })
        let position = digests.position
        for (label, entry) in [("department", itEntry), ("all", allEntry)] {
            let seconds = try await median {
                let expected = try await serverStore.expectedDigests(
                    after: nil, limit: 200_000, cursor: position.cursor, cursorEpoch: position.cursorEpoch,
                    unacknowledged: position.unacknowledged, from: entry)
                precondition(expected?.records.count == records + 2, "\(expected?.records.count ?? -1)")
            }
            line("server: expected digests (scope \(label))", seconds)
        }
        line(
            "interno verify, round trip over TLS",
            try await median {
                let report = try await SyncEngine(home: itHome).verify(repair: false)
                precondition(report.inStep && report.held == records + 2, "\(report)")
            })

        // Behind the site's back: titles changed in the query table of `tampered` requests.
        let victims = try it.store.requests().prefix(tampered).map(\.id)
        try await it.store.writer.write { db in
            for id in victims {
                try db.execute(
                    sql: "UPDATE request SET title = 'tampered' WHERE id = ?", arguments: [id])
            }
        }
        // Once: a repair leaves nothing to repair the next time.
        var repaired = VerifyReport()
        line(
            "interno verify --repair, \(victims.count) tampered (once)",
            try await measure { repaired = try await SyncEngine(home: itHome).verify(repair: true) })
        precondition(repaired.repaired == victims.count, "the repair: \(repaired)")
        let again = try await SyncEngine(home: itHome).verify(repair: false)
        precondition(again.inStep && again.differences.isEmpty, "after the repair: \(again)")
        precondition(repaired.inStep, "the repair: \(repaired)")
        serverTask.cancel()
        _ = await serverTask.result
    }
}

/// The value, or a failure that says it was missing.
func require<T>(_ value: T?, _ what: String = "a registry entry") throws -> T {
    guard let value else { throw CocoaError(.coderValueNotFound, userInfo: [NSDebugDescriptionErrorKey: what]) }
    return value
}
