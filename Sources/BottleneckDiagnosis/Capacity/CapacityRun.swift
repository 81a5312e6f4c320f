import Foundation
import BottleneckCore
import BottleneckLoad
import BottleneckSampling

/// The probe and the decisions behind `bottleneck capacity`: which steps to run, when to stop,
/// and what the steps say about capacity.
///
/// A capacity run has two parts, both in one load run so one run directory holds the evidence:
///
/// 1. A planned closed-loop concurrency sweep (1, 2, 3, 4, 6, 8, 12, 16 by default). It is dense
///    at low N because the Universal Scalability Law's σ and λ are pinned down there; the fit
///    then says where throughput would peak (N*) even if the sweep stopped short of it.
/// 2. Open-loop steps chosen one at a time by `CapacitySearch`, between 0.25× and 2× the best
///    closed-loop throughput. Open loop is what decides capacity: latency is measured from the
///    intended send time, so queueing above the knee shows up instead of being hidden by the
///    generator slowing down with the server (coordinated omission).
///
/// A step meets the objective when its p99 is within the SLO, its error rate within the budget,
/// it completed at least 95 % of what the schedule produced (a service that cannot keep up
/// must not pass merely because the requests it did answer were fast), and, open loop, it did
/// not end with a growing queue (``Backlog``: a short step above capacity can pass a lax SLO).
public enum CapacityRun: Sendable {
    /// What the run aims at and how long it may take.
    public struct Settings: Sendable, Codable, Equatable {
        public var sloP99Milliseconds: Double
        /// Highest acceptable error rate, 0 ... 1.
        public var errorBudget: Double = 0.01
        /// Completed / scheduled below this fails an open-loop step.
        public var minAchievedRatio: Double = 0.95
        /// Total load time in seconds, sweep and search together.
        public var budgetSeconds: Double
        public var concurrencyLevels: [Int] = CapacityRun.defaultConcurrencyLevels
        /// The search stops when the highest pass and the lowest failure are this close (relative).
        public var resolution: Double = 0.05
        public var arrivals: ArrivalProcess = .poisson

        public init(sloP99Milliseconds: Double, budgetSeconds: Double) {
            self.sloP99Milliseconds = sloP99Milliseconds
            self.budgetSeconds = budgetSeconds
        }

        var objective: CapacitySearch.Objective {
            CapacitySearch.Objective(p99Milliseconds: sloP99Milliseconds, errorBudget: errorBudget)
        }
    }

    public static let defaultConcurrencyLevels = [1, 2, 3, 4, 6, 8, 12, 16]
    /// Share of the budget spent on the closed-loop sweep; the rest goes to the search.
    static let sweepShare = 0.35
    static let minimumSweepStepSeconds = 1.5
    static let minimumSearchStepSeconds = 2.0
    /// The search spans lowerFactor ... upperFactor × the best closed-loop throughput.
    public static let lowerFactor = 0.25
    public static let upperFactor = 2.0

    /// The budget split: how long each sweep and each search step lasts and which levels fit.
    public struct Schedule: Sendable, Equatable {
        public var levels: [Int]
        public var sweepStepSeconds: Double
        public var searchStepSeconds: Double
    }

    /// Splits the budget. Levels are dropped from the top when the sweep cannot give each at
    /// least 1.5 s, but never below three (the fit needs three); the search gets steps long
    /// enough to run `CapacitySearch.maxSteps` of them over the 8× range, at least 2 s each.
    public static func schedule(_ settings: Settings) -> Schedule {
        var levels = Array(Set(settings.concurrencyLevels.filter { $0 > 0 })).sorted()
        let sweepSeconds = settings.budgetSeconds * sweepShare
        while levels.count > 3, sweepSeconds / Double(levels.count) < minimumSweepStepSeconds { levels.removeLast() }
        let sweepStep = min(10, max(minimumSweepStepSeconds, sweepSeconds / Double(max(1, levels.count))))
        let searchSteps = CapacitySearch.maxSteps(lowerBound: lowerFactor, upperBound: upperFactor, resolution: settings.resolution)
        let remaining = settings.budgetSeconds - sweepStep * Double(levels.count)
        let searchStep = min(15, max(minimumSearchStepSeconds, remaining / Double(searchSteps)))
        return Schedule(levels: levels, sweepStepSeconds: sweepStep, searchStepSeconds: searchStep)
    }

    /// The planned closed-loop sweep steps.
    public static func sweepSteps(_ settings: Settings) -> [LoadStep] {
        let schedule = schedule(settings)
        return schedule.levels.map {
            LoadStep(name: "c-\($0)", shape: .closed(concurrency: $0), duration: UInt64(schedule.sweepStepSeconds * 1e9))
        }
    }

