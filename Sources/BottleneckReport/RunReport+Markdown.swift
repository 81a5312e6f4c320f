import Foundation
import BottleneckCore
import BottleneckDiagnosis

extension RunReport {
    /// `--format markdown`: the verdicts and every table of the HTML report, without charts,
    /// for a pull request, an issue or a wiki page.
    public static func markdown(_ data: RunReportData) -> String {
        let d = data.diagnosis
        var out = "# bottleneck report: \(escape(data.summary.name))\n\n"
        out += "Target `\(data.summary.target)` · SLO p99 ≤ \(formatRate(d.sloP99Ms)) ms · run directory `\(data.directory)`\n\n"
        if !d.valid {
            out += "> **THIS RUN IS INVALID**: the load generator could not keep up, so none of its numbers can be trusted. "
            out += "Fix the generator first (see the load-generator verdicts below), then run again.\n\n"
        }
        out += "## Verdicts\n\n"
        if let note = data.diagnosisNote { out += "_\(escape(note))_\n\n" }
        out += headline(d).map { "\($0)\n\n" }.joined()
        for (rank, v) in d.verdicts.enumerated() {
            out += "### \(rank + 1). \(v.culprit.rawValue) — \(escape(v.cause))\n\n"
            out += "\(v.severity.rawValue), confidence \(String(format: "%.2f", v.confidence)), rule `\(v.rule)`"
            if let step = v.step, step < data.summary.steps.count { out += ", step \(step + 1) (\(data.summary.steps[step].name))" }
            out += "\n\n\(escape(v.explain))\n\n"
            if !v.evidence.isEmpty {
                out += "| evidence | value | threshold |\n|---|--:|---|\n"
                for item in v.evidence {
                    out += "| `\(item.metric)` | \(evidenceValue(item.value)) | \(item.comparison) \(evidenceValue(item.threshold)) |\n"
                }
                out += "\n"
            }
            if !v.next.isEmpty { out += "Next: " + v.next.map { "`\($0)`" }.joined(separator: ", ") + "\n\n" }
        }
        if let failed = failedRequestsTable(d) { out += "## \(failed.title)\n\n" + markdownTable(failed) + "\n" }
        let hints = MissingEvidenceHint.lines(d.missingEvidence)
        if !hints.isEmpty {
            out += "Evidence that could have changed this verdict but was not measured:\n\n" + hints.map { "- \($0)\n" }.joined() + "\n"
        }
        if let capacity = data.capacity { out += capacityMarkdown(capacity, reportSLO: data.sloP99Milliseconds) }
        for table in tables(data) {
            out += "## \(table.title)\n\n" + markdownTable(table) + "\n"
        }
        return out
    }

    /// The sentences that lead every form of the report: healthy or not, the knee, the capacity.
    static func headline(_ d: DiagnosisResult) -> [String] {
        var lines: [String] = []
        if let knee = d.knee {
            let offered = knee.offeredRps.map { "\(formatRate($0)) req/s offered, " } ?? ""
            let numbers = "\(offered)\(String(format: "%.1f", knee.achievedRps)) req/s achieved, p99 \(String(format: "%.1f", knee.p99Ms)) ms"
            lines.append(knee.broken
                ? "Knee: step \(knee.step + 1) (\(knee.name)): \(numbers) breaks the SLO p99 ≤ \(formatRate(d.sloP99Ms)) ms."
                : "The SLO held up to step \(knee.step + 1) (\(knee.name)): \(numbers).")
        }
        if let capacity = d.capacityAtSloRps {
            lines.append("Highest rate that met the SLO with under 1% errors: \(String(format: "%.1f", capacity)) req/s.")
        }
        if d.healthy {
            lines.append("Healthy: the SLO held at every step and no rule found a bottleneck.")
        } else if d.verdicts.isEmpty {
            lines.append(d.sloMet ? "No rule named a culprit." : "No rule named a culprit, but the SLO broke: the evidence to tell why is missing.")
        }
        return lines
    }

    static func evidenceValue(_ value: Double?) -> String {
        value.map { DiagnosisReportText.format($0) } ?? "missing"
    }

    static func markdownTable(_ table: RunReportTable) -> String {
        var out = "| " + table.headers.map(escape).joined(separator: " | ") + " |\n"
        out += "|" + table.headers.indices.map { table.numericColumns.contains($0) ? "--:" : "---" }.joined(separator: "|") + "|\n"
        for row in table.rows { out += "| " + row.map(escape).joined(separator: " | ") + " |\n" }
        return out
    }

    /// Pipes would split a cell; newlines would end the table.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
