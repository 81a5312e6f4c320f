import Foundation
import BottleneckCore
import BottleneckRun

/// What `bottleneck capacity` concludes from a run: the highest open-loop rate that met the
/// SLO, the USL fit of the closed-loop sweep, and — given a peak — what to buy for it, with the
/// assumptions the numbers rest on and what the run could not tell. JSON schema
/// `bottleneck.capacity/v1`.
///
/// Built from `summary.json` alone, so a live run and `--from RUN_DIR` give the same report.
public struct CapacityReport: Sendable, Codable {
    /// The figures the user supplies for the plan; validated before any load runs.
    public struct Inputs: Sendable, Codable, Equatable {
        public var peakRps: Double?
        public var headroom: Double = 0.3
        public var coreHourPrice: Double?
        /// From `--cores-per-instance`; wins over the sampled figure.
        public var coresPerInstance: Double?

        public init(peakRps: Double? = nil, headroom: Double = 0.3, coreHourPrice: Double? = nil, coresPerInstance: Double? = nil) {
            self.peakRps = peakRps
            self.headroom = headroom
            self.coreHourPrice = coreHourPrice
            self.coresPerInstance = coresPerInstance
        }

        /// - Throws: `CapacityError.badInput` naming the input and its accepted form.
        public func validate() throws(CapacityError) {
            if let peakRps, !(peakRps.isFinite && peakRps > 0) {
                throw CapacityError(.badInput, "peak rate \(peakRps): give a positive rate in req/s, like 1200")
            }
            guard headroom.isFinite, headroom >= 0, headroom < 1 else {
                throw CapacityError(.badInput, "headroom \(headroom): give a fraction in 0 ..< 1, like 0.3 for 30 %")
            }
            if let coreHourPrice, !(coreHourPrice.isFinite && coreHourPrice >= 0) {
                throw CapacityError(.badInput, "core-hour price \(coreHourPrice): give zero or a positive price per core-hour, like 0.04")
            }
            if let coresPerInstance, !(coresPerInstance.isFinite && coresPerInstance > 0) {
                throw CapacityError(.badInput, "cores per instance \(coresPerInstance): give a positive number of cores, like 4")
            }
        }
    }

    /// One step as the capacity decision saw it.
    public struct Step: Sendable, Codable, Equatable {
        public var index: Int
        public var name: String
        public var mode: String
        public var concurrency: Int?
        public var offeredRps: Double?
        public var achievedRps: Double
        public var p99Ms: Double
        public var errorRate: Double
        public var achievedRatio: Double?
        /// Open loop: the step ended with more requests queued than a steady queue holds (``Backlog``).
        public var queueGrowing: Bool?
        public var meetsSlo: Bool
    }

    /// How the open-loop search ended.
    public enum Outcome: String, Sendable, Codable {
        /// Capacity lies between the highest pass and the lowest failure.
        case bracketed
        /// Every open-loop rate met the SLO: capacity is at least the highest one.
        case atLeast
        /// No open-loop rate met the SLO.
        case noneMet
        /// The run has no open-loop steps.
        case noOpenLoopSteps
    }

    /// What to buy for the peak. Core and cost figures are nil when cores per instance are unknown.
    public struct Plan: Sendable, Codable, Equatable {
        public var peakRps: Double
        public var headroom: Double
        public var instances: Int
        public var utilisationAtPeak: Double
        public var totalCores: Double?
        public var coreHourPrice: Double?
        public var costPerHour: Double?
        public var costPerMonth: Double?
    }

    public var schema = "bottleneck.capacity/v1"
    public var runDirectory: String
    public var target: String
    public var sloP99Ms: Double
    public var errorBudget: Double
    public var minAchievedRatio: Double
    /// False when the load generator saturated: the numbers must not be trusted.
    public var valid: Bool
    public var warnings: [String]
    public var steps: [Step]
    public var outcome: Outcome
    /// Capacity per instance: the highest offered open-loop rate that met the objective below
    /// the lowest one that did not.
    public var capacityRps: Double?
    /// What the open-loop search alone found (above `capacityRps` when capped at the ceiling).
    public var searchedCapacityRps: Double?
    /// The closed-loop sweep's throughput plateau, when it reached one (``CapacityRun/throughputCeiling(_:_:)``).
    public var throughputCeilingRps: Double?
    public var lowestFailingRps: Double?
    /// The closed-loop step with the highest throughput (at any latency).
    public var bestClosedLoopRps: Double?
    public var bestClosedLoopConcurrency: Int?
    public var usl: USLFit?
    /// Why there is no fit, when there is none.
    public var uslNote: String?
    public var coresPerInstance: Double?
    /// "--cores-per-instance" or "sampled server cores"; nil when unknown.
    public var coresSource: String?
    public var capacityPerCoreRps: Double?
    public var plan: Plan?
    public var assumptions: [String]
    public var unknowns: [String]

