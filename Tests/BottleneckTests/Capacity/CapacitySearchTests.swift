@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Testing

@Suite("CapacitySearch")
struct CapacitySearchTests {
    static let objective = CapacitySearch.Objective(p99Milliseconds: 50, errorBudget: 0.01)

    /// A synthetic service: p99 is 10 ms up to `knee` req/s and explodes above it.
    static func measure(_ rate: Double, knee: Double = 200, errorsAbove: Double? = nil) -> CapacitySearch.Measurement {
        let p99 = rate <= knee ? 10 : 10 + 100 * (rate - knee)
        let errors = errorsAbove.map { rate > $0 ? 0.05 : 0 } ?? 0
        return .init(rate: rate, p99Milliseconds: p99, errorRate: errors)
    }

    /// Runs the search loop the way the capacity command will; returns the result and step count.
    static func run(lower: Double, upper: Double, resolution: Double = 0.05,
                    service: (Double) -> CapacitySearch.Measurement) -> (Double?, Int) {
        var measured: [CapacitySearch.Measurement] = []
        while let rate = CapacitySearch.next(measured: measured, objective: objective, lowerBound: lower,
                                             upperBound: upper, resolution: resolution) {
            measured.append(service(rate))
            if measured.count > 100 { break }  // a runaway loop fails the step-count check below
        }
        return (CapacitySearch.result(measured: measured, objective: objective), measured.count)
    }

    @Test("converges to 190–200 req/s within the bisection bound",
          arguments: [(10.0, 1_000.0), (1, 10_000), (100, 400), (150, 250)])
    func converges(_ bounds: (Double, Double)) throws {
        let (result, steps) = Self.run(lower: bounds.0, upper: bounds.1) { Self.measure($0) }
        let capacity = try #require(result)
        #expect(capacity >= 190 && capacity <= 200, "\(capacity)")
        let bound = CapacitySearch.maxSteps(lowerBound: bounds.0, upperBound: bounds.1)
        #expect(steps <= bound, "\(steps) steps, bound \(bound)")
    }

    @Test func boundFormula() {
        // ln(100) / ln(1.05) = 94.4 → 7 bisections, plus the two bounds.
        #expect(CapacitySearch.maxSteps(lowerBound: 10, upperBound: 1_000, resolution: 0.05) == 9)
    }

    @Test func errorBudgetAlsoFails() throws {
        let (result, _) = Self.run(lower: 10, upper: 1_000) { Self.measure($0, knee: 10_000, errorsAbove: 300) }
        let capacity = try #require(result)
        #expect(capacity >= 285 && capacity <= 300, "\(capacity)")
    }

    @Test func stopsAtTheBounds() {
        // Meets the SLO even at the upper bound: two measurements, capacity ≥ upper.
        let (high, highSteps) = Self.run(lower: 10, upper: 100) { Self.measure($0) }
        #expect(high == 100 && highSteps == 2)
        // Fails already at the lower bound: one measurement, no capacity.
        let (low, lowSteps) = Self.run(lower: 300, upper: 1_000) { Self.measure($0) }
        #expect(low == nil && lowSteps == 1)
    }

    @Test func noisyPassAboveAFailureIsNotCapacity() {
        let measured = [Self.measure(100), Self.measure(250), CapacitySearch.Measurement(rate: 400, p99Milliseconds: 12, errorRate: 0)]
        #expect(CapacitySearch.result(measured: measured, objective: Self.objective) == 100)
        let next = CapacitySearch.next(measured: measured, objective: Self.objective, lowerBound: 10, upperBound: 1_000)
        #expect(next.map { $0 > 100 && $0 < 250 } == true)
    }

    @Test func missingLatencyCountsAsFailure() {
        let measured = [CapacitySearch.Measurement(rate: 50, p99Milliseconds: .nan, errorRate: 1)]
        #expect(CapacitySearch.result(measured: measured, objective: Self.objective) == nil)
        #expect(CapacitySearch.next(measured: measured, objective: Self.objective, lowerBound: 50, upperBound: 500) == nil)
    }

    @Test func invalidBoundsEndTheSearch() {
        #expect(CapacitySearch.next(measured: [], objective: Self.objective, lowerBound: 100, upperBound: 10) == nil)
        #expect(CapacitySearch.next(measured: [], objective: Self.objective, lowerBound: 0, upperBound: 10) == nil)
    }
}
