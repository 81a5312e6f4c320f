import Foundation

/// The decision logic of "find the highest rate that still meets the SLO", kept apart from
/// running load so it can be tested without a service and replayed from a run directory.
///
/// The caller measures a rate, appends the result, and asks `next` for the following rate
/// until it returns nil; `result` then gives the capacity. The search first measures the
/// lower and the upper bound, then bisects between the highest passing and the lowest failing
/// rate. It bisects at the *geometric* mean: the stopping rule is a relative gap, and halving
/// the ratio rather than the difference reaches it in the fewest steps when the bounds span
/// decades (1 to 10 000 req/s). At most `maxSteps` measurements are needed.
///
/// Measurements need not be monotonic (noise happens). Capacity is taken to lie below the
/// *lowest* failing rate: a pass above a failure is treated as luck, not capacity.
public enum CapacitySearch: Sendable {
    /// One measured step.
    public struct Measurement: Sendable, Codable, Equatable {
        /// Offered rate in req/s.
        public var rate: Double
        /// p99 latency in ms; NaN when nothing completed (which fails).
        public var p99Milliseconds: Double
        /// Failed requests / all requests, 0 ... 1.
        public var errorRate: Double
        /// Whether the step's errors are within the budget by its error count, not only its rate
        /// (``StepResult/errorsWithin(budget:)``); nil: `errorRate` is judged against the budget.
        public var errorsWithinBudget: Bool?

        public init(rate: Double, p99Milliseconds: Double, errorRate: Double, errorsWithinBudget: Bool? = nil) {
            self.rate = rate
            self.p99Milliseconds = p99Milliseconds
            self.errorRate = errorRate
            self.errorsWithinBudget = errorsWithinBudget
        }
    }

    /// What "meets the SLO" means for the search.
    public struct Objective: Sendable, Codable, Equatable {
        public var p99Milliseconds: Double
        /// Highest acceptable error rate, 0 ... 1 (0.001 = 0.1 %).
        public var errorBudget: Double

        public init(p99Milliseconds: Double, errorBudget: Double) {
            self.p99Milliseconds = p99Milliseconds
            self.errorBudget = errorBudget
        }

        public func isMet(by m: Measurement) -> Bool {
            m.p99Milliseconds.isFinite && m.errorRate.isFinite
                && m.p99Milliseconds <= p99Milliseconds && (m.errorsWithinBudget ?? (m.errorRate <= errorBudget))
        }
    }

    /// The next rate to measure, or nil when the search is done.
    ///
    /// Done means one of: the lower bound fails (the service cannot meet the SLO in range;
    /// `result` is nil); the upper bound passes (capacity is at least the upper bound); or
    /// the gap between the highest pass and the lowest failure is at most `resolution`
    /// relative to the pass (0.05 = within 5 %).
    public static func next(measured: [Measurement], objective: Objective, lowerBound: Double, upperBound: Double,
                            resolution: Double = 0.05) -> Double? {
        guard lowerBound.isFinite, upperBound.isFinite, lowerBound > 0, upperBound > lowerBound,
              resolution.isFinite, resolution > 0 else { return nil }
        let valid = measured.filter { $0.rate.isFinite && $0.rate > 0 }
        let (pass, fail) = bracket(valid, objective)
        guard let pass else {
            // Nothing passes yet: try the lower bound, unless it (or anything below it) already failed.
            if let fail, fail <= lowerBound { return nil }
            return alreadyMeasured(lowerBound, valid) ? nil : lowerBound
        }
        guard let fail else {
            if pass >= upperBound { return nil }
            return alreadyMeasured(upperBound, valid) ? nil : upperBound
        }
        if (fail - pass) / pass <= resolution { return nil }
        let candidate = (pass * fail).squareRoot()
        return alreadyMeasured(candidate, valid) ? nil : candidate
    }

    /// The capacity: the highest passing rate below the lowest failing one, or nil when
    /// no rate passed.
    public static func result(measured: [Measurement], objective: Objective) -> Double? {
        bracket(measured.filter { $0.rate.isFinite && $0.rate > 0 }, objective).pass
    }

    /// The most measurements `next` asks for: both bounds, then ⌈log₂(ln(upper/lower) /
    /// ln(1 + resolution))⌉ bisections, each of which halves ln(fail/pass).
    public static func maxSteps(lowerBound: Double, upperBound: Double, resolution: Double = 0.05) -> Int {
        guard lowerBound > 0, upperBound > lowerBound, resolution > 0 else { return 1 }
        let ratio = log(upperBound / lowerBound) / log(1 + resolution)
        return 2 + Swift.max(0, Int(log2(ratio).rounded(.up)))
    }

    private static func bracket(_ measured: [Measurement], _ objective: Objective) -> (pass: Double?, fail: Double?) {
        let fail = measured.filter { !objective.isMet(by: $0) }.map(\.rate).min()
        let pass = measured.filter { objective.isMet(by: $0) && (fail == nil || $0.rate < fail!) }.map(\.rate).max()
        return (pass, fail)
    }

    private static func alreadyMeasured(_ rate: Double, _ measured: [Measurement]) -> Bool {
        measured.contains { abs($0.rate - rate) <= 1e-9 * rate }
    }
}
