@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Testing

/// `diagnose`'s ramp with nothing but a URL: it must find the knee within its resolution,
/// inside its budget, and the knee it reports must be the least loaded broken step — not the
/// one-connection baseline and not the far-overloaded doubling step.
@Suite("The diagnose ramp")
struct DiagnosisRampTests {
    /// A service whose p99 stays at 40 ms up to `capacity` req/s and queues without bound above.
    static func simulate(_ step: LoadStep, index: Int, capacity: Double) -> StepResult {
        switch step.shape {
        case .closed:
            // One connection, closed loop: 25 req/s at 40 ms.
            return SyntheticSteps.make(index, shape: step.shape, achieved: 25, p99: 40, duration: Double(step.duration) / 1e9)
        case .open(let rate, _):
            return SyntheticSteps.make(index, shape: step.shape, achieved: rate, p99: rate <= capacity ? 40 : 1_500,
                                       duration: Double(step.duration) / 1e9)
        }
    }

    static func run(capacity: Double, budget: Double) throws -> [StepResult] {
        let probe = DiagnosisProbe.steps(budgetSeconds: budget)
        let next = DiagnosisProbe.ramp(budgetSeconds: budget, sloP99Milliseconds: 300)
        var results = [simulate(probe.baseline, index: 0, capacity: capacity)]
        while let step = next(results) {
            results.append(simulate(step, index: results.count, capacity: capacity))
            try #require(results.count < 30, "runaway ramp")
        }
        return results
    }

    @Test("bisects the doubling step down to the knee within 15 %", arguments: [37.0, 52.0, 90.0, 190.0])
    func findsTheKnee(capacity: Double) throws {
        let results = try Self.run(capacity: capacity, budget: 120)
        let rates = results.compactMap { step in step.targetRate.map { (rate: $0, ok: RunEvidence.meetsObjective(step, sloP99Milliseconds: 300)) } }
        let good = try #require(rates.filter(\.ok).map(\.rate).max())
        let broken = try #require(rates.filter { !$0.ok }.map(\.rate).min())
        #expect(good <= capacity && broken > capacity)
        #expect(broken / good <= DiagnosisProbe.kneeResolution, "knee bracketed by \(good) and \(broken)")
        #expect(results.reduce(0) { $0 + $1.duration } <= 120)
        // The knee is the least loaded broken step, not the doubling step past it.
        let knee = try #require(RunEvidence.kneeIndex(results, sloP99Milliseconds: 300))
        #expect(results[knee].targetRate == broken)
    }

    @Test func aShortBudgetStopsTheRampInsideIt() throws {
        let results = try Self.run(capacity: 400, budget: 30)
        #expect(results.reduce(0) { $0 + $1.duration } <= 30.5)
    }

    @Test func theBaselineIsTheReferenceNotTheKnee() throws {
        // Baseline and a stated rate that holds: the knee is the stated rate (the most loaded step).
        let baseline = SyntheticSteps.make(0, shape: .closed(concurrency: 1), achieved: 25, p99: 40)
        var named = baseline
        named.name = RunEvidence.baselineStepName
        let stated = SyntheticSteps.open(1, 20, p99: 45)
        #expect(RunEvidence.kneeIndex([named, stated], sloP99Milliseconds: 300) == 1)
        // Even when the baseline itself misses the SLO (a thin link), the stated load is judged.
        let slowBaseline = SyntheticSteps.make(0, shape: .closed(concurrency: 1), achieved: 2, p99: 400)
        var slowNamed = slowBaseline
        slowNamed.name = RunEvidence.baselineStepName
        #expect(RunEvidence.kneeIndex([slowNamed, stated], sloP99Milliseconds: 300) == 1)
        // A run of one step: that step.
        #expect(RunEvidence.kneeIndex([stated], sloP99Milliseconds: 300) == 0)
    }

    @Test func aBisectionStepWithAMetStepWithinTheResolutionBelowIsBracketed() throws {
        // The ramp's last steps: 48 met, 52 broke by 2 ms with the generator 98 ms late, 62 broke.
        var late = SyntheticSteps.open(2, 52, p99: 302)
        late.scheduleLag.p99 = 98.6
        let steps = [SyntheticSteps.open(0, 62, p99: 1_400), SyntheticSteps.open(1, 48, p99: 250), late]
        #expect(RunEvidence.bracketingRate(steps[2], in: steps, sloP99Milliseconds: 300) == 48)
        // 62 lies more than 15% above the highest rate that met (48): its verdict moves the knee further.
        #expect(RunEvidence.bracketingRate(steps[0], in: steps, sloP99Milliseconds: 300) == nil)
        // A stated rate alone, and the step that met, are never bracketed.
        #expect(RunEvidence.bracketingRate(late, in: [late], sloP99Milliseconds: 300) == nil)
        #expect(RunEvidence.bracketingRate(steps[1], in: steps, sloP99Milliseconds: 300) == nil)
        // The diagnosis says so instead of discarding the run, with the rate the knee lies at.
        let warnings = DiagnosisResult.lateSendWarnings(steps, sloP99Milliseconds: 300, outcome: DiagnosisOutcome(verdicts: [], invalid: false, missingEvidence: []))
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("the knee lies at 48 req/s") == true, "\(warnings)")
    }
}
