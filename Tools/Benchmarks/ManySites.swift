import Foundation
import GRDB
import InternoClient
import InternoModel
import InternoPostgres
import InternoServer
@_spi(Database) import InternoStore
import InternoWire
import Logging

/// Issue 10, point 5: many sites at once. `sites` sites of `departments` departments sync
/// against one real `interno-server` process for `seconds` seconds, each about once a second
/// at random moments (a pause of 0 to 2 s between syncs): each sync writes one to three small
/// changes locally (a new request to another department, or an edit of one of its own), then
/// syncs over a new TLS connection that pushes them and pulls everyone's in its department.
/// The writes, like the sync's own store calls, run on the store's blocking workers, not on
/// the cooperative pool that resumes the 200 sites' syncs.
///
/// It prints the syncs done, p50, p99 and max per sync as the site sees it (and the p99 of each
/// 5 s of the run), the failures (must be 0), the server's own time for letting a site in and
/// for a Push, read from the lines its log wrote during the run, and the server's peak
/// resident memory, read from `/proc/PID/status` of the server process, apart from the
/// sites'. Beside them, a raw SQLite single-row insert and commit with synchronous=FULL on the
/// same disk, timed the same way: one fsync, the floor of a commit.
///
/// The server runs as `interno-server run`, the release binary beside this one, and the case
/// prints the `synchronous` level its database's writer commits with (2, FULL: one fsync per
/// commit, DESIGN §3.8).
///
/// With `--database URL` (issue 11, point 5) the server keeps its merged state in that empty
/// PostgreSQL database and runs as `instances` processes (2 by default), each with its own copy
/// of the data directory, as a deployment behind a load balancer does (DESIGN §4.1). Site `i`
/// syncs through instance `i % instances`, so every instance serves at once and the appends
/// of both queue on the stream's one lock. The figures are printed per instance and for all;
/// their keys start `many_sites.postgres.`. The PostgreSQL server's own durability settings
/// (its `fsync`, `synchronous_commit`) are printed beside them: a throwaway test server runs
/// without fsync, which makes its commits cheaper than a real deployment's.
///
/// The server's data directory is on the disk (the temporary directory); the sites' replicas
/// are on tmpfs (`/dev/shm`) when there is one, so the 200 sites' own commits, which would each
/// be on their own machine, do not queue on the server's disk. Every process shares the
/// machine's cores, though: the sites' TLS handshakes and pulls run beside the server.
enum ManySites {
    /// One write a simulated person makes before a sync.
    enum Write: Sendable {
        /// An edit of the title of the site's own request with this key.
        case edit(String)
        /// A new request to the department with this code.
        case raise(String)
    }

    /// A simulated person's write that failed, as its error described it.
    struct WriteFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// What one site did during the measured period.
    struct SiteRun: Sendable {
        /// Seconds per successful sync.
        var times: [Double] = []
        /// When each of them started, in seconds from the start of the measured period.
        var starts: [Double] = []
        /// What went wrong, one entry per failed write or sync.
        var failures: [String] = []
        /// Change sets written locally.
        var written = 0
        /// Change sets the server accepted, or already had, over all syncs.
        var acknowledged = 0
        /// Refusals the server gave, as `firstCounter: reason`.
        var refused: [String] = []
        /// Change sets deferred by the server.
        var deferred = 0
        /// Changes pulled.
        var pulled = 0
        /// Requests raised, by the code of the department they went to.
        var raised: [String: Int] = [:]
    }

    /// One joined site, opened for writing and for syncing.
    struct Member: Sendable {
        /// Its department's code.
        var department: String
        /// The site, to write with.
        var site: Site
        /// Its engine: each `sync()` is a new TLS connection.
        var engine: SyncEngine
    }

