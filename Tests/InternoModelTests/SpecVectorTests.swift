import Foundation
import Testing

@testable import InternoModel

/// The vectors of `Protocol/vectors/*.json` hold for the model: what a second implementation
/// checks itself against is what this one does.
@Suite("Spec vectors (Protocol/README.md §12)")
struct SpecVectorTests {
    // MARK: fingerprints.json

    struct Fingerprints: Decodable {
        struct Case: Decodable {
            let name: String
            let terms: [String: VectorValue]
            let canonical: String
            let fingerprint: String
        }
        struct Judged: Decodable {
            let change: VectorChange
            let refusal: Int?
            let agreedAfter: Bool?
        }
        struct Signed: Decodable {
            let standard: UUID
            let fingerprint: String
            let changes: [Judged]
            let refused: [Judged]
        }
        struct FeedbackID: Decodable {
            let request: UUID
            let side: String
            let id: UUID
        }
        let cases: [Case]
        let signed: Signed
        let feedbackIDs: [FeedbackID]
    }

    @Test func feedbackIDsAreDerivedFromRequestAndSide() throws {
        let vectors = try SpecFiles.load(Fingerprints.self, "vectors/fingerprints.json")
        #expect(vectors.feedbackIDs.count == 4)
        for vector in vectors.feedbackIDs {
            let side = try #require(Role(rawValue: vector.side))
            #expect(
                Schema.feedbackID(request: vector.request, by: side) == vector.id, "\(vector.request) \(vector.side)")
        }
    }

    @Test func aStandardsTermsHashToTheirFingerprint() throws {
        let vectors = try SpecFiles.load(Fingerprints.self, "vectors/fingerprints.json")
        #expect(vectors.cases.count >= 4)
        for vector in vectors.cases {
            let resolve = { (name: FieldName) in vector.terms[name].map { FieldResolution.value($0.value) } ?? .unset }
            #expect(Schema.canonicalTerms(of: resolve) == vector.canonical, "\(vector.name)")
            #expect(Schema.termsFingerprint(of: resolve) == vector.fingerprint, "\(vector.name)")
            #expect(DerivedID.fingerprint(vector.canonical) == vector.fingerprint, "\(vector.name)")
        }
    }

    @Test func aSignedStandardIsAgreedAndASignatureOnOtherTermsIsRefused() throws {
        let vectors = try SpecFiles.load(Fingerprints.self, "vectors/fingerprints.json")
        var world = try JudgedWorld(try VectorWorld.load())
        let standard = try #require(world.records[vectors.signed.standard])
        #expect(
            Schema.termsFingerprint { standard.resolve($0, policy: Schema.spec(.standard).policy($0)) }
                == vectors.signed.fingerprint)
        #expect(!Schema.isAgreed(standard), "only the provider has signed in world.json")
        for judged in vectors.signed.refused {
            let change = try judged.change.change(in: world.world)
            let refusal = world.judge(change, by: try world.world.writer(judged.change.replica), receivedAt: change.at)
            #expect(refusal?.code.rawValue == judged.refusal, "\(refusal?.message ?? "accepted")")
        }
        for judged in vectors.signed.changes {
            let change = try judged.change.change(in: world.world)
            let refusal = world.judge(change, by: try world.world.writer(judged.change.replica), receivedAt: change.at)
            #expect(refusal?.code.rawValue == judged.refusal, "\(refusal?.message ?? "accepted")")
            try world.apply(change)
            #expect(Schema.isAgreed(world.records[vectors.signed.standard]!) == judged.agreedAfter)
        }
    }

    // MARK: canonical-text.json

    struct CanonicalText: Decodable {
        struct Case: Decodable {
            let text: String
            let canonical: String?
            let accepted: Bool
        }
        struct Duration: Decodable {
            let text: String
            let seconds: Int64
            let canonical: String
        }
        struct BusinessTime: Decodable {
            let hours: String
            let durationSeconds: Int64
            let dayLengthMs: Int64
            let businessMs: Int64

            enum CodingKeys: String, CodingKey {
                case hours
                case durationSeconds = "duration_seconds"
                case dayLengthMs = "dayLength_ms"
                case businessMs = "business_ms"
            }
        }
        let hours: [Case]
        let holidays: [Case]
        let priorityTargets: [Case]
        let durations: [Duration]
        let businessTime: [BusinessTime]
    }

    static func accepts(_ text: String, _ kind: RecordKind, _ field: FieldName) -> Bool {
        (try? Schema.validate(.text(text), for: Schema.spec(kind).field(field)!, of: kind)) != nil
    }

    @Test func hoursHolidaysAndPriorityTargetsHaveOneCanonicalText() throws {
        let vectors = try SpecFiles.load(CanonicalText.self, "vectors/canonical-text.json")
        for vector in vectors.hours {
            #expect((try? WeeklyHours(parsing: vector.text))?.description == vector.canonical, "\(vector.text)")
            #expect(Self.accepts(vector.text, .department, "hours") == vector.accepted, "\(vector.text)")
        }
        for vector in vectors.holidays {
            let canonical = (try? CalendarDate.parseList(vector.text))?.map(\.description).joined(separator: ", ")
            #expect(canonical == vector.canonical, "\(vector.text)")
            #expect(Self.accepts(vector.text, .department, "holidays") == vector.accepted, "\(vector.text)")
        }
        for vector in vectors.priorityTargets {
            #expect((try? PriorityTargets(parsing: vector.text))?.description == vector.canonical, "\(vector.text)")
            #expect(Self.accepts(vector.text, .standard, "priorityTargets") == vector.accepted, "\(vector.text)")
        }
        // Every kind of verdict is there: the canonical form, a text that parses to another, one that does not.
        for cases in [vectors.hours, vectors.holidays, vectors.priorityTargets] {
            #expect(cases.contains { $0.accepted })
            #expect(cases.contains { !$0.accepted && $0.canonical != nil })
            #expect(cases.contains { $0.canonical == nil })
        }
    }

    @Test func targetsInDaysAreSecondsAndBusinessDays() throws {
        let vectors = try SpecFiles.load(CanonicalText.self, "vectors/canonical-text.json")
        for vector in vectors.durations {
            #expect(DurationText.parse(vector.text) == vector.seconds, "\(vector.text)")
            #expect(DurationText.format(seconds: vector.seconds) == vector.canonical, "\(vector.text)")
        }
        for vector in vectors.businessTime {
            let calendar = BusinessCalendar(
                timeZone: TimeZone(identifier: "UTC")!, hours: try WeeklyHours(parsing: vector.hours))
            #expect(calendar.dayLength == vector.dayLengthMs, "\(vector.hours)")
            #expect(
                calendar.businessMilliseconds(forTarget: vector.durationSeconds) == vector.businessMs, "\(vector.hours)"
            )
        }
    }

    // MARK: merges.json

    struct Merges: Decodable {
        struct Expectation: Decodable {
            let value: VectorValue?
            let conflict: [VectorValue]?
            let provisional: VectorValue?
        }
        struct Case: Decodable {
            let name: String
            let changes: [VectorChange]
            let expect: [String: Expectation]
        }
        let cases: [Case]
    }

    @Test func concurrentWritesResolveAsTheVectorsSayInEveryOrder() throws {
        let vectors = try SpecFiles.load(Merges.self, "vectors/merges.json")
        let world = try JudgedWorld(try VectorWorld.load())
        #expect(vectors.cases.contains { $0.name.contains("two sites of the provider acknowledge") })
        for vector in vectors.cases {
            let changes = try vector.changes.map { try $0.change(in: world.world) }
            for (written, change) in zip(vector.changes, changes) {
                let refusal = world.judge(change, by: try world.world.writer(written.replica), receivedAt: change.at)
                #expect(refusal == nil, "\(vector.name): \(refusal?.message ?? "")")
            }
            var results: Set<RecordState> = []
            for order in permutations(changes) {
                var replica = world
                for change in order { try replica.apply(change) }
                let record = try #require(replica.records[changes[0].recordID])
                results.insert(record)
                for (field, expected) in vector.expect {
                    let resolution = record.resolve(field, policy: Schema.spec(record.kind).policy(field))
                    if let value = expected.value {
                        #expect(resolution == .value(value.value), "\(vector.name): \(field)")
                    } else {
                        guard case .conflict(let provisional, let siblings) = resolution else {
                            Issue.record("\(vector.name): \(field) is \(resolution), not a conflict")
                            continue
                        }
                        #expect(Set(siblings.map(\.value)) == Set((expected.conflict ?? []).map(\.value)))
                        #expect(provisional == expected.provisional?.value, "\(vector.name): \(field)")
                    }
                }
            }
            #expect(results.count == 1, "\(vector.name): the order of arrival changed the record")
        }
    }

    func permutations<T>(_ items: [T]) -> [[T]] {
        guard items.count > 1 else { return [items] }
        return items.indices.flatMap { index in
            var rest = items
            let first = rest.remove(at: index)
            return permutations(rest).map { [first] + $0 }
        }
    }

    // MARK: checks.json

    struct Checks: Decodable {
        struct Case: Decodable {
            let name: String
            let change: VectorChange
            let receivedAtMs: Int64
            let refusal: Int?
            let breaks: [Int]?

            enum CodingKeys: String, CodingKey {
                case name, change, refusal, breaks
                case receivedAtMs = "receivedAt_ms"
            }
        }
        let cases: [Case]
    }

    @Test func everyChangeIsJudgedAsTheVectorsSay() throws {
        let vectors = try SpecFiles.load(Checks.self, "vectors/checks.json")
        let world = try JudgedWorld(try VectorWorld.load())
        for vector in vectors.cases {
            let change = try vector.change.change(in: world.world)
            let refusal = world.judge(
                change, by: try world.world.writer(vector.change.replica),
                receivedAt: Timestamp(millisecondsSince1970: vector.receivedAtMs))
            #expect(
                refusal?.code.rawValue == vector.refusal,
                "\(vector.name): \(refusal.map { "\($0.code.rawValue) \($0.message)" } ?? "accepted")")
        }
    }

    /// Which refusal wins when several rules fail: the first check of §12.11 that fails.
    @Test func aChangeBreakingTwoRulesGetsTheCodeOfTheEarlierCheck() throws {
        let vectors = try SpecFiles.load(Checks.self, "vectors/checks.json")
        let document = try SpecFiles.load(SpecDocument.self, "schema.json")
        let pairs = vectors.cases.filter { ($0.breaks?.count ?? 0) >= 2 }
        // Every pair of neighbouring checks is covered.
        for step in document.checkOrder.map(\.step).dropLast() {
            #expect(
                pairs.contains { $0.breaks!.contains(step) && $0.breaks!.contains(step + 1) },
                "checks \(step), \(step + 1)")
        }
        for vector in pairs {
            let first = try #require(vector.breaks?.min())
            let check = try #require(document.checkOrder.first { $0.step == first })
            #expect(
                check.codes.contains(try #require(vector.refusal)),
                "\(vector.name): check \(first) gives \(check.codes)")
        }
    }
}
