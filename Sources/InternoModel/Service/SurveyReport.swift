import Foundation

/// One anonymous answer to a survey round, as the report reads it (DESIGN §7.8).
public struct SurveyAnswer: Sendable, Hashable {
    /// The answering department's code.
    public var customer: String
    /// The perception scores, 1–7, in the order of ``Schema/surveyDimensions``.
    public var perceptions: [Int]
    /// The expectation scores in the same order, in the paired form; `nil` otherwise.
    public var expectations: [Int]?
    /// How likely the person is to recommend the service to a colleague, 0–10.
    public var nps: Int

    public init(customer: String, perceptions: [Int], expectations: [Int]? = nil, nps: Int) {
        self.customer = customer
        self.perceptions = perceptions
        self.expectations = expectations
        self.nps = nps
    }
}

/// The score of one SERVQUAL dimension over a group of answers.
public struct DimensionScore: Sendable, Hashable, Codable {
    public var dimension: String
    /// The mean perception, and in the paired form the mean expectation and the mean gap
    /// (perception − expectation, per respondent, then averaged), each rounded to two decimals.
    public var perception: Double?
    public var expectation: Double?
    public var gap: Double?
    /// This perception minus the previous round's, when both are shown.
    public var change: Double?
}

/// The figures of a group of answers: a round, or one customer department in it.
public struct SurveyFigures: Sendable, Hashable, Codable {
    public var responses: Int
    /// `true` when there are fewer responses than the report's minimum: then no score is shown.
    public var tooFew: Bool
    public var dimensions: [DimensionScore]
    /// The unweighted mean of the five dimension perceptions, and of the five gaps.
    public var overall: Double?
    public var overallGap: Double?
    /// Internal NPS: % promoters (9–10) minus % detractors (0–6), rounded to one decimal.
    public var nps: Double?
    public var promoters: Int?
    public var passives: Int?
    public var detractors: Int?
    /// This overall and NPS minus the previous round's, when both are shown.
    public var overallChange: Double?
    public var npsChange: Double?

    /// The figures of `answers`, none of them shown when there are fewer than `minimum`.
    public static func of(_ answers: [SurveyAnswer], minimum: Int) -> SurveyFigures {
        let dimensions = Schema.surveyDimensions
        guard answers.count >= minimum, !answers.isEmpty else {
            return SurveyFigures(
                responses: answers.count, tooFew: true,
                dimensions: dimensions.map { DimensionScore(dimension: $0) })
        }
        let paired = answers.allSatisfy { $0.expectations != nil }
        let n = answers.count
        // Every figure is a ratio of whole numbers, rounded exactly: per respondent first (its
        // score, its gap), then summed across respondents.
        var scores: [DimensionScore] = []
        var perceptionTotal = 0
        var gapTotal = 0
        for (index, dimension) in dimensions.enumerated() {
            let perception = answers.reduce(0) { $0 + $1.perceptions[index] }
            let expectation = paired ? answers.reduce(0) { $0 + $1.expectations![index] } : nil
            perceptionTotal += perception
            gapTotal += perception - (expectation ?? 0)
            scores.append(
                DimensionScore(
                    dimension: dimension, perception: ratio(perception, n, places: 2),
                    expectation: expectation.map { ratio($0, n, places: 2) },
                    gap: expectation.map { ratio(perception - $0, n, places: 2) }))
        }
        let promoters = answers.filter { $0.nps >= 9 }.count
        let detractors = answers.filter { $0.nps <= 6 }.count
        // The unweighted mean of the five dimension means is the total over 5n.
        return SurveyFigures(
            responses: n, tooFew: false, dimensions: scores,
            overall: ratio(perceptionTotal, dimensions.count * n, places: 2),
            overallGap: paired ? ratio(gapTotal, dimensions.count * n, places: 2) : nil,
            nps: ratio(100 * (promoters - detractors), n, places: 1), promoters: promoters,
            passives: n - promoters - detractors, detractors: detractors)
    }

