import Foundation
import GRDB
import InternoClient
import InternoModel
import InternoServer
@_spi(Database) import InternoStore
import Logging

/// DESIGN §6.1: a scoped pull costs what it delivers. A fresh IT site pulls the 500 requests
/// HR raised to IT, from a server whose log holds only those, and from one whose log also
/// holds `outOfScope` changes between HR and Payroll, logged before them.
enum ScopedPull {
    /// Seconds for a fresh IT site to pull, median of `repeats`, for each server.
    static func run(root: URL, inScope: Int, outOfScope: Int, repeats: Int) async throws {
        print("scoped pull: \(inScope) requests HR→IT; a fresh IT site pulls them (median of \(repeats))")
        var results: [(String, Double)] = []
        for (label, noise) in [("log of only those", 0), ("log + \(outOfScope) HR→PAY", outOfScope)] {
            let seconds = try await measure(
                root: root.appendingPathComponent("scoped-\(noise)"), inScope: inScope, outOfScope: noise,
                repeats: repeats)
            results.append((label, seconds))
            Figures.shared.record(
                noise == 0 ? "scoped_pull.only_in_scope_ms" : "scoped_pull.with_out_of_scope_ms", seconds * 1000)
            print(
                "  " + label.padding(toLength: 34, withPad: " ", startingAt: 0)
                    + String(format: "%8.1f ms", seconds * 1000))
        }
        Figures.shared.record("scoped_pull.ratio", results[1].1 / results[0].1)
        print(String(format: "  ratio: %.2f×", results[1].1 / results[0].1))
    }

    static func measure(root: URL, inScope: Int, outOfScope: Int, repeats: Int) async throws -> Double {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let data = ServerDirectory(path: root.appendingPathComponent("server").path)
        _ = try await data.initialize(name: "localhost", port: 7443)
        let administration = try ServerAdministration(directory: data)
        let hrID = try await administration.addDepartment(code: "HR", name: "HR")
        let itID = try await administration.addDepartment(code: "IT", name: "IT")
        let payID = try await administration.addDepartment(code: "PAY", name: "Payroll")
        if outOfScope > 0 {
            try insertOutOfScope(outOfScope, into: try data.store(), between: hrID, and: payID)
        }
        let (port, serverTask) = try await Benchmark.startServer(data)
        defer { serverTask.cancel() }
        var joined = 0
        func join(_ department: String) async throws -> SiteHome {
            joined += 1
            var bundle = try await administration.enroll(department: department, site: "S\(joined)")
            bundle.port = port
            let home = SiteHome(path: root.appendingPathComponent("\(department)-\(joined)").path)
            _ = try home.join(bundle)
            return home
        }
        let hrHome = try await join("HR")
        _ = try await SyncEngine(home: hrHome).sync()
        let hr = try Site(home: hrHome, user: "bench")
        try Benchmark.writeRequests(inScope, at: hr, from: hrID, to: itID)
        _ = try await SyncEngine(home: hrHome).sync()
        var times: [Double] = []
        for _ in 0..<repeats {
            let itHome = try await join("IT")
            let start = Date()
            let report = try await SyncEngine(home: itHome).sync()
            times.append(Date().timeIntervalSince(start))
            // The three departments came with the enrolment bundle (DESIGN §6.2): pulled again, already held.
            precondition(report.pulled == inScope, "the IT site pulled \(report.pulled)")
        }
        serverTask.cancel()
        _ = await serverTask.result
        return times.sorted()[times.count / 2]
    }

    /// Logs `count` changes between HR and Payroll straight into the server's tables, as if
    /// HR-POR had pushed them: what IT's pull must not pay for.
    static func insertOutOfScope(_ count: Int, into store: ServerStore, between hr: UUID, and pay: UUID) throws {
        let replica = UUID().uuidString.lowercased()
        var context = BinaryWriter()
        context.write(clock: VersionVector())
        let departments = [hr, pay].map { $0.uuidString.lowercased() }
        try store.writer.write { db in
            let change = try db.makeStatement(
                sql: """
                    INSERT INTO change (replica, counter, setStart, setEnd, kind, record, context, fields, author, at)
                    VALUES (?, ?, ?, ?, 'request', ?, ?, ?, 'bench@HR-POR', ?)
                    """)
            let audience = try db.makeStatement(sql: "INSERT INTO audience (department, seq) VALUES (?, ?)")
            for index in 1...count {
                var fields = BinaryWriter()
                fields.write(fields: ["title": .text("Payslip question \(index)")])
                try change.execute(arguments: [
                    replica, index, index, index, UUID().uuidString.lowercased(), Data(context.bytes),
                    Data(fields.bytes), 1_795_426_200_000 + index,
                ])
                let seq = db.lastInsertedRowID
                for department in departments { try audience.execute(arguments: [department, seq]) }
            }
        }
    }
}
