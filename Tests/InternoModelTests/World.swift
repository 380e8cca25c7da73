import Foundation
import Testing

@testable import InternoModel

/// A small replicated world for schema tests: departments HR, IT and FAC made by the admin,
/// with every write checked by ``Schema/check(_:by:seen:lookup:receivedAt:)`` before it applies.
struct World {
    var records: [UUID: RecordState] = [:]
    var counter: UInt64 = 0
    let replica = ReplicaID(UUID())
    var departments: [String: UUID] = [:]
    /// The judge's clock: every write is dated a second after the last, from 2026-11-02.
    static let epoch: Int64 = 1_793_577_600_000
    var now: Timestamp { Timestamp(millisecondsSince1970: Self.epoch + Int64(counter + 1) * 1000) }

    init() {
        for code in ["HR", "IT", "FAC"] {
            let id = UUID()
            departments[code] = id
            try! write(
                .department, id,
                [
                    "code": .text(code), "name": .text("\(code) department"), "timeZone": .text("Europe/Lisbon"),
                    "hours": .text("mon-fri 09:00-17:00"),
                ], as: .admin)
        }
    }

    func writer(_ code: String) -> Writer {
        .department(departments[code]!)
    }

    func department(_ code: String) -> FieldValue {
        .id(departments[code]!)
    }

    /// Checks and applies one write by `actor`, against the record as it is here.
    @discardableResult
    mutating func write(
        _ kind: RecordKind, _ id: UUID, _ fields: [FieldName: FieldValue], as writer: Writer
    ) throws(Refusal) -> Change {
        let seen = records[id] ?? RecordState(kind: kind, id: id)
        let at = now
        // As in a store, a refused write uses no counter (and so no second of the clock).
        let change = Change(
            dot: Dot(replica: replica, counter: counter + 1), kind: kind, recordID: id, context: seen.clock,
            fields: fields, author: "tester", at: at)
        let snapshot = records
        try Schema.check(change, by: writer, seen: seen, lookup: { _, id in snapshot[id] }, receivedAt: at)
        counter += 1
        var record = seen
        try! record.apply(change)
        records[id] = record
        return change
    }

    /// Writes as `code`'s department.
    @discardableResult
    mutating func write(_ kind: RecordKind, _ id: UUID, _ fields: [FieldName: FieldValue], by code: String)
        throws(Refusal) -> Change
    {
        try write(kind, id, fields, as: writer(code))
    }

    func value(_ id: UUID, _ field: FieldName) -> FieldValue? {
        guard let record = records[id] else { return nil }
        return record.resolve(field, policy: Schema.spec(record.kind).policy(field)).displayValue
    }

    /// A new request from HR to IT, keyed HR-LIS-1.
    mutating func newRequest(key: String = "HR-LIS-1", from customer: String = "HR", to provider: String = "IT")
        throws(Refusal) -> UUID
    {
        let id = UUID()
        try write(
            .request, id,
            [
                "key": .text(key), "customer": department(customer), "provider": department(provider),
                "title": .text("Laptop for new hire"), "priority": .text("normal"), "state": .text("submitted"),
            ], by: customer)
        return id
    }

    /// Moves a request through `verbs` as whoever may take each step, writing what the step
    /// writes besides the state, as a site does.
    mutating func take(_ id: UUID, _ verbs: String...) throws(Refusal) {
        for verb in verbs {
            let step = Schema.requestLifecycle.step(named: verb)!
            try write(.request, id, stepFields(id, verb), by: step.by == .customer ? "HR" : "IT")
        }
    }

    /// What taking `verb` on request `id` writes now (``Schema/stepWrites(_:seen:at:)``, with a
    /// reason for decline).
    func stepFields(_ id: UUID, _ verb: String) -> [FieldName: FieldValue] {
        let step = Schema.requestLifecycle.step(named: verb)!
        var fields = Schema.stepWrites(step, seen: records[id]!, at: now)
        if verb == "decline" { fields["declineReason"] = .text("not ours") }
        return fields
    }

    /// The terms fingerprint of a standard, as it is here.
    func terms(_ id: UUID) -> String {
        let record = records[id]!
        return Schema.termsFingerprint { record.resolve($0, policy: Schema.spec(.standard).policy($0)) }!
    }

    /// A standard proposed by `proposer`, IT providing to HR.
    mutating func newStandard(by proposer: String = "IT") throws(Refusal) -> UUID {
        let id = UUID()
        try write(
            .standard, id,
            [
                "provider": department("IT"), "customer": department("HR"), "service": .text("Laptops"),
                "ackTarget": .duration(3600), "deliverTarget": .duration(86_400 * 5), "csatTarget": .integer(80),
                "complianceTarget": .integer(90),
            ], by: proposer)
        return id
    }
}

/// Expects `body` to be refused with `code`, with a message containing every part of `words`.
func expectRefusal(
    _ code: Refusal.Code, _ words: String..., sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected a refusal (\(code)), but the write was accepted", sourceLocation: sourceLocation)
    } catch let error as Refusal {
        #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
        for word in words {
            #expect(error.message.contains(word), "'\(error.message)' lacks '\(word)'", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a refusal (\(code)), got \(error)", sourceLocation: sourceLocation)
    }
}
