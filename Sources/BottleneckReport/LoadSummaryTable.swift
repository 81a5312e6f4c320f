import Foundation
import BottleneckCore
import BottleneckRun

/// The end-of-run table for `bottleneck load`: one row per step, latency from the
/// intended send time, then the generator's warnings, then where the files are.
public enum LoadSummaryTable: Sendable {
    public static func render(_ summary: RunSummary) -> String {
        let header = ["step", "target", "achieved", "ok", "p50", "p90", "p99", "p99.9", "max", "errors", "lag p99", "gen CPU"]
        var rows: [[String]] = []
        for s in summary.steps {
            let target = s.targetRate.map { "\(formatRate($0)) rps" } ?? "c=\(s.concurrency ?? 0)"
            let errors = s.errors.values.reduce(0, +)
            rows.append([
                s.name + (s.interrupted ? "*" : ""), target, String(format: "%.1f rps", s.achievedRate),
                "\(s.completed)", LoadProgressDisplay.ms(s.latency.p50), LoadProgressDisplay.ms(s.latency.p90),
                LoadProgressDisplay.ms(s.latency.p99), LoadProgressDisplay.ms(s.latency.p999), LoadProgressDisplay.ms(s.latency.max),
                errors == 0 ? "0" : "\(errors) (\(String(format2: s.errorRate * 100))%)",
                LoadProgressDisplay.ms(s.scheduleLag.p99), "\(String(format: "%.2f", s.generatorCores))/\(String(format2: s.allowedCores))",
            ])
        }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == 0 ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                       : String(repeating: " ", count: widths[i] - cell.count) + cell
            }.joined(separator: "  ")
        }
        var out = "Latency is measured from the intended send time (coordinated-omission free).\n"
        out += line(header) + "\n"
        for row in rows { out += line(row) + "\n" }
        if summary.steps.contains(where: { !$0.errors.isEmpty }) {
            out += "\nErrors by kind:\n"
            for s in summary.steps where !s.errors.isEmpty {
                out += "  \(s.name): " + s.errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "\n"
            }
        }
        let tls = summary.steps.filter { $0.tlsHandshake != nil }
        if !tls.isEmpty {
            out += "\nTLS handshakes (after the TCP connect; no session resumption):\n"
            for s in tls {
                let attempted = max(1, s.completed + s.errors.filter { !$0.key.hasPrefix("http") }.values.reduce(0, +))
                out += "  \(s.name): \(s.tlsHandshakes ?? 0) (\(String(format: "%.2f", Double(s.tlsHandshakes ?? 0) / Double(attempted))) per request), "
                    + "p50 \(LoadProgressDisplay.ms(s.tlsHandshake?.p50 ?? 0)), p99 \(LoadProgressDisplay.ms(s.tlsHandshake?.p99 ?? 0))\n"
            }
        }
        if summary.interrupted { out += "\n* interrupted: the step ended early; its numbers cover the time it ran.\n" }
        if !summary.warnings.isEmpty {
            out += "\nThe load generator could not keep up; these numbers may understate the service's latency:\n"
            for warning in summary.warnings { out += "  - \(warning)\n" }
        }
        out += "\nRun directory: \(summary.runDirectory) (\(summary.requestsRecorded) requests recorded)\n"
        return out
    }
}
