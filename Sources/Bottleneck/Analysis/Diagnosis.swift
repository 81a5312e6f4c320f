import Foundation

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

    /// Evaluates the rules on a recorded run.
    public static func evaluate(directory: String, sloP99Milliseconds: Double, rules: [Rule],
                                segments: ServerTimingSegments = .defaults) throws -> DiagnosisResult {
        evaluate(evidence: try RunEvidence.load(directory: directory, sloP99Milliseconds: sloP99Milliseconds, segments: segments), rules: rules)
    }

    /// Evaluates the rules on evidence already loaded.
    public static func evaluate(evidence: RunEvidence, rules: [Rule]) -> DiagnosisResult {
        let directory = evidence.directory
        let sloP99Milliseconds = evidence.sloP99Milliseconds
        let outcome = RuleEngine(rules: rules, catalog: EvidenceCatalog.catalog).evaluate(evidence)
        let steps = evidence.summary.steps
        func meets(_ step: StepResult) -> Bool { RunEvidence.meetsObjective(step, sloP99Milliseconds: sloP99Milliseconds) }
        let sloMet = !steps.isEmpty && steps.allSatisfy(meets)
        let capacity = steps.filter(meets).map(\.achievedRate).max()
        var knee: Knee?
        if let index = evidence.kneeStep, index < steps.count {
            let step = steps[index]
            knee = Knee(step: index, name: step.name, offeredRps: step.targetRate, achievedRps: step.achievedRate,
                        p99Ms: step.latency.p99, broken: !meets(step))
        }
        return DiagnosisResult(runDirectory: directory, target: evidence.summary.target, sloP99Ms: sloP99Milliseconds,
                               valid: !outcome.invalid, healthy: !outcome.invalid && sloMet && outcome.verdicts.isEmpty,
                               sloMet: sloMet, capacityAtSloRps: capacity, knee: knee, verdicts: outcome.verdicts,
                               missingEvidence: outcome.missingEvidence, warnings: requestWarnings(steps))
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

    /// The culprits named, best first.
    public var culprits: [Culprit] { verdicts.map(\.culprit) }

    public static let fileName = "diagnosis.json"

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
/// then open-loop steps that double the rate until the SLO breaks, errors pass 1%, the
/// achieved rate falls behind, or the time budget is spent.
public enum DiagnosisProbe: Sendable {
    public static func steps(budgetSeconds: Double) -> (baseline: LoadStep, stepSeconds: Double) {
        let baselineSeconds = min(10, max(3, budgetSeconds / 10))
        let stepSeconds = min(15, max(3, budgetSeconds / 10))
        return (LoadStep(name: "baseline", shape: .closed(concurrency: 1), duration: UInt64(baselineSeconds * 1e9)), stepSeconds)
    }

    /// The adaptive ramp after the baseline, for `LoadPlan.nextStep`.
    public static func ramp(budgetSeconds: Double, sloP99Milliseconds: Double, arrivals: ArrivalProcess = .poisson)
        -> @Sendable ([StepResult]) -> LoadStep? {
        let stepSeconds = steps(budgetSeconds: budgetSeconds).stepSeconds
        return { results in
            guard let last = results.last else { return nil }
            let spent = results.reduce(0) { $0 + $1.duration }
            guard spent + stepSeconds <= budgetSeconds, results.count < 12 else { return nil }
            if results.count > 1 {
                let broken = last.latency.p99 > sloP99Milliseconds || last.errorRate > 0.01 || (last.achievedRatio ?? 1) < 0.95
                if broken { return nil }
            }
            let next: Double
            if let previous = last.targetRate {
                next = previous * 2
            } else {
                // From the baseline: start at half of what one connection achieved.
                next = max(1, (last.achievedRate * 0.5).rounded())
            }
            return LoadStep(name: "rate-\(formatRate(next))", shape: .open(rate: next, arrivals: arrivals), duration: UInt64(stepSeconds * 1e9))
        }
    }
}
