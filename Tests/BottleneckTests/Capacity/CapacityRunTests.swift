@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Foundation
import Testing

/// Synthetic step results, built through the same init the engine uses.
enum SyntheticSteps {
    /// A step that completed `achieved` req/s for `duration` s with every latency at `p99` ms.
    /// `http5xx` responses count as errors; `unsent` requests fall short of the schedule.
    static func make(_ index: Int, shape: LoadShape, achieved: Double, p99: Double, http5xx: UInt64 = 0,
                     unsent: UInt64 = 0, duration: Double = 2) -> StepResult {
        var s = StepStatistics()
        let completed = UInt64((achieved * duration).rounded())
        s.sent = completed
        s.completed = completed
        s.unsent = unsent
        s.statusClasses[2] = completed - min(completed, http5xx)
        s.statusClasses[5] = min(completed, http5xx)
        for _ in 0..<completed { _ = s.latency.record(UInt64(p99 * 1e6)) }
        let step = LoadStep(name: "s\(index)", shape: shape, duration: UInt64(duration * 1e9))
        return StepResult(index: index, step: step, statistics: s, duration: duration, interrupted: false,
                          generatorCores: 0.1, allowedCores: 2)
    }

    static func closed(_ index: Int, _ c: Int, achieved: Double, p99: Double = 10) -> StepResult {
        make(index, shape: .closed(concurrency: c), achieved: achieved, p99: p99)
    }

    static func open(_ index: Int, _ rate: Double, p99: Double, http5xx: UInt64 = 0, unsent: UInt64 = 0) -> StepResult {
        make(index, shape: .open(rate: rate, arrivals: .poisson), achieved: rate, p99: p99, http5xx: http5xx, unsent: unsent)
    }
}

@Suite("CapacityRun")
struct CapacityRunTests {
    /// A service with a single-threaded ceiling of `ceiling` req/s: closed loop saturates at it,
    /// open loop keeps p99 at 25 ms up to 95 % of it and queues without bound above.
    static func simulate(_ step: LoadStep, index: Int, ceiling: Double) -> StepResult {
        switch step.shape {
        case .closed(let c):
            let usl = USLFit(lambda: ceiling * 0.9, sigma: 0.9, kappa: 0.001, r2: 1)
            return SyntheticSteps.make(index, shape: step.shape, achieved: usl.throughput(at: Double(c)), p99: 20 * Double(c),
                                       duration: Double(step.duration) / 1e9)
        case .open(let rate, _):
            let p99 = rate <= ceiling * 0.95 ? 25.0 : 2_000
            return SyntheticSteps.make(index, shape: step.shape, achieved: rate, p99: p99, duration: Double(step.duration) / 1e9)
        }
    }

    @Test func aShortStepAboveCapacityFailsALaxSLOBecauseItsQueueGrew() {
        // p99 1.7 s is within 2 s and every request was answered (some after the schedule ended),
        // but 32 requests were still queued at the end where a steady queue holds about 10.
        let settings = CapacityRun.Settings(sloP99Milliseconds: 2_000, budgetSeconds: 40)
        let overloaded = BacklogTests.step(rate: 30, seconds: 3.25, scheduled: 97, finished: 65, firstThirdMs: 320, p99Ms: 1_700)
        #expect(!CapacityRun.meets(overloaded, settings))
        #expect(CapacityRun.measurements([overloaded], settings).first?.p99Milliseconds.isNaN == true)
        let steady = BacklogTests.step(rate: 18, seconds: 3.25, scheduled: 58, finished: 48, firstThirdMs: 275, p99Ms: 900)
        #expect(CapacityRun.meets(steady, settings))
    }

    @Test("the adaptive probe finds the knee within 5 % and stays inside the budget", arguments: [40.0, 180.0])
    func searchConverges(budget: Double) throws {
        let settings = CapacityRun.Settings(sloP99Milliseconds: 200, budgetSeconds: budget)
        let next = CapacityRun.nextStep(settings)
        var results: [StepResult] = []
        for step in CapacityRun.sweepSteps(settings) { results.append(Self.simulate(step, index: results.count, ceiling: 50)) }
        while let step = next(results) {
            results.append(Self.simulate(step, index: results.count, ceiling: 50))
            try #require(results.count < 40, "runaway search")
        }
        let spent = results.reduce(0) { $0 + $1.duration }
        #expect(spent <= budget * 1.1, "\(spent) s of \(budget) s")
        #expect(results.contains { $0.mode == "open" })
        let summary = RunSummary(name: "t", target: "http://x/", runDirectory: "/tmp/x", plannedSteps: results.count,
                                 interrupted: false, steps: results, requestsRecorded: 0, generatorPeakRSSBytes: 0)
        let report = try CapacityReport.make(summary: summary, runDirectory: "/tmp/x", settings: settings,
                                             inputs: .init(peakRps: 400, headroom: 0.3, coreHourPrice: 0.05, coresPerInstance: 2))
        let capacity = try #require(report.capacityRps)
        // The knee is at 47.5 req/s; bisection to 5 % (or fewer steps on a short budget) lands a little under it.
        #expect(capacity <= 47.5 && capacity >= (budget > 60 ? 45 : 40), "\(capacity)")
        #expect(report.outcome == .bracketed)
        // 400 / (capacity × 0.7) instances, two cores each.
        let plan = try #require(report.plan)
        #expect(plan.instances == Int((400 / (capacity * 0.7)).rounded(.up)))
        #expect(plan.totalCores == Double(plan.instances) * 2)
        #expect(report.capacityPerCoreRps == capacity / 2)
        let usl = try #require(report.usl)
        #expect(abs(usl.sigma - 0.9) < 0.05, "σ \(usl.sigma)")
    }

