import Foundation
import Testing

@testable import InternoModel

/// The reports on a small dataset computed by hand. The calendars are open around the clock
/// in UTC, so business time is wall time and a target day is 24 hours.
private let allHours = BusinessCalendar(
    timeZone: .gmt, hours: try! WeeklyHours(parsing: "mon-sun 00:00-24:00"))
private let start = Timestamp(iso8601: "2026-11-02T00:00:00Z")!
private let hour: Int64 = 3_600_000
private func at(_ hours: Double) -> Timestamp {
    Timestamp(millisecondsSince1970: start.millisecondsSince1970 + Int64(hours * Double(hour)))
}

/// IT's standard with HR: ack 1h, deliver 8h, notice 2d, answer 2h, confirm 4h; 80% / 80%.
private let standard = ServiceTargets(
    acknowledge: 3_600, deliver: 8 * 3_600, notice: 2 * 86_400, answer: 2 * 3_600, confirm: 4 * 3_600)

private func facts(
    _ key: String, from customer: String = "HR", standard targets: ServiceTargets? = standard,
    submitted: Double, _ events: [(Double, String)], neededBy: Double? = nil, now: Double = 60,
    rating: Int? = nil, effort: Int? = nil, cooperation: Int? = nil
) -> RequestFacts {
    let clocks = RequestClocks.measure(
        submittedAt: at(submitted), events: events.map { StateEvent(at: at($0.0), state: $0.1) }, now: at(now),
        provider: allHours, customer: allHours, targets: targets ?? .none, neededBy: neededBy.map(at))
    return RequestFacts(
        key: key, customer: customer, provider: "IT", standard: targets == nil ? nil : "s1",
        service: targets == nil ? nil : "Laptops", submittedAt: at(submitted), clocks: clocks,
        complianceTarget: targets == nil ? nil : 80, csatTarget: targets == nil ? nil : 80, serviceRating: rating,
        effort: effort, cooperationRating: cooperation)
}

private let dataset: [RequestFacts] = [
    // Acknowledged in 0.5h, delivered in 6h, confirmed after 2h; 72h of notice.
    facts(
        "HR-1", submitted: 0, [(0.5, "acknowledged"), (1, "in_progress"), (6, "delivered"), (8, "closed")],
        neededBy: 72, rating: 5, effort: 2, cooperation: 4),
    // Acknowledged late (2h); waited 3h on HR; delivered in 2 + 2 + 3 = 7h; confirmed after 10h; 10h of notice.
    facts(
        "HR-2", submitted: 10,
        [(12, "in_progress"), (14, "waiting_on_customer"), (17, "in_progress"), (20, "delivered"), (30, "closed")],
        neededBy: 20, rating: 2, effort: 6),
    // Delivered late (16h), confirmed within 1h.
    facts(
        "HR-3", submitted: 24, [(24.5, "acknowledged"), (25, "in_progress"), (40, "delivered"), (41, "closed")],
        rating: 3),
    // Facilities, outside any standard: measured, never late.
    facts(
        "FAC-1", from: "FAC", standard: nil, submitted: 30, [(31, "acknowledged"), (35, "delivered"), (36, "closed")],
        rating: 4),
    // Still submitted 10h later: past both provider targets.
    facts("HR-4", submitted: 50, []),
]

@Suite("Reports on a hand-computed dataset")
struct ReportTests {
    @Test func arithmetic() {
        #expect(ReportMath.median([]) == nil)
        #expect(ReportMath.median([3, 1, 2]) == 2)
        #expect(ReportMath.median([4, 1, 3, 2]) == 2, "the mean of 2 and 3, rounded down")
        #expect(ReportMath.percentile(90, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) == 9)
        #expect(ReportMath.percentile(90, [5, 1, 3]) == 5)
        #expect(ReportMath.percentile(50, [1, 2, 3, 4]) == 2)
        #expect(Share(1, of: 3).percent == 33.3)
        #expect(Share(2, of: 3).percent == 66.7)
        #expect(Share(0, of: 0).percent == nil)
        #expect(ReportMath.mean([5, 2, 3]) == 3.33)
    }

