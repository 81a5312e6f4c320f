import Foundation
import BottleneckCore
import BottleneckLoad
import BottleneckRun
import BottleneckDiagnosis

/// `bottleneck report`: one recorded run directory rendered for people (HTML with charts,
/// Markdown, plain text) or for programs (JSON: the diagnosis and the step table).
///
/// Everything comes from the run directory alone, so a report can be made long after the
/// run, on another machine, and the HTML needs no network: the charts are inline SVG and
/// the stylesheet is inline CSS.
public enum RunReport: Sendable {
    /// The output forms `--format` accepts.
    public enum Format: String, Sendable, CaseIterable {
        case text, markdown, json, html

        /// Parses `--format`, naming the accepted values when it is something else.
        public static func parse(_ text: String) throws -> Format {
            guard let format = Format(rawValue: text.lowercased()) else {
                throw AnalysisError("--format \"\(text)\": use one of \(Format.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return format
        }

        /// The file a report of this format gets inside the run directory.
        public var reportFileName: String {
            switch self {
            case .text: return "report.txt"
            case .markdown: return "report.md"
            case .json: return "report.json"
            case .html: return "report.html"
            }
        }
    }

    /// The report in the requested form, as bytes ready to write.
    public static func render(_ data: RunReportData, format: Format) throws -> Data {
        switch format {
        case .text: return Data(text(data).utf8)
        case .markdown: return Data(markdown(data).utf8)
        case .html: return Data(html(data).utf8)
        case .json: return try json(data)
        }
    }

    /// `--format json`: the diagnosis and the step table, schema `bottleneck.report/v1`.
    public static func json(_ data: RunReportData) throws -> Data {
        var document = RunReportJSON(diagnosis: data.diagnosis, steps: data.summary.steps, timeBreakdown: data.breakdown)
        document.diagnosis.runDirectory = data.directory
        return try RunJSON.encode(document)
    }
}

/// The JSON form of a report: what a dashboard or a CI check needs, without the charts.
public struct RunReportJSON: Sendable, Codable {
    public var schema = "bottleneck.report/v1"
    public var diagnosis: DiagnosisResult
    public var steps: [StepResult]
    /// Mean milliseconds per request and step, by segment (see ``RunReportTimeBreakdown``).
    public var timeBreakdown: [RunReportTimeBreakdown]
}
