import Foundation
import GRDB
import InternoClient
import InternoModel
import InternoTestSupport
import Testing

@_spi(Database) @testable import InternoStore

/// DESIGN §3.8 and §3.9 with real processes and real files: seeded trials that kill `interno
/// sync` or `interno-server` with SIGKILL at random moments of real syncs, and restore the
/// server or a site from copies taken at random earlier moments. After each trial every site
/// syncs until it is in step, and then every database passes `PRAGMA integrity_check`, every
/// site holds what the server holds, nothing is left queued, and no change the server ever
/// held is missing. `INTERNO_FAULT_TRIALS=N` runs N trials; `INTERNO_FAULT_SEED=N` replays.
@Suite("Kill -9 and restores, seeded, with real processes", .serialized)
struct FaultTests {
    @Test(arguments: Central.all)
    func killsAndRestoresAtRandomLoseNothingAndEveryoneConverges(central: Central) async throws {
        let environment = ProcessInfo.processInfo.environment
        let trials = environment["INTERNO_FAULT_TRIALS"].flatMap(Int.init) ?? 24
        let seed = environment["INTERNO_FAULT_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 0..<(1 << 48))
        var harness = try await FaultHarness(seed: seed, central: central)
        defer { harness.server.stop() }
        for trial in 0..<trials {
            try await harness.trial()
            let failures = try await harness.check()
            #expect(
                failures.isEmpty,
                "trial \(trial) on \(central) failed; replay with INTERNO_FAULT_SEED=\(seed): \(failures)")
            if !failures.isEmpty { return }
        }
    }
}

/// One deployment of the real binaries, and what the trials have done to it.
private struct FaultHarness {
    let seed: UInt64
    var random: SeededGenerator
    let deployment: BinaryDeployment
    var server: ServerProcess
    let sites: [SiteCLI]
    var serverCopies: [String] = []
    var siteCopies: [Int: [String]] = [:]
    /// Every change the server has held at a check, by dot: it must hold each of them ever after.
    var held: [Dot: Change] = [:]
    var log: [String] = []

    init(seed: UInt64, central: Central) async throws {
        self.seed = seed
        random = SeededGenerator(seed: seed)
        deployment = try await BinaryDeployment(central)
        server = try await deployment.start()
        sites = [
            try await deployment.join("HR", "LIS", user: "ana", server: server),
            try await deployment.join("HR", "POR", user: "rui", server: server),
            try await deployment.join("IT", "OPO", user: "eva", server: server),
        ]
        for site in sites { try await site.sync() }
    }

    /// Some work, maybe a copy, one fault, then every site syncs until it is in step.
    mutating func trial() async throws {
        for _ in 0..<Int.random(in: 1...4, using: &random) { try await work() }
        if random.chance(0.4) {
            let path = deployment.directory.path("server-copy-\(serverCopies.count)")
            try await deployment.backup(to: path)
            serverCopies.append(path)
        }
        if random.chance(0.4) {
            let index = Int.random(in: 0..<sites.count, using: &random)
            let path = deployment.directory.path("site-\(index)-copy-\(siteCopies[index, default: []].count).sqlite")
            try await sites[index].ok("backup", "--out", path)
            siteCopies[index, default: []].append(path)
        }
        switch Int.random(in: 0..<4, using: &random) {
        case 0:
            let index = Int.random(in: 0..<sites.count, using: &random)
            let delay = Int.random(in: 0...250, using: &random)
            log.append("kill \(index)'s sync after \(delay) ms")
            try await killedSync(sites[index], after: delay)
        case 1:
            let index = Int.random(in: 0..<sites.count, using: &random)
            let delay = Int.random(in: 0...250, using: &random)
            log.append("kill the server \(delay) ms into \(index)'s sync")
            let sync = try sites[index].start(["sync"])
            try await Task.sleep(for: .milliseconds(delay))
            server.stop()
            sync.waitUntilExit()
            try await restartServer()
        case 2:
            guard let copy = serverCopies.randomElement(using: &random) else { break }
            log.append("restore the server from \(copy)")
            server.stop()
            try await deployment.restore(from: copy)
            try await restartServer()
        default:
            let index = Int.random(in: 0..<sites.count, using: &random)
            guard let copy = siteCopies[index]?.randomElement(using: &random) else { break }
            log.append("restore site \(index) from \(copy)")
            try sites[index].restore(from: copy)
        }
        try await syncUntilInStep()
    }