    /// Runs the case in `root` and prints its figures.
    static func run(
        root: URL, sites: Int, seconds: Int, departments: Int, database: String? = nil, instances: Int = 2
    ) async throws {
        let postgres = try database.map { try PostgresLocation(url: $0) }
        let this = URL(fileURLWithPath: CommandLine.arguments[0])
        let binary = this.deletingLastPathComponent().appendingPathComponent("interno-server")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            say(
                "many sites: the server runs as its own process, \(binary.path), which is missing; build it with `swift build -c release --product interno-server`"
            )
            exit(69)
        }
        let departments = max(2, departments)
        let sites = max(departments, sites)
        let instances = postgres == nil ? 1 : max(1, instances)
        let prefix = postgres == nil ? "many_sites." : "many_sites.postgres."
        say(
            "many sites: \(sites) sites of \(departments) departments, each syncing about once a second for \(seconds) s"
                + (postgres.map { ", through \(instances) interno-server instances on PostgreSQL (\($0))" } ?? "")
        )
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)

        // 1. Raw SQLite on the server's disk: a single-row insert and commit, synchronous=FULL
        // (one fsync of the WAL per commit), and NORMAL (none) for comparison.
        var raw: [Int: (p50: Double, p99: Double)] = [:]
        for (level, name) in [(2, "full"), (1, "normal")] {
            let times = try rawCommits(
                1000, synchronous: level, path: root.appendingPathComponent("raw-\(name).sqlite").path)
            let figures = (Benchmark.percentile(times, 0.5) * 1000, Benchmark.percentile(times, 0.99) * 1000)
            raw[level] = figures
            Figures.shared.record("\(prefix)raw_commit_\(name).p50_ms", figures.0)
            Figures.shared.record("\(prefix)raw_commit_\(name).p99_ms", figures.1)
            say(
                String(
                    format: "  raw SQLite insert + commit, one row, synchronous=%@: p50 %.2f ms, p99 %.2f ms (%d)",
                    name.uppercased() as NSString, figures.0, figures.1, times.count))
        }
        let (rawP50, rawP99) = raw[2] ?? (0, 0)

        // 2. The server's directory, its departments and every site enrolled, before it runs.
        let setupStart = ContinuousClock.now
        let data = ServerDirectory(path: root.appendingPathComponent("server").path)
        if let postgres {
            try await PostgresServerStore.with(postgres) { store in
                _ = try await data.initialize(name: "localhost", port: 7443, postgres: store)
                say("  PostgreSQL: \(try await store.durabilitySettings())")
            }
        } else {
            _ = try await data.initialize(name: "localhost", port: 7443)
        }
        let codes = (0..<departments).map { "D\($0)" }
        let bundles: [(department: String, bundle: EnrollmentBundle)] = try await data.withStore(database: postgres) {
            store in
            let administration = ServerAdministration(directory: data, store: store)
            for code in codes { try await administration.addDepartment(code: code, name: "Department \(code)") }
            var bundles: [(department: String, bundle: EnrollmentBundle)] = []
            for index in 0..<sites {
                let department = codes[index % departments]
                bundles.append((department, try await administration.enroll(department: department, site: "S\(index)")))
            }
            return bundles
        }
        if postgres == nil {
            // What `ServerStore.open` leaves the writer connection with, which `interno-server` commits on.
            let opened = try await data.store().writer.writeWithoutTransaction { db in
                try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
            }
            Figures.shared.record("many_sites.server_synchronous", Double(opened))
            say("  server database: its writer commits with synchronous=\(opened) (0 OFF, 1 NORMAL, 2 FULL)")
        }

        // 3. The server, a process of its own per instance, each on a port it picks (its first
        // log line says which); on PostgreSQL each instance has its own copy of the data
        // directory, as on its own host.
        var servers: [ServerProcess] = []
        defer { for server in servers { server.stop() } }
        for instance in 0..<instances {
            var directory = data.url
            if instance > 0 {
                directory = root.appendingPathComponent("server-\(instance + 1)")
                try FileManager.default.copyItem(at: data.url, to: directory)
            }
            let server = try ServerProcess(
                binary: binary,
                arguments: ["run", "--data", directory.path, "--listen", "127.0.0.1:0"],
                log: root.appendingPathComponent("server-\(instance + 1).log"),
                environment: database.map { ["INTERNO_DATABASE": $0] } ?? [:])
            servers.append(server)
            say("  server \(instance + 1): pid \(server.pid), 127.0.0.1:\(server.port), log \(server.log.path)")
        }

        // 4. The sites join (on tmpfs if there is one) and sync once, untimed.
        let shm = URL(fileURLWithPath: "/dev/shm", isDirectory: true)
        let onTmpfs = FileManager.default.isWritableFile(atPath: shm.path)
        var sitesRoot = root.appendingPathComponent("sites")
        if onTmpfs { sitesRoot = shm.appendingPathComponent("interno-bench-sites-\(UUID().uuidString)") }
        defer { if onTmpfs { try? FileManager.default.removeItem(at: sitesRoot) } }
        var members: [Member] = []
        for (index, (department, bundle)) in bundles.enumerated() {
            var bundle = bundle
            bundle.port = servers[index % instances].port
            let home = SiteHome(path: sitesRoot.appendingPathComponent("\(department)-S\(index)").path)
            _ = try home.join(bundle)
            members.append(
                Member(
                    department: department, site: try Site(home: home, user: "bench"),
                    engine: try SyncEngine(home: home)))
        }
        try await inBatches(of: 10, members) { member in _ = try await member.engine.sync() }
        say(
            String(format: "  (setup: %.1f s; ", inSeconds(ContinuousClock.now - setupStart))
                + "sites' replicas in \(sitesRoot.path))")

        // 5. The measured minute.
        let before = servers.map { $0.cpuSeconds() ?? 0 }
        let logsBefore = servers.map(\.logSize)
        let ownBefore = ownCPUSeconds()
        let machineBefore = MachineCPU.now()
        let start = ContinuousClock.now
        let deadline = start + .seconds(seconds)
        // In the members' order, whatever order they finish in.
        let runs = await withTaskGroup(of: (Int, SiteRun).self) { group in
            for (index, member) in members.enumerated() {
                let others = codes.filter { $0 != member.department }
                group.addTask { (index, await drive(member, others: others, from: start, until: deadline)) }
            }
            var runs = [SiteRun](repeating: SiteRun(), count: members.count)
            for await (index, run) in group { runs[index] = run }
            return runs
        }
        let elapsed = inSeconds(ContinuousClock.now - start)
        let logsAfter = servers.map(\.logSize)
        let serverCPU = zip(servers, before).map { ($0.cpuSeconds() ?? 0) - $1 }.reduce(0, +)
        let sitesCPU = ownCPUSeconds() - ownBefore
        // How busy the whole machine was: the tail follows it, and whatever else ran on a
        // shared machine (anything but the server and the sites) shows as "other".
        let machine: MachineCPU? =
            if let after = MachineCPU.now(), let machineBefore { after.since(machineBefore) } else { nil }
        let otherCPU = machine.map { max(0, $0.busySeconds - serverCPU - sitesCPU) }
        // The largest instance's, and none when any instance's cannot be read.
        let peaks = servers.map { $0.peakResidentMegabytes() }
        let peak: Double? = peaks.contains(nil) ? nil : peaks.compactMap { $0 }.max()

        // 6. Everything still queued is pushed, and every site pulls all, untimed; then each site
        // of a department must hold the same requests: those its department raised or received.
        var drained = 0
        for _ in 0..<2 {
            try await inBatches(of: 10, members) { member in _ = try await member.engine.sync() }
        }
        for member in members { drained += try member.site.store.pendingChangeSets().count }
        var expected: [String: Int] = [:]
        for (member, run) in zip(members, runs) {
            for (provider, count) in run.raised {
                expected[provider, default: 0] += count
                expected[member.department, default: 0] += count
            }
        }
        var diverged: [String] = []
        for member in members {
            let held = try await member.site.store.writer.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record WHERE kind = 'request' AND present") ?? 0
            }
            if held != expected[member.department] ?? 0 {
                diverged.append(
                    "\(member.site.settings.code) holds \(held), expected \(expected[member.department] ?? 0)")
            }
        }
        for server in servers { server.stop() }
        let logErrors = servers.flatMap { server in
            ((try? String(contentsOf: server.log, encoding: .utf8)) ?? "").split(separator: "\n")
                .filter { $0.contains(" error ") || $0.contains(" critical ") }
        }
        // The server's own share of a sync, from the lines its log wrote during the measured
        // period: how long the store took to let a site in, and to judge a Push and commit it
        // durably with its group (DESIGN §4). Beside the sites' p99 it says how much of a
        // sync's time is the server's writes, not the handshake, the pull, or the wait for a
        // core that the simulated sites share with it.
        var connects: [Double] = []
        var pushes: [Double] = []
        for (server, (from, to)) in zip(servers, zip(logsBefore, logsAfter)) {
            for line in server.logLines(from: from, to: to) {
                if line.hasSuffix(" push"), let ms = Self.milliseconds(in: line) { pushes.append(ms) }
                if line.hasSuffix(" site connected"), let ms = Self.milliseconds(in: line) { connects.append(ms) }
            }
        }
        // Per instance, the syncs its sites made, when there are several.
        var perInstance: [(count: Int, p50: Double, p99: Double)] = []
        if instances > 1 {
            for instance in 0..<instances {
                let times = runs.enumerated().filter { $0.offset % instances == instance }.flatMap(\.element.times)
                perInstance.append(
                    (times.count, Benchmark.percentile(times, 0.5) * 1000, Benchmark.percentile(times, 0.99) * 1000))
            }
        }

        let times = runs.flatMap(\.times)
        let failures = runs.flatMap(\.failures)
        let refused = runs.flatMap(\.refused)
        let written = runs.map(\.written).reduce(0, +)
        let acknowledged = runs.map(\.acknowledged).reduce(0, +)
        let pulled = Double(runs.map(\.pulled).reduce(0, +)) / Double(max(1, times.count))
        let p50 = Benchmark.percentile(times, 0.5) * 1000
        let p99 = Benchmark.percentile(times, 0.99) * 1000
        let maximum = (times.max() ?? 0) * 1000
        // CPU per sync, in ms: steadier than latency on a shared machine, and what says whether
        // two cores can carry the load at all (200 syncs a second leave 10 ms of CPU each).
        let serverPerSync = serverCPU * 1000 / Double(max(1, times.count))
        let sitesPerSync = sitesCPU * 1000 / Double(max(1, times.count))
        var figures: [(String, Double)] = [
            ("syncs", Double(times.count)), ("syncs_per_second", Double(times.count) / elapsed), ("p50_ms", p50),
            ("p99_ms", p99), ("max_ms", maximum), ("failures", Double(failures.count)),
            ("refused", Double(refused.count)), ("server_log_errors", Double(logErrors.count)),
            ("server_cpu_percent", serverCPU / elapsed * 100), ("sites_cpu_percent", sitesCPU / elapsed * 100),
            ("server_cpu_ms_per_sync", serverPerSync), ("sites_cpu_ms_per_sync", sitesPerSync),
            ("p50_ratio_to_raw_commit", p50 / rawP50), ("p99_ratio_to_raw_commit", p99 / rawP99),
            ("sets_written", Double(written)), ("sets_acknowledged", Double(acknowledged)),
            ("pulled_per_sync", pulled),
        ]
        if let peak { figures.append(("server_peak_rss_megabytes", peak)) }
        // Only what the log held: no line read is no figure, never a time of 0 ms.
        for (name, values) in [("push", pushes), ("connect", connects)] where !values.isEmpty {
            figures.append(("server_\(name)_p50_ms", Benchmark.percentile(values, 0.5)))
            figures.append(("server_\(name)_p99_ms", Benchmark.percentile(values, 0.99)))
        }
        if let machine, let otherCPU {
            figures.append(("machine_busy_percent", machine.busyFraction * 100))
            figures.append(("other_cpu_percent", otherCPU / elapsed * 100))
        }
        for (key, value) in figures { Figures.shared.record("\(prefix)\(key)", value) }
        for (instance, figures) in perInstance.enumerated() {
            Figures.shared.record("\(prefix)instance_\(instance + 1).syncs", Double(figures.count))
            Figures.shared.record("\(prefix)instance_\(instance + 1).p50_ms", figures.p50)
            Figures.shared.record("\(prefix)instance_\(instance + 1).p99_ms", figures.p99)
        }
        say(
            String(
                format:
                    "  syncs: %d in %.1f s (%.1f per second); change sets written %d, acknowledged in the run %d; changes pulled per sync %.0f",
                times.count, elapsed, Double(times.count) / elapsed, written, acknowledged, pulled))
        say(
            String(
                format: "  per sync: p50 %.1f ms (%.1f× a raw commit), p99 %.1f ms (%.1f× a raw commit), max %.1f ms",
                p50, p50 / rawP50, p99, p99 / rawP99, maximum))
        for (instance, figures) in perInstance.enumerated() {
            say(
                String(
                    format: "    through instance %d: %d syncs, p50 %.1f ms, p99 %.1f ms", instance + 1, figures.count,
                    figures.p50, figures.p99))
        }
        say(
            "  failures: \(failures.count); refused sets: \(refused.count); deferred sets: \(runs.map(\.deferred).reduce(0, +))"
        )
        for failure in (failures + refused).prefix(5) { say("    \(failure)") }
        func ownTime(_ values: [Double]) -> String {
            guard !values.isEmpty else { return "not in its log (no such line written during the run)" }
            return String(
                format: "p50 %.1f ms, p99 %.1f ms (%d)", Benchmark.percentile(values, 0.5),
                Benchmark.percentile(values, 0.99), values.count)
        }
        say(
            "  the server's own time, from its log: a Push judged and committed with its group \(ownTime(pushes)); letting a site in \(ownTime(connects))"
        )
        // The slowest syncs, and when they started: a tail clustered in time (a stall of the
        // server or of this process) reads differently from one spread over the run.
        let slowest = zip(runs, members).flatMap { run, member in
            zip(run.times, run.starts).map { (time: $0, start: $1, site: member.site.settings.code) }
        }.sorted { $0.time > $1.time }.prefix(5)
        // The p99 of each 5 s of the run, by when the syncs started: a burst of work shared by
        // every site at once (the sites are alike and started together) shows as one window.
        let starts = runs.flatMap { zip($0.times, $0.starts) }
        // A window without a sync shows as "-", not as a p99 of 0 ms.
        let windows = stride(from: 0.0, to: Double(seconds), by: 5.0).map { from in
            let times = starts.filter { $0.1 >= from && $0.1 < from + 5 }.map(\.0)
            return times.isEmpty ? "-" : String(format: "%.0f", Benchmark.percentile(times, 0.99) * 1000)
        }
        say("  p99 of each 5 s, in ms: " + windows.joined(separator: " "))
        say(
            "  slowest syncs: "
                + slowest.map { String(format: "%.0f ms at %.1f s (%@)", $0.time * 1000, $0.start, $0.site) }
                .joined(separator: ", "))
        say(
            String(
                format:
                    "  server%@: peak resident memory %@, CPU %.0f%% of one core (%.1f ms per sync); sites' process: CPU %.0f%% (%.1f ms per sync)",
                (instances > 1 ? " (the larger instance; CPU of all)" : "") as NSString,
                (peak.map { String(format: "%.1f MB", $0) } ?? "unreadable (/proc/PID/status)") as NSString,
                serverCPU / elapsed * 100, serverPerSync, sitesCPU / elapsed * 100, sitesPerSync))
        if let machine, let otherCPU {
            say(
                String(
                    format:
                        "  machine: %.0f%% busy over its %d cores; other processes (PostgreSQL included) %.0f%% of one core",
                    machine.busyFraction * 100, machine.cores, otherCPU / elapsed * 100))
        }
        say(
            "  after the run: \(drained) sets still queued, \(diverged.count) sites whose requests differ from their department's"
        )
        for line in diverged.prefix(5) { say("    \(line)") }
        say("  server log: \(logErrors.count) error lines")
        for line in logErrors.prefix(5) { say("    \(line)") }
    }

    /// The `ms=` figure of a server log line, if it has one.
    static func milliseconds(in line: Substring) -> Double? {
        line.split(separator: " ").first { $0.hasPrefix("ms=") }.flatMap { Double($0.dropFirst(3)) }
    }

    /// One site's measured period: until `deadline`, a pause of 0 to 2 s, one to three writes,
    /// one timed sync. A write or a sync that throws is a failure, noted, and the loop goes on.
    static func drive(
        _ member: Member, others: [String], from origin: ContinuousClock.Instant,
        until deadline: ContinuousClock.Instant
    ) async -> SiteRun {
        var run = SiteRun()
        var keys: [String] = []
        while true {
            try? await Task.sleep(for: .milliseconds(Int.random(in: 0...2000)))
            guard ContinuousClock.now < deadline else { return run }
            do {
                // Each write is a person's command at that site, in a process of its own:
                // it runs on a thread of the store's blocking workers, as the sync's own
                // store calls do, never on the cooperative pool that resumes every site's
                // sync (a write there, SQLite's work on that thread, held back the other 199
                // sites' syncs).
                let site = member.site
                let planned = (0..<Int.random(in: 1...3)).compactMap { _ -> Write? in
                    if let key = keys.randomElement(), Bool.random() { return .edit(key) }
                    return others.randomElement().map(Write.raise)
                }
                // What was written before a failure still counts, as it will still be pushed.
                let (written, failure) = try await site.store.background { _ in
                    var written: [String?] = []
                    do {
                        for write in planned {
                            switch write {
                            case .edit(let key):
                                try site.editRequest(key, title: "Edited at \(Date())")
                                written.append(nil)
                            case .raise(let provider):
                                written.append(try site.newRequest(to: provider, title: "Raised at \(Date())"))
                            }
                        }
                        return (written, nil as String?)
                    } catch {
                        return (written, "\(error)")
                    }
                }
                for (write, key) in zip(planned, written) {
                    if case .raise(let provider) = write, let key {
                        keys.append(key)
                        run.raised[provider, default: 0] += 1
                    }
                }
                run.written += written.count
                if let failure { throw WriteFailure(description: failure) }
            } catch {
                run.failures.append("\(member.site.settings.code) write: \(error)")
                continue
            }
            let start = ContinuousClock.now
            do {
                let report = try await member.engine.sync()
                run.times.append(inSeconds(ContinuousClock.now - start))
                run.starts.append(inSeconds(start - origin))
                run.acknowledged += report.accepted + report.duplicates
                run.deferred += report.deferred
                run.pulled += report.pulled
                run.refused += report.refused.map {
                    "\(member.site.settings.code) refused \($0.firstCounter): \($0.reason)"
                }
            } catch {
                let milliseconds = Int(inSeconds(ContinuousClock.now - start) * 1000)
                run.failures.append("\(member.site.settings.code) sync after \(milliseconds) ms: \(error)")
            }
        }
    }

    /// Runs `body` for every member, `width` at a time.
    static func inBatches(
        of width: Int, _ members: [Member], _ body: @escaping @Sendable (Member) async throws -> Void
    ) async throws {
        for batch in stride(from: 0, to: members.count, by: width) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for member in members[batch..<min(batch + width, members.count)] {
                    group.addTask { try await body(member) }
                }
                try await group.waitForAll()
            }
        }
    }

    /// Times `count` single-row inserts, each its own transaction, in a WAL database at `path`
    /// whose writer has `synchronous` (2 FULL, 1 NORMAL): seconds per commit. It is set on the
    /// writer after the pool is open, since the pool sets NORMAL over what `prepareDatabase` set.
    static func rawCommits(_ count: Int, synchronous: Int, path: String) throws -> [Double] {
        let pool = try DatabasePool(path: path)
        let level = try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            return try Int.fetchOne(db, sql: "PRAGMA synchronous")
        }
        precondition(level == synchronous, "PRAGMA synchronous = \(synchronous) did not hold")
        try pool.write { db in
            try db.execute(sql: "CREATE TABLE request (id TEXT PRIMARY KEY, title TEXT, createdAt INTEGER)")
        }
        var times: [Double] = []
        for index in 0..<count {
            let start = ContinuousClock.now
            try pool.write { db in
                try db.execute(
                    sql: "INSERT INTO request (id, title, createdAt) VALUES (?, ?, ?)",
                    arguments: [UUID().uuidString.lowercased(), "Request number \(index)", 1_795_426_200_000 + index])
            }
            times.append(inSeconds(ContinuousClock.now - start))
        }
        return times
    }

    /// A duration in seconds.
    static func inSeconds(_ duration: Duration) -> Double {
        let (whole, fraction) = duration.components
        return Double(whole) + Double(fraction) / 1e18
    }

    /// Prints `line` at once, unbuffered even into a file or a pipe, for whoever follows the
    /// run (the server's pid, to profile it).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// The CPU time, user and system, of this process so far, in seconds.
    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}

