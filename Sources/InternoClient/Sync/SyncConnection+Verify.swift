import Foundation
import InternoModel
import InternoStore
import InternoWire

/// What `interno verify` found, and what `--repair` did (DESIGN §3.10).
public struct VerifyReport: Codable, Equatable, Sendable {
    /// Records this site holds, its own new work not yet sent included.
    public var held = 0
    /// Records the server says this site should hold.
    public var expected = 0
    /// Records with changes of this site's not yet acknowledged: compared by their log only,
    /// and checked here to follow from it; a repair keeps those changes.
    public var pending = 0
    /// Every record that differed, in id order.
    public var differences: [RecordDifference] = []
    /// Records repaired.
    public var repaired = 0
    /// `true` when nothing differs now: nothing differed, or every difference was repaired.
    public var inStep = false

    /// An empty report.
    public init() {}
}

/// One record that is not as it should be.
public struct RecordDifference: Codable, Equatable, Sendable {
    /// How it differs.
    public enum Problem: String, Codable, Sendable {
        /// This site holds it, other than it should.
        case differs
        /// This site should hold it and does not.
        case missing
        /// This site holds it and should not: outside its scope, or unknown to the server.
        case unexpected
    }

    /// The record id (or, for a row whose id is not one, what the row holds).
    public var id: String
    /// Its kind, as this site (or, once repaired, the server) knows it.
    public var kind: String?
    /// How people name it: a request key, a department code, a standard's service.
    public var label: String?
    /// How it differs.
    public var problem: Problem
    /// For `differs`: the parts that differ, `log` (its changes), `state` (its clock and
    /// values) and `shown` (its query-table row).
    public var parts: [String]
    /// It holds changes of this site's not yet acknowledged, which a repair keeps.
    public var pending: Bool
    /// A repair replaced it with what the server says it should be.
    public var repaired: Bool
    /// Why it was not repaired.
    public var note: String?
}

extension SyncEngine {
    /// Compares what this site holds with what the server says it should hold, in one request
    /// for up to 200 000 records, and with `repair`, fetches every differing record's changes
    /// again and rebuilds it (DESIGN §3.10). Nothing is pushed or pulled.
    public func verify(repair: Bool) async throws -> VerifyReport {
        try await withConnection { connection in try await connection.verify(repair: repair) }
    }
}

extension SyncConnection {
    /// What a site whose server does not know `interno verify` is told.
    static let olderServer =
        "the server does not know `interno verify`: it runs an older interno-server; upgrade it, then verify again"

    /// `interno verify` over this connection (``SyncEngine/verify(repair:)``).
    ///
    /// The site digests what it holds while the server works out what it should hold, so the
    /// command costs the slower of the two, not both. The position the server is asked about is
    /// read first; if the digests turn out to be of another position (something was written
    /// meanwhile), the server is asked again for that one.
    public func verify(repair: Bool) async throws -> VerifyReport {
        let store = engine.store
        if !welcome.position.cursorValid {
            throw ClientError.notInStep(
                "the server was restored from a backup since this site last synced, so there is nothing to compare with yet: run `interno sync`, then `interno verify`"
            )
        }
        // A site joined offline holds the directory its bundle carried before it has pulled
        // anything (DESIGN §6.2); the server, asked at cursor 0, would call that unexpected.
        if try await store.background({ try $0.replica().lastSyncAt }) == nil {
            throw ClientError.notInStep(
                "this site has not finished a sync yet, so there is nothing to compare with: run `interno sync`, then `interno verify`"
            )
        }
        if try await store.background({ try $0.setAsideCount() }) > 0 {
            throw ClientError.notInStep(
                "changes of this site's are set aside by a sync that did not finish: run `interno sync`, then `interno verify`"
            )
        }
        let asked = try await store.background { try $0.verifyPosition() }
        async let held = store.background { try $0.digests() }
        var expected = try await expectedDigests(at: asked)
        let digests = try await held
        if digests.position != asked { expected = try await expectedDigests(at: digests.position) }

        var report = VerifyReport()
        report.held = digests.records.count + digests.malformed.count
        report.expected = expected.count
        report.pending = digests.records.filter(\.pending).count
        var found: [UUID: RecordDifference] = [:]
        for finding in RecordDigest.compare(held: digests.records, expected: expected) {
            switch finding {
            case .differs(let held, let theirs):
                found[held.id] = difference(
                    held.id, .differs, parts: held.differingParts(from: theirs), pending: held.pending)
            case .missing(let theirs):
                found[theirs.id] = difference(theirs.id, .missing)
            case .unexpected(let held):
                found[held.id] = difference(held.id, .unexpected, pending: held.pending)
            }
        }
        // Pending records the server could not judge, judged here.
        for (id, parts) in digests.inconsistent {
            var entry = found[id] ?? difference(id, .differs, pending: true)
            entry.parts = Array(Set(entry.parts + parts)).sorted { $0.partOrder < $1.partOrder }
            found[id] = entry
        }
        // Lowercase ids sort as their bytes do.
        var differences = found.values.sorted { $0.id < $1.id }
        differences += digests.malformed.map {
            RecordDifference(
                id: $0, kind: nil, label: nil, problem: .unexpected, parts: [], pending: false, repaired: false,
                note: nil)
        }
        if repair, !differences.isEmpty {
            try await self.repair(&differences, malformed: digests.malformed, at: digests.position)
        }
        report.differences = differences
        report.repaired = differences.filter(\.repaired).count
        report.inStep = differences.allSatisfy(\.repaired)
        return report
    }

