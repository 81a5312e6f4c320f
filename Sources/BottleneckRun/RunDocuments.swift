import Foundation
import BottleneckCore
import BottleneckLoad
import BottleneckSampling

/// `run.json`: what was run, with what settings, on which machine. Versioned.
public struct RunDescription: Sendable, Codable {
    public static let schemaVersion = "bottleneck.run/v1"
    public var schema = RunDescription.schemaVersion
    public var tool: String = "bottleneck \(BottleneckVersion.current)"
    public var name: String
    public var runTag: String
    /// UTC, ISO 8601.
    public var startedAt: String
    /// `MonotonicClock` at the start: all `*_ns` fields in the run directory use this clock.
    public var monotonicStartNs: UInt64
    public var wallStartNs: UInt64
    public var command: [String]
    public var config: RunConfiguration
    public var host: HostFacts
    /// Event-loop threads the engine ran.
    public var threads: Int
    /// What was found serving the target on this host, when the run looked (absent in older runs).
    public var topology: RunTopology? = nil
}

/// The load settings as they were applied (after probe spec and flags were merged).
public struct RunConfiguration: Sendable, Codable {
    public struct Step: Sendable, Codable {
        public var name: String
        public var mode: String
        public var rate: Double?
        public var arrivals: String?
        public var concurrency: Int?
        public var durationSeconds: Double
    }

    public var target: String
    public var method: String
    /// Header names and values; values of credentials are redacted.
    public var headers: [String]
    public var steps: [Step]
    public var warmupSeconds: Double
    public var timeoutSeconds: Double
    public var connectTimeoutSeconds: Double
    public var keepAlive: Bool
    public var maxConnections: Int
    public var seed: UInt64
    public var probe: String?
    public var payloads: [String]
    public var body: String?
    public var payloadPoolSize: Int

    public init(plan: LoadPlan, probe: String?, payloads: [String], body: String?) {
        target = plan.target.description
        method = plan.method
        let secret: Set<String> = ["authorization", "cookie", "proxy-authorization", "x-api-key"]
        headers = plan.headers.map { secret.contains($0.name.lowercased()) ? "\($0.name): <redacted>" : "\($0.name): \($0.value)" }
        steps = plan.steps.map { step in
            switch step.shape {
            case .open(let rate, let arrivals):
                return Step(name: step.name, mode: "open", rate: rate, arrivals: arrivals.rawValue, concurrency: nil,
                            durationSeconds: Double(step.duration) / 1e9)
            case .closed(let concurrency):
                return Step(name: step.name, mode: "closed", rate: nil, arrivals: nil, concurrency: concurrency,
                            durationSeconds: Double(step.duration) / 1e9)
            }
        }
        warmupSeconds = Double(plan.warmup) / 1e9
        timeoutSeconds = Double(plan.timeout) / 1e9
        connectTimeoutSeconds = Double(plan.connectTimeout) / 1e9
        keepAlive = plan.keepAlive
        maxConnections = plan.maxConnections
        seed = plan.seed
        self.probe = probe
        self.payloads = payloads
        self.body = body
        payloadPoolSize = plan.bodies.count
    }
}

/// `summary.json`: per-step results and the verdict on the generator itself. Versioned.
public struct RunSummary: Sendable, Codable {
    public static let schemaVersion = "bottleneck.summary/v1"
    public var schema = RunSummary.schemaVersion
    public var name: String
    public var target: String
    public var runDirectory: String
    /// False when the run was interrupted before all planned steps ran.
    public var complete: Bool
    public var interrupted: Bool
    public var steps: [StepResult]
    /// Records in requests.csv.
    public var requestsRecorded: UInt64
    public var generatorPeakRSSBytes: UInt64
    /// Every step's warnings, prefixed with the step name; empty when the generator kept up.
    public var warnings: [String]
    /// Per-step CPU, memory and socket aggregates of the generator and the server (samplers).
    public var sampling: SamplingSummary?
    /// The same for the reverse proxy in front of the service, when it was sampled apart.
    public var proxySampling: SamplingSummary?
    /// The same from a `bottleneck agent` on the server host (`--agent`; `source` `agent`):
    /// `server` is the service, `host` the server's host, `client` empty. `sampling` then
    /// holds the generator alone.
    public var agentSampling: SamplingSummary?

    /// The aggregates that sampled the service: the agent's when the run pulled from one,
    /// else the local sampler's.
    public var serverSampling: SamplingSummary? { agentSampling ?? sampling }

    public init(name: String, target: String, runDirectory: String, plannedSteps: Int, interrupted: Bool,
                steps: [StepResult], requestsRecorded: UInt64, generatorPeakRSSBytes: UInt64) {
        self.name = name
        self.target = target
        self.runDirectory = runDirectory
        self.interrupted = interrupted
        complete = !interrupted && steps.count == plannedSteps
        self.steps = steps
        self.requestsRecorded = requestsRecorded
        self.generatorPeakRSSBytes = generatorPeakRSSBytes
        warnings = steps.flatMap { step in step.warnings.map { "\(step.name): \($0)" } }
    }
}

extension RunSummary {
    /// Share of the host's CPU time taken by the hypervisor (steal, `/proc/stat`) from which a
    /// step the generator could not keep up in is said to share the blame with its host.
    public static let notableSteal = 0.02

    /// For each step with a keep-up warning during which the hypervisor took a notable share
    /// of the host's CPU, a warning that says so: a virtual CPU that is not running fires no
    /// timer, so every send due meanwhile leaves late, from this generator or any other
    /// (measured here: 20% steal made schedule lag p99 3-11 ms where a quiet minute gave
    /// 0.2-0.6 ms, and a bare C timer loop on the same CPU was as late; `make bench`).
    public static func hostWarnings(steps: [StepResult], sampling: SamplingSummary?) -> [String] {
        guard let sampling else { return [] }
        let host = Dictionary(sampling.steps.map { ($0.index, $0.host) }, uniquingKeysWith: { a, _ in a })
        return steps.compactMap { step in
            guard !step.warnings.isEmpty, let steal = host[step.index]?.stealFractionMean, steal >= notableSteal else { return nil }
            return "\(step.name): the hypervisor took \(String(format2: steal * 100))% of this host's CPU during the step (steal): "
                + "a CPU that is not running sends nothing on time, in this generator or any other; rerun on a quieter or dedicated host"
        }
    }
}
