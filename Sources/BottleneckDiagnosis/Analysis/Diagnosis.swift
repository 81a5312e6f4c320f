import Foundation
import BottleneckCore
import BottleneckLoad
import BottleneckSampling
import BottleneckRun

/// What `bottleneck diagnose` concludes about one run: the ranked verdicts with their
/// evidence, whether the run can be trusted, whether the service is healthy, and the
/// knee of the ramp. JSON schema `bottleneck.diagnosis/v1`.
public struct DiagnosisResult: Sendable, Codable {
    public struct Knee: Sendable, Codable {
        public var step: Int
        public var name: String
        public var offeredRps: Double?
        public var achievedRps: Double
        public var p99Ms: Double
        /// True when this step broke the SLO (else it is just the most loaded step).
        public var broken: Bool
    }

    public var schema = "bottleneck.diagnosis/v1"
    public var runDirectory: String
    public var target: String
    public var sloP99Ms: Double
    /// False when a load-generator rule fired: the run's numbers must not be trusted.
    public var valid: Bool
    /// True when the run is valid, every step met the SLO with under 1% errors, and no rule fired.
    public var healthy: Bool
    public var sloMet: Bool
    /// The highest achieved rate of a step that met the SLO with under 1% errors.
    public var capacityAtSloRps: Double?
    public var knee: Knee?
    public var verdicts: [Verdict]
    public var missingEvidence: [String]
    /// Problems with the requests themselves (e.g. most answered 4xx): the load did not
    /// exercise the service, so its numbers describe an error path.
    public var warnings: [String] = []
    /// What was found serving the target on this host and sampled (run.json's topology).
    public var found: [String]? = nil
    /// Every failed request counted under its cause, most first (nil when none failed).
    public var failedRequests: [FailureCause]? = nil

    /// Failed requests of one cause.
    public struct FailureCause: Sendable, Codable, Equatable {
        /// A short name: oom-kill, worker-timeout, worker-crash, gateway-5xx, service-5xx,
        /// timeout, refused, reset, closed, generator, other.
        public var cause: String
        public var meaning: String
        public var requests: Int
    }

    /// Evaluates the rules on a recorded run.
    public static func evaluate(directory: String, sloP99Milliseconds: Double, rules: [Rule],
                                segments: ServerTimingSegments = .defaults) throws -> DiagnosisResult {
        evaluate(evidence: try RunEvidence.load(directory: directory, sloP99Milliseconds: sloP99Milliseconds, segments: segments), rules: rules)
    }

    /// Evaluates the rules on evidence already loaded.
    public static func evaluate(evidence: RunEvidence, rules: [Rule]) -> DiagnosisResult {
        let directory = evidence.directory
        let sloP99Milliseconds = evidence.sloP99Milliseconds
        // The connections probe's rules read connections.json, which a load run does not have.
        let outcome = RuleEngine(rules: rules.filter { !$0.readsConnectionsProbe }, catalog: EvidenceCatalog.catalog).evaluate(evidence)
        let steps = evidence.summary.steps
        func meets(_ step: StepResult) -> Bool { RunEvidence.meetsObjective(step, sloP99Milliseconds: sloP99Milliseconds) }
        let sloMet = !steps.isEmpty && steps.allSatisfy(meets)
        let capacity = evidence.run[Metric.loadCapacityAtSloRps]
        var knee: Knee?
        if let index = evidence.kneeStep, index < steps.count {
            let step = steps[index]
            knee = Knee(step: index, name: step.name, offeredRps: step.targetRate, achievedRps: step.achievedRate,
                        p99Ms: step.latency.p99, broken: !meets(step))
        }
        return DiagnosisResult(runDirectory: directory, target: evidence.summary.target, sloP99Ms: sloP99Milliseconds,
                               valid: !outcome.invalid, healthy: !outcome.invalid && sloMet && outcome.verdicts.isEmpty,
                               sloMet: sloMet, capacityAtSloRps: capacity, knee: knee, verdicts: outcome.verdicts,
                               missingEvidence: relevantMissing(outcome.missingEvidence, topology: evidence.topology),
                               warnings: requestWarnings(steps) + lateSendWarnings(steps, sloP99Milliseconds: sloP99Milliseconds, outcome: outcome) + unmappedPhaseWarnings(evidence.requests.unmappedPhaseNames),
                               found: evidence.topology?.notes,
                               failedRequests: evidence.failures.failed > 0 ? evidence.failures.causeList : nil)
    }