    /// The file in the run directory that keeps the decision, for the reports.
    public static let fileName = RunFile.capacity.rawValue

    /// Keeps the report in its run directory, so `bottleneck report` shows the plan.
    public func record() throws {
        let path = runDirectory + "/" + Self.fileName
        do {
            try RunJSON.encode(self).write(to: URL(fileURLWithPath: path))
        } catch {
            throw CapacityError(.badInput, "cannot write \(path) (\(error.localizedDescription)); the run directory is kept")
        }
    }

    /// The report a capacity run left in its run directory; nil when it has none.
    /// - Throws: ``RunRecordError`` when the file is there but does not parse.
    public static func recorded(in record: RunRecord) throws -> CapacityReport? {
        try record.decode(CapacityReport.self, from: .capacity)
    }

    /// Reads `summary.json` in `directory` and decides; the run is invalid when the load
    /// generator was saturated or any load-generator rule fired on the run's evidence (the
    /// same test as the diagnosis and the reports).
    public static func load(directory: String, settings: CapacityRun.Settings, inputs: Inputs) throws -> CapacityReport {
        try conclude(directory: directory, settings: settings, inputs: inputs).report
    }

    /// The decision, with the diagnosis under the default rules that judged the run's validity
    /// and the evidence it rests on (read once, for the reports too).
    ///
    /// The report (`capacity.json`) and the diagnosis (`diagnosis.json`, `evidence.json`) are
    /// kept in the run directory; when they cannot be written, `recordFailure` says why and the
    /// conclusion stands.
    public static func conclude(directory: String, settings: CapacityRun.Settings, inputs: Inputs) throws
        -> (report: CapacityReport, diagnosis: DiagnosisResult, evidence: RunEvidence, recordFailure: String?) {
        let evidence = try RunEvidence.load(directory: directory, sloP99Milliseconds: settings.sloP99Milliseconds)
        var report = try make(summary: evidence.summary, runDirectory: directory, settings: settings, inputs: inputs)
        let diagnosis = DiagnosisResult.evaluate(evidence: evidence, rules: try DefaultRules.load(catalog: EvidenceCatalog.catalog))
        if !diagnosis.valid {
            report.valid = false
            for verdict in diagnosis.verdicts where verdict.culprit == .loadGenerator {
                report.warnings.append("the load generator could not keep up (rule \(verdict.rule)): \(verdict.explain)")
            }
        }
        do {
            try report.record()
            try DiagnosisResult.record(diagnosis, evidence: evidence)
            return (report, diagnosis, evidence, nil)
        } catch {
            return (report, diagnosis, evidence, "\(error)")
        }
    }

