import Foundation
import Testing

@testable import InternoModel

/// Property tests of DESIGN §3.8: a hub and 3–6 replicas making random concurrent edits,
/// syncing in random orders, with lost acknowledgements, re-deliveries and refusals.
@Suite("Convergence, no lost write, idempotence")
struct ConvergenceTests {
    @Test("1200 random scenarios converge; INTERNO_SEED=N replays one")
    func randomScenarios() {
        for seed in Seeds.scenarios(count: 1200) {
            var simulation = Simulation(seed: seed)
            simulation.run()
            let failures = simulation.check()
            #expect(failures.isEmpty, "scenario failed; replay it with INTERNO_SEED=\(seed): \(failures.prefix(5))")
            if !failures.isEmpty { return }
        }
    }
}

/// The field policies of the simulated record kind.
private let policies: [FieldName: FieldPolicy] = [
    "title": .manual,
    "details": .manual,
    "firstSeen": .earliest,
    "count": .latest,
    "state": .workflow(Schema.requestLifecycle),
]
private let invalidMarker = FieldValue.text("invalid")

/// One replica of the simulation: its records, log, outbox and cursor.
private struct SimReplica {
    let id: ReplicaID
    var counter: UInt64 = 0
    var records: [UUID: RecordState] = [:]
    var log: [Change] = []
    var outbox: [ChangeSet] = []
    var cursor = 0
    var refused: [Dot: Refusal] = [:]

    mutating func nextDot() -> Dot {
        counter += 1
        return Dot(replica: id, counter: counter)
    }

    func record(_ id: UUID) -> RecordState {
        records[id] ?? RecordState(kind: .request, id: id)
    }

    /// Applies a change that arrived from the hub; learns a refusal of its own write from a void.
    mutating func receive(_ change: Change) throws(ApplyError) {
        if let refusal = change.refusal, change.dot.replica == id, refused[change.dot] == nil {
            learnRefusal(of: change.dot, refusal)
            return
        }
        var record = record(change.recordID)
        if try record.apply(change) == .applied {
            records[change.recordID] = record
            log.append(change)
        }
    }

    /// DESIGN §3.4: rebuild the record from the log without the refused change.
    mutating func learnRefusal(of dot: Dot, _ refusal: Refusal) {
        guard refused[dot] == nil, let change = log.first(where: { $0.dot == dot }) else { return }
        refused[dot] = refusal
        let changes = log.filter { $0.recordID == change.recordID }
        records[change.recordID] = try! RecordState.replay(
            kind: .request, id: change.recordID, changes: changes, voided: refused)
        outbox.removeAll { set in set.changes.contains { $0.dot == dot } }
    }
}

/// The central replica: it sequences every accepted change and every void.
private struct SimHub {
    var records: [UUID: RecordState] = [:]
    var log: [Change] = []
    var held: [Dot: Change] = [:]
    var refusals: [Dot: Refusal] = [:]

    enum Outcome { case accepted, duplicate, refused(Refusal) }

    /// Takes a pushed change set whole: duplicate, refused (all of it becomes void), or accepted.
    mutating func push(_ set: ChangeSet) -> Outcome {
        if set.changes.allSatisfy({ held[$0.dot] != nil }) {
            // A refused dot pushed again gets the same answer (DESIGN §3.4).
            if let refusal = refusals[set.changes[0].dot] { return .refused(refusal) }
            return .duplicate
        }
        let invalid = set.changes.contains { $0.fields.values.contains(invalidMarker) }
        if invalid {
            let refusal = Refusal(.invalidValue, "the simulated server refuses 'invalid'")
            for change in set.changes {
                let void = change.voided(refusal)
                var record = records[change.recordID] ?? RecordState(kind: .request, id: change.recordID)
                try! record.apply(void)
                records[change.recordID] = record
                held[change.dot] = change
                refusals[change.dot] = refusal
                log.append(void)
            }
            return .refused(refusal)
        }
        var staged = records
        for change in set.changes {
            var record = staged[change.recordID] ?? RecordState(kind: .request, id: change.recordID)
            do {
                try record.apply(change)
            } catch {
                // The star topology guarantees causal delivery; a gap here is a simulation bug.
                fatalError("hub gap: \(error)")
            }
            staged[change.recordID] = record
        }
        records = staged
        for change in set.changes {
            held[change.dot] = change
            log.append(change)
        }
        return .accepted
    }
}

private struct Simulation {
    let seed: UInt64
    var random: SeededGenerator
    var hub = SimHub()
    var replicas: [SimReplica]
    let recordIDs: [UUID]
    var writes: [Change] = []
    var failures: [String] = []

    init(seed: UInt64) {
        self.seed = seed
        var random = SeededGenerator(seed: seed)
        let count = Int.random(in: 3...6, using: &random)
        replicas = (0..<count).map { _ in SimReplica(id: ReplicaID(randomUUID(&random))) }
        let records = Int.random(in: 1...4, using: &random)
        recordIDs = (0..<records).map { _ in randomUUID(&random) }
        self.random = random
    }

