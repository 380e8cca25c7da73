import Foundation
import GRDB
import InternoClient
import InternoModel
import InternoPostgres
import InternoServer
import InternoStore
import InternoWire
import Logging

/// Sync benchmarks of DESIGN §9, reported as ratios against raw SQLite inserting the same rows
/// in the same run (never as absolute timings in tests: these machines are shared and noisy).
///
///     swift run -c release interno-benchmark [--records 100000] [--rounds 30] [--changed 500]
///         [--case all|sync|scoped|verify|reads|sites] [--out-of-scope 1000000] [--tampered 100]
///         [--site-requests 10000] [--writes 100] [--repeats 5] [--sites 200] [--seconds 60]
///         [--departments 10] [--database postgres://USER@HOST:PORT/DB] [--instances 2] [--json FILE]
///         [--against OTHER-INTERNO-BENCHMARK [--pairs 3]]
///
/// `--database URL` runs the sync case a second time with the server's merged state in that
/// PostgreSQL database, which must be empty (DESIGN §4.1), and prints its figures beside the
/// SQLite server's and raw SQLite's from the same run (keys `postgres.*` in the JSON).
///
/// `--case sites` (many sites at once, ``ManySites``) is not part of `all`: it loads every
/// core of the machine for `--seconds` and needs the release `interno-server` beside this
/// binary (`swift build -c release --product interno-server`), which it runs as a process.
/// With `--database URL` it runs a second time, with `--instances` servers (2 by default) on
/// that empty PostgreSQL database and the sites spread over them (issue 11, point 5), and
/// prints those figures after the SQLite server's.
///
/// `--json FILE` also writes every figure to FILE, by name, for comparing runs.
/// `--against OTHER --pairs N` compares this build with another (``Compare``): both run in
/// turn, N times each, with the other options given, and every figure's medians are printed
/// side by side.
/// `INTERNO_BENCH_KEEP=1` keeps the run's databases and site homes, and prints where.
@main
struct Benchmark {
    static func main() async throws {
        let arguments = CommandLine.arguments
        let given = Self.parse(Array(arguments.dropFirst()))
        func option(_ name: String, _ fallback: Int) -> Int {
            guard let text = given[name] else { return fallback }
            guard let value = Int(text), value >= 0 else { Self.refuse("\(name) takes a whole number, not '\(text)'") }
            return value
        }
        let records = option("--records", 100_000)
        let rounds = option("--rounds", 30)
        let changed = option("--changed", 500)
        let outOfScope = option("--out-of-scope", 1_000_000)
        let tampered = option("--tampered", 100)
        let siteRequests = option("--site-requests", 10_000)
        let writes = option("--writes", 100)
        let repeats = max(1, option("--repeats", 5))
        let sites = option("--sites", 200)
        let seconds = option("--seconds", 60)
        let departments = option("--departments", 10)
        if let other = given["--against"] {
            // Every option but these three goes to both builds' runs as given (``Compare``).
            var passed: [String] = []
            var rest = ArraySlice(arguments.dropFirst())
            while let name = rest.popFirst(), let value = rest.popFirst() {
                if !["--against", "--pairs", "--json"].contains(name) { passed += [name, value] }
            }
            do {
                try Compare.run(
                    against: other, pairs: max(1, option("--pairs", 3)), passing: passed, json: given["--json"])
            } catch {
                FileHandle.standardError.write(Data("interno-benchmark: \(error)\n".utf8))
                exit(1)
            }
            return
        }
        if given["--pairs"] != nil { Self.refuse("--pairs counts the runs of --against, which is not given") }
        let which = given["--case"]
        guard ["all", "sync", "scoped", "verify", "reads", "sites", nil].contains(which) else {
            Self.refuse("--case takes all, sync, scoped, verify, reads or sites, not '\(which ?? "")'")
        }
        let runsSync = which == nil || which == "all" || which == "sync"
        if runsSync, rounds > 0, changed > records {
            Self.refuse(
                "--changed \(changed) is more than --records \(records): each warm round edits --changed of the requests"
            )
        }
        let json = given["--json"]
        var postgres: PostgresLocation?
        if let url = given["--database"] {
            do { postgres = try PostgresLocation(url: url) } catch { Self.refuse("\(error)") }
        }
        // SQLite's process-wide settings, as every store makes them, before raw SQLite runs:
        // both sides of every ratio run with the same SQLite.
        let settings = SQLiteSettings.apply()
        Figures.shared.record("sqlite_memory_statistics_off", settings ? 1 : 0)
        if !settings { print("interno-benchmark: SQLite started before its settings were made; ratios may mislead") }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("interno-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        // INTERNO_BENCH_KEEP=1 leaves the databases and homes in place, to profile a command
        // against them afterwards (`perf record -g .build/release/interno ... --home DIR`).
        let keep = ProcessInfo.processInfo.environment["INTERNO_BENCH_KEEP"] == "1"
        defer {
            if keep { print("kept: \(root.path)") } else { try? FileManager.default.removeItem(at: root) }
        }
        if runsSync {
            try await sync(root: root, records: records, rounds: rounds, changed: changed, postgres: postgres)
        }
        if which == nil || which == "all" || which == "scoped" {
            try await ScopedPull.run(root: root, inScope: changed, outOfScope: outOfScope, repeats: 5)
        }
        if which == nil || which == "all" || which == "verify" {
            try await VerifyBenchmark.run(
                root: root.appendingPathComponent("verify"), records: records, tampered: tampered, repeats: 5)
        }
        if which == nil || which == "all" || which == "reads" {
            try await SiteReads.run(
                root: root.appendingPathComponent("reads"), requests: siteRequests, repeats: repeats, writes: writes)
        }
        if which == "sites" {
            try await ManySites.run(
                root: root.appendingPathComponent("sites"), sites: sites, seconds: seconds, departments: departments)
            if let database = given["--database"] {
                try await ManySites.run(
                    root: root.appendingPathComponent("sites-postgres"), sites: sites, seconds: seconds,
                    departments: departments, database: database, instances: max(1, option("--instances", 2)))
            }
        }
        if let json {
            try Figures.shared.json(arguments: Array(arguments.dropFirst())).write(to: URL(fileURLWithPath: json))
            print("interno-benchmark: figures written to \(json)")
        }
    }

    /// Push, pull and warm rounds over TLS, against raw SQLite in the same run.
    /// The options this tool takes, each with a value.
    static let options: Set<String> = [
        "--records", "--rounds", "--changed", "--case", "--out-of-scope", "--tampered", "--site-requests", "--writes",
        "--repeats", "--sites", "--seconds", "--departments", "--database", "--instances", "--json", "--against",
        "--pairs",
    ]

    /// The usage, as the comment above gives it.
    static let usage = """
        usage: interno-benchmark [--records 100000] [--rounds 30] [--changed 500]
            [--case all|sync|scoped|verify|reads|sites] [--out-of-scope 1000000] [--tampered 100]
            [--site-requests 10000] [--writes 100] [--repeats 5] [--sites 200] [--seconds 60]
            [--departments 10] [--database postgres://USER@HOST:PORT/DB] [--instances 2] [--json FILE]
            [--against OTHER-INTERNO-BENCHMARK [--pairs 3]]
        """

    /// `arguments` as option and value, each option known and given a value once; `--help`
    /// prints the usage and exits; anything else stops the run with the usage.
    static func parse(_ arguments: [String]) -> [String: String] {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(usage)
            exit(0)
        }
        var given: [String: String] = [:]
        var index = 0
        while index < arguments.count {
            let name = arguments[index]
            guard options.contains(name) else { refuse("unknown option '\(name)'") }
            guard index + 1 < arguments.count, !arguments[index + 1].hasPrefix("--") else {
                refuse("\(name) needs a value")
            }
            guard given[name] == nil else { refuse("\(name) is given twice") }
            given[name] = arguments[index + 1]
            index += 2
        }
        return given
    }

