/// The files of a run directory (docs/run-directory.md): the one place their names are spelled.
/// Writers name the file they write by case; `RunRecord` (BottleneckRun) reads them.
public enum RunFile: String, Sendable, CaseIterable {
    /// What was run, with what settings, on which machine.
    case description = "run.json"
    case summary = "summary.json"
    case requests = "requests.csv"
    case latencyLog = "latency.hlog"
    case samples = "samples.jsonl"
    case proxySamples = "samples-proxy.jsonl"
    case agentSamples = "samples-agent.jsonl"
    case captureSummary = "capture-summary.json"
    case captureExchanges = "capture-exchanges.jsonl"
    case capture = "capture.pcap"
    case diagnosis = "diagnosis.json"
    case evidence = "evidence.json"
    case capacity = "capacity.json"
    /// What `bottleneck probe connections` found (`ConnectionsRecord`).
    case connections = "connections.json"
    /// The server's own phases per step from KServe v2 / Triton model statistics (`ModelStatisticsRecord`).
    case modelStatistics = "model-statistics.json"

    /// The run `--backend` makes straight to the service: a run directory of its own inside this one.
    public static let bypassDirectory = "bypass"

    /// The file's path inside `directory`.
    public func path(in directory: String) -> String { directory + "/" + rawValue }
}
