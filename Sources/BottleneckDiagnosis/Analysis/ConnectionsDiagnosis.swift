import BottleneckCore
import BottleneckLoad
import BottleneckRun
import BottleneckSampling

/// The verdicts on a connections probe: the limit it found, and why, from the rules that read
/// `connections.*` metrics (playbooks/rules/connections.yaml).
public struct ConnectionsDiagnosis: Sendable, Codable {
    public var schema = "bottleneck.connections-diagnosis/v1"
    public var runDirectory: String
    public var target: String
    public var limit: Int?
    public var maxHeld: Int
    public var queued: Int?
    /// The proxy's connection cap, from its connections in use when it began shedding clients
    /// (`connections.proxy_connections_at_limit`: for nginx scaled by 16/15, its reserve); nil
    /// without a sampled proxy or a failure.
    public var proxyConnections: Int?
    public var keepAlive: Bool
    public var firstFailure: String?
    public var stoppedBecause: String
    public var verdicts: [Verdict]
    public var missingEvidence: [String]
    public static let fileName = "connections-diagnosis.json"

    public static func evaluate(_ record: ConnectionsRecord, directory: String, rules: [Rule]) -> ConnectionsDiagnosis {
        let evidence = ConnectionsEvidence(record)
        let outcome = RuleEngine(rules: rules.filter(\.readsConnectionsProbe), catalog: EvidenceCatalog.catalog).evaluate(evidence)
        let probe = record.probe
        return ConnectionsDiagnosis(runDirectory: directory, target: probe.target, limit: probe.limit, maxHeld: probe.maxHeld,
                                    queued: probe.queued, proxyConnections: evidence.values[Metric.connectionsProxyConnectionsAtLimit].map { Int($0) },
                                    keepAlive: probe.keepAlive, firstFailure: probe.firstFailure,
                                    stoppedBecause: probe.stoppedBecause, verdicts: outcome.verdicts,
                                    missingEvidence: DiagnosisResult.relevantMissing(outcome.missingEvidence, topology: record.topology))
    }
}

extension Rule {
    /// True for the rules about a connections probe: they read `connections.*` metrics, which
    /// only `connections.json` has, so a load run's diagnosis leaves them out (and the probe's
    /// diagnosis reads only them).
    public var readsConnectionsProbe: Bool {
        condition.metricReferences.contains { $0.name.hasPrefix("connections.") }
    }
}

/// A connections probe's evidence: run-level values only (its levels are not load steps).
struct ConnectionsEvidence: EvidenceSource {
    let values: [String: Double]
    var stepCount: Int { 0 }
    var kneeStep: Int? { nil }

    func value(_ metric: String, step: StepSelector) -> Double? { values[metric] }