/// The whole machine's CPU time from the first line of `/proc/stat`, in seconds of all cores.
struct MachineCPU {
    var busySeconds: Double
    var totalSeconds: Double
    var cores: Int

    /// The share of all cores' time that was busy.
    var busyFraction: Double { totalSeconds > 0 ? busySeconds / totalSeconds : 0 }

    /// Now, or `nil` where there is no `/proc/stat`.
    static func now() -> MachineCPU? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return nil }
        // user nice system idle iowait irq softirq steal (guest time is inside user).
        let ticks = line.split(separator: " ").dropFirst().prefix(8).compactMap { Double($0) }
        guard ticks.count == 8 else { return nil }
        let hertz = Double(sysconf(Int32(_SC_CLK_TCK)))
        let idle = ticks[3] + ticks[4]
        let total = ticks.reduce(0, +)
        let cores = text.split(separator: "\n").filter { $0.hasPrefix("cpu") && !$0.hasPrefix("cpu ") }.count
        return MachineCPU(busySeconds: (total - idle) / hertz, totalSeconds: total / hertz, cores: cores)
    }

    /// What was spent between `earlier` and this reading.
    func since(_ earlier: MachineCPU) -> MachineCPU {
        MachineCPU(
            busySeconds: busySeconds - earlier.busySeconds, totalSeconds: totalSeconds - earlier.totalSeconds,
            cores: cores)
    }
}

