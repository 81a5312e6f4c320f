import ArgumentParser
import BottleneckCore
import BottleneckLoad
import BottleneckRun
import BottleneckDiagnosis
import BottleneckReport
import BottleneckCapture
import Foundation
import Logging

/// `bottleneck load`: apply load and measure, writing a run directory.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Apply load to an HTTP endpoint and record every request.",
        discussion: """
            Closed loop (--concurrency, --concurrency-steps): N connections, one request in flight each. \
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
            """
    )

    @Option(help: "The endpoint, e.g. http://127.0.0.1:8080/predict (IPv6: http://[::1]:8080/).")
    var target: String?

    @Option(help: "A probe spec (YAML) whose settings apply first; flags override them.")
    var probe: String?

    @Option(help: "Open loop: requests per second.")
    var rate: String?

    @Option(help: "Open loop: one step per rate, e.g. 50,100,200.")
    var rates: String?

    @Option(help: "Open loop: evenly spaced rate steps, FROM..TO/STEPS, e.g. 50..400/8.")
    var ramp: String?

    @Option(help: "Closed loop: connections, each with one request in flight (default 10).")
    var concurrency: String?

    @Option(name: .customLong("concurrency-steps"), help: "Closed loop: one step per concurrency, e.g. 1,2,4,8,16.")
    var concurrencySteps: String?

    @Option(help: "Open-loop arrival spacing: uniform or poisson (default uniform).")
    var arrivals: String?

    @Option(help: "Length of each step, e.g. 30s, 2m (default 10s).")
    var duration: String?

    @Option(help: "Load applied before the first step and not measured, e.g. 5s (default none).")
    var warmup: String?

    @Option(name: .customLong("max-connections"), help: "Open loop: most connections opened in total (default 1024).")
    var maxConnections: String?

    @Option(name: [.customShort("X"), .long], help: "HTTP method: GET, POST, PUT, PATCH or DELETE (default GET, or POST with --payload).")
    var method: String?

    @Option(name: [.customShort("H"), .customLong("header")], help: "A request header, 'Name: value' (repeatable).")
    var headers: [String] = []

    @Option(help: "Time a request may take before it counts as a timeout (default 30s).")
    var timeout: String?

    @Option(name: .customLong("connect-timeout"), help: "Time a TCP connect may take (default 5s).")
    var connectTimeout: String?

    @Flag(name: .customLong("no-keepalive"), help: "Open a new connection per request (Connection: close).")
    var noKeepalive = false

    @Option(name: .customLong("payload"), help: """
        A request body kind, repeatable, with optional weight=N: \
        image:w=64..4096,aspect=0.5..2,format=jpeg|png,dist=uniform|lognormal; text:tokens=16..2048; \
        audio:seconds=1..30,rate=16000; tensor:shape=1x3x224x224,dtype=float32,encoding=json|binary; dir:PATH.
        """)
    var payloads: [String] = []

    @Option(help: "How the payload is sent: raw, multipart:FIELD or json-base64:FIELD (default raw).")
    var body: String?

    @Option(help: "Seed for payload generation and arrival jitter (default 1): same seed, same run.")
    var seed: String?

    @Option(name: .customLong("pool-size"), help: "Payloads generated before the run (default 64).")
    var poolSize: String?

    @Option(help: "Event-loop threads (default: the cores this process may use).")
    var threads: String?

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

    func run() async throws {
        var options = LoadOptions()
        options.name = name
        options.target = target
        options.rate = rate
        options.rates = rates
        options.ramp = ramp
        options.concurrency = concurrency
        options.concurrencySteps = concurrencySteps
        options.arrivals = arrivals
        options.duration = duration
        options.warmup = warmup
        options.maxConnections = maxConnections
        options.method = method
        options.headers = headers.isEmpty ? nil : headers
        options.timeout = timeout
        options.connectTimeout = connectTimeout
        options.keepAlive = noKeepalive ? false : nil
        options.payloads = payloads.isEmpty ? nil : payloads
        options.body = body
        options.seed = seed
        options.poolSize = poolSize
        options.threads = threads

        var probeName: String?
        if let probe {
            let spec = try ProbeSpec.load(path: probe)
            probeName = spec.name
            options = spec.options.overridden(by: options)
        }
        let built = try LoadPlanBuilder.build(options, runTag: LoadPlanBuilder.makeRunTag())

        var request = LoadRun.Request(built, name: built.name, outputDirectory: out, command: CommandLine.arguments, probe: probeName)
        request.observers = try evidence.selection().observers(targetPort: UInt16(built.plan.target.port))
        let (summary, directory) = try await RunExecution.execute(request, verbose: verbose)
        try reports.write(directory: directory, diagnosis: .recorded(sloP99Milliseconds: SLOSpec.defaultP99Milliseconds))
        if json {
            print(String(decoding: try RunJSON.encode(summary), as: UTF8.self))
        } else {
            print(LoadSummaryTable.render(summary), terminator: "")
        }
        if summary.steps.contains(where: { $0.generatorSaturated }) {
            throw CommandExit(code: 3)
        }
    }
}