    @Test func budgetSplitKeepsAtLeastThreeLevelsAndFitsTheBudget() {
        let short = CapacityRun.schedule(.init(sloP99Milliseconds: 100, budgetSeconds: 10))
        #expect(short.levels == [1, 2, 3])
        let full = CapacityRun.schedule(.init(sloP99Milliseconds: 100, budgetSeconds: 180))
        #expect(full.levels == CapacityRun.defaultConcurrencyLevels)
        let search = Double(CapacitySearch.maxSteps(lowerBound: 0.25, upperBound: 2))
        #expect(full.sweepStepSeconds * 8 + full.searchStepSeconds * search <= 180 + 1e-9)
    }

    @Test func searchBoundsComeFromTheBestClosedLoopStep() throws {
        let results = [SyntheticSteps.closed(0, 1, achieved: 20), SyntheticSteps.closed(1, 2, achieved: 40), SyntheticSteps.closed(2, 4, achieved: 36)]
        let bounds = try #require(CapacityRun.searchBounds(results))
        #expect(bounds.lower == 10 && bounds.upper == 80)
        // The search starts at the lower bound.
        #expect(CapacityRun.nextRate(results, .init(sloP99Milliseconds: 100, budgetSeconds: 60)) == 10)
        #expect(CapacityRun.searchBounds([SyntheticSteps.open(0, 10, p99: 5)]) == nil)
    }

    @Test("a step fails on p99, on errors, or on falling behind the schedule", arguments: [
        (SyntheticSteps.open(0, 100, p99: 99), true),
        (SyntheticSteps.open(0, 100, p99: 101), false),
        (SyntheticSteps.open(0, 100, p99: 10, http5xx: 8), false),   // 4 % errors: a 1 % rate gives 8 of 200 0.1 % of the time
        (SyntheticSteps.open(0, 100, p99: 10, http5xx: 4), true),    // 2 %, but a 1 % rate gives 4 of 200 14 % of the time
        (SyntheticSteps.open(0, 100, p99: 10, http5xx: 1), true),    // 0.5 %
        (SyntheticSteps.open(0, 100, p99: 10, unsent: 20), false),   // 200 of 220 scheduled: 91 %
    ])
    func stepObjective(_ step: StepResult, _ expected: Bool) {
        let settings = CapacityRun.Settings(sloP99Milliseconds: 100, budgetSeconds: 60)
        #expect(CapacityRun.meets(step, settings) == expected)
        let measured = CapacityRun.measurements([step], settings)
        #expect(settings.objective.isMet(by: measured[0]) == expected)
    }

    @Test func oneErrorInAShortStepIsNoEvidenceAgainstTheErrorBudget() {
        // 53 requests (a 2 s step at 26.5 req/s): one error is 1.9%, but a service failing 1% of
        // requests gives one or more 41% of the time; three or more only 1.6% of the time.
        func step(errors: UInt64) -> StepResult {
            SyntheticSteps.make(0, shape: .open(rate: 26.5, arrivals: .poisson), achieved: 26.5, p99: 10, http5xx: errors)
        }
        #expect(step(errors: 1).errorsWithin(budget: 0.01))
        #expect(step(errors: 2).errorsWithin(budget: 0.01))
        #expect(!step(errors: 3).errorsWithin(budget: 0.01))
        #expect(abs(StepResult.binomialUpperTail(atLeast: 1, of: 53, probability: 0.01) - 0.4128) < 0.001)
        #expect(abs(StepResult.binomialUpperTail(atLeast: 3, of: 53, probability: 0.01) - 0.0162) < 0.001)
    }

