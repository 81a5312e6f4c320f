import Foundation
import BottleneckDiagnosis

extension RunReport {
    /// `--format text`: the diagnosis as `diagnose` prints it, then the step table and where
    /// the time goes, in aligned columns for a terminal or a CI log.
    public static func text(_ data: RunReportData) -> String {
        var out = "bottleneck report: \(data.summary.name) — \(data.summary.target)\n"
        if let run = data.run {
            out += "started \(run.startedAt), \(run.tool), host \(run.host.hostname) (\(cores(run.host.allowedCores)) cores allowed)\n"
        }
        if let note = data.diagnosisNote { out += note + "\n" }
        out += "\n" + DiagnosisReportText.render(data.diagnosis)
        if let capacity = data.capacity { out += "\n" + capacity.renderText() }
        for table in [stepTable(data), breakdownTable(data)] where !table.rows.isEmpty {
            out += "\n" + table.title + "\n" + aligned(table)
        }
        return out
    }

    /// Columns padded to their widest cell; numbers right-aligned so digits line up.
    static func aligned(_ table: RunReportTable) -> String {
        let all = [table.headers] + table.rows
        let widths = table.headers.indices.map { column in all.map { $0.count > column ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: max(0, widths[column] - cell.count))
                return table.numericColumns.contains(column) ? pad + cell : cell + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }.joined(separator: "\n") + "\n"
    }
}
