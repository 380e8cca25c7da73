import Foundation
import Testing

@testable import InternoModel

extension World {
    /// A round of IT's `service` asking HR (12 invited) and FAC, open for `days` from now.
    mutating func openRound(
        of service: UUID, paired: Bool = false, days: Int64 = 10, by writer: String = "IT"
    ) throws(Refusal) -> UUID {
        let id = UUID()
        let customers = Schema.invitationsText([(departments["HR"]!, 12), (departments["FAC"]!, nil)])
        try write(
            .round, id,
            [
                "provider": department("IT"), "service": .id(service), "customers": .text(customers),
                "form": .text(paired ? "paired" : "perceptions"), "opens": .time(now),
                "closes": .time(Timestamp(millisecondsSince1970: now.millisecondsSince1970 + days * 86_400_000)),
            ], by: writer)
        return id
    }

    /// One answer by `customer`, its author `author` (a site's code).
    @discardableResult
    mutating func answer(
        _ round: UUID, by customer: String = "HR", scores: [Int64] = [5, 6, 3, 6, 4], expected: [Int64]? = nil,
        nps: Int64 = 8, author: String = "HR-LIS", at: Timestamp? = nil
    ) throws(Refusal) -> UUID {
        var fields: [FieldName: FieldValue] = [
            "round": .id(round), "customer": department(customer), "provider": department("IT"), "nps": .integer(nps),
        ]
        for (dimension, score) in zip(Schema.surveyDimensions, scores) { fields[dimension] = .integer(score) }
        for (dimension, score) in zip(Schema.surveyDimensions, expected ?? []) {
            fields[Schema.expectationField(dimension)] = .integer(score)
        }
        let id = UUID()
        let seen = RecordState(kind: .answer, id: id)
        let time = at ?? now
        let change = Change(
            dot: Dot(replica: replica, counter: counter + 1), kind: .answer, recordID: id, context: seen.clock,
            fields: fields, author: author, at: time)
        let snapshot = records
        try Schema.check(
            change, by: writer(customer), seen: seen, lookup: { _, id in snapshot[id] },
            receivedAt: Timestamp(millisecondsSince1970: max(time.millisecondsSince1970, now.millisecondsSince1970)))
        counter += 1
        var record = seen
        try! record.apply(change)
        records[id] = record
        return id
    }
}

