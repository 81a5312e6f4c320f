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
    /// The output forms of a report.
    public enum Format: String, Sendable, CaseIterable {
        case text, markdown, json, html

        /// Parses a format name, naming the accepted values when it is something else.
        public static func parse(_ text: String) throws(AnalysisError) -> Format {
            guard let format = Format(rawValue: text.lowercased()) else {
                throw AnalysisError("use one of \(Format.allCases.map(\.rawValue).joined(separator: ", "))")
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

    /// Writes a report of `directory` in each of `formats` into the run directory, with the
    /// diagnosis `source` names, and returns the paths written.
    ///
    /// - Throws: ``AnalysisError`` (exit 2) when the run cannot be read or a file written;
    ///   what is already in the directory stays.
    public static func writeFiles(_ formats: [Format], directory: String, diagnosis source: DiagnosisSource,
                                  segments: ServerTimingSegments = .defaults) throws -> [String] {
        guard !formats.isEmpty else { return [] }
        let data = try load(directory: directory, diagnosis: source, segments: segments)
        return try formats.map { format in
            let path = (directory as NSString).appendingPathComponent(format.reportFileName)
            let bytes = try render(data, format: format)
            do {
                try bytes.write(to: URL(fileURLWithPath: path))
            } catch {
                throw AnalysisError("cannot write \(path) (\(error.localizedDescription)); the run directory is kept")
            }
            return path
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
