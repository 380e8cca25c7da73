import Foundation
import GRDB
import InternoClient
import InternoModel
import InternoWire
import Testing

@_spi(Database) @testable import InternoStore

/// The server checks every pushed change (DESIGN §6), and bad input never gets past it.
@Suite("Server checks and bad input", .serialized)
struct ServerChecksTests {
    func hello(_ site: SiteCLI, version: UInt32 = WireLimits.protocolVersion, replica: UUID? = nil) throws
        -> Interno_V1_Frame
    {
        var hello = Interno_V1_Hello()
        hello.protocolVersion = version
        let own = UUID(uuidString: try site.site().settings.replicaID)!
        hello.replicaID = (replica ?? own).wire
        hello.schemaVersion = Schema.version
        var frame = Interno_V1_Frame()
        frame.body = .hello(hello)
        return frame
    }

    func push(_ sets: [ChangeSet]) -> Interno_V1_Frame {
        var push = Interno_V1_Push()
        push.sets = sets.map(Interno_V1_ChangeSet.init)
        var frame = Interno_V1_Frame()
        frame.body = .push(push)
        return frame
    }

    /// A Pull from the start that names `ranges` of the site's own sets to leave out.
    func pull(leavingOut ranges: [(UInt64, UInt64)]) -> Interno_V1_Frame {
        var pull = Interno_V1_Pull()
        pull.ownSets = ranges.map { first, last in
            var range = Interno_V1_CounterRange()
            (range.first, range.last) = (first, last)
            return range
        }
        var frame = Interno_V1_Frame()
        frame.body = .pull(pull)
        return frame
    }

    /// HR at LIS and IT at OPO joined, HR's request to IT titled "Laptop" synced to both, and
    /// its key.
    func laptopRequest(in deployment: Deployment) async throws -> (hr: SiteCLI, it: SiteCLI, key: String) {
        let hr = try await deployment.join("HR", "LIS", user: "ana")
        let it = try await deployment.join("IT", "OPO", user: "rui")
        let key = try await hr.ok("request", "new", "--to", "IT", "--title", "Laptop").trimmingCharacters(
            in: .whitespacesAndNewlines)
        try await hr.sync()
        try await it.sync()
        return (hr, it, key)
    }

    /// Writes a title edit into a site's log and outbox, bypassing the site's own checks.
    func forgeTitleEdit(on store: SiteStore, key: String) throws {
        try forge(on: store, key: key, ["title": .text("Renamed by IT")])
    }

    /// Writes `fields` of request `key`, dated `at`, into a site's log and outbox, bypassing
    /// the site's own checks, as a tampered or buggy client would.
    func forge(on store: SiteStore, key: String, _ fields: [FieldName: FieldValue], at: Timestamp = .now()) throws {
        let id = try store.requestID(key: key)
        let seen = try #require(try store.record(id))
        let replica = try store.replica()
        let counter = UInt64(replica.counter) + 1
        let forged = Change(
            dot: Dot(replica: replica.id, counter: counter), kind: .request, recordID: id, context: seen.clock,
            fields: fields, author: "rui@IT-OPO", at: at)
        try store.writer.write { db in
            var record = seen
            try record.apply(forged)
            try ChangeLog.append(forged, set: counter...counter, db)
            try RecordTable.save(record, db)
            try db.execute(sql: "UPDATE replica SET counter = ?", arguments: [Int64(counter)])
            try OutboxRow(
                firstCounter: Int64(counter), lastCounter: Int64(counter), status: .pending, refusalCode: nil,
                refusalReason: nil, createdAt: 0
            ).insert(db)
        }
    }

    /// SQLite's own verdict on the file.
    func integrityCheck(_ store: some ReplicaStore) throws -> String? {
        try store.writer.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
    }

