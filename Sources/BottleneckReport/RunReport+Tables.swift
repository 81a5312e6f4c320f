import Foundation
import BottleneckCore
import BottleneckDiagnosis

/// A table every report form shows: the text, Markdown and HTML renderers lay out the same
/// rows, so the three never disagree on a number.
public struct RunReportTable: Sendable, Equatable {
    public var title: String
    public var headers: [String]
    public var rows: [[String]]
    /// Columns to right-align (numbers).
    public var numericColumns: Set<Int>
}

extension RunReport {
    /// Every failed request under its cause (nil when none failed): the diagnosis's account.
    static func failedRequestsTable(_ d: DiagnosisResult) -> RunReportTable? {
        guard let causes = d.failedRequests, !causes.isEmpty else { return nil }
        return RunReportTable(title: "Failed requests (\(causes.reduce(0) { $0 + $1.requests }))", headers: ["requests", "cause", "meaning"],
                              rows: causes.map { [String($0.requests), $0.cause, $0.meaning] }, numericColumns: [0])
    }

    /// The tables of a report, in the order they appear.
    public static func tables(_ data: RunReportData) -> [RunReportTable] {
        [stepTable(data), breakdownTable(data), distributionTable(data), configurationTable(data), hostTable(data)]
            .filter { !$0.rows.isEmpty }
    }

    static func stepTable(_ data: RunReportData) -> RunReportTable {
        let sampling = Dictionary((data.summary.serverSampling?.steps ?? []).map { ($0.index, $0) }, uniquingKeysWith: { a, _ in a })
        let rows = data.summary.steps.map { s -> [String] in
            let server = sampling[s.index].map { $0.server.processes > 0 ? cores($0.server.cpuCoresMean) : "–" } ?? "–"
            return [String(s.index + 1), s.name, data.loadLabel(of: s), String(format: "%.1f", s.achievedRate),
                    String(s.completed), percent(s.errorRate), ms(s.latency.p50), ms(s.latency.p90), ms(s.latency.p99),
                    ms(s.latency.max), ms(s.scheduleLag.p99),
                    "\(cores(s.generatorCores))/\(cores(s.allowedCores))", server]
        }
        return RunReportTable(title: "Steps (latency from the intended send time, ms)",
                              headers: ["#", "step", "load", "achieved req/s", "ok", "errors", "p50", "p90", "p99", "max",
                                        "lag p99", "generator cores", "server cores"],
                              rows: rows, numericColumns: Set([0] + Array(3...12)))
    }

    static func breakdownTable(_ data: RunReportData) -> RunReportTable {
        let names = data.breakdown.first?.segments.map(\.name) ?? []
        let rows = data.breakdown.map { b in
            [b.name] + b.segments.map { ms($0.value) } + [ms(b.total), "\(b.requestsWithServerTiming)/\(b.requests)"]
        }
        return RunReportTable(title: "Where the time goes (mean ms per request)", headers: ["step"] + names + ["total", "with Server-Timing"],
                              rows: rows, numericColumns: Set(1...(names.count + 2)))
    }

    /// Percentiles read from the merged `latency.hlog` of each step, out to the deepest nine its count resolves.
    static func distributionTable(_ data: RunReportData) -> RunReportTable {
        let percentiles = keyPercentiles
        let rows = data.distributions.map { d -> [String] in
            let values = percentiles.map { p in d.keyPercentiles.first { $0.x == p }.map { ms($0.y) } ?? "–" }
            return [d.name, String(d.count)] + values
        }
        return RunReportTable(title: "Latency distribution (latency.hlog, ms)",
                              headers: ["step", "count"] + percentiles.map { "p\(formatRate($0))" },
                              rows: rows, numericColumns: Set(1...(percentiles.count + 1)))
    }

    static func configurationTable(_ data: RunReportData) -> RunReportTable {
        var rows: [[String]] = [["target", data.summary.target]]
        if let run = data.run {
            let c = run.config
            rows += [["command", run.command.joined(separator: " ")], ["method", c.method],
                     ["steps", c.steps.map { step in
                         let load = step.rate.map { "\(formatRate($0)) req/s \(step.arrivals ?? "")" } ?? "\(step.concurrency ?? 0) connection\(step.concurrency == 1 ? "" : "s")"
                         return "\(step.name): \(load) for \(formatRate(step.durationSeconds)) s"
                     }.joined(separator: "; ")],
                     ["payloads", c.payloads.isEmpty ? (c.body ?? "none") : c.payloads.joined(separator: ", ")],
                     ["headers", c.headers.isEmpty ? "none" : c.headers.joined(separator: ", ")],
                     ["warm-up / timeout", "\(formatRate(c.warmupSeconds)) s / \(formatRate(c.timeoutSeconds)) s"],
                     ["keep-alive, max connections", "\(c.keepAlive ? "yes" : "no"), \(c.maxConnections)"],
                     ["seed", String(c.seed)], ["started", run.startedAt], ["run tag", run.runTag], ["tool", run.tool]]
        }
        rows += [["SLO", "p99 ≤ \(formatRate(data.sloP99Milliseconds)) ms"],
                 ["complete", data.summary.complete ? "yes" : (data.summary.interrupted ? "no (interrupted)" : "no")],
                 ["requests recorded", String(data.summary.requestsRecorded)]]
        return RunReportTable(title: "Configuration", headers: ["setting", "value"], rows: rows, numericColumns: [])
    }

    static func hostTable(_ data: RunReportData) -> RunReportTable {
        guard let run = data.run else { return RunReportTable(title: "Host", headers: [], rows: [], numericColumns: []) }
        let h = run.host
        var rows: [[String]] = [["hostname", h.hostname], ["kernel", h.kernel], ["online CPUs", String(h.onlineCPUs)],
                                ["affinity", h.affinityCPUs.map(String.init).joined(separator: ",")],
                                ["allowed cores", cores(h.allowedCores)], ["memory", bytes(h.memoryTotalBytes)],
                                ["event-loop threads", String(run.threads)]]
        if let quota = h.cgroupCPUQuotaCores { rows.append(["cgroup CPU quota", "\(cores(quota)) cores (\(h.cgroupCPUQuotaSource ?? "cgroup"))"]) }
        if let limit = h.cgroupMemoryLimitBytes { rows.append(["cgroup memory limit", bytes(limit)]) }
        return RunReportTable(title: "Host", headers: ["fact", "value"], rows: rows, numericColumns: [])
    }

    // MARK: number formatting, fixed so golden files do not drift

    static func ms(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        if abs(value) >= 100 { return String(format: "%.0f", value) }
        if abs(value) >= 10 { return String(format: "%.1f", value) }
        return String(format: "%.2f", value)
    }

    static func cores(_ value: Double) -> String { String(format: "%.2f", value) }

    static func percent(_ fraction: Double) -> String { String(format: "%.2f%%", fraction * 100) }

    static func bytes(_ value: UInt64) -> String {
        let gib = Double(value) / 1_073_741_824
        return gib >= 1 ? String(format: "%.1f GiB", gib) : String(format: "%.0f MiB", Double(value) / 1_048_576)
    }
}
