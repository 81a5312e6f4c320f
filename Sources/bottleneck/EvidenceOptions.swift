import ArgumentParser
import Bottleneck
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

    @Option(name: .customLong("capture-ports"), help: "Server ports whose legs to capture, e.g. 80,8000 (default: the target's port).")
    var capturePorts: String?

    @Flag(name: .customLong("capture-full"), help: "Keep whole packets in capture.pcap (default: headers only, bodies dropped).")
    var captureFull = false

    @Option(name: .customLong("agent"), help: "Sample the server through a `bottleneck agent` on its host, e.g. http://10.0.0.5:9555; --server-port/--server-pid then name processes there, and the server evidence comes from the agent's samples.")
    var agent: String?

    @Option(name: .customLong("agent-token-file"), help: "File holding the agent's token (mode 0600).")
    var agentTokenFile: String?

    @Option(name: .customLong("sample-interval"), help: "How often to sample /proc and cgroups (default 250ms).")
    var sampleInterval: String?

    /// The playbook needs these flags meet.
    var metNeeds: Set<Playbook.Need> {
        var met: Set<Playbook.Need> = []
        if !serverPIDs.isEmpty || !serverPorts.isEmpty || agent != nil { met.insert(.server) }
        if !proxyPIDs.isEmpty || !proxyPorts.isEmpty { met.insert(.proxy) }
        if !captureInterfaces.isEmpty { met.insert(.capture) }
        return met
    }

    /// With no process named (and no agent), the service and the proxy serving `target` and
    /// `backend` from this host, found through their listening sockets; says what it found.
    mutating func locateServices(target: String, backend: String?) throws -> RunTopology? {
        guard agent == nil else { return nil }
        let plan = ServiceLocator.plan(target: try TargetURL(parsing: target), backend: try backend.map { try TargetURL(parsing: $0) },
                                       findServer: serverPIDs.isEmpty && serverPorts.isEmpty,
                                       findProxy: proxyPIDs.isEmpty && proxyPorts.isEmpty)
        serverPIDs += plan.serverPIDs
        proxyPIDs += plan.proxyPIDs
        for note in plan.notes { LoadProgressDisplay.note(note) }
        return plan.topology
    }

    /// The samplers, agent and capture to attach to a run against `targetPort`.
    func attachments(targetPort: Int) throws -> [any RunAttachment] {
        var attachments: [any RunAttachment] = []
        var sampling = SamplerConfiguration()
        if let sampleInterval {
            let nanoseconds = try LoadValueParsing.duration(sampleInterval, field: "--sample-interval")
            sampling.interval = .nanoseconds(Int64(nanoseconds))
        }
        sampling.serverPIDs = serverPIDs
        sampling.serverPorts = serverPorts
        sampling.targetPorts = [UInt16(targetPort)]
        if let agent {
            // The server is on another host: --server-port/--server-pid refer to it; locally only the generator is sampled.
            let token = try agentTokenFile.map { try AgentToken.load(path: $0, option: "--agent-token-file") }
            var local = sampling
            local.serverPIDs = []
            local.serverPorts = []
            attachments.append(SamplingAttachment(configuration: local))
            attachments.append(try AgentAttachment(url: agent, token: token, serverPorts: serverPorts,
                                                   serverPIDs: serverPIDs, interval: sampling.interval))
        } else if agentTokenFile != nil {
            throw ValidationError("--agent-token-file needs --agent URL, e.g. --agent http://10.0.0.5:9555")
        } else {
            attachments.append(SamplingAttachment(configuration: sampling))
        }
        if !proxyPIDs.isEmpty || !proxyPorts.isEmpty {
            var proxy = sampling
            proxy.serverPIDs = proxyPIDs
            proxy.serverPorts = proxyPorts
            attachments.append(SamplingAttachment(configuration: proxy, role: .proxy))
        }
        if !captureInterfaces.isEmpty {
            let ports = try capturePorts.map { try LoadValueParsing.portList($0, field: "--capture-ports") } ?? [UInt16(targetPort)]
            attachments.append(CaptureAttachment(interfaces: captureInterfaces, ports: Set(ports), full: captureFull,
                                                 frontPort: UInt16(targetPort)))
        } else if capturePorts != nil || captureFull {
            throw ValidationError("--capture-ports and --capture-full need --capture IFACE, e.g. --capture lo")
        }
        return attachments
    }
}

/// `--report html` (and other formats) after a run: the report files land in the run directory.
struct ReportOptions: ParsableArguments {
    @Option(name: .customLong("report"), help: "Also write the run's report in this format into the run directory: html, markdown, text or json (repeatable).")
    var formats: [String] = []

    func validate() throws {
        for format in formats {
            do { _ = try RunReport.Format.parse(format) } catch let error as AnalysisError { throw ValidationError(error.message) }
        }
    }

    /// Writes each requested report into `directory` and says where.
    func write(directory: String, sloP99Milliseconds: Double, segments: ServerTimingSegments = .defaults) throws {
        guard !formats.isEmpty else { return }
        let data = try RunReport.load(directory: directory, sloP99Milliseconds: sloP99Milliseconds, segments: segments)
        for text in formats {
            let format = try RunReport.Format.parse(text)
            let path = (directory as NSString).appendingPathComponent(format.reportFileName)
            do {
                try RunReport.render(data, format: format).write(to: URL(fileURLWithPath: path))
            } catch let error as any UserFacingError {
                throw error
            } catch {
                throw ValidationError("cannot write \(path) (\(error.localizedDescription)); the run directory is kept")
            }
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
}