    /// The server's database, as every row: of the SQLite file, or as `pg_dump` prints them.
    func snapshot(_ deployment: Deployment) async throws -> [String] {
        if let database = deployment.database {
            let dump = try await Executable.system("pg_dump").run([
                "--data-only", "--exclude-table=replica_registry", "--exclude-table=stream_epoch", database,
            ])
            #expect(dump.status == 0, "\(dump.stderr)")
            // Less the random key pg_dump fences its output with (`\restrict KEY`).
            return dump.stdout.split(separator: "\n").map(String.init).filter { !$0.contains("restrict ") }
        }
        let store = try deployment.data.store()
        return try await store.writer.read { (db: Database) in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                // The registry notes when a site was last seen; each opening of the database
                // starts a stream epoch (DESIGN §3.9). Neither is data a bad frame could touch.
                .filter { !["replica_registry", "stream_epoch"].contains($0) }
                .flatMap { table in try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\" ORDER BY 1").map { "\($0)" } }
        }
    }

    @Test(arguments: Central.all) func aFieldTheDepartmentMayNotWriteIsRefusedAndTheReasonShownOnTheSite(
        central: Central
    ) async throws {
        try await Deployment.with(central) { deployment in
            let (hr, it, key) = try await laptopRequest(in: deployment)
            // IT's client would refuse this at once; a tampered client writes it straight into its log.
            try forgeTitleEdit(on: try it.site().store, key: key)
            let result = try await it.run(["sync"])
            #expect(result.status == 72, "\(result.stderr)")
            #expect(result.stdout.contains("IT may not set the title of request \(key)"))
            let status = try await it.json(StatusView.self, "status")
            #expect(status.refused.count == 1)
            #expect(status.refused.first?.reason.contains("only the customer department HR may") == true)
            #expect(status.refused.first?.changes.first?.contains("Renamed by IT") == true)
            // Rolled back on IT, never seen on HR.
            for site in [it, hr] {
                try await site.run(["sync"])
                let details = try await site.json(RequestDetails.self, "request", "show", key)
                #expect(details.fields.first { $0.name == "title" }?.value == "Laptop")
            }
        }
    }

    /// A queue that takes two Pushes, the first of which holds a set the server refuses: the
    /// site records the first Push's results while the server judges the second (DESIGN §5),
    /// and each set ends as if the Pushes had gone one after the other. The refused set is
    /// rolled back with its reason, every other set leaves the outbox, and the server holds
    /// all of them and not the refused edit.
    @Test func aRefusalInTheFirstOfTwoPushesIsRecordedAndEveryOtherSetArrives() async throws {
        try await Deployment.with { deployment in
            let (hr, it, key) = try await laptopRequest(in: deployment)
            let site = try it.site()
            // First in the queue: an edit IT may not make. Then 60 sets of 100 new requests:
            // 5000 changes at most per Push puts the forged set and 49 of them in the first.
            try forgeTitleEdit(on: site.store, key: key)
            try site.queueRequests(sets: 60, of: 100, to: "HR")
            let report = try await SyncEngine(home: SiteHome(path: it.home)).sync()
            #expect(report.accepted == 60)
            #expect(report.refused.count == 1)
            #expect(report.refused.first?.reason.contains("only the customer department HR may") == true)
            #expect(try site.store.pendingChangeSets().isEmpty)
            let outbox = try site.store.outbox()
            #expect(outbox.count == 1 && outbox.first?.row.status == .refused)
            #expect(try site.store.record(site.store.requestID(key: key))?.value(of: "title") == .text("Laptop"))
            let keys = try await deployment.store.requestKeys()
            #expect(keys == Set((1...6_000).map { "IT-OPO-\($0)" } + [key]))
            try await hr.sync()
            let details = try await hr.json(RequestDetails.self, "request", "show", key)
            #expect(details.fields.first { $0.name == "title" }?.value == "Laptop")
        }
    }

    /// Requests sent before the last one's answer (Protocol §5.3): the server reads and
    /// decodes the next while it judges the last (DESIGN §5), and still answers each in turn,
    /// judged after the one before. A new request, then an edit of it that the first must be
    /// held for, then a frame that does not decode: both sets are accepted and kept, and only
    /// then is the bad frame answered with its error.
    @Test func pushesSentAheadAreJudgedInTurnAndABadFrameAfterThemIsAnsweredLast() async throws {
        try await Deployment.with { deployment in
            let (hr, it, _) = try await laptopRequest(in: deployment)
            let key = try await hr.ok("request", "new", "--to", "IT", "--title", "Chair").trimmingCharacters(
                in: .whitespacesAndNewlines)
            try await hr.ok("request", "edit", key, "--title", "Desk chair")
            let sets = try hr.site().store.pendingChangeSets()
            try #require(sets.count == 2)
            let connection = try await RawConnection.connect(port: deployment.port, home: hr.home)
            let frames = try await connection.exchange([
                try RawConnection.framed(hello(hr)), RawConnection.framed(push([sets[0]])),
                RawConnection.framed(push([sets[1]])), [0, 0, 0, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
            ])
            #expect(frames.map(\.messageName) == ["Welcome", "PushResult", "PushResult", "Error"])
            for frame in frames.dropFirst().prefix(2) {
                guard case .pushResult(let result) = frame.body else { continue }
                #expect(result.results.map(\.status) == [.accepted])
            }
            if case .error(let error) = frames.last?.body {
                #expect(error.code == WireError.Code.malformedFrame.rawValue, "\(error.message)")
            }
            try await it.sync()
            let details = try await it.json(RequestDetails.self, "request", "show", key)
            #expect(details.fields.first { $0.name == "title" }?.value == "Desk chair")
        }
    }

    /// Protocol §12.9: a step writes what the spec says besides the state; a client that
    /// leaves the first response out is refused, with the rule in words.
    @Test(arguments: Central.all) func anAckWithoutItsFirstResponseOrFromTheFutureIsRefusedWithTheRule(central: Central)
        async throws
    {
        try await Deployment.with(central) { deployment in
            let (hr, it, key) = try await laptopRequest(in: deployment)
            try forge(on: try it.site().store, key: key, ["state": .text("acknowledged")])
            let result = try await it.run(["sync"])
            #expect(result.status == 72, "\(result.stderr)")
            #expect(result.stdout.contains("ack of request \(key) must also write firstResponseAt"), "\(result.stdout)")
            try await it.ok("status", "--discard", "1")
            // Protocol §12.6: a time more than an hour after the server's clock is refused too.
            let later = Timestamp(millisecondsSince1970: Timestamp.now().millisecondsSince1970 + 7_200_000)
            try forge(
                on: try it.site().store, key: key, ["state": .text("acknowledged"), "firstResponseAt": .time(later)],
                at: later)
            let future = try await it.run(["sync"])
            #expect(future.status == 72, "\(future.stderr)")
            #expect(future.stdout.contains("more than an hour after its receipt"), "\(future.stdout)")
            // The real step, as the CLI takes it, is accepted and shows its first response.
            try await it.ok("status", "--discard", "2")
            try await it.ok("request", "ack", key)
            try await it.sync()
            try await hr.sync()
            let details = try await hr.json(RequestDetails.self, "request", "show", key)
            #expect(details.fields.first { $0.name == "state" }?.value == "acknowledged")
            #expect(details.fields.first { $0.name == "firstResponseAt" }?.value != nil)
        }
    }

    @Test(arguments: Central.all) func aChangeWithAnotherReplicasDotIsRefused(central: Central) async throws {
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let it = try await deployment.join("IT", "OPO", user: "rui")
            try await hr.sync()
            let hrReplica = try #require(ReplicaID(uuidString: try hr.site().settings.replicaID))
            let department = try #require(UUID(uuidString: try hr.site().settings.departmentID))
            let itDepartment = try await deployment.store.department("IT")
            // IT's site pushes a change that claims to be HR's.
            let impostor = ChangeSet([
                Change(
                    dot: Dot(replica: hrReplica, counter: 99), kind: .request, recordID: UUID(),
                    context: VersionVector(),
                    fields: [
                        "key": .text("HR-LIS-99"), "customer": .id(department), "provider": .id(itDepartment),
                        "title": .text("Forged"), "priority": .text("low"), "state": .text("submitted"),
                    ], author: "eve", at: .now())
            ])
            let connection = try await RawConnection.connect(port: deployment.port, home: it.home)
            let frames = try await connection.exchange(
                [RawConnection.framed(try hello(it)), RawConnection.framed(push([impostor]))], expected: 2)
            guard frames.count == 2, case .pushResult(let result) = frames[1].body else {
                Issue.record("expected Welcome then PushResult, got \(frames.map(\.messageName))")
                return
            }
            #expect(result.results.first?.status == .refused)
            #expect(result.results.first?.refusal.reason.contains("written by another replica") == true)
            #expect(try await deployment.store.requestKeys().isEmpty)
        }
    }

    @Test(arguments: [
        ("garbage", WireError.Code.malformedFrame),
        ("oversized", .frameTooLarge),
        ("push before hello", .unexpectedMessage),
        ("unknown version", .unsupportedProtocolVersion),
        ("another replica's hello", .identityMismatch),
        ("empty frame", .malformedFrame),
        ("own sets backwards", .malformedFrame),
        ("too many own sets", .malformedFrame),
        ("too many sets in a push", .batchTooLarge),
    ])
    func badInputIsAnsweredWithAnErrorCodeAndNothingChanges(name: String, code: WireError.Code) async throws {
        for central in Central.all {
            try await badInput(name: name, code: code, central: central)
        }
    }

    func badInput(name: String, code: WireError.Code, central: Central) async throws {
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let it = try await deployment.join("IT", "OPO", user: "rui")
            try await hr.ok("request", "new", "--to", "IT", "--title", "Before")
            try await hr.sync()
            let before = try await snapshot(deployment)
            let chunks: [[UInt8]]
            switch name {
            case "garbage": chunks = [try RawConnection.framed(hello(it)), [0, 0, 0, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]]
            case "oversized": chunks = [[0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3]]
            case "push before hello": chunks = [RawConnection.framed(push([]))]
            case "unknown version": chunks = [try RawConnection.framed(hello(it, version: 99))]
            case "another replica's hello":
                chunks = [
                    try RawConnection.framed(hello(it, replica: UUID(uuidString: try hr.site().settings.replicaID)))
                ]
            case "own sets backwards":
                chunks = [try RawConnection.framed(hello(it)), RawConnection.framed(pull(leavingOut: [(5, 3)]))]
            case "too many own sets":
                let ranges = (0..<UInt64(OwnSets.maximumRanges + 1)).map { ($0 * 2 + 1, $0 * 2 + 1) }
                chunks = [try RawConnection.framed(hello(it)), RawConnection.framed(pull(leavingOut: ranges))]
            case "too many sets in a push":
                var push = Interno_V1_Push()
                push.sets = Array(repeating: Interno_V1_ChangeSet(), count: WireLimits.maximumPushSets + 1)
                var frame = Interno_V1_Frame()
                frame.body = .push(push)
                chunks = [try RawConnection.framed(hello(it)), RawConnection.framed(frame)]
            default: chunks = [[0, 0, 0, 0]]
            }
            let connection = try await RawConnection.connect(port: deployment.port, home: it.home)
            let frames = try await connection.exchange(chunks)
            guard case .error(let error) = frames.last?.body else {
                Issue.record("\(name): expected an Error frame, got \(frames.map(\.messageName))")
                return
            }
            #expect(error.code == code.rawValue, "\(name): \(error.message)")
            #expect(!error.message.isEmpty)
            #expect(try await snapshot(deployment) == before)
            // One misbehaving client never stops the server from serving the others.
            try await hr.ok("request", "new", "--to", "IT", "--title", "After")
            try await hr.sync()
            try await it.sync()
            #expect(try await it.json([RequestSummary].self, "request", "list").count == 2)
            if central == .sqlite { #expect(try integrityCheck(deployment.data.store()) == "ok") }
        }
    }

    @Test(arguments: Central.all) func aValueOfTheWrongTypeIsRefusedWithItsCode(central: Central) async throws {
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            try await hr.sync()
            let settings = try hr.site().settings
            let replica = try #require(ReplicaID(uuidString: settings.replicaID))
            let set = ChangeSet([
                Change(
                    dot: Dot(replica: replica, counter: 1), kind: .request, recordID: UUID(), context: VersionVector(),
                    fields: [
                        "key": .text("HR-LIS-1"), "customer": .id(UUID(uuidString: settings.departmentID)!),
                        "provider": .id(try await deployment.store.department("IT")), "title": .text("t"),
                        "priority": .integer(3), "state": .text("submitted"),
                    ], author: "ana", at: .now())
            ])
            let connection = try await RawConnection.connect(port: deployment.port, home: hr.home)
            let frames = try await connection.exchange(
                [RawConnection.framed(try hello(hr)), RawConnection.framed(push([set]))], expected: 2)
            guard case .pushResult(let result) = frames.last?.body else {
                Issue.record("expected a PushResult, got \(frames.map(\.messageName))")
                return
            }
            #expect(result.results.first?.status == .refused)
            #expect(result.results.first?.refusal.code == UInt32(Refusal.Code.invalidValue.rawValue))
            #expect(result.results.first?.refusal.reason.contains("one of low, normal, high, urgent") == true)
            #expect(try await deployment.store.requestKeys().isEmpty)
        }
    }
}