    /// The decision on a run's steps and sampling summary.
    public static func make(summary: RunSummary, runDirectory: String, settings: CapacityRun.Settings, inputs: Inputs) throws -> CapacityReport {
        try inputs.validate()
        let results = summary.steps
        let steps = results.map { r in
            Step(index: r.index, name: r.name, mode: r.mode, concurrency: r.concurrency, offeredRps: r.targetRate,
                 achievedRps: r.achievedRate, p99Ms: r.latency.p99, errorRate: r.errorRate, achievedRatio: r.achievedRatio,
                 queueGrowing: r.backlog.map(\.growing), meetsSlo: CapacityRun.meets(r, settings))
        }

        let measured = CapacityRun.measurements(results, settings)
        let searched = CapacitySearch.result(measured: measured, objective: settings.objective)
        let ceiling = CapacityRun.throughputCeiling(results, settings)
        var capacity = searched
        var warnings = summary.warnings
        if let found = searched, let ceiling, found > ceiling {
            capacity = ceiling
            warnings.append("capacity capped at the \(rps(ceiling)) req/s the concurrency sweep reached: the open-loop step at \(rps(found)) req/s met the SLO, but the service never completed that many per second at any concurrency, so its queue was growing too slowly for a step of \(String(format2: results.filter { $0.mode == "open" }.map(\.duration).max() ?? 0)) s to show it (a longer --budget gives longer steps)")
        }
        let lowestFail = measured.filter { !settings.objective.isMet(by: $0) }.map(\.rate).min()
        let outcome: Outcome = measured.isEmpty ? .noOpenLoopSteps
            : capacity == nil ? .noneMet : lowestFail == nil ? .atLeast : .bracketed

        let closed = results.filter { $0.mode == "closed" && $0.completed > 0 }
        let best = closed.max { $0.achievedRate < $1.achievedRate }
        let points = CapacityRun.uslPoints(results, settings)
        let fit = USLFit.fit(points)
        var uslNote: String?
        if fit == nil {
            let levels = Set(points.map(\.concurrency)).count
            uslNote = "no USL fit: it needs closed-loop steps at three or more concurrency levels within the error budget, the run has \(levels)"
        }

        var coresSource: String?
        var cores = inputs.coresPerInstance
        if cores != nil {
            coresSource = "--cores-per-instance"
        } else if let sampled = CapacityRun.sampledServerCores(summary.serverSampling) {
            cores = sampled
            coresSource = "sampled server cores"
        }
        let perCore = capacity.flatMap { c in cores.map { c / $0 } }

        var unknowns: [String] = []
        var assumptions: [String] = []
        var plan: Plan?
        if let capacity, let peak = inputs.peakRps {
            // With cores unknown the instance count still holds; core and cost figures are dropped.
            let full = try CapacityPlan(capacityPerInstance: capacity, coresPerInstance: cores ?? 1, peakRate: peak,
                                        headroom: inputs.headroom, coreHourPrice: inputs.coreHourPrice)
            plan = Plan(peakRps: peak, headroom: inputs.headroom, instances: full.instances, utilisationAtPeak: full.utilisationAtPeak,
                        totalCores: cores == nil ? nil : full.totalCores, coreHourPrice: inputs.coreHourPrice,
                        costPerHour: cores == nil ? nil : full.costPerHour, costPerMonth: cores == nil ? nil : full.costPerMonth)
            assumptions = full.assumptions
            unknowns = full.unknowns
        } else {
            assumptions = [
                "Production instances have the same hardware, CPU allowance and software versions as the one measured.",
                "Capacity scales linearly with instances behind a load balancer that spreads requests evenly.",
                "Production traffic has the payload mix of the test (sizes, types, batch sizes).",
            ]
            if inputs.peakRps == nil { unknowns.append("The peak to plan for (pass --peak-rps to get instances, cores and cost).") }
        }
        assumptions.append("Arrivals at a steady rate (Poisson) like the open-loop steps; bursts above it are what headroom is for.")

        if cores == nil {
            unknowns.append("Cores per instance: not given (--cores-per-instance) and no server was sampled (--server-pid or --server-port), so capacity per core, total cores and cost are unknown.")
        } else if coresSource == "sampled server cores" {
            unknowns.append("Sampled cores are what the server was allowed (affinity, cgroup quota), not what it used; a generator on the same host competed for them.")
        }
        switch outcome {
        case .noOpenLoopSteps:
            unknowns.append("Capacity at the SLO: the run has no open-loop steps (the concurrency sweep alone cannot show queueing delay).")
        case .noneMet:
            unknowns.append("Capacity at the SLO: no open-loop rate met it; the lowest tried was \(CapacityReport.rps(lowestFail ?? 0)) req/s.")
        case .atLeast:
            unknowns.append("How far capacity goes above \(CapacityReport.rps(capacity ?? 0)) req/s: every open-loop rate tried met the SLO.")
        case .bracketed:
            break
        }
        if let fit, fit.r2 < 0.9 {
            unknowns.append("Where throughput peaks: the USL fits the sweep poorly (r² \(String(format2: fit.r2))), so N* and the ceiling are rough.")
        }
        let longest = results.map(\.duration).max() ?? 0
        unknowns.append("Behaviour beyond the longest step (\(String(format2: longest)) s): slow leaks, garbage collection, cache expiry, thermal limits.")

        let saturated = results.filter(\.generatorSaturated)
        return CapacityReport(
            runDirectory: runDirectory, target: summary.target, sloP99Ms: settings.sloP99Milliseconds,
            errorBudget: settings.errorBudget, minAchievedRatio: settings.minAchievedRatio, valid: saturated.isEmpty,
            warnings: warnings, steps: steps, outcome: outcome, capacityRps: capacity, searchedCapacityRps: searched,
            throughputCeilingRps: ceiling, lowestFailingRps: lowestFail,
            bestClosedLoopRps: best?.achievedRate, bestClosedLoopConcurrency: best?.concurrency, usl: fit, uslNote: uslNote,
            coresPerInstance: cores, coresSource: coresSource, capacityPerCoreRps: perCore, plan: plan,
            assumptions: assumptions, unknowns: unknowns)
    }

    /// A rate for prose: at most two decimals, no trailing zeros.
    package static func rps(_ value: Double) -> String { String(format2: value) }
}
