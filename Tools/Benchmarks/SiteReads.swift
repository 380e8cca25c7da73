import Foundation
import GRDB
import InternoClient
import InternoModel
import InternoServer
@_spi(Database) import InternoStore

/// DESIGN §9, a site's reads and a single write: an IT site holding `requests` requests from
/// HR raised over the last 60 days, most of them acknowledged and started and some delivered,
/// times `request list`, `request list --overdue`, `request show` and `report sla` the way
/// the CLI computes them (in process, median of `repeats`), and one `interno request new`
/// at HR and one step (`request ack`) at IT through the real binary, process start included
/// (median of `writes`), beside `interno --version` timed the same way: the start of the
/// process alone (loading and relocating the executable, the Swift runtime, the argument
/// parser), which is part of every command's time and none of the store's.
enum SiteReads {
    static func run(root: URL, requests: Int, repeats: Int, writes: Int) async throws {
        print("site reads: an IT site with \(requests) requests from HR (median of \(repeats))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let data = ServerDirectory(path: root.appendingPathComponent("server").path)
        _ = try await data.initialize(name: "localhost", port: 7443)
        let administration = try ServerAdministration(directory: data)
        let hrID = try await administration.addDepartment(code: "HR", name: "HR", timeZone: "Europe/Lisbon")
        let itID = try await administration.addDepartment(code: "IT", name: "IT", timeZone: "Europe/Lisbon")
        let (port, serverTask) = try await Benchmark.startServer(data)
        defer { serverTask.cancel() }
        func join(_ department: String, _ site: String) async throws -> SiteHome {
            try await Benchmark.join(department, site, administration: administration, port: port, root: root)
        }
        let hrHome = try await join("HR", "LIS")
        let itHome = try await join("IT", "OPO")
        _ = try await SyncEngine(home: hrHome).sync()
        _ = try await SyncEngine(home: itHome).sync()
        let hr = try Site(home: hrHome, user: "ana")
        let it = try Site(home: itHome, user: "rui")

        // Setup: requests raised every few minutes over 60 days; IT acknowledges and starts
        // 60% of them an hour later, and delivers half of those the next day.
        let setupStart = Date()
        let now = Timestamp.now().millisecondsSince1970
        let span: Int64 = 60 * 86_400_000
        func raised(_ index: Int) -> Int64 { now - span + span * Int64(index / 100 * 100) / Int64(max(1, requests)) }
        let keys = try Benchmark.writeRequests(
            requests, at: hr, from: hrID, to: itID, keyed: true,
            time: { Timestamp(millisecondsSince1970: raised($0)) }
        ).enumerated().map { (key: $1.key!, at: raised($0)) }
        // The keys were given here, not taken by `request new`: move the site's next number past them.
        try await hr.store.writer.write { db in
            try db.execute(sql: "UPDATE replica SET nextRequestNumber = ?", arguments: [requests + 1])
        }
        _ = try await SyncEngine(home: hrHome).sync()
        _ = try await SyncEngine(home: itHome).sync()
        let hour: Int64 = 3_600_000
        // Steps are never dated in the future, whatever the size of the site.
        for (index, request) in keys.enumerated() where index % 5 < 3 && request.at + 2 * hour < now {
            try it.transition(request.key, "ack", at: Timestamp(millisecondsSince1970: request.at + hour))
            try it.transition(request.key, "start", at: Timestamp(millisecondsSince1970: request.at + 2 * hour))
            if index % 2 == 0, request.at + 26 * hour < now {
                try it.transition(request.key, "deliver", at: Timestamp(millisecondsSince1970: request.at + 26 * hour))
            }
        }
        _ = try await SyncEngine(home: itHome).sync()
        _ = try await SyncEngine(home: hrHome).sync()
        print(String(format: "  (setup: %.1f s)", Date().timeIntervalSince(setupStart)))

        func median(_ label: String, key: String, _ body: () throws -> Void) rethrows {
            var times: [Double] = []
            for _ in 0..<repeats {
                let start = Date()
                try body()
                times.append(Date().timeIntervalSince(start))
            }
            let value = times.sorted()[repeats / 2] * 1000
            Figures.shared.record("site_reads.\(key).median_ms", value)
            print("  " + label.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%9.1f ms", value))
        }
        let reading = try Site(home: itHome, user: "rui")
        try median("request list", key: "request_list") {
            let count = try reading.requests().count
            precondition(count == requests)
        }
        try median("request list --overdue", key: "request_list_overdue") {
            _ = try reading.requests(overdueOnly: true)
        }
        try median("request show", key: "request_show") {
            _ = try reading.requestDetails(keys[requests / 2].key)
        }
        try median("report sla (60 days)", key: "report_sla") {
            let scope = ReportScope(
                from: Timestamp(millisecondsSince1970: now - span - 86_400_000),
                to: Timestamp(millisecondsSince1970: now + 1))
            let rows = SLARow.rows(try reading.reportFacts(scope))
            precondition(!rows.isEmpty)
        }
        Figures.shared.record("site_reads.peak_rss_megabytes", Benchmark.peakResidentMegabytes())

        // One CLI write, process start included, with the real binary beside this one.
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("interno")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            print(
                "  (`interno --version`, `request new` and `request ack`: skipped; build the CLI with `swift build -c release --product interno`)"
            )
            return
        }
        func cli(_ label: String, key: String, home: SiteHome?, user: String, _ arguments: (Int) -> [String]) throws {
            var times: [Double] = []
            for index in 0..<writes {
                let process = Process()
                process.executableURL = binary
                process.arguments = arguments(index) + (home.map { ["--home", $0.url.path] } ?? [])
                process.environment = ["INTERNO_USER": user, "PATH": "/usr/bin:/bin"]
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                let start = Date()
                try process.run()
                process.waitUntilExit()
                times.append(Date().timeIntervalSince(start))
                precondition(
                    process.terminationStatus == 0, "interno \(arguments(index).joined(separator: " ")) failed")
            }
            let value = times.sorted()[writes / 2] * 1000
            Figures.shared.record("\(key).median_ms", value)
            print(
                "  " + label.padding(toLength: 34, withPad: " ", startingAt: 0)
                    + String(format: "%9.1f ms (median of %d, process start included)", value, writes))
        }
        try cli("one `interno --version`", key: "cli_version", home: nil, user: "ana") { _ in ["--version"] }
        try cli("one `interno request new`", key: "cli_request_new", home: hrHome, user: "ana") { index in
            ["request", "new", "--to", "IT", "--title", "CLI write \(index)"]
        }
        // A step on a request still submitted: the requests IT has not acknowledged.
        let submitted = keys.enumerated().filter { $0.offset % 5 >= 3 }.map(\.element.key)
        guard submitted.count >= writes else {
            print("  (one `interno request ack`: skipped; the site has fewer than \(writes) submitted requests)")
            return
        }
        try cli("one `interno request ack`", key: "cli_request_ack", home: itHome, user: "rui") { index in
            ["request", "ack", submitted[index]]
        }
    }
}