    /// Stops with `message` and the usage on standard error, exit status 64 (EX_USAGE).
    static func refuse(_ message: String) -> Never {
        FileHandle.standardError.write(Data("interno-benchmark: \(message)\n\(usage)\n".utf8))
        exit(64)
    }

    static func sync(root: URL, records: Int, rounds: Int, changed: Int, postgres: PostgresLocation?) async throws {
        print("interno-benchmark: \(records) requests, \(rounds) rounds of \(changed) changes, in \(root.path)")

        // 1. Raw SQLite: the same rows, one prepared statement, one transaction, WAL, synchronous=FULL.
        var rawTimes: [Spent] = []
        for attempt in 0..<3 {
            rawTimes.append(try rawInsert(records, path: root.appendingPathComponent("raw-\(attempt).sqlite").path))
        }
        let raw = Spent.median(rawTimes)
        report("raw SQLite insert", key: "raw_insert", records: records, spent: raw, raw: raw)
        // The floor under push and pull through today's tables: SQLite alone writing the rows
        // each change needs, with every index, no Interno code in the loop (``SchemaFloor``);
        // then the floor under the warm rounds, as many rounds of `changed` edits over the same
        // files (a third of them on each), printed beside the warm rounds' own figures below.
        // The two take turns, attempt by attempt, so that neither always runs after the other's
        // files have filled the page cache and the disk's queue.
        let variants = [("floor: a pull's rows", "floor_pull", false), ("floor: a push's rows", "floor_push", true)]
        var times = [[Spent]](repeating: [], count: variants.count)
        var editRounds = [[Double]](repeating: [], count: variants.count)
        for attempt in 0..<3 {
            for (index, (_, key, audience)) in variants.enumerated() {
                let path = root.appendingPathComponent("\(key)-\(attempt).sqlite").path
                let floor = try SchemaFloor.insert(
                    records, path: path, audience: audience, editRounds: (rounds + 2 - attempt) / 3, changed: changed)
                times[index].append(floor.insert)
                editRounds[index] += floor.rounds
                // Six files of a million requests would take gigabytes of the disk at once.
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            }
        }
        for (index, (name, key, _)) in variants.enumerated() {
            report(name, key: key, records: records, spent: Spent.median(times[index]), raw: raw)
        }
        for (index, (_, _, audience)) in variants.enumerated() where !editRounds[index].isEmpty {
            let side = audience ? "push" : "pull"
            let values = editRounds[index]
            Figures.shared.record("floor_warm_\(side).median_ms", percentile(values, 0.5) * 1000)
            Figures.shared.record("floor_warm_\(side).p99_ms", percentile(values, 0.99) * 1000)
            print(
                String(
                    format: "floor: %d edits' rows for a warm %@, one commit: median %.1f ms, p99 %.1f ms (%d rounds)",
                    changed, side, percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000,
                    values.count))
        }

        print("the server on SQLite:")
        try await serverSync(
            root: root.appendingPathComponent("sqlite"), records: records, rounds: rounds, changed: changed, raw: raw,
            postgres: nil)
        if let postgres {
            print("the server on PostgreSQL (\(postgres)):")
            try await serverSync(
                root: root.appendingPathComponent("postgres"), records: records, rounds: rounds, changed: changed,
                raw: raw, postgres: postgres)
        }
    }

