import ArgumentParser
import Bottleneck
import Foundation
import Logging

/// `bottleneck capacity`: the highest rate one instance sustains at the SLO, and what a peak needs.
struct CapacityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capacity",
        abstract: "Find the highest rate that meets the SLO, fit the USL, and plan instances, cores and cost for a peak.",
        discussion: """
            Runs a closed-loop concurrency sweep (1,2,3,4,6,8,12,16; the Universal Scalability Law is fitted to it),
            then open-loop steps that bisect between 0.25x and 2x the best closed-loop throughput for the highest
            rate whose p99 meets --slo with errors under 1%. --from RUN_DIR recomputes from a recorded run.
            Exit codes: 0 done (a capacity that could not be found is a finding, not an error); 2 bad input;
            3 the run is invalid (the load generator could not keep up).
            """
    )

    @Option(help: "The endpoint, e.g. http://127.0.0.1:8080/predict.") var target: String?
    @Option(help: "Recompute from this run directory without new load.") var from: String?
    @Option(help: "Latency objective, p99=DURATION (default p99=300ms).") var slo = "p99=300ms"
    @Option(name: .customLong("peak-rps"), help: "The peak rate production must absorb, in req/s.") var peakRps: Double?
    @Option(help: "Share of each instance kept free, 0 ..< 1 (default 0.3).") var headroom = 0.3
    @Option(name: .customLong("core-hour-price"), help: "Price of one core for one hour, for costs.") var coreHourPrice: Double?
    @Option(name: .customLong("cores-per-instance"), help: "Cores of one instance (default: the sampled server's allowed cores).")
    var coresPerInstance: Double?
    @Option(help: "Time to spend on load, sweep and search together (default 3m).") var budget = "3m"
    @Option(name: .customLong("concurrency-steps"), help: "Closed-loop sweep levels (default 1,2,3,4,6,8,12,16).")
    var concurrencySteps: String?
    @Option(name: .customLong("payload"), help: "Request body kinds, as for `load` (repeatable).") var payloads: [String] = []
    @Option(help: "raw, multipart:FIELD or json-base64:FIELD.") var body: String?
    @Option(name: [.customShort("H"), .customLong("header")], help: "A request header (repeatable).") var headers: [String] = []
    @Option(name: .customLong("server-port"), help: "Sample the server listening on this port (repeatable).") var serverPorts: [UInt16] = []
    @Option(name: .customLong("server-pid"), help: "Sample this server process tree (repeatable).") var serverPIDs: [Int32] = []
    @Option(help: "Write the run directory here.") var out: String?
    @Flag(help: "Print the report as JSON (schema bottleneck.capacity/v1).") var json = false

    func run() async throws {
        let inputs = CapacityReport.Inputs(peakRps: peakRps, headroom: headroom, coreHourPrice: coreHourPrice,
                                           coresPerInstance: coresPerInstance)
        try inputs.validate()
        let budgetSeconds = Double(try LoadValueParsing.duration(budget, field: "--budget")) / 1e9
        var settings = CapacityRun.Settings(sloP99Milliseconds: try SLOSpec.parseP99Milliseconds(slo), budgetSeconds: budgetSeconds)
        if let concurrencySteps {
            settings.concurrencyLevels = try LoadValueParsing.concurrencyList(concurrencySteps, field: "--concurrency-steps")
        }

        let directory: String
        if let from {
            directory = from
        } else {
            directory = try await measure(settings)
        }
        let report = try CapacityReport.load(directory: directory, settings: settings, inputs: inputs)
        if json {
            print(String(decoding: try RunJSON.encode(report), as: UTF8.self))
        } else {
            print(report.renderText(), terminator: "")
        }
        if !report.valid { throw CommandExit(code: 3) }
    }

    private func measure(_ settings: CapacityRun.Settings) async throws -> String {
        guard let target else {
            throw ValidationError("give --target URL to measure, or --from RUN_DIR to recompute from a recorded run")
        }
        var options = LoadOptions()
        options.target = target
        options.payloads = payloads.isEmpty ? nil : payloads
        options.body = body
        options.headers = headers.isEmpty ? nil : headers
        options.concurrency = "1"  // replaced by the sweep below; build needs a shape
        var built = try LoadPlanBuilder.build(options, runTag: LoadPlanBuilder.makeRunTag())
        built.plan.steps = CapacityRun.sweepSteps(settings)
        built.plan.nextStep = CapacityRun.nextStep(settings)
        var request = LoadRun.Request(plan: built.plan, name: "capacity", outputDirectory: out, command: CommandLine.arguments,
                                      probe: "capacity-search", payloadSpecs: built.payloadSpecs, body: body,
                                      payloadDescriptors: built.payloadDescriptors)
        var sampling = SamplerConfiguration()
        sampling.serverPIDs = serverPIDs
        sampling.serverPorts = serverPorts
        sampling.targetPorts = [UInt16(built.plan.target.port)]
        request.attachments.append(SamplingAttachment(configuration: sampling))
        var logger = Logger(label: "bottleneck")
        logger.logLevel = .warning
        let run = LoadRun()
        let interrupts = InterruptHandler { run.interrupt() }
        defer { interrupts.cancel() }
        let display = LoadProgressDisplay(interactive: LoadProgressDisplay.standardErrorIsTerminal)
        let (_, directory) = try await run.execute(request, display: display, logger: logger, notes: LoadProgressDisplay.note)
        return directory.path
    }
}
