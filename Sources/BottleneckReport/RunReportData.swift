import Foundation
import BottleneckCore
import BottleneckLoad
import BottleneckRun
import BottleneckDiagnosis

/// Everything a report shows, read from one run directory by ``RunReport/load(directory:diagnosis:segments:)``.
///
/// Each renderer (HTML, Markdown, text, JSON) picks what it needs from this, so all forms
/// agree on every number. Parts whose source file is absent are empty rather than guessed:
/// no `samples.jsonl` means no CPU series, a run with one payload size has no payload scatter.
public struct RunReportData: Sendable {
    /// Generator and server CPU over the run, from the `tree` records of `samples.jsonl`.
    public struct CPUUsage: Sendable {
        /// Name ("generator", "server", or a server process "nginx 9710") and (seconds since the run started, cores).
        public var series: [(name: String, points: [ChartPoint])]
        /// When each step began, in seconds since the run started.
        public var stepStarts: [(time: Double, name: String)]
        /// Cores the generator may use (affinity and cgroup quota), for a reference line.
        public var allowedCores: Double?

        public var isEmpty: Bool { series.allSatisfy { $0.points.isEmpty } }
    }

    /// Time series read from `samples.jsonl` besides CPU: memory, and the host's CPUs one by one.
    /// Times are seconds since the run started, as in ``CPUUsage``; its `stepStarts` mark both.
    public struct SampledSeries: Sendable {
        /// Resident memory of the generator's and the server's process trees, in MiB.
        public var memory: [(name: String, points: [ChartPoint])] = []
        /// Busy percent of each of the sampling host's CPUs ("cpu0", …; beyond 16 CPUs the 8
        /// busiest and their mean), and "steal" when the hypervisor took time from them.
        public var hostCPU: [(name: String, points: [ChartPoint])] = []

        public init(memory: [(name: String, points: [ChartPoint])] = [], hostCPU: [(name: String, points: [ChartPoint])] = []) {
            self.memory = memory
            self.hostCPU = hostCPU
        }
    }

    /// Latency, service time and server time against payload size, when the run's payload sizes vary.
    public struct PayloadScatter: Sendable {
        /// x = payload KiB, y = service time ms (from the actual send); at most
        /// ``RunReport/scatterPointLimit`` points, spread over the run.
        public var points: [ChartPoint]
        /// x = payload KiB, y = latency ms (from the intended send: what the user waited).
        public var latency: [ChartPoint]
        /// x = payload KiB, y = the sum of the response's Server-Timing phases, for responses that carried them.
        public var serverTime: [ChartPoint]
        /// Service time against KiB, fitted on the same requests as the diagnosis's size fit (the
        /// least-loaded step's, or every step's when it has too few): slope = ms per KiB, intercept = fixed cost.
        public var fit: LinearFit?
        /// Requests the fit used.
        public var requests: Int
        /// Requests with a payload, drawn or not (up to the aggregation's point limit).
        public var total: Int
    }

    /// The latency distribution of one step, merged from its intervals in `latency.hlog`.
    public struct Distribution: Sendable {
        public var step: Int
        public var name: String
        /// x = percentile (0 ..< 100), y = latency ms.
        public var points: [ChartPoint]
        /// x = 50, 90, 99, 99.9, 99.99 as far as `count` resolves them (p99.9 needs 100 requests), y = ms.
        public var keyPercentiles: [ChartPoint]
        public var count: UInt64
    }

    /// The directory as given on the command line.
    public var directory: String
    /// `run.json`; nil when the run directory lacks it (older or partial runs).
    public var run: RunDescription?
    public var summary: RunSummary
    public var diagnosis: DiagnosisResult
    /// Set when the diagnosis was made for the report rather than read from `diagnosis.json`: says how.
    public var diagnosisNote: String?
    public var breakdown: [RunReportTimeBreakdown]
    public var cpu: CPUUsage
    public var sampled: SampledSeries
    public var payload: PayloadScatter?
    public var distributions: [Distribution]
    /// `capacity.json`, when `bottleneck capacity` or `playbook run capacity-plan` wrote the run.
    public var capacity: CapacityReport?

    public var sloP99Milliseconds: Double { diagnosis.sloP99Ms }

    /// True when every step ran closed loop: charts then use concurrency, not offered rate, on the x axis.
    public var closedLoop: Bool { !summary.steps.isEmpty && summary.steps.allSatisfy { $0.targetRate == nil } }

    /// The load a step put on the service, in the unit of ``loadAxisLabel``: offered req/s (open
    /// loop), connections (closed loop), or achieved req/s for a closed-loop baseline in an open-loop ramp.
    public func load(of step: StepResult) -> Double {
        if closedLoop { return Double(step.concurrency ?? 0) }
        return step.targetRate ?? step.achievedRate
    }

    public var loadAxis: ChartAxis {
        closedLoop ? ChartAxis(label: "Concurrency", unit: "connections") : ChartAxis(label: "Offered load", unit: "req/s")
    }

    /// "100 req/s" or "8 conn": how a step's load is labelled in tables and bar charts.
    public func loadLabel(of step: StepResult) -> String {
        if let rate = step.targetRate { return "\(formatRate(rate)) req/s" }
        return "\(step.concurrency ?? 0) conn"
    }
}
