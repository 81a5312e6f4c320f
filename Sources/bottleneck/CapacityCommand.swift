import ArgumentParser
import BottleneckCore
import BottleneckRun
import BottleneckDiagnosis
import BottleneckReport
import Foundation

/// `bottleneck capacity`: the highest rate one instance sustains at the SLO, and what a peak needs.
struct CapacityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capacity",
        abstract: "Find the highest rate that meets the SLO, fit the USL, and plan instances, cores and cost for a peak.",
        discussion: """
            Runs a closed-loop concurrency sweep (1,2,3,4,6,8,12,16; the Universal Scalability Law is fitted to it), \
            then open-loop steps that bisect between 0.25x and 2x the best closed-loop throughput for the highest \
            rate whose p99 meets --slo with errors within 1% (no more than a 1% rate gives by chance), 95% of its \
            schedule completed and no growing queue \
            (requests left unfinished at the step's end beyond rate x early latency). The answer is capped at the \
            sweep's throughput ceiling when the sweep flattened. --from RUN_DIR recomputes from a recorded run. \
            The budget defaults to 3m; longer budgets give longer steps, which resolve the knee more finely. \
            The decision is kept in the run directory (capacity.json), and `bottleneck report` (or --report html) shows \
            it with the USL curve over the sweep.

            Exit codes: 0 done (a capacity that could not be found is a finding, not an error); 2 bad input; \
            3 the run is invalid (the load generator could not keep up).
            """
    )

    @OptionGroup var load: DiagnosisLoadOptions
    @Option(help: "Recompute from this run directory without new load.") var from: String?
    @OptionGroup var plan: CapacityPlanOptions
    @OptionGroup var evidence: EvidenceOptions
    @OptionGroup var reports: ReportOptions
    @Flag(help: "Print the report as JSON (schema bottleneck.capacity/v1).") var json = false

    func run() async throws {
        try await CapacityExecution(load: load, plan: plan, evidence: evidence, reports: reports).run(from: from, json: json)
    }
}

/// The planning flags of `capacity` and `playbook run capacity-plan`.
struct CapacityPlanOptions: ParsableArguments {
    @Option(name: .customLong("peak-rps"), help: "The peak rate production must absorb, in req/s.",
            transform: OptionValue.number("a positive rate in req/s, like 1200") { $0 > 0 })
    var peakRps: Double?
    @Option(help: ArgumentHelp("Share of each instance kept free, 0 ..< 1 (default 0.3).", valueName: "headroom"),
            transform: OptionValue.number("a fraction in 0 ..< 1, like 0.3 for 30 %") { $0 >= 0 && $0 < 1 })
    var headroom = 0.3
    @Option(name: .customLong("core-hour-price"), help: "Price of one core for one hour, for costs.",
            transform: OptionValue.number("zero or a positive price per core-hour, like 0.04") { $0 >= 0 })
    var coreHourPrice: Double?
    @Option(name: .customLong("cores-per-instance"), help: "Cores of one instance (default: the sampled server's allowed cores).",
            transform: OptionValue.number("a positive number of cores, like 4") { $0 > 0 })
    var coresPerInstance: Double?
    @Option(name: .customLong("concurrency-steps"), help: "Closed-loop sweep levels for capacity (default 1,2,3,4,6,8,12,16).",
            transform: OptionValue.concurrencyList)
    var concurrencySteps: [Int]?
}

/// Measures (or reads) a capacity run and prints the plan.
struct CapacityExecution {
    var load: DiagnosisLoadOptions
    var plan: CapacityPlanOptions
    var evidence: EvidenceOptions
    var reports: ReportOptions

    func run(from: String?, json: Bool) async throws {
        let inputs = CapacityReport.Inputs(peakRps: plan.peakRps, headroom: plan.headroom, coreHourPrice: plan.coreHourPrice,
                                           coresPerInstance: plan.coresPerInstance)
        try inputs.validate()
        var settings = CapacityRun.Settings(sloP99Milliseconds: load.slo, budgetSeconds: load.budgetSeconds(default: 180))
        settings.concurrencyLevels = plan.concurrencySteps ?? settings.concurrencyLevels
        let directory: String
        if let from {
            directory = from
        } else {
            var probes = try RunExecution.probeRunner(load, evidence: evidence)
            directory = try await probes.capacity(settings)
        }
        let (report, diagnosis, found, recordFailure) = try CapacityReport.conclude(directory: directory, settings: settings, inputs: inputs)
        if let recordFailure { LoadProgressDisplay.note(recordFailure) }
        try reports.write(directory: directory, diagnosis: .made(diagnosis, found))
        if json {
            print(String(decoding: try RunJSON.encode(report), as: UTF8.self))
        } else {
            print(report.renderText(), terminator: "")
        }
        if !report.valid { throw ExitCode(3) }
    }
}