    /// The figures of `answers` with the changes from `earlier` (the previous round's
    /// answers) filled in where both show a score. Each change is the exact difference of the
    /// two ratios, rounded once: not the difference of two rounded figures.
    public static func of(_ answers: [SurveyAnswer], comparedWith earlier: [SurveyAnswer], minimum: Int)
        -> SurveyFigures
    {
        var result = of(answers, minimum: minimum)
        let before = of(earlier, minimum: minimum)
        guard !result.tooFew, !before.tooFew else { return result }
        let (n, m) = (answers.count, earlier.count)
        var totalNow = 0
        var totalBefore = 0
        for index in result.dimensions.indices {
            let now = answers.reduce(0) { $0 + $1.perceptions[index] }
            let then = earlier.reduce(0) { $0 + $1.perceptions[index] }
            totalNow += now
            totalBefore += then
            result.dimensions[index].change = ratio(now * m - then * n, n * m, places: 2)
        }
        let dimensions = result.dimensions.count
        result.overallChange = ratio(totalNow * m - totalBefore * n, dimensions * n * m, places: 2)
        func net(_ group: [SurveyAnswer]) -> Int {
            group.filter { $0.nps >= 9 }.count - group.filter { $0.nps <= 6 }.count
        }
        result.npsChange = ratio(100 * (net(answers) * m - net(earlier) * n), n * m, places: 1)
        return result
    }

    /// `numerator / denominator` rounded half away from zero to `places` decimals, exactly.
    static func ratio(_ numerator: Int, _ denominator: Int, places: Int) -> Double {
        let scale = places == 1 ? 10 : 100
        let scaled = abs(numerator) * scale
        let rounded = (2 * scaled + denominator) / (2 * denominator)
        return Double(numerator < 0 ? -rounded : rounded) / Double(scale)
    }

}

/// One customer department of a round: how many answered, of how many invited.
public struct SurveyCustomerRow: Sendable, Hashable, Codable {
    public var customer: String
    /// The people invited, when the round says.
    public var invited: Int?
    public var responseRate: Share?
    public var figures: SurveyFigures
}

/// `report survey ROUND`: a round's figures, per customer department, and beside the
/// previous round of the same service.
public struct SurveyReport: Sendable, Hashable, Codable {
    public var round: String
    public var service: String
    public var provider: String
    /// `perceptions` or `paired`.
    public var form: String
    public var opens: String
    public var closes: String
    /// Groups with fewer answers show no score.
    public var minimumResponses: Int
    public var figures: SurveyFigures
    public var customers: [SurveyCustomerRow]
    /// The ref of the previous round of the same service, and its figures, if there is one.
    public var previousRound: String?
    public var previous: SurveyFigures?

    /// The report of a round from its answers; `customers` lists the departments it asks,
    /// with the people invited in each when known.
    public static func make(
        round: String, service: String, provider: String, form: String, opens: Timestamp, closes: Timestamp,
        customers: [(code: String, invited: Int?)], answers: [SurveyAnswer],
        previous: (round: String, answers: [SurveyAnswer])?, minimum: Int
    ) -> SurveyReport {
        let figures =
            previous.map { SurveyFigures.of(answers, comparedWith: $0.answers, minimum: minimum) }
            ?? SurveyFigures.of(answers, minimum: minimum)
        let before = previous.map { SurveyFigures.of($0.answers, minimum: minimum) }
        let rows = customers.sorted { $0.code < $1.code }.map { customer in
            let theirs = answers.filter { $0.customer == customer.code }
            return SurveyCustomerRow(
                customer: customer.code, invited: customer.invited,
                responseRate: customer.invited.map { Share(theirs.count, of: $0) },
                figures: SurveyFigures.of(theirs, minimum: minimum))
        }
        return SurveyReport(
            round: round, service: service, provider: provider, form: form, opens: opens.description,
            closes: closes.description, minimumResponses: minimum, figures: figures, customers: rows,
            previousRound: previous?.round, previous: before)
    }
}