    /// Every site syncs in turn until a round in which no site pushed, deferred or re-sent
    /// anything: the server did not change during that round, and each site pulled to its end.
    /// After a restore of the server this can take several rounds: a set that builds on another
    /// site's change the server lost is deferred until that site has pushed it again (DESIGN
    /// §3.9), and such waits can chain from site to site. Twelve rounds is far more than any
    /// trial has needed; the check then reports whatever is still queued.
    func syncUntilInStep() async throws {
        for _ in 0..<12 {
            var quiet = true
            for site in sites {
                let result = try await site.run(["sync"])
                #expect(
                    result.status == 0,
                    "INTERNO_FAULT_SEED=\(seed): sync of \(site.home) after \(log.suffix(3)): \(result.stdout) \(result.stderr)"
                )
                quiet =
                    quiet && result.stdout.hasPrefix("pushed 0 change sets (0 already there, 0 deferred, 0 refused)")
                    && !result.stdout.contains("restored")
            }
            if quiet { return }
        }
    }

    /// One thing a person does at a random site, through the real binary; a step the
    /// lifecycle does not allow from where the request is now is simply refused.
    mutating func work() async throws {
        let index = Int.random(in: 0..<sites.count, using: &random)
        let site = sites[index]
        let keys = try site.site().store.requests().map(\.key)
        if index < 2, keys.count < 3 || random.chance(0.4) {
            _ = try await site.run([
                "request", "new", "--to", "IT", "--title", "Request \(Int.random(in: 0...99, using: &random))",
            ])
        } else if let key = keys.randomElement(using: &random) {
            let verb =
                index < 2
                ? ["comment", "edit", "cancel"].randomElement(using: &random)!
                : ["ack", "start", "deliver", "comment", "assign"].randomElement(using: &random)!
            switch verb {
            case "comment": _ = try await site.run(["comment", key, "note \(Int.random(in: 0...99, using: &random))"])
            case "edit": _ = try await site.run(["request", "edit", key, "--details", "v\(random.next() % 9)"])
            case "assign": _ = try await site.run(["request", "assign", key, "--to", "eva"])
            default: _ = try await site.run(["request", verb, key])
            }
        }
    }

    /// Starts `interno sync` at `site` and kills it with SIGKILL after `delay` milliseconds.
    func killedSync(_ site: SiteCLI, after delay: Int) async throws {
        let sync = try site.start(["sync"])
        try await Task.sleep(for: .milliseconds(delay))
        kill(sync.processIdentifier, SIGKILL)
        sync.waitUntilExit()
    }

    mutating func restartServer() async throws {
        server = try await deployment.start()
        for site in sites { try site.setServerPort(server.port) }
    }

    /// The invariants, read from the files once everyone is in step.
    mutating func check() async throws -> [String] {
        var failures: [String] = []
        let stores = try sites.map { try $0.site().store }
        var files = zip(sites.map(\.home), stores).map { ($0, $1 as any ReplicaStore) }
        // The server's SQLite file is checked the same way; PostgreSQL keeps no timelines.
        if deployment.database == nil { files.append(("server", try deployment.data.store())) }
        for (name, store) in files {
            let verdict = try await store.writer.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
            if verdict != "ok" { failures.append("\(name): integrity_check says \(verdict ?? "nothing")") }
            for drift in try store.timelineDrift() { failures.append("\(name): timeline of \(drift)") }
        }
        let (requests, comments, stream) = try await deployment.withCentral { central in
            (
                try await central.records(of: .request), try await central.records(of: .comment),
                try await central.stream()
            )
        }
        for (site, store) in zip(sites, stores) {
            let differing = try Self.differences(
                store.records(of: .request) + store.records(of: .comment), requests + comments)
            if !differing.isEmpty {
                failures.append("\(site.home) differs from the server in \(differing) after \(log.suffix(4))")
            }
            let queued = try store.outbox()
            if !queued.isEmpty {
                failures.append("\(site.home) still has \(queued.map { "\($0.row.status)" }) after \(log.suffix(4))")
            }
        }
        // Every change the server logged: as a pull of everything hands it out.
        let logged = stream.flatMap(\.changes)
        let now = Dictionary(logged.map { ($0.dot, $0) }, uniquingKeysWith: { first, _ in first })
        for (dot, change) in held where now[dot].map({ !$0.hasSameContent(as: change) }) ?? true {
            failures.append("the server no longer holds \(dot) after \(log.suffix(4))")
        }
        for (dot, change) in now { held[dot] = change }
        return failures
    }
}

extension FaultHarness {
    /// The records that differ between a site's list and the server's, named by id and the
    /// fields that differ, or as missing on one side.
    static func differences(_ site: [RecordState], _ server: [RecordState]) -> [String] {
        let held = Dictionary(site.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let central = Dictionary(server.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var differences: [String] = []
        for (id, record) in central where held[id] != record {
            guard let mine = held[id] else {
                differences.append("\(record.kind) \(id) missing at the site")
                continue
            }
            let fields = Set(record.fields.keys).union(mine.fields.keys).filter { record.fields[$0] != mine.fields[$0] }
            let clocks =
                record.clock == mine.clock ? "" : ", clock \(mine.clock) at the site, \(record.clock) at the server"
            differences.append("\(record.kind) \(id): \(fields.map { "\($0)" }.sorted()) differ\(clocks)")
        }
        for id in held.keys where central[id] == nil { differences.append("\(id) only at the site") }
        return differences
    }
}

extension SiteCLI {
    /// Starts `interno` with `arguments` at this site and returns the running process.
    func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = try Executable("interno").url
        process.arguments = arguments + ["--home", home]
        process.environment = ProcessInfo.processInfo.environment.merging(["INTERNO_USER": user]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}
