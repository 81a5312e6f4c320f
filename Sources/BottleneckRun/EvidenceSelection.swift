import BottleneckCapture
import BottleneckCore
import BottleneckSampling

/// What a run observes beside its load: the service's and the proxy's processes (named, or
/// found by their listening sockets), an agent sampling the server on its own host, and
/// packet capture. `attachments(targetPort:)` turns it into the run's attachments.
public struct EvidenceSelection: Sendable {
    public var serverPIDs: [Int32] = []
    public var serverPorts: [UInt16] = []
    public var proxyPIDs: [Int32] = []
    public var proxyPorts: [UInt16] = []
    /// Interfaces to capture on (`lo`, `any`); empty: no capture.
    public var captureInterfaces: [String] = []
    /// Server ports whose legs to capture; nil: the target's port.
    public var capturePorts: [UInt16]?
    /// Whole packets in capture.pcap, not only headers.
    public var captureFull = false
    /// A `bottleneck agent` on the server's host: the server's processes are sampled there.
    public var agentURL: String?
    public var agentToken: AgentToken?
    public var sampleInterval: Duration = .milliseconds(250)
    /// Count each sampled process's sockets (`SamplerConfiguration.countSockets`): the connections probe does.
    public var countSockets = false

    public init() {}

    /// True when the server's processes are named or sampled through an agent.
    public var samplesServer: Bool { !serverPIDs.isEmpty || !serverPorts.isEmpty || agentURL != nil }
    /// True when a proxy's processes are named.
    public var samplesProxy: Bool { !proxyPIDs.isEmpty || !proxyPorts.isEmpty }

    /// With no process named (and no agent), the service and the proxy serving `target` and
    /// `backend` from this host, found through their listening sockets, are added to the
    /// processes to sample. Returns who serves the target (for run.json) and the lines saying
    /// what was found, or nil when an agent samples the server elsewhere.
    public mutating func locateServices(target: TargetURL, backend: TargetURL?) -> RunTopology? {
        guard agentURL == nil else { return nil }
        let plan = ServiceLocator.plan(target: target, backend: backend,
                                       findServer: serverPIDs.isEmpty && serverPorts.isEmpty,
                                       findProxy: proxyPIDs.isEmpty && proxyPorts.isEmpty)
        serverPIDs += plan.serverPIDs
        proxyPIDs += plan.proxyPIDs
        return plan.topology
    }

    /// The samplers, the agent and the capture to attach to a run against `targetPort`.
    public func observers(targetPort: UInt16) throws -> RunObservers {
        var observers = RunObservers()
        var sampling = SamplerConfiguration()
        sampling.interval = sampleInterval
        sampling.serverPIDs = serverPIDs
        sampling.serverPorts = serverPorts
        sampling.targetPorts = [targetPort]
        sampling.countSockets = countSockets
        if let agentURL {
            // The server is on another host: the ports and pids name processes there; here only the generator is sampled.
            var local = sampling
            local.serverPIDs = []
            local.serverPorts = []
            observers.samplers.append(SamplingAttachment(configuration: local))
            observers.agent = try AgentAttachment(url: agentURL, token: agentToken, serverPorts: serverPorts,
                                                  serverPIDs: serverPIDs, interval: sampling.interval)
        } else {
            observers.samplers.append(SamplingAttachment(configuration: sampling))
        }
        if samplesProxy {
            var proxy = sampling
            proxy.serverPIDs = proxyPIDs
            proxy.serverPorts = proxyPorts
            observers.samplers.append(SamplingAttachment(configuration: proxy, role: .proxy))
        }
        if !captureInterfaces.isEmpty {
            observers.capture = CaptureAttachment(interfaces: captureInterfaces, ports: Set(capturePorts ?? [targetPort]),
                                                  full: captureFull, frontPort: targetPort)
        }
        return observers
    }
}

/// What observes a run beside its engine, by kind: the run takes each kind's part of
/// summary.json from its own field, never by asking an attachment what it is.
public struct RunObservers: Sendable {
    /// The generator's and the service's samplers, and the proxy's (role `.proxy`).
    public var samplers: [SamplingAttachment] = []
    /// The agent sampling the server on its own host.
    public var agent: AgentAttachment?
    public var capture: CaptureAttachment?
    /// A KServe v2 / Triton server's own phases per step (its model statistics).
    public var modelStatistics: ModelStatisticsAttachment?

    public init() {}

    /// Every observer, in the order they start.
    public var all: [any RunAttachment] {
        var all: [any RunAttachment] = samplers
        if let agent { all.append(agent) }
        if let capture { all.append(capture) }
        if let modelStatistics { all.append(modelStatistics) }
        return all
    }
}
