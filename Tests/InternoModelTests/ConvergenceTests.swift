import Foundation
import InternoTestSupport
import Testing

@testable import InternoModel

/// Property tests of DESIGN §3.8 and §6.1: a hub and the sites of 3–4 departments (one or two
/// each, plus one whole-organisation site) making random concurrent edits of records between
/// two departments, syncing in random orders, with lost acknowledgements, re-deliveries and
/// refusals. Each site receives only what its scope covers.
@Suite("Convergence, no lost write, idempotence")
struct ConvergenceTests {
    @Test("1200 random scenarios converge within each scope; INTERNO_SEED=N replays one")
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
    "customer": .manual,
    "provider": .manual,
    "title": .manual,
    "details": .manual,
    "firstSeen": .earliest,
    "count": .latest,
    "state": .workflow(Schema.requestLifecycle),
]
private let invalidMarker = FieldValue.text("invalid")
/// The fields that may be edited at random; the parties are written once, at creation.
private let editable: [FieldName] = ["title", "details", "firstSeen", "count", "state"]

/// Who may see a simulated record: the same rule the server applies (DESIGN §6.1).
private func audience(_ record: RecordState) -> Audience? {
    Schema.audience(of: record, lookup: { _, _ in nil })
}

/// One replica of the simulation: its records, log, outbox and cursor.
private struct SimReplica {
    let id: ReplicaID
    let department: UUID
    let scope: Scope
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

/// The central replica: it sequences every accepted change and every void, each with the
/// audience that decides who receives it (DESIGN §6.1).
private struct SimHub {
    var records: [UUID: RecordState] = [:]
    var log: [Change] = []
    var audiences: [Audience] = []
    var held: [Dot: Change] = [:]
    var refusals: [Dot: Refusal] = [:]
    /// The parties each record is created with, fixed.
    let parties: [UUID: Audience]

    enum Outcome { case accepted, duplicate, refused(Refusal) }

    /// Takes a pushed change set whole: duplicate, refused (all of it becomes void), or accepted.
    mutating func push(_ set: ChangeSet) -> Outcome {
        if set.changes.allSatisfy({ held[$0.dot] != nil }) {
            // A refused dot pushed again gets the same answer (DESIGN §3.4).
            if let refusal = refusals[set.changes[0].dot] { return .refused(refusal) }
            return .duplicate
        }
        var refusal: Refusal?
        if set.changes.contains(where: { $0.fields.values.contains(invalidMarker) }) {
            refusal = Refusal(.invalidValue, "the simulated server refuses 'invalid'")
        } else if set.changes.contains(where: { change in
            records[change.recordID]?.exists != true && change.fields["customer"] == nil
        }) {
            // An edit of a record the hub does not have (its creation was refused).
            refusal = Refusal(.notFound, "the simulated server has no such record")
        }
        if let refusal {
            for change in set.changes {
                let void = change.voided(refusal)
                var record = records[change.recordID] ?? RecordState(kind: .request, id: change.recordID)
                try! record.apply(void)
                records[change.recordID] = record
                held[change.dot] = change
                refusals[change.dot] = refusal
                log.append(void)
                // A void goes to whoever may see its record: here the parties it is created
                // with, known to the hub as a feedback's request is to the server.
                audiences.append(parties[change.recordID]!)
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
            guard let audience = audience(staged[change.recordID]!) else {
                fatalError("an accepted change left a record without parties")
            }
            audiences.append(audience)
        }
        return .accepted
    }

    /// The stream as a site with `scope` receives it, from `start` (a sequence index) for
    /// `count` entries of the whole stream.
    func stream(for scope: Scope, from start: Int, count: Int) -> [Change] {
        (start..<start + count).filter { scope.covers(audiences[$0]) }.map { log[$0] }
    }
}

private struct Simulation {
    let seed: UInt64
    var random: SeededGenerator
    var hub: SimHub
    var replicas: [SimReplica]
    let recordIDs: [UUID]
    /// Each record's two parties: customer and provider.
    let parties: [UUID: (customer: UUID, provider: UUID)]
    var writes: [Change] = []
    var failures: [String] = []