    init(_ record: ConnectionsRecord) {
        let probe = record.probe
        var m: [String: Double] = [:]
        if let limit = probe.limit { m[Metric.connectionsLimit] = Double(limit) }
        m[Metric.connectionsMaxHeld] = Double(probe.maxHeld)
        m[Metric.connectionsMaximum] = Double(probe.maxConnections)
        if let queued = probe.queued { m[Metric.connectionsQueued] = Double(queued) }
        m[Metric.connectionsKeepAlive] = probe.keepAlive ? 1 : 0
        func failures(_ kind: ConnectionFailureKind) -> Double {
            Double(probe.levels.reduce(0) { $0 + ($1.failures[kind.rawValue] ?? 0) })
        }
        m[Metric.connectionsRefused] = failures(.refused)
        m[Metric.connectionsConnectTimeouts] = failures(.connectTimeout)
        m[Metric.connectionsResets] = failures(.reset)
        m[Metric.connectionsClosed] = failures(.closed)
        m[Metric.connectionsNoAnswer] = failures(.noAnswer) + Double(probe.levels.reduce(0) { $0 + $1.freshUnanswered })
        m[Metric.connectionsServerErrors] = failures(.serverError)
        m[Metric.connectionsSlowConnects] = Double(probe.levels.reduce(0) { $0 + $1.slowConnects })
        if let rest = probe.freshWaitAtRestMs { m[Metric.connectionsFreshWaitAtRestMs] = rest }
        if let most = probe.freshWaitAtMaxMs { m[Metric.connectionsFreshWaitAtMaxMs] = most }
        // The samplers' steps are the probe's levels (index 0 holds nothing); -1 is before the first.
        if let server = record.agentSampling ?? record.sampling, server.steps.contains(where: { $0.server.processes > 0 }) {
            let sides = server.steps.filter { $0.index >= 0 }.map(\.server)
            if let fullest = sides.filter({ $0.fdUsageMax != nil }).max(by: { $0.fdUsageMax! < $1.fdUsageMax! }) {
                m[Metric.connectionsServerFdUsage] = fullest.fdUsageMax
                m[Metric.connectionsServerFds] = fullest.fdsAtUsageMax.map(Double.init)
                m[Metric.connectionsServerFdLimit] = fullest.fdLimitAtUsageMax.map(Double.init)
            }
            m[Metric.connectionsServerAcceptQueueMax] = Double(sides.map(\.acceptQueueMax).max() ?? 0)
            m[Metric.connectionsServerListenOverflows] = Double(sides.reduce(0) { $0 + $1.listenOverflows })
            m[Metric.connectionsServerProcesses] = Double(sides.map(\.processes).max() ?? 0)
        }
        if record.topology?.targetServedBy == "service" {
            // The service itself serves the target: there is no proxy to have stopped.
            m[Metric.connectionsProxyAcceptQueueMax] = 0
            m[Metric.connectionsProxyFdUsage] = 0
        }
        if let proxy = record.proxySampling, proxy.steps.contains(where: { $0.index == 0 }) {
            let sides = proxy.steps.filter { $0.index >= 0 }.map(\.server)
            m[Metric.connectionsProxyFdUsage] = sides.compactMap(\.fdUsageMax).max()
            m[Metric.connectionsProxyAcceptQueueMax] = Double(sides.map(\.acceptQueueMax).max() ?? 0)
            if let inUse = Self.proxyConnectionsInUse(probe.levels, proxy: proxy) {
                m[Metric.connectionsProxyConnectionsInUse] = Double(inUse)
                // nginx (1.19.2 on) closes idle keep-alive connections in advance, as soon as fewer
                // than 1/16 of worker_connections are free: the first close comes when a connection
                // takes it past 15/16, so the cap is (in use - 1) x 16/15.
                let nginx = proxy.steps.contains { $0.server.busiestProcess?.comm == "nginx" }
                m[Metric.connectionsProxyConnectionsAtLimit] = nginx ? (Double(inUse - 1) * 16 / 15).rounded() : Double(inUse)
            }
        }
        values = m
    }

    /// The proxy's connections in use when the first held client failed. When the probe added
    /// clients one at a time (each count held longer than a sampling interval), the most sockets
    /// its busiest process had in that level, plus the connection that failed. Otherwise the
    /// clients established at the first failure plus the proxy's other sockets (listeners,
    /// upstream) at the last level before without failures — blurred by the clients still in its
    /// accept queue.
    static func proxyConnectionsInUse(_ levels: [ConnectionProbeLevel], proxy: SamplingSummary) -> Int? {
        func sockets(at level: ConnectionProbeLevel) -> Int? {
            proxy.steps.first { $0.index == level.index }?.server.socketsMax
        }
        if let refined = levels.last(where: { $0.oneAtATime == true && $0.heldAtFirstFailure != nil }), let most = sockets(at: refined) {
            return most + 1
        }
        guard let failing = levels.first(where: { $0.heldAtFirstFailure != nil }), let clients = failing.heldAtFirstFailure,
              let before = levels.last(where: { $0.index < failing.index && $0.failures.isEmpty && $0.held > 0 }),
              let others = sockets(at: before) else { return nil }
        return clients + max(0, others - before.held)
    }
}