    /// Push, pull and warm rounds through a real server whose merged state is its SQLite file,
    /// or `postgres`; figures against `raw` (keys prefixed `postgres.` for PostgreSQL).
    static func serverSync(
        root: URL, records: Int, rounds: Int, changed: Int, raw: Spent, postgres: PostgresLocation?
    ) async throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let prefix = postgres == nil ? "" : "postgres."
        func report(_ name: String, key: String, records: Int, spent: Spent, raw: Spent) {
            Benchmark.report(name, key: prefix + key, records: records, spent: spent, raw: raw)
        }
        // 2. A real server over loopback TLS, and two sites.
        let data = ServerDirectory(path: root.appendingPathComponent("server").path)
        let store: any CentralStore
        var storeTask: Task<Void, Never>?
        if let postgres {
            let central = PostgresServerStore(postgres)
            storeTask = Task { await central.run() }
            try await central.checkReachable()
            try await central.migrate()
            _ = try await data.initialize(name: "localhost", port: 7443, postgres: central)
            try await central.beginEpoch()
            store = central
        } else {
            _ = try await data.initialize(name: "localhost", port: 7443)
            store = SQLiteCentralStore(try data.store())
        }
        defer { storeTask?.cancel() }
        let administration = ServerAdministration(directory: data, store: store)
        try await administration.addDepartment(code: "HR", name: "HR")
        try await administration.addDepartment(code: "IT", name: "IT")
        let (port, serverTask) = try await startServer(data, store: store)
        func join(_ department: String, _ site: String) async throws -> SiteHome {
            try await Benchmark.join(department, site, administration: administration, port: port, root: root)
        }
        let hrHome = try await join("HR", "LIS")
        let itHome = try await join("IT", "OPO")
        _ = try await SyncEngine(home: hrHome).sync()
        _ = try await SyncEngine(home: itHome).sync()
        let hr = try Site(home: hrHome, user: "bench")

