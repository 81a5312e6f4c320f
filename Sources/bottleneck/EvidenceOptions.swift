import ArgumentParser
import BottleneckCore
import BottleneckSampling
import BottleneckRun
import BottleneckDiagnosis
import BottleneckReport
import BottleneckCapture
import Foundation
import Logging

/// The flags that say what to sample and capture while a run loads the target, shared by
/// `load`, `diagnose`, `capacity` and `playbook run`.
struct EvidenceOptions: ParsableArguments {
    @Option(name: .customLong("server-pid"), help: "Sample this server process and its descendants (repeatable).")
    var serverPIDs: [Int32] = []

    @Option(name: .customLong("server-port"), help: "Sample the processes listening on this port, found through their sockets (repeatable).")
    var serverPorts: [UInt16] = []

    @Option(name: .customLong("proxy-port"), help: "Sample the reverse proxy listening on this port apart from the service (repeatable).")
    var proxyPorts: [UInt16] = []

    @Option(name: .customLong("proxy-pid"), help: "Sample this reverse proxy process tree apart from the service (repeatable).")
    var proxyPIDs: [Int32] = []

    @Option(name: .customLong("capture"), help: "Capture packets on this interface during the run (repeatable), e.g. lo or any. Needs root or CAP_NET_RAW.")
    var captureInterfaces: [String] = []

    @Option(name: .customLong("capture-ports"), help: "Server ports whose legs to capture, e.g. 80,8000 (default: the target's port).",
            transform: OptionValue.portList)
    var capturePorts: [UInt16]?

    @Flag(name: .customLong("capture-full"), help: "Keep whole packets in capture.pcap (default: headers only, bodies dropped).")
    var captureFull = false

    @Option(name: .customLong("agent"), help: "Sample the server through a `bottleneck agent` on its host, e.g. http://10.0.0.5:9555; --server-port/--server-pid then name processes there, and the server evidence comes from the agent's samples.")
    var agent: String?

    @Option(name: .customLong("agent-token-file"), help: "File holding the agent's token (mode 0600).")
    var agentTokenFile: String?

    @Option(name: .customLong("sample-interval"), help: "How often to sample /proc and cgroups (default 250ms).", transform: OptionValue.duration)
    var sampleInterval: UInt64?

    /// The selection these flags make; flag errors name the flag.
    func selection() throws -> EvidenceSelection {
        var selection = EvidenceSelection()
        selection.serverPIDs = serverPIDs
        selection.serverPorts = serverPorts
        selection.proxyPIDs = proxyPIDs
        selection.proxyPorts = proxyPorts
        selection.captureInterfaces = captureInterfaces
        selection.capturePorts = capturePorts
        selection.captureFull = captureFull
        selection.agentURL = agent
        selection.agentToken = try agentTokenFile.map { try AgentToken.load(path: $0, option: "--agent-token-file") }
        if let sampleInterval { selection.sampleInterval = .nanoseconds(Int64(sampleInterval)) }
        return selection
    }

    func validate() throws {
        if agentTokenFile != nil && agent == nil {
            throw ValidationError("--agent-token-file needs --agent URL, e.g. --agent http://10.0.0.5:9555")
        }
        if captureInterfaces.isEmpty && (capturePorts != nil || captureFull) {
            throw ValidationError("--capture-ports and --capture-full need --capture IFACE, e.g. --capture lo")
        }
    }
}

/// `--report html` (and other formats) after a run: the report files land in the run directory.
struct ReportOptions: ParsableArguments {
    @Option(name: .customLong("report"), help: "Also write the run's report in this format into the run directory: html, markdown, text or json (repeatable).",
            transform: OptionValue.reportFormat)
    var formats: [RunReport.Format] = []

    /// Writes each requested report into `directory`, with the diagnosis `source` names, and says where.
    func write(directory: String, diagnosis source: @autoclosure () -> RunReport.DiagnosisSource,
               segments: ServerTimingSegments = .defaults) throws {
        guard !formats.isEmpty else { return }
        for path in try RunReport.writeFiles(formats, directory: directory, diagnosis: source(), segments: segments) {
            LoadProgressDisplay.note("report: \(path)")
        }
    }
}

/// Runs a load request with the terminal's progress display and Ctrl-C handling.
enum RunExecution {
    static func execute(_ request: LoadRun.Request, verbose: Bool = false) async throws -> (RunSummary, String) {
        var logger = Logger(label: "bottleneck")
        logger.logLevel = verbose ? .debug : .warning
        let run = LoadRun()
        let interrupts = InterruptHandler { run.interrupt() }
        defer { interrupts.cancel() }
        let display = LoadProgressDisplay(interactive: LoadProgressDisplay.standardErrorIsTerminal)
        let (summary, directory) = try await run.execute(request, display: display, logger: logger, notes: LoadProgressDisplay.note)
        return (summary, directory.path)
    }

    /// The probe runner of the commands that plan their own load, run on this terminal.
    static func probeRunner(_ load: DiagnosisLoadOptions, evidence: EvidenceOptions) throws -> ProbeRunner {
        ProbeRunner(load: try load.loadOptions(), outputDirectory: load.out, backend: load.backend,
                    evidence: try evidence.selection(), command: CommandLine.arguments,
                    note: { LoadProgressDisplay.note($0) }, execute: { try await execute($0).1 })
    }
}
