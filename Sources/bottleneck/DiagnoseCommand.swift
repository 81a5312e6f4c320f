import ArgumentParser
import Bottleneck
import BottleneckCapture
import Foundation
import Logging

/// `bottleneck diagnose`: run the probes, gather evidence, name the culprit.
struct DiagnoseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnose",
        abstract: "Find where a prediction service's time goes: run probes, apply the rules, rank the culprits.",
        discussion: """
            Without a load of its own, diagnose runs a one-connection baseline, then open-loop steps that double the
            rate until the SLO breaks (--slo, default p99=300ms), errors pass 1%, or the budget is spent. With --rate or
            --concurrency it measures that load only. --from RUN_DIR re-diagnoses a recorded run without new load.
            Exit codes: 0 diagnosed; 1 a culprit named in --fail-on was found; 2 bad input; 3 the run is invalid
            (the load generator could not keep up).
            """
    )

    @Option(help: "The endpoint, e.g. http://127.0.0.1:8080/predict.") var target: String?
    @Option(help: "Re-diagnose this run directory without new load.") var from: String?
    @Option(help: "Latency objective, p99=DURATION (default p99=300ms).") var slo = "p99=300ms"
    @Option(help: "Time to spend on probes (default 2m).") var budget = "2m"
    @Option(help: "Measure only this open-loop rate instead of ramping.") var rate: String?
    @Option(help: "Measure only this closed-loop concurrency instead of ramping.") var concurrency: String?
    @Option(help: "Step length when --rate or --concurrency is given (default 10s).") var duration: String?
    @Option(name: .customLong("payload"), help: "Request body kinds, as for `load` (repeatable).") var payloads: [String] = []
    @Option(help: "raw, multipart:FIELD or json-base64:FIELD.") var body: String?
    @Option(name: [.customShort("H"), .customLong("header")], help: "A request header (repeatable).") var headers: [String] = []
    @Option(name: .customLong("server-port"), help: "Sample the server listening on this port (repeatable).") var serverPorts: [UInt16] = []
    @Option(name: .customLong("server-pid"), help: "Sample this server process tree (repeatable).") var serverPIDs: [Int32] = []
    @Option(name: .customLong("proxy-port"), help: "Sample the reverse proxy listening on this port apart from the service (repeatable).") var proxyPorts: [UInt16] = []
    @Option(name: .customLong("proxy-pid"), help: "Sample this reverse proxy process tree apart from the service (repeatable).") var proxyPIDs: [Int32] = []
    @Option(name: .customLong("capture"), help: "Capture packets on this interface (repeatable).") var captureInterfaces: [String] = []
    @Option(name: .customLong("capture-ports"), help: "Server ports to capture (default: the target's).") var capturePorts: String?
    @Option(help: "A folder of rule files replacing the default rules.") var rules: String?
    @Option(name: .customLong("fail-on"), help: "Exit 1 when one of these culprits is named, e.g. model,proxy.") var failOn: String?
    @Option(help: "Write the run directory here.") var out: String?
    @Flag(help: "Print the diagnosis as JSON (schema bottleneck.diagnosis/v1).") var json = false

    func run() async throws {
        let sloMs = try SLOSpec.parseP99Milliseconds(slo)
        let ruleSet = try rules.map { try RuleFile.loadDirectory($0, catalog: EvidenceCatalog.catalog) }
            ?? DefaultRules.load(catalog: EvidenceCatalog.catalog)
        let failCulprits = try failOn.map { try Culprit.parseList($0) } ?? []

        let directory: String
        if let from {
            directory = from
        } else {
            directory = try await measure(sloMs: sloMs)
        }
        let result = try DiagnosisResult.evaluate(directory: directory, sloP99Milliseconds: sloMs, rules: ruleSet)
        if json {
            print(String(decoding: try RunJSON.encode(result), as: UTF8.self))
        } else {
            print(DiagnosisReportText.render(result), terminator: "")
        }
        if !result.valid { throw CommandExit(code: 3) }
        if result.culprits.contains(where: failCulprits.contains) { throw CommandExit(code: 1) }
    }

    private func measure(sloMs: Double) async throws -> String {
        guard let target else {
            throw ValidationError("give --target URL to measure, or --from RUN_DIR to re-diagnose a recorded run")
        }
        let budgetSeconds = Double(try LoadValueParsing.duration(budget, field: "--budget")) / 1e9
        var options = LoadOptions()
        options.target = target
        options.payloads = payloads.isEmpty ? nil : payloads
        options.body = body
        options.headers = headers.isEmpty ? nil : headers
        options.rate = rate
        options.concurrency = concurrency
        options.duration = duration
        let fixedLoad = rate != nil || concurrency != nil
        if !fixedLoad { options.concurrency = "1" }
        var built = try LoadPlanBuilder.build(options, runTag: LoadPlanBuilder.makeRunTag())
        if !fixedLoad {
            let probe = DiagnosisProbe.steps(budgetSeconds: budgetSeconds)
            built.plan.steps = [probe.baseline]
            built.plan.nextStep = DiagnosisProbe.ramp(budgetSeconds: budgetSeconds, sloP99Milliseconds: sloMs)
        }
        var request = LoadRun.Request(plan: built.plan, name: "diagnose", outputDirectory: out, command: CommandLine.arguments,
                                      probe: fixedLoad ? nil : "diagnose-ramp", payloadSpecs: built.payloadSpecs, body: body,
                                      payloadDescriptors: built.payloadDescriptors)
        var sampling = SamplerConfiguration()
        sampling.serverPIDs = serverPIDs
        sampling.serverPorts = serverPorts
        sampling.targetPorts = [UInt16(built.plan.target.port)]
        request.attachments.append(SamplingAttachment(configuration: sampling))
        if !proxyPIDs.isEmpty || !proxyPorts.isEmpty {
            var proxy = SamplerConfiguration()
            proxy.serverPIDs = proxyPIDs
            proxy.serverPorts = proxyPorts
            request.attachments.append(SamplingAttachment(configuration: proxy, role: .proxy))
        }
        if !captureInterfaces.isEmpty {
            let ports = try capturePorts.map { try LoadValueParsing.portList($0, field: "--capture-ports") } ?? [UInt16(built.plan.target.port)]
            request.attachments.append(CaptureAttachment(interfaces: captureInterfaces, ports: Set(ports), full: false))
        }
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