    @Test func aFlatSweepSetsAThroughputCeilingAndAClimbingOneDoesNot() {
        let settings = CapacityRun.Settings(sloP99Milliseconds: 2_000, budgetSeconds: 30)
        let flat = [SyntheticSteps.closed(0, 1, achieved: 39.6), SyntheticSteps.closed(1, 2, achieved: 44), SyntheticSteps.closed(2, 4, achieved: 45.5)]
        #expect(CapacityRun.throughputCeiling(flat, settings) == 45.5)
        // The top level fell back a little (contention): the plateau is the best level.
        let fellBack = [SyntheticSteps.closed(0, 1, achieved: 20), SyntheticSteps.closed(1, 2, achieved: 40), SyntheticSteps.closed(2, 4, achieved: 36)]
        #expect(CapacityRun.throughputCeiling(fellBack, settings) == 40)
        let climbing = [SyntheticSteps.closed(0, 1, achieved: 20), SyntheticSteps.closed(1, 2, achieved: 39), SyntheticSteps.closed(2, 4, achieved: 75)]
        #expect(CapacityRun.throughputCeiling(climbing, settings) == nil)
        #expect(CapacityRun.throughputCeiling([SyntheticSteps.closed(0, 4, achieved: 75)], settings) == nil)
    }

    @Test func capacityAboveTheCeilingIsCappedAndSaysWhy() throws {
        // The sweep flattened at 45 req/s; a short open-loop step at 56 req/s met a lax SLO.
        let steps = [SyntheticSteps.closed(0, 1, achieved: 39.6), SyntheticSteps.closed(1, 2, achieved: 44), SyntheticSteps.closed(2, 4, achieved: 45.5),
                     SyntheticSteps.open(3, 56.4, p99: 1_500), SyntheticSteps.open(4, 58.3, p99: 2_500)]
        let summary = RunSummary(name: "t", target: "http://x/", runDirectory: "/r", plannedSteps: 5, interrupted: false,
                                 steps: steps, requestsRecorded: 0, generatorPeakRSSBytes: 0)
        let report = try CapacityReport.make(summary: summary, runDirectory: "/r", settings: .init(sloP99Milliseconds: 2_000, budgetSeconds: 30),
                                             inputs: .init(peakRps: nil))
        #expect(report.capacityRps == 45.5 && report.searchedCapacityRps == 56.4 && report.throughputCeilingRps == 45.5)
        #expect(report.warnings.contains { $0.hasPrefix("capacity capped at the 45.5 req/s the concurrency sweep reached") }, "\(report.warnings)")
        #expect(report.renderText().contains("the search alone said 56.4 req/s"))
        // Below the ceiling the search's answer stands.
        let under = Array(steps.prefix(3)) + [SyntheticSteps.open(3, 40, p99: 500), SyntheticSteps.open(4, 44, p99: 2_500)]
        let kept = try CapacityReport.make(summary: RunSummary(name: "t", target: "http://x/", runDirectory: "/r", plannedSteps: 5, interrupted: false,
                                                               steps: under, requestsRecorded: 0, generatorPeakRSSBytes: 0),
                                           runDirectory: "/r", settings: .init(sloP99Milliseconds: 2_000, budgetSeconds: 30), inputs: .init(peakRps: nil))
        #expect(kept.capacityRps == 40 && kept.warnings.isEmpty)
    }

    @Test func withoutCoresThePerCoreFigureAndCostAreUnknownAndSaidSo() throws {
        let steps = [SyntheticSteps.closed(0, 1, achieved: 20), SyntheticSteps.open(1, 30, p99: 50), SyntheticSteps.open(2, 60, p99: 900)]
        let summary = RunSummary(name: "t", target: "http://x/", runDirectory: "/r", plannedSteps: 3, interrupted: false,
                                 steps: steps, requestsRecorded: 0, generatorPeakRSSBytes: 0)
        let report = try CapacityReport.make(summary: summary, runDirectory: "/r", settings: .init(sloP99Milliseconds: 100, budgetSeconds: 60),
                                             inputs: .init(peakRps: 100, coreHourPrice: 0.04))
        #expect(report.capacityRps == 30 && report.lowestFailingRps == 60)
        #expect(report.capacityPerCoreRps == nil && report.coresPerInstance == nil)
        let plan = try #require(report.plan)
        #expect(plan.instances == 5)  // 100 / (30 × 0.7) = 4.76
        #expect(plan.totalCores == nil && plan.costPerHour == nil)
        #expect(report.unknowns.contains { $0.hasPrefix("Cores per instance") })
        #expect(report.usl == nil && report.uslNote != nil)
        let text = report.renderText()
        #expect(text.contains("capacity per instance: 30 req/s"))
        #expect(text.contains("capacity per core:     unknown"))
        #expect(text.contains("instances: 5"))
    }

    @Test("bad plan inputs are refused naming the input (the command line names its flag)", arguments: [
        (CapacityReport.Inputs(headroom: 1), "headroom 1.0: "),
        (CapacityReport.Inputs(headroom: -0.1), "headroom -0.1: "),
        (CapacityReport.Inputs(coreHourPrice: -1), "core-hour price -1.0: "),
        (CapacityReport.Inputs(peakRps: 0), "peak rate 0.0: "),
        (CapacityReport.Inputs(coresPerInstance: .nan), "cores per instance nan: "),
    ])
    func badInputs(_ inputs: CapacityReport.Inputs, _ flag: String) {
        #expect {
            try inputs.validate()
        } throws: { error in
            (error as? CapacityError)?.message.hasPrefix(flag) == true
        }
    }
}