    @Test func sla() throws {
        let rows = SLARow.rows(dataset)
        #expect(rows.map(\.standard) == [nil, "s1"])
        let outside = rows[0]
        #expect(outside.requests == 1)
        #expect(outside.deliveredWithinTarget == Share(0, of: 0))
        #expect(outside.deliverMedian == 18_000)
        let s1 = rows[1]
        #expect(s1.requests == 4)
        // HR-1 and HR-3 acknowledged in time; HR-2 late; HR-4 still waiting past its hour.
        #expect(s1.acknowledgedWithinTarget == Share(2, of: 4))
        // HR-1 (6h) and HR-2 (7h) in time; HR-3 (16h) late; HR-4 open past 8h.
        #expect(s1.deliveredWithinTarget == Share(2, of: 4))
        #expect(s1.deliveredWithinTarget.percent == 50)
        #expect(s1.acknowledgeMedian == 1_800)
        #expect(s1.acknowledgeP90 == 7_200)
        #expect(s1.deliverMedian == 25_200)
        #expect(s1.deliverP90 == 57_600)
        #expect(s1.openPastDue == 1)
    }

    @Test func obligations() {
        let rows = ObligationsRow.rows(dataset)
        #expect(rows.map(\.customer) == ["FAC", "HR"])
        let hr = rows[1]
        #expect(hr.requests == 4)
        #expect(hr.noticeGiven == Share(1, of: 2), "HR-1 gave 72h against 48h; HR-2 gave 10h")
        #expect(hr.waits == 1)
        #expect(hr.waitingTotal == 10_800)
        #expect(hr.answeredWithinTarget == Share(0, of: 1))
        #expect(hr.confirmedWithinTarget == Share(2, of: 3), "2h and 1h within 4h; 10h not")
        #expect(hr.confirmMedian == 7_200)
        let fac = rows[0]
        #expect(fac.confirmedWithinTarget == Share(0, of: 0))
        #expect(fac.confirmMedian == 3_600)
    }

    @Test func satisfaction() {
        let rows = SatisfactionRow.rows(dataset)
        #expect(rows.map(\.customer) == ["FAC", "HR", "*"])
        let hr = rows[1]
        #expect(hr.delivered == 3)
        #expect(hr.responseRate == Share(3, of: 3))
        #expect(hr.csat == Share(1, of: 3))
        #expect(hr.meanRating == 3.33)
        #expect(hr.meanEffort == 4)
        #expect(hr.cooperationResponses == 1)
        #expect(hr.meanCooperation == 4)
        let total = rows[2]
        #expect(total.delivered == 4)
        #expect(total.csat == Share(2, of: 4))
        #expect(total.meanRating == 3.5)
    }

    @Test func watermelonVerdicts() {
        let rows = WatermelonRow.rows(dataset, period: { _ in "all" }, minimum: 3)
        #expect(rows.map(\.verdict) == [.noTarget, .failing])
        #expect(rows[1].compliance == Share(2, of: 4))
        #expect(rows[1].csat == Share(1, of: 3))

        // Every delivery in time, yet only one rating in three is 4 or 5: green outside, red inside.
        let onTime = (0..<3).map { index in
            facts(
                "HR-\(index)", submitted: Double(index),
                [(Double(index) + 1, "in_progress"), (Double(index) + 2, "delivered")],
                rating: [2, 3, 5][index])
        }
        #expect(WatermelonRow.rows(onTime, period: { _ in "all" }, minimum: 3).map(\.verdict) == [.watermelon])
        #expect(WatermelonRow.rows(onTime, period: { _ in "all" }, minimum: 5).map(\.verdict) == [.tooFewResponses])
        // Every delivery late, and the customer happy anyway.
        let late = (0..<3).map { index in
            facts("HR-\(index)", submitted: 0, [(1, "in_progress"), (20, "delivered")], rating: 5)
        }
        #expect(WatermelonRow.rows(late, period: { _ in "all" }, minimum: 3).map(\.verdict) == [.reverse])
        // Split by period: one row per label.
        let split = WatermelonRow.rows(onTime, period: { $0.key == "HR-2" ? "2026-11" : "2026-10" }, minimum: 1)
        #expect(split.map(\.period) == ["2026-10", "2026-11"])
        #expect(split.map(\.verdict) == [.watermelon, .healthy])
    }

