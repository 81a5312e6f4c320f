/// Parses `--slo p99=300ms` (the percentile is p99 for now; other forms are refused clearly).
import BottleneckCore

public enum SLOSpec: Sendable {
    /// The objective when none is given: `--slo p99=300ms`.
    public static let defaultP99Milliseconds = 300.0

    public static func parseP99Milliseconds(_ text: String) throws -> Double {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0].lowercased() == "p99" else {
            throw AnalysisError("--slo \"\(text)\": use p99=DURATION, like p99=300ms")
        }
        let nanoseconds = try LoadValueParsing.duration(parts[1], field: "--slo")
        guard nanoseconds > 0 else { throw AnalysisError("--slo \"\(text)\": the latency objective must be above 0, like p99=300ms") }
        return Double(nanoseconds) / 1e6
    }
}