        // Local writes (setup): 100 requests per change set.
        let setupStart = Spent.now()
        let itID = try hr.store.departmentID(code: "IT")
        let hrID = UUID(uuidString: hr.settings.departmentID)!
        let ids = try writeRequests(records, at: hr, from: hrID, to: itID, keyed: true).map(\.id)
        report(
            "local writes, 100 per set", key: "local_writes", records: records, spent: Spent.now() - setupStart,
            raw: raw)

        // 3. Push: the whole outbox over a new connection (the push phase ends at the first pull).
        let phasePeaks = startPhasePeak()
        let pushStart = Spent.now()
        let pushEnd = Timing()
        let pushReport = try await SyncEngine(home: hrHome).sync { progress in
            if case .pulling = progress { pushEnd.markOnce() }
        }
        let pushAndEcho = Spent.now() - pushStart
        let pushSpent = (pushEnd.time ?? Spent.now()) - pushStart
        precondition(pushReport.accepted == records / 100 + (records % 100 == 0 ? 0 : 1), "push: \(pushReport)")
        report("push over TLS", key: "push", records: records, spent: pushSpent, raw: raw)
        report("push + echo of own changes", key: "push_and_echo", records: records, spent: pushAndEcho, raw: raw)
        let pushPeak = phasePeakMegabytes()

        // 4. Pull: a fresh site receives everything.
        startPhasePeak()
        let pullStart = Spent.now()
        let pullReport = try await SyncEngine(home: itHome).sync()
        let pullSpent = Spent.now() - pullStart
        precondition(pullReport.pulled == records, "pull: \(pullReport)")
        report("pull over TLS", key: "pull", records: records, spent: pullSpent, raw: raw)
        // The whole process's memory at its peak in each phase: the server, both sites and what
        // the benchmark still holds (the floors' rows are gone by then).
        let pullPeak = phasePeakMegabytes()
        Figures.shared.record("\(prefix)push.peak_rss_megabytes", pushPeak.megabytes)
        Figures.shared.record("\(prefix)pull.peak_rss_megabytes", pullPeak.megabytes)
        print(
            String(
                format: "  peak resident memory%@: push (with echo) %.1f MB, pull %.1f MB",
                phasePeaks && pushPeak.phase && pullPeak.phase
                    ? "" : " of the whole run (the kernel's mark could not be reset or read)",
                pushPeak.megabytes, pullPeak.megabytes))