    /// DESIGN §7.8 and issue 12 point 6: the pair's latest survey makes it red inside when its
    /// NPS is below 0 or a dimension scores below the standard's survey target.
    @Test func theLatestSurveyMakesAPairRedInside() {
        let happy = (0..<3).map { index in
            var request = facts(
                "HR-\(index)", submitted: Double(index),
                [(Double(index) + 1, "in_progress"), (Double(index) + 2, "delivered")], rating: 5)
            request.surveyTarget = 5
            return request
        }
        func survey(_ answers: [SurveyAnswer], minimum: Int = 3) -> [WatermelonRow.PairSurvey] {
            [.init(provider: "IT", customer: "HR", round: "r1", figures: SurveyFigures.of(answers, minimum: minimum))]
        }
        let all: (RequestFacts) -> String = { _ in "all" }
        #expect(WatermelonRow.rows(happy, period: all, minimum: 3).map(\.verdict) == [.healthy])

        // NPS: promoters 1 (9), detractors 2 (3, 5), of 3: 100 × −1/3 = −33.3.
        let unhappy = [3, 5, 9].map { SurveyAnswer(customer: "HR", perceptions: [6, 6, 6, 6, 6], nps: $0) }
        let byNPS = WatermelonRow.rows(happy, period: all, minimum: 3, surveys: survey(unhappy))
        #expect(byNPS.map(\.verdict) == [.watermelon])
        #expect(byNPS[0].redInside == ["NPS -33.3 < 0"])
        #expect(byNPS[0].survey == "r1")
        #expect(byNPS[0].surveyNPS == -33.3)

        // Responsiveness 3.00 is below the target of 5, though NPS is +100.
        let slow = [9, 9, 10].map { SurveyAnswer(customer: "HR", perceptions: [5, 6, 3, 6, 5], nps: $0) }
        let byScore = WatermelonRow.rows(happy, period: all, minimum: 3, surveys: survey(slow))
        #expect(byScore.map(\.verdict) == [.watermelon])
        #expect(byScore[0].redInside == ["responsiveness 3.00 < 5"])
        #expect(byScore[0].surveyLowest == 3.00)

        // Too few answers: the survey is left out.
        let few = WatermelonRow.rows(happy, period: all, minimum: 3, surveys: survey(slow, minimum: 4))
        #expect(few.map(\.verdict) == [.healthy])
        #expect(few[0].survey == nil)
        // Too few ratings, but a survey with enough answers: it decides.
        #expect(
            WatermelonRow.rows(happy, period: all, minimum: 5, surveys: survey(slow)).map(\.verdict) == [.watermelon])
        #expect(WatermelonRow.rows(happy, period: all, minimum: 5).map(\.verdict) == [.tooFewResponses])
        // Another pair's survey does not count.
        let other = [
            WatermelonRow.PairSurvey(
                provider: "IT", customer: "FAC", round: "r2", figures: SurveyFigures.of(unhappy, minimum: 3))
        ]
        #expect(WatermelonRow.rows(happy, period: all, minimum: 3, surveys: other).map(\.verdict) == [.healthy])
        // CSAT and the survey both missed: both named.
        let grumpy = happy.map { request in
            var request = request
            request.serviceRating = 2
            return request
        }
        #expect(
            WatermelonRow.rows(grumpy, period: all, minimum: 3, surveys: survey(unhappy))[0].redInside
                == ["CSAT 0% < 80%", "NPS -33.3 < 0"])
    }

    @Test func matrix() {
        let cells = MatrixCell.cells(dataset)
        #expect(cells.map { "\($0.customer)>\($0.provider)" } == ["FAC>IT", "HR>IT"])
        #expect(cells[1].requests == 4)
        #expect(cells[1].compliance == Share(2, of: 4))
        #expect(cells[1].csat == Share(1, of: 3))
        #expect(cells[0].csat == Share(1, of: 1))
    }

    @Test func aHeldClockPastItsTargetIsPastDue() {
        // In progress for 9h, then waiting on HR: the deliver clock is held, but already late.
        let held = facts(
            "HR-9", submitted: 0, [(0, "in_progress"), (9, "waiting_on_customer")], now: 20)
        #expect(held.clocks.deliver?.status == .paused)
        let row = SLARow.rows([held])[0]
        #expect(row.openPastDue == 1)
        #expect(row.deliveredWithinTarget == Share(0, of: 1))
        #expect(held.clocks.overdue.map(\.name) == ["answer"], "only running clocks are LATE")
    }

    @Test func targetsAreComparedExactlyNotAfterRounding() {
        // 1799 of 2000 in time is 89.95%, shown as 90.0, and misses a 90% target.
        let requests = (0..<2_000).map { index in
            var request = facts(
                "HR-\(index)", submitted: 0, [(0, "in_progress"), (index < 1_799 ? 1 : 9, "delivered")],
                rating: 5)
            request.complianceTarget = 90
            return request
        }
        let row = WatermelonRow.rows(requests, period: { _ in "all" }, minimum: 1)[0]
        #expect(row.compliance == Share(1_799, of: 2_000))
        #expect(row.compliance.percent == 90)
        #expect(row.verdict == .reverse)
    }
}