    /// Steps where most requests were refused by the service as bad requests (4xx).
    static func requestWarnings(_ steps: [StepResult]) -> [String] {
        steps.compactMap { step in
            let rejected = step.statusClasses["4xx"] ?? 0
            let answered = step.statusClasses.values.reduce(0, +)
            guard answered > 0, Double(rejected) >= 0.5 * Double(answered) else { return nil }
            return "step \(step.index + 1) (\(step.name)): \(rejected) of \(answered) responses were 4xx — the service rejected the request itself; check the method, --payload, --body and -H (a POST endpoint needs --payload)"
        }
    }

    /// Steps whose latencies are much the generator's own lateness, where that did not change
    /// the verdict (the loadgen-schedule-lag rule, which makes the run invalid, did not fire):
    /// latency counts from the intended send time, so these steps overstate the service's.
    static func lateSendWarnings(_ steps: [StepResult], sloP99Milliseconds: Double, outcome: DiagnosisOutcome) -> [String] {
        guard !outcome.verdicts.contains(where: { $0.rule == "loadgen-schedule-lag" }) else { return [] }
        return steps.compactMap { step in
            let lag = step.scheduleLag.p99, p99 = step.latency.p99
            if lag >= 5, p99 > sloP99Milliseconds, p99 - lag < sloP99Milliseconds,
               let below = RunEvidence.bracketingRate(step, in: steps, sloP99Milliseconds: sloP99Milliseconds) {
                return "step \(step.index + 1) (\(step.name)): p99 \(String(format2: p99)) ms broke the \(String(format2: sloP99Milliseconds)) ms SLO by less than the generator's lateness (schedule lag p99 \(String(format2: lag)) ms), so it may have met it: the knee lies at \(formatRate(below)) req/s or up to one ramp step above; give the generator dedicated cores to pin it down"
            }
            guard lag >= 5, lag >= 0.25 * p99 else { return nil }
            return "step \(step.index + 1) (\(step.name)): the generator sent late (schedule lag p99 \(String(format2: lag)) ms of a p99 of \(String(format2: p99)) ms), so its latencies overstate the service's; the verdict on the SLO holds either way"
        }
    }

    /// Missing evidence without what cannot exist: with the service itself serving the target
    /// there is no proxy to sample, bypass or capture the legs of.
    static func relevantMissing(_ missing: [String], topology: RunTopology?) -> [String] {
        guard topology?.targetServedBy == "service" else { return missing }
        return missing.filter { !($0.hasPrefix("proxy.") || $0.hasPrefix("bypass.") || $0.hasPrefix("wire.proxy") || $0.hasPrefix("wire.front")) }
    }

    /// Server-Timing names that map to no segment: their time counts as outside the service's phases.
    static func unmappedPhaseWarnings(_ names: Set<String>) -> [String] {
        guard !names.isEmpty else { return [] }
        let sorted = names.sorted()
        return ["Server-Timing names \(sorted.joined(separator: ", ")) map to no phase, so their time counts as outside the service's work: map them, e.g. --phase \(sorted[0])=model (segments: preprocess, model, postprocess, queue)"]
    }

    /// The culprits named, best first.
    public var culprits: [Culprit] { verdicts.map(\.culprit) }

    public static let fileName = RunFile.diagnosis.rawValue

    /// The diagnosis recorded in a run directory, or nil when it has none (`load` records none).
    public static func recorded(in record: RunRecord) throws -> DiagnosisResult? {
        try record.decode(DiagnosisResult.self, from: .diagnosis)
    }

    /// Reads the run's evidence, evaluates `rules` on it and records both in the run directory.
    /// A diagnosis that cannot be recorded still stands: `recordFailure` says why it was not kept.
    public static func conclude(directory: String, sloP99Milliseconds: Double, segments: ServerTimingSegments,
                                rules: [Rule]) throws -> (result: DiagnosisResult, evidence: RunEvidence, recordFailure: String?) {
        let evidence = try RunEvidence.load(directory: directory, sloP99Milliseconds: sloP99Milliseconds, segments: segments)
        let result = evaluate(evidence: evidence, rules: rules)
        do {
            try record(result, evidence: evidence)
            return (result, evidence, nil)
        } catch {
            return (result, evidence, "\(error)")
        }
    }

    /// The exit code of a command that concluded this: 3 when the run is invalid (the load
    /// generator could not keep up), 1 when a culprit in `failingOn` was named, else 0.
    public func exitCode(failingOn culprits: [Culprit]) -> Int32 {
        if !valid { return 3 }
        return self.culprits.contains(where: culprits.contains) ? 1 : 0
    }