    mutating func run() {
        let steps = Int.random(in: 20...90, using: &random)
        for _ in 0..<steps {
            let index = Int.random(in: 0..<replicas.count, using: &random)
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<40: edit(index)
            case 40..<50: resolve(index)
            case 50..<70: push(index)
            case 70..<90: pull(index)
            case 90..<95: redeliver(index)
            default: deliverEarly(index)
            }
        }
        // Quiesce: everyone pushes everything and pulls everything, until nothing moves.
        for _ in 0..<4 {
            for index in replicas.indices { push(index, all: true, lossy: false) }
            for index in replicas.indices { pull(index, all: true, lossy: false) }
        }
    }

    // MARK: Operations

    mutating func randomValue(for field: FieldName, current: RecordState) -> FieldValue {
        switch field {
        case "title", "details":
            if random.chance(0.05) { return invalidMarker }
            return .text(["a", "b", "c"].randomElement(using: &random)!)
        case "firstSeen":
            return .time(Timestamp(millisecondsSince1970: Int64.random(in: 0...5, using: &random)))
        case "count":
            return .integer(Int64.random(in: 0...5, using: &random))
        default:
            let lifecycle = Schema.requestLifecycle
            let resolution = current.resolve("state", policy: .workflow(lifecycle))
            if case .value(.text(let state)) = resolution, random.chance(0.8),
                let step = lifecycle.steps(from: state).randomElement(using: &random)
            {
                return .text(step.to)
            }
            return .text(lifecycle.states.randomElement(using: &random)!)
        }
    }

    mutating func write(_ index: Int, record id: UUID, fields: [FieldName: FieldValue], into changes: inout [Change]) {
        var replica = replicas[index]
        var record = replica.record(id)
        let change = Change(
            dot: replica.nextDot(), kind: .request, recordID: id, context: record.clock, fields: fields,
            author: "user\(index)", at: Timestamp(millisecondsSince1970: Int64(replica.counter)))
        do {
            #expect(try record.apply(change) == .applied)
        } catch {
            failures.append("local write failed to apply: \(error)")
        }
        replica.records[id] = record
        replica.log.append(change)
        replicas[index] = replica
        writes.append(change)
        changes.append(change)
    }

    mutating func edit(_ index: Int) {
        var changes: [Change] = []
        let recordCount = random.chance(0.2) ? 2 : 1
        for _ in 0..<recordCount {
            let id = recordIDs.randomElement(using: &random)!
            let current = replicas[index].record(id)
            let names = Array(policies.keys).shuffled(using: &random).prefix(Int.random(in: 1...3, using: &random))
            var fields: [FieldName: FieldValue] = [:]
            for name in names { fields[name] = randomValue(for: name, current: current) }
            write(index, record: id, fields: fields, into: &changes)
        }
        replicas[index].outbox.append(ChangeSet(changes))
    }

    /// A person resolves a conflict: writes one sibling's value (or a new one) over all of them.
    mutating func resolve(_ index: Int) {
        let conflicts = replicas[index].records.values.flatMap { record in
            record.fields.keys.filter { record.resolve($0, policy: policies[$0]!).isConflict }.map { (record.id, $0) }
        }.sorted { ($0.0.uuidString, $0.1) < ($1.0.uuidString, $1.1) }
        guard let (id, field) = conflicts.randomElement(using: &random) else { return edit(index) }
        let siblings = replicas[index].record(id).siblings(field)
        let value =
            random.chance(0.8)
            ? siblings.randomElement(using: &random)!.value
            : randomValue(for: field, current: replicas[index].record(id))
        var changes: [Change] = []
        write(index, record: id, fields: [field: value], into: &changes)
        replicas[index].outbox.append(ChangeSet(changes))
        if value != invalidMarker {
            let after = replicas[index].record(id).resolve(field, policy: policies[field]!)
            if after.isConflict { failures.append("a resolution left \(field) in conflict locally") }
        }
    }

    mutating func push(_ index: Int, all: Bool = false, lossy: Bool = true) {
        let pending = replicas[index].outbox
        let count = all ? pending.count : Int.random(in: 0...pending.count, using: &random)
        let lostAck = lossy && random.chance(0.15)
        for set in pending.prefix(count) {
            let outcome = hub.push(set)
            if lostAck { continue }  // the connection broke before the result arrived
            switch outcome {
            case .accepted, .duplicate:
                replicas[index].outbox.removeAll { $0 == set }
            case .refused(let refusal):
                for change in set.changes { replicas[index].learnRefusal(of: change.dot, refusal) }
            }
        }
    }

    mutating func pull(_ index: Int, all: Bool = false, lossy: Bool = true) {
        let start = replicas[index].cursor
        let available = hub.log.count - start
        let count = all ? available : Int.random(in: 0...available, using: &random)
        // A crash before the batch's transaction commits: nothing applied, the cursor stays.
        if lossy && random.chance(0.1) { return }
        let before = replicas[index]
        do {
            for change in hub.log[start..<start + count] { try replicas[index].receive(change) }
            replicas[index].cursor = start + count
        } catch {
            replicas[index] = before
            failures.append("pull in server order hit \(error)")
        }
    }

    /// Re-delivers already pulled changes: nothing may change.
    mutating func redeliver(_ index: Int) {
        let cursor = replicas[index].cursor
        guard cursor > 0 else { return }
        let start = Int.random(in: 0..<cursor, using: &random)
        let before = replicas[index].records
        for change in hub.log[start..<cursor] {
            do {
                var record = replicas[index].record(change.recordID)
                let outcome = try record.apply(change)
                if outcome != .alreadySeen { failures.append("re-delivery of \(change.dot) was applied again") }
            } catch {
                failures.append("re-delivery of \(change.dot) threw \(error)")
            }
        }
        if replicas[index].records != before { failures.append("re-delivery changed state") }
    }

    /// Offers a change from further down the hub's stream: either it applies causally, or it is
    /// refused as a gap and nothing changes.
    mutating func deliverEarly(_ index: Int) {
        let cursor = replicas[index].cursor
        guard cursor < hub.log.count else { return }
        let change = hub.log[Int.random(in: cursor..<hub.log.count, using: &random)]
        guard !change.isVoid else { return }
        var record = replicas[index].record(change.recordID)
        let before = record
        do {
            if try record.apply(change) == .applied {
                replicas[index].records[change.recordID] = record
                replicas[index].log.append(change)
            }
        } catch {
            guard case .causalityGap = error else { return failures.append("unexpected \(error)") }
            if record != before { failures.append("a refused out-of-order change modified the record") }
        }
    }

    // MARK: Invariants

    func check() -> [String] {
        var failures = failures
        for replica in replicas where !replica.outbox.isEmpty {
            failures.append("replica \(replica.id) still has \(replica.outbox.count) pending change sets")
        }
        // Convergence: identical records (clocks and siblings), so identical values and conflicts.
        for replica in replicas {
            for id in Set(hub.records.keys).union(replica.records.keys) {
                let mine = replica.records[id]
                let central = hub.records[id]
                if mine != central {
                    failures.append("replica \(replica.id) differs from the hub on record \(id)")
                }
            }
        }
        // No lost write, exactly: siblings are the writes no later write of the field had seen.
        let refusedDots = Set(hub.log.filter(\.isVoid).map(\.dot))
        let accepted = writes.filter { !refusedDots.contains($0.dot) }
        for id in recordIDs {
            for field in policies.keys {
                let writesOfField = accepted.filter { $0.recordID == id && $0.fields[field] != nil }
                let expected = Set(
                    writesOfField.filter { write in
                        !writesOfField.contains { $0.dot != write.dot && $0.context.covers(write.dot) }
                    }.map(\.dot))
                let actual = Set(hub.records[id]?.siblings(field).map(\.dot) ?? [])
                if expected != actual {
                    failures.append("record \(id) field \(field): siblings \(actual) but expected \(expected)")
                }
                if let record = hub.records[id] {
                    let resolution = record.resolve(field, policy: policies[field]!)
                    for replica in replicas
                    where replica.records[id]?.resolve(field, policy: policies[field]!) != resolution {
                        failures.append("replica \(replica.id) shows another value of \(field)")
                    }
                }
            }
        }
        // Idempotence: the whole stream applied again changes nothing, anywhere.
        for replica in replicas {
            var records = replica.records
            for change in hub.log {
                var record = records[change.recordID] ?? RecordState(kind: .request, id: change.recordID)
                if (try? record.apply(change)) != .alreadySeen {
                    failures.append("re-applying \(change.dot) on \(replica.id) was not a no-op")
                }
                records[change.recordID] = record
            }
            if records != replica.records { failures.append("re-applying the stream changed \(replica.id)") }
        }
        // The log is the source of truth: replaying the hub's stream rebuilds the same records.
        for id in recordIDs {
            let rebuilt = try? RecordState.replay(kind: .request, id: id, changes: hub.log.filter { $0.recordID == id })
            if hub.records[id] != nil, rebuilt != hub.records[id] {
                failures.append("replaying the log of \(id) does not rebuild the record")
            }
        }
        return failures
    }
}

private func randomUUID(_ random: inout SeededGenerator) -> UUID {
    let high = random.next()
    let low = random.next()
    var bytes = withUnsafeBytes(of: high) { Array($0) } + withUnsafeBytes(of: low) { Array($0) }
    bytes[6] = (bytes[6] & 0x0F) | 0x40
    bytes[8] = (bytes[8] & 0x3F) | 0x80
    return UUID(bytes: bytes)!
}