/// Survey rounds and answers (schema version 2, Protocol/README.md §12.3, DESIGN §7.8), and the
/// arithmetic of `report survey` on hand-computed answers.
@Suite("Surveys: rounds, anonymous answers, and their report")
struct SurveyTests {
    @Test func aProviderOpensARoundOfItsOwnServiceForOtherDepartments() throws {
        var world = World()
        let laptops = try world.newService()
        let round = try world.openRound(of: laptops)
        expectRefusal(.notPermitted, "HR may not open a survey round for IT") {
            _ = try world.openRound(of: laptops, by: "HR")
        }
        expectRefusal(.invalidValue, "must be from 1 to 50 department ids") {
            try world.write(
                .round, UUID(),
                [
                    "provider": world.department("IT"), "service": .id(laptops),
                    "customers": .text("\(world.departments["HR"]!.text),\(world.departments["HR"]!.text)"),
                    "form": .text("perceptions"), "opens": .time(world.now), "closes": .time(world.now),
                ], by: "IT")
        }
        expectRefusal(.invalidValue, "closes after it opens") {
            try world.write(.round, round, ["closes": .time(Timestamp(millisecondsSince1970: World.epoch))], by: "IT")
        }
        try world.write(.round, round, ["closed": .bool(true)], by: "IT")
        expectRefusal(.notPermitted, "is closed") {
            try world.write(
                .round, round, ["closes": .time(Timestamp(millisecondsSince1970: World.epoch * 2))], by: "IT")
        }
        // The round is seen by its provider and the departments it asks.
        let lookup: Schema.Lookup = { [records = world.records] _, id in records[id] }
        #expect(
            Schema.audience(of: world.records[round]!, lookup: lookup)
                == .departments(Set(["IT", "HR", "FAC"].map { world.departments[$0]! })))
        #expect(
            Schema.parseInvitations(world.records[round]!.value(of: "customers")!.text!)!.map(\.invited).contains(12))
    }

    @Test func aWholeOrganisationSiteMayRunARoundOfAnyService() throws {
        var world = World()
        let laptops = try world.newService()
        let round = UUID()
        let change = Change(
            dot: Dot(replica: world.replica, counter: world.counter + 1), kind: .round, recordID: round,
            context: VersionVector(),
            fields: [
                "provider": world.department("IT"), "service": .id(laptops),
                "customers": .text(Schema.invitationsText([(world.departments["HR"]!, nil)])),
                "form": .text("perceptions"), "opens": .time(world.now),
                "closes": .time(Timestamp(millisecondsSince1970: world.now.millisecondsSince1970 + 86_400_000)),
            ], author: "rita@QA-LIS", at: world.now)
        let records = world.records
        let seen = RecordState(kind: .round, id: round)
        // FAC at a department site may not; the same writer at a whole-organisation site may.
        expectRefusal(.notPermitted, "FAC may not open a survey round for IT", "whole-organisation") {
            try Schema.check(
                change, by: world.writer("FAC"), seen: seen, lookup: { _, id in records[id] }, receivedAt: world.now)
        }
        try Schema.check(
            change, by: world.writer("FAC"), seen: seen, lookup: { _, id in records[id] }, receivedAt: world.now,
            seesAll: true)
    }

    @Test func anAnswerIsAnonymousFromADepartmentAskedWithinTheWindow() throws {
        var world = World()
        let laptops = try world.newService()
        let round = try world.openRound(of: laptops)
        let answer = try world.answer(round)
        let lookup: Schema.Lookup = { [records = world.records] _, id in records[id] }
        #expect(
            Schema.audience(of: world.records[answer]!, lookup: lookup)
                == .departments([world.departments["HR"]!, world.departments["IT"]!]))

        expectRefusal(.invalidValue, "anonymous", "never a person") { try world.answer(round, author: "ana@HR-LIS") }
        expectRefusal(.notPermitted, "IT is not asked in this survey round; it asks FAC, HR") {
            try world.answer(round, by: "IT", author: "IT-OPO")
        }
        expectRefusal(.invalidValue, "tangibles of an answer must be a whole number from 1 to 7; got 8") {
            try world.answer(round, scores: [8, 6, 3, 6, 4])
        }
        expectRefusal(.invalidValue, "likelihood to recommend of an answer", "0 to 10") {
            try world.answer(round, nps: 11)
        }
        expectRefusal(.invalidValue, "perceptions only") { try world.answer(round, expected: [5, 5, 5, 5, 5]) }
        let early = Timestamp(millisecondsSince1970: world.now.millisecondsSince1970 - 86_400_000)
        expectRefusal(.notPermitted, "opens at", "before it is refused") { try world.answer(round, at: early) }
        let late = Timestamp(millisecondsSince1970: world.now.millisecondsSince1970 + 11 * 86_400_000)
        expectRefusal(.notPermitted, "closed at", "after it are refused") { try world.answer(round, at: late) }
        let beforeClosing = world.now
        try world.write(.round, round, ["closed": .bool(true)], by: "IT")
        expectRefusal(.notPermitted, "is closed") { try world.answer(round, by: "FAC", author: "FAC-LIS") }
        // Written offline before the round was closed: it stands.
        try world.answer(round, by: "FAC", author: "FAC-LIS", at: beforeClosing)

        // An action about the round is between its provider and a department it asked.
        _ = try world.newAction(extra: ["round": .id(round)])
        expectRefusal(.invalidValue, "between its provider, IT, and a department it asked") {
            _ = try world.newAction(owner: "HR", extra: ["round": .id(round), "provider": world.department("FAC")])
        }
        let paired = try world.openRound(of: laptops, paired: true)
        expectRefusal(.invalidValue, "expected score of each dimension", "expectTangibles") {
            try world.answer(paired)
        }
        try world.answer(paired, expected: [6, 7, 6, 6, 6])
    }

    /// Four answers from HR and one from FAC, by hand:
    ///
    /// | respondent | T | R | Rs | A | E | nps | expected T R Rs A E |
    /// | HR 1 | 5 | 6 | 3 | 6 | 4 | 9 | 6 7 6 6 6 |
    /// | HR 2 | 4 | 6 | 2 | 5 | 4 | 6 | 5 7 6 6 5 |
    /// | HR 3 | 6 | 7 | 4 | 6 | 5 | 10 | 6 7 5 6 6 |
    /// | FAC 1 | 5 | 5 | 5 | 5 | 5 | 7 | 5 5 5 5 5 |
    ///
    /// Perceptions: T (5+4+6+5)/4 = 5.00, R 24/4 = 6.00, Rs 14/4 = 3.50, A 22/4 = 5.50,
    /// E 18/4 = 4.50; overall 98/20 = 4.90. Expectations: T 22/4 = 5.50, R 26/4 = 6.50,
    /// Rs 22/4 = 5.50, A 23/4 = 5.75, E 22/4 = 5.50. Gaps per respondent then averaged: T −2/4 =
    /// −0.50, R −2/4 = −0.50, Rs −8/4 = −2.00, A −1/4 = −0.25, E −4/4 = −1.00; overall −17/20 =
    /// −0.85. NPS: promoters 2 (9, 10), detractors 1 (6), of 4: 100 × 1/4 = +25.0.
    /// HR alone (3): overall (15+19+9+17+13)/15 = 73/15 = 4.866… → 4.87; NPS 100 × (2−1)/3 = 33.3.
    /// FAC alone (1): too few responses with a minimum of 3.
    @Test func theReportAveragesPerRespondentThenAcrossAndHidesSmallGroups() {
        let answers = [
            SurveyAnswer(customer: "HR", perceptions: [5, 6, 3, 6, 4], expectations: [6, 7, 6, 6, 6], nps: 9),
            SurveyAnswer(customer: "HR", perceptions: [4, 6, 2, 5, 4], expectations: [5, 7, 6, 6, 5], nps: 6),
            SurveyAnswer(customer: "HR", perceptions: [6, 7, 4, 6, 5], expectations: [6, 7, 5, 6, 6], nps: 10),
            SurveyAnswer(customer: "FAC", perceptions: [5, 5, 5, 5, 5], expectations: [5, 5, 5, 5, 5], nps: 7),
        ]
        // The previous round: two answers, both 4 everywhere, NPS 5 and 9: NPS 0.0, overall 4.00.
        let earlier = [
            SurveyAnswer(customer: "HR", perceptions: [4, 4, 4, 4, 4], expectations: [6, 6, 6, 6, 6], nps: 5),
            SurveyAnswer(customer: "HR", perceptions: [4, 4, 4, 4, 4], expectations: [6, 6, 6, 6, 6], nps: 9),
        ]
        let report = SurveyReport.make(
            round: "r2", service: "Laptops", provider: "IT", form: "paired", opens: Timestamp(millisecondsSince1970: 0),
            closes: Timestamp(millisecondsSince1970: 1), customers: [("HR", 12), ("FAC", nil)], answers: answers,
            previous: ("r1", earlier), minimum: 2)
        let figures = report.figures
        #expect(figures.responses == 4)
        #expect(figures.dimensions.map(\.perception) == [5.00, 6.00, 3.50, 5.50, 4.50])
        #expect(figures.dimensions.map(\.expectation) == [5.50, 6.50, 5.50, 5.75, 5.50])
        #expect(figures.dimensions.map(\.gap) == [-0.50, -0.50, -2.00, -0.25, -1.00])
        #expect(figures.overall == 4.90)
        #expect(figures.overallGap == -0.85)
        #expect(figures.nps == 25.0)
        #expect([figures.promoters, figures.passives, figures.detractors] == [2, 1, 1])
        #expect(report.previousRound == "r1")
        #expect(report.previous?.overall == 4.00)
        #expect(report.previous?.nps == 0.0)
        #expect(figures.overallChange == 0.90)
        #expect(figures.npsChange == 25.0)
        #expect(figures.dimensions.map(\.change) == [1.00, 2.00, -0.50, 1.50, 0.50])

        #expect(report.customers.map(\.customer) == ["FAC", "HR"])
        let hr = report.customers[1]
        #expect(hr.responseRate == Share(3, of: 12))
        #expect(hr.figures.overall == 4.87)
        #expect(hr.figures.nps == 33.3)
        let fac = report.customers[0]
        #expect(fac.figures.tooFew)
        #expect(fac.figures.overall == nil && fac.figures.nps == nil)
        #expect(fac.responseRate == nil, "FAC's invited count is not known")

        // With a minimum of 5, the whole round shows no number.
        let strict = SurveyReport.make(
            round: "r2", service: "Laptops", provider: "IT", form: "paired", opens: Timestamp(millisecondsSince1970: 0),
            closes: Timestamp(millisecondsSince1970: 1), customers: [("HR", 12)], answers: answers, previous: nil,
            minimum: 5)
        #expect(strict.figures.tooFew)
        #expect(strict.figures.overall == nil && strict.figures.nps == nil)
        #expect(strict.figures.dimensions.allSatisfy { $0.perception == nil })
    }

    /// NPS +66.7 (2 promoters of 3) after −66.7 (2 detractors of 3): the change is the exact
    /// 400/3 = 133.3, not 66.7 + 66.7 = 133.4. Responsiveness 16/3 after 7/3: +3.00.
    @Test func aChangeIsTheExactDifferenceRoundedOnce() {
        let now = [(5, 9), (6, 10), (5, 8)].map {
            SurveyAnswer(customer: "HR", perceptions: [6, 6, $0.0, 6, 5], nps: $0.1)
        }
        let before = [(2, 5), (3, 6), (2, 8)].map {
            SurveyAnswer(customer: "HR", perceptions: [6, 6, $0.0, 6, 5], nps: $0.1)
        }
        let figures = SurveyFigures.of(now, comparedWith: before, minimum: 3)
        #expect(figures.nps == 66.7)
        #expect(figures.npsChange == 133.3)
        #expect(figures.dimensions[2].perception == 5.33)
        #expect(figures.dimensions[2].change == 3.00)
        #expect(figures.overallChange == 0.60, "(85 − 76) / 15")
        #expect(SurveyFigures.of(now, comparedWith: Array(before.prefix(2)), minimum: 3).npsChange == nil)
    }

    @Test func invitationsHaveOneCanonicalForm() {
        let a = UUID(uuidString: "11111111-2222-4333-8444-555555555555")!
        let b = UUID(uuidString: "aaaaaaaa-2222-4333-8444-555555555555")!
        let text = Schema.invitationsText([(b, nil), (a, 12)])
        #expect(text == "\(a.text)=12,\(b.text)")
        #expect(Schema.parseInvitations(text)?.map(\.department) == [a, b])
        for bad in [
            "", "\(b.text),\(a.text)", "\(a.text)=0", "\(a.text)=012", "\(a.text),\(a.text)",
            b.text.uppercased(), "\(a.text)=", "\(a.text)=100001",
        ] {
            #expect(Schema.parseInvitations(bad) == nil, "\(bad)")
        }
    }
}
