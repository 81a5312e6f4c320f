/// Parses a latency objective, `p99=300ms` (the percentile is p99 for now; other forms are
/// refused clearly).
import BottleneckCore

public enum SLOSpec: Sendable {
    /// The objective when none is given: p99=300ms.
    public static let defaultP99Milliseconds = 300.0

    /// The p99 objective in milliseconds; an error says what is wrong and the accepted form.
    public static func parseP99Milliseconds(_ text: String) throws(AnalysisError) -> Double {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0].lowercased() == "p99" else {
            throw AnalysisError("use p99=DURATION, like p99=300ms")
        }
        guard let nanoseconds = try? LoadValueParsing.duration(parts[1]), nanoseconds > 0 else {
            throw AnalysisError("the latency objective must be a duration above 0, like p99=300ms")
        }
        return Double(nanoseconds) / 1e6
    }
}
