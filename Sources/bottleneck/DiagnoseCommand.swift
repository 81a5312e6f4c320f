import ArgumentParser
import BottleneckCore
import BottleneckLoad
import BottleneckRun
import BottleneckDiagnosis
import BottleneckReport
import Foundation

/// `bottleneck diagnose`: run the probes, gather evidence, name the culprit.
struct DiagnoseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnose",
        abstract: "Find where a prediction service's time goes: run probes, apply the rules, rank the culprits.",
        discussion: """
            Two paths. Given nothing but --target (and --payload for a POST endpoint; a KServe v2 target, REST /v2/models/NAME/infer or gRPC grpc://HOST:PORT/v2/models/NAME, needs none: the model's metadata says what to send, and its model statistics give the server's phases where it sends no Server-Timing), diagnose warms up (--warmup), \
            runs a one-connection baseline — with random-size payloads it is also the payload-size sweep — then \
            open-loop steps that double the rate until a step breaks the objective (p99 over --slo, default \
            p99=300ms; more errors than a 1% rate gives by chance; the achieved rate behind; a growing queue), \
            then bisects between the last rate that held and the first that broke until the knee is known within 15%, or the budget is spent, \
            and names what limits there. Given --rate R (your production load) it runs a 4 s baseline, then R, \
            and answers at R: a culprit, or healthy. --concurrency N does the same closed-loop.

            The service's and the proxy's processes are found by their listening sockets on this host, in any \
            network namespace, and sampled; the first lines say what was found. --backend URL names the service \
            behind a proxy (its first step is also repeated straight to it, to tell what the proxy adds); \
            --server-pid/--proxy-pid override; --agent URL samples a service on another host. --from RUN_DIR \
            re-diagnoses a recorded run without new load. The conclusion and its evidence are kept in the run \
            directory (diagnosis.json, evidence.json).

            Exit codes: 0 diagnosed; 1 a culprit named in --fail-on was found; 2 bad input; 3 the run is invalid (the \
            load generator could not keep up).
            """
    )

    @OptionGroup var load: DiagnosisLoadOptions
    @Option(help: "Re-diagnose this run directory without new load.") var from: String?
    @Option(help: "Your production load: answer at this open-loop rate (after a 4 s baseline) instead of ramping to the knee.",
            transform: OptionValue.rate) var rate: Double?
    @Option(help: "Answer at this closed-loop concurrency (after a 4 s baseline) instead of ramping.", transform: OptionValue.concurrency)
    var concurrency: Int?
    @Option(help: "Step length when --rate or --concurrency is given (default 10s).", transform: OptionValue.duration) var duration: UInt64?
    @OptionGroup var evidence: EvidenceOptions
    @OptionGroup var phases: PhaseOptions
    @Option(help: "A folder of rule files replacing the default rules.") var rules: String?
    @Option(name: .customLong("fail-on"), help: "Exit 1 when one of these culprits is named, e.g. model,proxy.", transform: OptionValue.culprits)
    var failOn: [Culprit]?
    @OptionGroup var reports: ReportOptions
    @Flag(help: "Print the diagnosis as JSON (schema bottleneck.diagnosis/v1).") var json = false

    func run() async throws {
        let sloMs = load.slo
        let ruleSet = try RuleSelection.load(directory: rules)

        let directory: String
        if let from {
            directory = from
        } else {
            var probes = try RunExecution.probeRunner(load, evidence: evidence)
            probes.load.steps = rate.map { .rate($0) } ?? concurrency.map { .concurrency($0) }
            probes.load.duration = duration
            directory = try await probes.diagnose(budgetSeconds: load.budgetSeconds(), sloP99Milliseconds: sloMs)
        }
        let segments = try phases.segments()
        let (result, evidenceFound, recordFailure) = try DiagnosisResult.conclude(directory: directory, sloP99Milliseconds: sloMs,
                                                                                   segments: segments, rules: ruleSet)
        if let recordFailure { LoadProgressDisplay.note(recordFailure) }
        try reports.write(directory: directory, diagnosis: .made(result, evidenceFound), segments: segments)
        if json {
            print(String(decoding: try RunJSON.encode(result), as: UTF8.self))
        } else {
            print(DiagnosisReportText.render(result), terminator: "")
        }
        let code = result.exitCode(failingOn: failOn ?? [])
        if code != 0 { throw ExitCode(code) }
    }
}


/// The target, payload and budget flags of the commands that plan their own load
/// (`diagnose`, `capacity`, `playbook run`).
struct DiagnosisLoadOptions: ParsableArguments {
    @OptionGroup var request: RequestOptions
    @Option(help: ArgumentHelp("Latency objective, p99=DURATION (default p99=300ms).", valueName: "slo"), transform: OptionValue.slo)
    var slo = SLOSpec.defaultP99Milliseconds
    @Option(help: "Time to spend on probes; diagnose counts wall time, warm-up and drains included (default 2m; capacity 3m).",
            transform: OptionValue.duration) var budget: UInt64?
    @Option(help: ArgumentHelp("Load before the first step, not measured, so cold starts (model loading, caches, JIT) do not count (default 2s; 0s for none).",
                               valueName: "warmup"), transform: OptionValue.duration)
    var warmup: UInt64 = 2_000_000_000
    @Option(help: "Write the run directory here.") var out: String?
    @Option(help: "The service behind the proxy, e.g. http://10.0.0.2:8000/predict: its processes are found and sampled when it runs on this host, and after the run the first step is repeated straight to it (RUN_DIR/bypass) to tell what the proxy adds.",
            transform: OptionValue.target)
    var backend: TargetURL?

    /// The budget in seconds; `fallback` seconds when none was given.
    func budgetSeconds(default fallback: Double = 120) -> Double {
        budget.map { Double($0) / 1e9 } ?? fallback
    }

    /// Load options with the request and the warm-up; the probe sets the steps.
    func loadOptions() throws -> LoadOptions {
        guard request.target != nil else {
            throw ValidationError("give --target URL to measure, or --from RUN_DIR to use a recorded run")
        }
        var options = LoadOptions()
        try request.apply(to: &options)
        options.warmup = warmup
        return options
    }
}

/// The rules a command applies: the defaults, or those of `--rules DIR`.
enum RuleSelection {
    static func load(directory: String?) throws -> [Rule] {
        try directory.map { try RuleFile.loadDirectory($0, catalog: EvidenceCatalog.catalog) }
            ?? DefaultRules.load(catalog: EvidenceCatalog.catalog)
    }
}