        // 5. Incremental: `changed` records edited at HR, synced over warm connections.
        let (pushRounds, pullRounds) = try await incremental(
            hr: hr, hrHome: hrHome, itHome: itHome, ids: ids, rounds: rounds, changed: changed)
        for (name, values) in [("push", pushRounds), ("pull", pullRounds)] {
            Figures.shared.record("\(prefix)warm_\(name).median_ms", percentile(values, 0.5) * 1000)
            Figures.shared.record("\(prefix)warm_\(name).p99_ms", percentile(values, 0.99) * 1000)
            print(
                String(
                    format: "%d changed records, warm connection, %@: median %.1f ms, p99 %.1f ms (%d rounds)", changed,
                    name, percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000, values.count))
        }
        serverTask.cancel()
        _ = await serverTask.result
    }

    /// Writes `count` requests from `customer` to `provider` at `site`, 100 per change set, the
    /// way local writes are made; `keyed`, they take the keys `CODE-1`, `CODE-2`, ... (and the
    /// caller moves the site's next number past them); `time` gives each set's instant from
    /// the index of its first request. Returns the ids and keys, in order.
    @discardableResult
    static func writeRequests(
        _ count: Int, at site: Site, from customer: UUID, to provider: UUID, keyed: Bool = false,
        time: (Int) -> Timestamp = { _ in .now() }
    ) throws -> [(id: UUID, key: String?)] {
        var written: [(id: UUID, key: String?)] = []
        for batch in stride(from: 0, to: count, by: 100) {
            var edits: [Edit] = []
            for index in batch..<min(batch + 100, count) {
                let id = UUID.timeOrdered()
                let key = keyed ? "\(site.settings.code)-\(index + 1)" : nil
                written.append((id, key))
                var fields: [FieldName: FieldValue] = [
                    "customer": .id(customer), "provider": .id(provider), "title": .text("Request number \(index)"),
                    "priority": .text("normal"), "state": .text("submitted"),
                ]
                if let key { fields["key"] = .text(key) }
                edits.append(Edit(.request, id, fields))
            }
            try site.store.write(edits, author: site.author, at: time(batch))
        }
        return written
    }

    /// Enrols a site of `department` and joins it in `root`, pointed at the server on `port`.
    static func join(
        _ department: String, _ site: String, administration: ServerAdministration, port: Int, root: URL
    ) async throws -> SiteHome {
        var bundle = try await administration.enroll(department: department, site: site)
        bundle.port = port
        let home = SiteHome(path: root.appendingPathComponent("\(department)-\(site)").path)
        _ = try home.join(bundle)
        return home
    }

    /// Runs a real server on `data`, listening on a free loopback port; returns the port and
    /// the task that serves (cancel it to stop).
    static func startServer(_ data: ServerDirectory, store: (any CentralStore)? = nil) async throws -> (
        port: Int, task: Task<Void, any Error>
    ) {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let store = try store ?? SQLiteCentralStore(try data.store())
        var configuration = try ServerConfiguration(directory: data, store: store, host: "127.0.0.1", port: 0)
        configuration.onListening = { address in
            continuation.yield(address.port ?? 0)
            continuation.finish()
        }
        var logger = Logger(label: "benchmark")
        logger.logLevel = .error
        let server = InternoServer(configuration: configuration, logger: logger)
        let task = Task { try await server.run() }
        var iterator = ports.makeAsyncIterator()
        return (await iterator.next() ?? 0, task)
    }

    /// Rounds of `changed` edits at HR, each pushed by HR and pulled by IT over warm connections.
    nonisolated static func incremental(
        hr: Site, hrHome: SiteHome, itHome: SiteHome, ids: [UUID], rounds: Int, changed: Int
    ) async throws -> ([Double], [Double]) {
        try await SyncEngine(home: hrHome).withConnection { hrConnection in
            try await SyncEngine(home: itHome).withConnection { itConnection in
                var pushRounds: [Double] = []
                var pullRounds: [Double] = []
                for round in 0..<rounds {
                    for id in ids.shuffled().prefix(changed) {
                        try hr.store.write(
                            [Edit(.request, id, ["title": .text("Edited in round \(round)")])], author: hr.author)
                    }
                    var start = Date()
                    let pushed = try await hrConnection.sync()
                    pushRounds.append(Date().timeIntervalSince(start))
                    start = Date()
                    let pulled = try await itConnection.sync()
                    pullRounds.append(Date().timeIntervalSince(start))
                    precondition(pushed.accepted == changed && pulled.pulled == changed, "round \(round)")
                }
                return (pushRounds, pullRounds)
            }
        }
    }

    /// Inserts `count` request-shaped rows the plainest way SQLite allows; returns the time.
    static func rawInsert(_ count: Int, path: String) throws -> Spent {
        // The same settings as Interno's own databases: WAL, synchronous=FULL.
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let queue = try DatabasePool(path: path, configuration: configuration)
        // GRDB turns the pool's writer to NORMAL with WAL; the baseline commits as Interno does.
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try queue.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE request (id TEXT PRIMARY KEY, key TEXT, customer TEXT, provider TEXT, title TEXT,
                        priority TEXT, state TEXT, createdAt INTEGER)
                    """)
        }
        let customer = UUID().uuidString.lowercased()
        let provider = UUID().uuidString.lowercased()
        // Every row's ids and texts are made before the clock starts, as the floor's are, and
        // each value is bound through SQLite's C API (``Bindings``), as the store binds its
        // writes: the baseline is what SQLite takes to insert the rows, not what making a
        // random id (which had been over a third of it) or GRDB's arguments take.
        let rows = (0..<count).map { index in
            (id: UUID.timeOrdered().text, key: "HR-LIS-\(index + 1)", title: "Request number \(index)")
        }
        let start = Spent.now()
        try queue.write { db in
            let statement = try db.makeStatement(
                sql:
                    "INSERT INTO request (id, key, customer, provider, title, priority, state, createdAt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            )
            for (index, row) in rows.enumerated() {
                var values = Bindings(statement)
                try values.add(row.id)
                try values.add(row.key)
                try values.add(customer)
                try values.add(provider)
                try values.add(row.title)
                try values.add("normal")
                try values.add("submitted")
                try values.add(Int64(1_795_426_200_000 + index))
                try values.execute()
            }
        }
        return Spent.now() - start
    }

    /// The value below which a fraction `p` of `values` lie (nearest rank); 0 for none.
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }

    /// Prints and records one figure: its wall time beside raw SQLite's, and the CPU time of
    /// this process (the sites, and the server when it runs here; not PostgreSQL's) beside raw
    /// SQLite's. CPU close to wall time says a phase is bound by computation, not by waiting
    /// on the disk or the network.
    static func report(_ name: String, key: String, records: Int, spent: Spent, raw: Spent) {
        Figures.shared.record("\(key).seconds", spent.wall)
        Figures.shared.record("\(key).records_per_second", Double(records) / spent.wall)
        Figures.shared.record("\(key).ratio_to_raw", spent.wall / raw.wall)
        Figures.shared.record("\(key).cpu_seconds", spent.cpu)
        Figures.shared.record("\(key).cpu_ratio_to_raw", spent.cpu / raw.cpu)
        print(
            String(
                format: "%-28@ %8.3f s  %9.0f records/s  %5.1f× raw SQLite   CPU %6.3f s  %5.1f× raw",
                name as NSString, spent.wall, Double(records) / spent.wall, spent.wall / raw.wall, spent.cpu,
                spent.cpu / raw.cpu))
    }

    static func peakResidentMegabytes() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    /// Starts measuring the peak resident memory of one phase: the kernel's high-water mark
    /// of this process (`VmHWM`) is set back to what it holds now (`/proc/self/clear_refs`),
    /// so that ``phasePeakMegabytes()`` gives the peak since, not one an earlier phase set
    /// (the floors' rows, a push). Returns `false` where the mark cannot be set back: the
    /// peak then is the process's whole.
    ///
    /// What the process frees and malloc keeps is first given back to the system
    /// (`malloc_trim`), so that the mark starts from what is live.
    @discardableResult
    static func startPhasePeak() -> Bool {
        // glibc's `malloc_trim`, which Swift's Glibc module does not import (`<malloc.h>`).
        if let trim = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") {
            _ = unsafeBitCast(trim, to: (@convention(c) (Int) -> Int32).self)(0)
        }
        guard let file = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? file.close() }
        return (try? file.write(contentsOf: Data("5".utf8))) != nil
    }

    /// The peak resident memory since ``startPhasePeak()``, in MB (`VmHWM`); where that mark
    /// cannot be read, the process's whole peak, and `phase` is `false`.
    static func phasePeakMegabytes() -> (megabytes: Double, phase: Bool) {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        else { return (peakResidentMegabytes(), false) }
        return (kilobytes / 1024, true)
    }
}

/// The first time something happened, set from a callback.
final class Timing: @unchecked Sendable {
    private let lock = NSLock()
    private var first: Spent?

    var time: Spent? { lock.withLock { first } }

    func markOnce() {
        lock.withLock { if first == nil { first = Spent.now() } }
    }
}

/// Wall time and this process's CPU time (user and system), read together: a point in time
/// from ``now()``, or what a phase took, as the difference of two.
struct Spent: Sendable {
    var wall: Double
    var cpu: Double

    static func now() -> Spent {
        Spent(wall: Date().timeIntervalSinceReferenceDate, cpu: ManySites.ownCPUSeconds())
    }

    static func - (end: Spent, start: Spent) -> Spent {
        Spent(wall: end.wall - start.wall, cpu: end.cpu - start.cpu)
    }

    /// The run of `runs` with the median wall time.
    static func median(_ runs: [Spent]) -> Spent {
        runs.sorted { $0.wall < $1.wall }[runs.count / 2]
    }
}