    /// The adaptive search for `LoadPlan.nextStep`: called after the sweep with every result so
    /// far, returns the next open-loop rate to hold, or nil when the search is done, the budget
    /// is spent, or the sweep saw no throughput to search around.
    public static func nextStep(_ settings: Settings) -> @Sendable ([StepResult]) -> LoadStep? {
        let schedule = schedule(settings)
        return { results in
            let spent = results.reduce(0) { $0 + $1.duration }
            // 10 % slack: step durations are rounded and the last step may end a little late.
            guard spent + schedule.searchStepSeconds <= settings.budgetSeconds * 1.1 else { return nil }
            guard let rate = nextRate(results, settings) else { return nil }
            return LoadStep(name: "rate-\(formatRate((rate * 100).rounded() / 100))", shape: .open(rate: rate, arrivals: settings.arrivals),
                            duration: UInt64(schedule.searchStepSeconds * 1e9))
        }
    }

    /// The search decision alone: the next rate from the steps so far, or nil when done.
    public static func nextRate(_ results: [StepResult], _ settings: Settings) -> Double? {
        guard let bounds = searchBounds(results) else { return nil }
        return CapacitySearch.next(measured: measurements(results, settings), objective: settings.objective,
                                   lowerBound: bounds.lower, upperBound: bounds.upper, resolution: settings.resolution)
    }

    /// 0.25× ... 2× the best closed-loop throughput; nil when no closed-loop step completed anything.
    public static func searchBounds(_ results: [StepResult]) -> (lower: Double, upper: Double)? {
        let best = results.filter { $0.mode == "closed" }.map(\.achievedRate).max() ?? 0
        guard best.isFinite, best > 0 else { return nil }
        return (best * lowerFactor, best * upperFactor)
    }

    /// The open-loop steps as search measurements. A step that completed nothing, fell below
    /// the achieved-ratio floor, or ended with a growing queue gets a NaN p99 so the search
    /// counts it as failing.
    public static func measurements(_ results: [StepResult], _ settings: Settings) -> [CapacitySearch.Measurement] {
        results.compactMap { step in
            guard step.mode == "open", let rate = step.targetRate, rate > 0 else { return nil }
            let p99 = step.latency.count > 0 && step.keptUp(minAchievedRatio: settings.minAchievedRatio) ? step.latency.p99 : .nan
            return CapacitySearch.Measurement(rate: rate, p99Milliseconds: p99, errorRate: step.errorRate,
                                              errorsWithinBudget: step.errorsWithin(budget: settings.errorBudget))
        }
    }

    /// Whether one step met the objective (the same test for open and closed loop).
    public static func meets(_ step: StepResult, _ settings: Settings) -> Bool {
        step.meets(sloP99Milliseconds: settings.sloP99Milliseconds, errorBudget: settings.errorBudget,
                   minAchievedRatio: settings.minAchievedRatio)
    }

    /// The throughput ceiling the closed-loop sweep measured, when it reached one: the best
    /// achieved rate, provided the highest concurrency level gained at most `plateauGain` over the
    /// best lower level (more connections no longer bought throughput). Nil when the sweep was
    /// still climbing (its top level set the best by more than that) or has fewer than two levels.
    ///
    /// No open-loop rate above it can be sustained: the service never completed more per second
    /// at any concurrency. The search's short steps cannot always show that (a queue growing by
    /// 10 % of the rate for 2 s is within the noise of a few requests), so capacity is capped here.
    public static func throughputCeiling(_ results: [StepResult], _ settings: Settings) -> Double? {
        let sweep = results.filter { $0.mode == "closed" && $0.completed > 0 && $0.errorRate <= settings.errorBudget }
            .compactMap { step in step.concurrency.map { (concurrency: $0, rate: step.achievedRate) } }
        guard let top = sweep.max(by: { $0.concurrency < $1.concurrency }) else { return nil }
        let below = sweep.filter { $0.concurrency < top.concurrency }.map(\.rate).max()
        guard let below, below > 0 else { return nil }
        guard top.rate <= below * (1 + plateauGain) else { return nil }
        return max(top.rate, below)
    }

    /// How much throughput the top concurrency level may add and the sweep still count as flat.
    static let plateauGain = 0.10

    /// The closed-loop points for the USL fit: (concurrency, achieved req/s). Steps over the
    /// error budget are left out: fast failures inflate throughput.
    public static func uslPoints(_ results: [StepResult], _ settings: Settings) -> [(concurrency: Double, throughput: Double)] {
        results.compactMap { step in
            guard step.mode == "closed", let n = step.concurrency, step.completed > 0, step.errorRate <= settings.errorBudget else { return nil }
            return (Double(n), step.achievedRate)
        }
    }

    /// The server's allowed cores as sampled (the largest over the run's steps), or nil when
    /// no server process was sampled.
    public static func sampledServerCores(_ sampling: SamplingSummary?) -> Double? {
        sampling?.steps.filter { $0.server.processes > 0 }.compactMap(\.server.coresAllowed).filter { $0 > 0 }.max()
    }
}