    /// Writes `diagnosis.json` and `evidence.json` into the run directory, so reports and
    /// later re-evaluations read the conclusion and the evidence it rested on.
    public static func record(_ result: DiagnosisResult, evidence: RunEvidence) throws {
        let directory = URL(fileURLWithPath: evidence.directory)
        do {
            try RunJSON.encode(result).write(to: directory.appendingPathComponent(fileName))
            try RunJSON.encode(EvidenceSnapshot(evidence)).write(to: directory.appendingPathComponent(EvidenceSnapshot.fileName))
        } catch {
            throw AnalysisError("cannot write \(fileName) into \(evidence.directory) (\(error.localizedDescription)); the diagnosis is printed but not kept — copy the run directory somewhere writable")
        }
    }
}

/// The probe `diagnose` runs when given no load of its own: a one-connection baseline,
/// then open-loop steps that double the rate until a step breaks the objective (p99 over the
/// SLO, errors over 1%, the achieved rate behind, or a queue that grows), then steps that
/// bisect between the last rate that held and the first that broke until the two are within
/// ``kneeResolution`` of each other — the knee to within about 15% — or the budget is spent.
public enum DiagnosisProbe: Sendable {
    /// The bisection stops when the first broken rate is within this factor of the last good one.
    public static let kneeResolution = 1.15

    /// The baseline before a stated load (`--rate`, `--concurrency`): 4 s at one connection.
    public static let fixedLoadBaseline = LoadStep(name: RunEvidence.baselineStepName, shape: .closed(concurrency: 1), duration: 4_000_000_000)

    public static func steps(budgetSeconds: Double) -> (baseline: LoadStep, stepSeconds: Double) {
        let baselineSeconds = min(10, max(3, budgetSeconds / 12))
        let stepSeconds = min(15, max(3, budgetSeconds / 12))
        return (LoadStep(name: RunEvidence.baselineStepName, shape: .closed(concurrency: 1), duration: UInt64(baselineSeconds * 1e9)), stepSeconds)
    }

    /// The adaptive ramp after the baseline, for `LoadPlan.nextStep`.
    public static func ramp(budgetSeconds: Double, sloP99Milliseconds: Double, arrivals: ArrivalProcess = .poisson)
        -> @Sendable ([StepResult]) -> LoadStep? {
        let stepSeconds = steps(budgetSeconds: budgetSeconds).stepSeconds
        // The budget is wall time: the warm-up and each step's drain (an overloaded step's queue
        // empties after it) count too, not only the steps' scheduled lengths.
        let started = MonotonicClock.now()
        return { results in
            guard let baseline = results.first else { return nil }
            let spent = results.reduce(0) { $0 + $1.duration }
            let wall = Double(MonotonicClock.now() - started) / 1e9
            guard max(spent, wall) + stepSeconds <= budgetSeconds + 0.5, results.count < 16 else { return nil }
            guard let next = nextRate(results, baseline: baseline, sloP99Milliseconds: sloP99Milliseconds) else { return nil }
            return LoadStep(name: "rate-\(formatRate(next))", shape: .open(rate: next, arrivals: arrivals), duration: UInt64(stepSeconds * 1e9))
        }
    }

    /// The next rate to try, or nil when the knee is known well enough. Doubling from half of
    /// what one connection achieved until a step breaks; then the geometric middle of the last
    /// good and the first broken rate (the knee is a ratio, so the search halves the ratio).
    static func nextRate(_ results: [StepResult], baseline: StepResult, sloP99Milliseconds: Double) -> Double? {
        let open = results.dropFirst().compactMap { step in step.targetRate.map { (rate: $0, ok: RunEvidence.meetsObjective(step, sloP99Milliseconds: sloP99Milliseconds)) } }
        guard !open.isEmpty else { return max(1, (baseline.achievedRate * 0.5).rounded()) }
        let good = open.filter(\.ok).map(\.rate).max()
        let broken = open.filter { !$0.ok }.map(\.rate).min()
        guard let broken else { return open.last!.rate * 2 }
        guard let good, good < broken else { return nil }   // even the first rate broke: nothing to bisect
        guard broken / good > kneeResolution else { return nil }
        let middle = (good * broken).squareRoot()
        return middle >= 10 ? middle.rounded() : (middle * 10).rounded() / 10
    }
}
