import Foundation
import BottleneckCore

/// The terminal rendering of a diagnosis: validity first, then the verdicts with the
/// numbers and thresholds behind them, then what to do.
public enum DiagnosisReportText: Sendable {
    public static func render(_ r: DiagnosisResult) -> String {
        var out = ""
        if !r.valid {
            out += "THIS RUN IS INVALID: the load generator could not keep up, so none of its numbers can be trusted.\n"
            out += "Fix the generator first (see the load-generator verdicts below), then run again.\n\n"
        }
        for warning in r.warnings { out += "WARNING: \(warning).\n" }
        if !r.warnings.isEmpty { out += "\n" }
        for line in r.found ?? [] { out += "Found: \(line)\n" }
        if let knee = r.knee {
            let offered = knee.offeredRps.map { "\(formatRate($0)) req/s offered, " } ?? ""
            out += knee.broken
                ? "Knee: step \(knee.step + 1) (\(knee.name)): \(offered)\(String(format: "%.1f", knee.achievedRps)) req/s achieved, p99 \(String(format: "%.1f", knee.p99Ms)) ms: the least loaded step that missed the SLO p99 ≤ \(formatRate(r.sloP99Ms)) ms, the 1% error budget or 95% of its schedule, or left a growing queue.\n"
                : "The SLO p99 ≤ \(formatRate(r.sloP99Ms)) ms held up to step \(knee.step + 1) (\(knee.name)): \(offered)\(String(format: "%.1f", knee.achievedRps)) req/s, p99 \(String(format: "%.1f", knee.p99Ms)) ms.\n"
        }
        if let capacity = r.capacityAtSloRps {
            out += "Highest rate that met the SLO with under 1% errors: \(String(format: "%.1f", capacity)) req/s.\n"
        }
        out += "\n"
        if r.healthy {
            out += "Healthy: the SLO held at every step and no rule found a bottleneck.\n"
        } else if r.verdicts.isEmpty {
            out += "No rule named a culprit"
            out += r.sloMet ? ".\n" : ", but the SLO broke: the evidence to tell why is missing (see below).\n"
        }
        out += renderVerdicts(r.verdicts)
        if let causes = r.failedRequests, !causes.isEmpty {
            out += "\nFailed requests: \(causes.reduce(0) { $0 + $1.requests }), each under its cause:\n"
            for c in causes { out += "  \(String(c.requests).leftPadded(to: 6))  \(c.meaning) (\(c.cause))\n" }
        }
        out += renderMissing(r.missingEvidence)
        out += "\nRun directory: \(r.runDirectory)\n"
        return out
    }

    /// The evidence the rules wanted and did not have, with how to get it.
    package static func renderMissing(_ missing: [String]) -> String {
        let hints = MissingEvidenceHint.lines(missing)
        guard !hints.isEmpty else { return "" }
        return "\nEvidence that could have changed this verdict but was not measured:\n" + hints.map { "  - \($0)\n" }.joined()
    }

    /// The ranked verdicts, each with its explanation, the comparisons behind it and what to read next.
    package static func renderVerdicts(_ verdicts: [Verdict]) -> String {
        var out = ""
        for (rank, v) in verdicts.enumerated() {
            out += "\(rank + 1). \(v.culprit.rawValue.uppercased()) — \(v.cause)  [\(v.severity.rawValue), confidence \(String(format: "%.2f", v.confidence)), rule \(v.rule)"
            if let step = v.step { out += ", step \(step + 1)" }
            out += "]\n"
            out += "   \(v.explain)\n"
            for item in v.evidence {
                let value = item.value.map { format($0) } ?? "missing"
                let threshold = item.threshold.map { format($0) } ?? "?"
                // A threshold that is itself an expression is shown with it, so "> 0.008" says what it is.
                let reference = Double(item.thresholdExpression) == nil ? "\(item.thresholdExpression) = \(threshold)" : threshold
                out += "   - \(item.metric) = \(value)  (\(item.comparison) \(reference))\n"
            }
            if !v.next.isEmpty { out += "   next: \(v.next.joined(separator: ", "))\n" }
        }
        return out
    }

    package static func format(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e9 { return String(Int(value)) }
        if abs(value) >= 100 { return String(format: "%.1f", value) }
        if abs(value) >= 1 { return String(format: "%.2f", value) }
        return String(format: "%.3f", value)
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