    /// The digests of every record this site should hold at `position`, page by page.
    private func expectedDigests(at position: SiteDigests.Position) async throws -> [RecordDigest] {
        var expected: [RecordDigest] = []
        var more = true
        while more {
            var verify = Interno_V1_Verify()
            verify.digestVersion = RecordDigest.version
            verify.cursor = position.cursor
            verify.cursorEpoch = position.cursorEpoch
            verify.unacknowledged = position.unacknowledged.map(Interno_V1_CounterRange.init)
            if let last = expected.last { verify.after = last.id.wire }
            var frame = Interno_V1_Frame()
            frame.body = .verify(verify)
            guard
                case .verifyResult(let result) = try await conversation.exchange(frame, olderServer: Self.olderServer)
                    .body
            else {
                throw ClientError.protocolError("the server did not answer Verify with VerifyResult")
            }
            if result.cursorReset {
                throw ClientError.notInStep(
                    "the server no longer has the point of its stream this site reached (it was restored from a backup): run `interno sync`, then `interno verify`"
                )
            }
            let page: [RecordDigest]
            do { page = try result.records.digests() } catch {
                throw ClientError.protocolError("the server's VerifyResult is malformed: \(error)")
            }
            if let last = expected.last, let first = page.first, !last.id.lexicographicallyPrecedes(first.id) {
                throw ClientError.protocolError("the server's VerifyResult goes back in id order")
            }
            guard !result.more || !page.isEmpty else {
                throw ClientError.protocolError("the server's VerifyResult says more follow, and lists nothing")
            }
            expected += page
            more = result.more
        }
        return expected
    }

    /// A difference, named as this site knows the record now.
    private func difference(
        _ id: UUID, _ problem: RecordDifference.Problem, parts: [String] = [], pending: Bool = false
    ) -> RecordDifference {
        let record = try? engine.store.record(id)
        return RecordDifference(
            id: id.text, kind: record.map { $0.kind.rawValue },
            label: record.flatMap { $0.exists ? SiteStore.label(of: $0) : nil }, problem: problem, parts: parts,
            pending: pending, repaired: false, note: nil)
    }

    /// Fetches the logs of the records in `differences` and rebuilds them from it, one
    /// transaction per answer; marks each one repaired, or says why not.
    private func repair(
        _ differences: inout [RecordDifference], malformed: [String], at position: SiteDigests.Position
    ) async throws {
        let store = engine.store
        var outcomes: [UUID: RepairOutcome] = [:]
        var rest = differences.compactMap { UUID(text: $0.id) }
        // Rows whose id is no record id: nothing to fetch, only to delete.
        if !malformed.isEmpty { _ = try await store.background { try $0.repair([], malformed: malformed) } }
        while !rest.isEmpty {
            var fetch = Interno_V1_Fetch()
            fetch.cursor = position.cursor
            fetch.cursorEpoch = position.cursorEpoch
            fetch.recordIds = rest.prefix(500).map(\.wire)
            var frame = Interno_V1_Frame()
            frame.body = .fetch(fetch)
            guard
                case .fetched(let fetched) = try await conversation.exchange(frame, olderServer: Self.olderServer).body
            else {
                throw ClientError.protocolError("the server did not answer Fetch with Fetched")
            }
            if fetched.cursorReset {
                throw ClientError.notInStep(
                    "the server no longer has the point of its stream this site reached (it was restored from a backup): run `interno sync`, then `interno verify`"
                )
            }
            var received: [RecordLog] = []
            for record in fetched.records {
                do { received.append(try record.model()) } catch {
                    throw ClientError.protocolError("the server's Fetched is malformed: \(error)")
                }
            }
            let logs = received
            // A prefix of what was asked, never nothing: the server sends at least one record.
            guard !logs.isEmpty, logs.map(\.id) == Array(rest.prefix(logs.count)) else {
                throw ClientError.protocolError("the server's Fetched does not answer the records asked for")
            }
            let repaired = try await store.background { try $0.repair(logs) }
            for (log, outcome) in zip(logs, repaired) { outcomes[log.id] = outcome }
            rest.removeFirst(logs.count)
        }
        for index in differences.indices {
            guard let id = UUID(text: differences[index].id) else {
                differences[index].repaired = true  // a malformed row, deleted
                continue
            }
            switch outcomes[id] {
            case .repaired:
                differences[index].repaired = true
                if let record = try? store.record(id), record.exists {
                    differences[index].kind = record.kind.rawValue
                    differences[index].label = SiteStore.label(of: record)
                }
            case .failed(let why):
                differences[index].note = why
            case nil:
                differences[index].note = "the server did not send it"
            }
        }
    }
}

extension String {
    /// The order the parts of a digest are named in.
    fileprivate var partOrder: Int { ["log", "state", "shown"].firstIndex(of: self) ?? 3 }
}
