import ArgumentParser
import BottleneckCore
import BottleneckLoad
import BottleneckRun
import BottleneckDiagnosis
import BottleneckReport
import Foundation
import Logging

/// `bottleneck load`: apply load and measure, writing a run directory.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Apply load to an HTTP or gRPC endpoint and record every request.",
        discussion: """
            Closed loop (--concurrency, --concurrency-steps): N connections, one request in flight each \
            (over HTTP/2 and gRPC, --streams requests in flight per connection). \
            Open loop (--rate, --rates, --ramp): requests sent on schedule whatever the server does; \
            latency is measured from the intended send time, so queueing is never hidden.

            Results go to runs/<UTC time>-<name>/ (or --out): run.json, requests.csv, latency.hlog, summary.json.

            Exit code 3 when the generator itself was saturated (CPU above 90% of what it may use); late sends \
            (schedule lag p99 above 1 ms) and an achieved rate under 99% of target are warnings, with a note \
            when the hypervisor took 2% or more of the host's CPU meanwhile (steal: no program sends on time then).

            Examples:
              bottleneck load --target http://127.0.0.1:8080/predict --rate 200 --duration 30s
              bottleneck load --target http://127.0.0.1:8080/predict --ramp 50..400/8 --payload image:w=256..2048,format=jpeg
              bottleneck load --probe probes/ramp.yaml --target http://127.0.0.1:8080/predict
              bottleneck load --target https://10.0.0.2/predict --http2 --streams 10 --concurrency 100 --cacert ca.pem
              bottleneck load --target grpc://127.0.0.1:8001/v2/models/resnet50 --rate 100 --duration 30s
            """
    )

    @OptionGroup var request: RequestOptions

    @Option(help: "A probe spec (YAML) whose settings apply first; flags override them.")
    var probe: String?

    @Option(help: "Open loop: requests per second.", transform: OptionValue.rate)
    var rate: Double?

    @Option(help: "Open loop: one step per rate, e.g. 50,100,200.", transform: OptionValue.rateList)
    var rates: [Double]?

    @Option(help: "Open loop: evenly spaced rate steps, FROM..TO/STEPS, e.g. 50..400/8.", transform: OptionValue.ramp)
    var ramp: [Double]?

    @Option(help: "Closed loop: connections, each with one request in flight (default 10).", transform: OptionValue.concurrency)
    var concurrency: Int?

    @Option(name: .customLong("concurrency-steps"), help: "Closed loop: one step per concurrency, e.g. 1,2,4,8,16.",
            transform: OptionValue.concurrencyList)
    var concurrencySteps: [Int]?

    @Option(help: "Open-loop arrival spacing: uniform or poisson (default uniform).", transform: OptionValue.arrivals)
    var arrivals: ArrivalProcess?

    @Option(help: "Length of each step, e.g. 30s, 2m (default 10s).", transform: OptionValue.duration)
    var duration: UInt64?

    @Option(help: "Load applied before the first step and not measured, e.g. 5s (default none).", transform: OptionValue.duration)
    var warmup: UInt64?

    @Option(name: .customLong("max-connections"), help: "Open loop: most connections opened in total (default 1024).",
            transform: OptionValue.count(in: 1...100_000, of: "connections"))
    var maxConnections: Int?

    @Option(help: "Time a request may take before it counts as a timeout (default 30s).", transform: OptionValue.duration)
    var timeout: UInt64?

    @Option(name: .customLong("connect-timeout"), help: "Time a TCP connect may take (default 5s).", transform: OptionValue.duration)
    var connectTimeout: UInt64?

    @Flag(name: .customLong("no-keepalive"), help: "Open a new connection per request (Connection: close).")
    var noKeepalive = false

    @Option(help: "Seed for payload generation and arrival jitter (default 1): same seed, same run.", transform: OptionValue.seed)
    var seed: UInt64?

    @Option(name: .customLong("pool-size"), help: "Payloads generated before the run (default 64).",
            transform: OptionValue.count(in: 1...100_000, of: "payloads"))
    var poolSize: Int?

    @Option(help: "Event-loop threads (default: the cores this process may use).", transform: OptionValue.count(in: 1...256, of: "event-loop threads"))
    var threads: Int?

    @Option(help: "A name for the run directory (default from the load shape or probe).")
    var name: String?

    @Option(help: "Write the run directory here instead of runs/<UTC time>-<name>/.")
    var out: String?

    @OptionGroup var evidence: EvidenceOptions
    @OptionGroup var reports: ReportOptions

    @Flag(help: "Print the summary as JSON (schema bottleneck.summary/v1) instead of the table.")
    var json = false

    @Flag(name: .customLong("verbose"), help: "Log debug details to stderr.")
    var verbose = false

    func validate() throws {
        let given = [("--rate", rate != nil), ("--rates", rates != nil), ("--ramp", ramp != nil),
                     ("--concurrency", concurrency != nil), ("--concurrency-steps", concurrencySteps != nil)].filter(\.1).map(\.0)
        if given.count > 1 {
            throw ValidationError("\(given.joined(separator: " and ")) conflict; choose one of --rate, --rates, --ramp, --concurrency, --concurrency-steps")
        }
    }

    func run() async throws {
        var options = LoadOptions()
        try request.apply(to: &options)
        options.name = name
        options.steps = rate.map { .rate($0) } ?? (rates ?? ramp).map { .rates($0) } ?? concurrency.map { .concurrency($0) }
            ?? concurrencySteps.map { .concurrencySteps($0) }
        options.arrivals = arrivals
        options.duration = duration
        options.warmup = warmup
        options.maxConnections = maxConnections
        options.timeout = timeout
        options.connectTimeout = connectTimeout
        options.keepAlive = noKeepalive ? false : nil
        options.seed = seed
        options.poolSize = poolSize
        options.threads = threads

        var probeName: String?
        if let probe {
            let spec = try ProbeSpec.load(path: probe)
            probeName = spec.name
            options = spec.options.overridden(by: options)
            if let connections = spec.connections {
                guard let target = options.target else {
                    throw ValidationError("--target is required; give the endpoint URL, like --target http://127.0.0.1:8080/predict")
                }
                try await ProbeCommand.Connections.probe(target: target, headers: options.headers ?? [], settings: connections,
                                                         evidence: evidence, out: out, rules: nil, json: json, failOn: nil)
                return
            }
        }
        guard options.target != nil else {
            throw ValidationError("--target is required; give the endpoint URL, like --target http://127.0.0.1:8080/predict")
        }
        let (resolved, note) = try await KServeV2Payloads.resolve(options)
        if let note { FileHandle.standardError.write(Data((note + "\n").utf8)) }
        let built = try LoadPlanBuilder.build(resolved, runTag: LoadPlanBuilder.makeRunTag())

        var run = LoadRun.Request(built, name: built.name, outputDirectory: out, command: CommandLine.arguments, probe: probeName)
        run.observers = try evidence.selection().observers(targetPort: UInt16(built.plan.target.port))
        run.observers.modelStatistics = ModelStatisticsSource(options: resolved).map(ModelStatisticsAttachment.init)
        let (summary, directory) = try await RunExecution.execute(run, verbose: verbose)
        try reports.write(directory: directory, diagnosis: .recorded(sloP99Milliseconds: SLOSpec.defaultP99Milliseconds))
        if json {
            print(String(decoding: try RunJSON.encode(summary), as: UTF8.self))
        } else {
            print(LoadSummaryTable.render(summary), terminator: "")
        }
        if summary.steps.contains(where: { $0.generatorSaturated }) {
            throw ExitCode(3)
        }
    }
}