/// `interno-server run` as a child process, listening on a loopback port it picks itself:
/// the port is read from its first log line, `listening` with `address=...:PORT`.
final class ServerProcess {
    let process = Process()
    /// Where its standard error, its log, goes.
    let log: URL
    /// The port it listens on.
    private(set) var port = 0

    /// Starts `binary` with `arguments` and `environment` added to this process's, its
    /// standard error to `log`, and waits (up to 60 s) for it to say where it listens.
    init(binary: URL, arguments: [String], log: URL, environment: [String: String] = [:]) throws {
        self.log = log
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else {
            throw ServerError.io("cannot create \(log.path)")
        }
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        let deadline = ContinuousClock.now + .seconds(60)
        while port == 0 {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.contains("listening") }),
                let address = line.split(separator: " ").first(where: { $0.hasPrefix("address=") }),
                let colon = address.lastIndex(of: ":"), let number = Int(address[address.index(after: colon)...])
            {
                port = number
            } else if !process.isRunning || ContinuousClock.now > deadline {
                stop()
                throw ServerError.io("interno-server did not start listening; its log says:\n\(text)")
            } else {
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }

    /// Its process id.
    var pid: Int32 { process.processIdentifier }

    /// The bytes its log holds now.
    var logSize: UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: log.path)[.size]) as? NSNumber)?.uint64Value ?? 0
    }

    /// The whole lines its log wrote from byte `from` to byte `to` (two ``logSize`` readings):
    /// a line cut at either end is left out.
    func logLines(from: UInt64, to: UInt64) -> [Substring] {
        guard to > from, let file = try? FileHandle(forReadingFrom: log) else { return [] }
        defer { try? file.close() }
        // From the byte before `from`: the text up to its first newline is the end of a line
        // begun before `from`, or nothing if a line began there.
        let start = from > 0 ? from - 1 : 0
        guard (try? file.seek(toOffset: start)) != nil,
            let data = try? file.read(upToCount: Int(to - start))
        else { return [] }
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        if from > 0 { lines = Array(lines.dropFirst()) }
        return Array(lines.dropLast())
    }

    /// Its peak resident memory so far, `VmHWM` of `/proc/PID/status`, in megabytes.
    func peakResidentMegabytes() -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        else { return nil }
        return kilobytes / 1024
    }

    /// Its CPU time so far, user and system, from `/proc/PID/stat`, in seconds.
    func cpuSeconds() -> Double? {
        // The fields after the command name, which is in parentheses and may hold spaces:
        // utime and stime are the 14th and 15th of the line, the 12th and 13th after it.
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Stops it with SIGTERM (a graceful shutdown), then SIGKILL if it is still there after 10 s.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }
}