    init(seed: UInt64) {
        self.seed = seed
        var random = SeededGenerator(seed: seed)
        let departments = (0..<Int.random(in: 3...4, using: &random)).map { _ in random.uuid() }
        var replicas: [SimReplica] = []
        for department in departments {
            for _ in 0..<Int.random(in: 1...2, using: &random) {
                replicas.append(
                    SimReplica(
                        id: ReplicaID(random.uuid()), department: department, scope: .department(department)))
            }
        }
        // One whole-organisation site: it sees everything and writes as its own department.
        replicas.append(
            SimReplica(
                id: ReplicaID(random.uuid()), department: departments.randomElement(using: &random)!, scope: .all)
        )
        self.replicas = replicas
        let records = Int.random(in: 1...4, using: &random)
        recordIDs = (0..<records).map { _ in random.uuid() }
        var parties: [UUID: (customer: UUID, provider: UUID)] = [:]
        for id in recordIDs {
            let pair = departments.shuffled(using: &random).prefix(2)
            parties[id] = (pair.first!, pair.last!)
        }
        self.parties = parties
        hub = SimHub(parties: parties.mapValues { .departments([$0.customer, $0.provider]) })
        self.random = random
    }

    /// The records a replica's department is a party to: the ones it may write.
    func writable(by index: Int) -> [UUID] {
        recordIDs.filter { [parties[$0]!.customer, parties[$0]!.provider].contains(replicas[index].department) }
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
        var fields = fields
        // A record this replica does not have yet is created: its parties are written first,
        // with an empty context (DESIGN §3.3), by as many parties as do it concurrently.
        if !record.exists {
            fields["customer"] = .id(parties[id]!.customer)
            fields["provider"] = .id(parties[id]!.provider)
        }
        let change = Change(
            dot: replica.nextDot(), kind: .request, recordID: id,
            context: record.exists ? record.clock : VersionVector(), fields: fields,
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
        let writable = writable(by: index)
        guard !writable.isEmpty else { return push(index) }
        let recordCount = random.chance(0.2) ? 2 : 1
        for id in writable.shuffled(using: &random).prefix(recordCount) {
            let current = replicas[index].record(id)
            let names = editable.shuffled(using: &random).prefix(Int.random(in: 1...3, using: &random))
            var fields: [FieldName: FieldValue] = [:]
            for name in names { fields[name] = randomValue(for: name, current: current) }
            write(index, record: id, fields: fields, into: &changes)
        }
        replicas[index].outbox.append(ChangeSet(changes))
    }

    /// A person resolves a conflict: writes one sibling's value (or a new one) over all of them.
    mutating func resolve(_ index: Int) {
        let writable = Set(writable(by: index))
        let conflicts = replicas[index].records.values.filter { writable.contains($0.id) }.flatMap { record in
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
            // The cursor is the hub's sequence: it moves past what the site does not receive.
            for change in hub.stream(for: replicas[index].scope, from: start, count: count) {
                try replicas[index].receive(change)
            }
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
        for change in hub.stream(for: replicas[index].scope, from: start, count: cursor - start) {
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
        let ahead = hub.stream(for: replicas[index].scope, from: cursor, count: hub.log.count - cursor)
        guard let change = ahead.randomElement(using: &random), !change.isVoid else { return }
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
        // Convergence within each scope: a site holds exactly the hub's records its scope
        // covers (clocks and siblings, so values and conflicts), and nothing else; the
        // whole-organisation site holds everything the hub holds.
        for replica in replicas {
            for id in Set(hub.records.keys).union(replica.records.keys) {
                let mine = replica.records[id]
                let covered = replica.scope.covers(hub.parties[id]!)
                let central = covered ? hub.records[id] : nil
                if mine != central {
                    failures.append(
                        "replica \(replica.id) (\(replica.scope)) differs from the hub restricted to its scope on \(id)"
                    )
                }
            }
            if replica.scope == .all, replica.records != hub.records {
                failures.append("the whole-organisation site \(replica.id) differs from the hub")
            }
            for change in replica.log where !replica.scope.covers(hub.parties[change.recordID]!) {
                failures.append("replica \(replica.id) logged \(change.dot) of a record outside its scope")
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
                    where replica.scope.covers(hub.parties[id]!)
                        && replica.records[id]?.resolve(field, policy: policies[field]!) != resolution
                    {
                        failures.append("replica \(replica.id) shows another value of \(field)")
                    }
                }
            }
        }
        // Idempotence: the whole stream a site receives, applied again, changes nothing.
        for replica in replicas {
            var records = replica.records
            for change in hub.stream(for: replica.scope, from: 0, count: hub.log.count) {
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
