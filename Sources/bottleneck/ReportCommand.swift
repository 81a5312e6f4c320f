import ArgumentParser
import BottleneckDiagnosis
import BottleneckReport
import Foundation

/// `bottleneck report`: render a recorded run directory as HTML, Markdown, text or JSON.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a recorded run as a self-contained HTML report, Markdown, text or JSON.",
        discussion: """
            The HTML report (the default) has the verdicts first, then the capacity plan when the run was made by \
            `capacity` (capacity.json), then charts of latency against load, achieved rate, \
            where the time goes, CPU and memory over time, host CPU per core, latency, service and server time against \
            payload size and the latency distribution, then the \
            tables, configuration and host. It needs no network. Without --out, HTML is written to RUN_DIR/report.html \
            and the other formats to standard output.

            The verdicts are the ones the run's command recorded (diagnosis.json), so the report agrees with what \
            diagnose, capacity or playbook run printed. --rules DIR, --slo or --phase diagnoses the run again with those, and the \
            report says so; a run without diagnosis.json (made by load) is diagnosed with the default rules.
            """
    )

    @Argument(help: "A run directory written by `bottleneck load`, `diagnose`, `capacity` or `playbook run`.") var runDirectory: String
    @Option(help: ArgumentHelp("text, markdown, json or html (default html).", valueName: "format"), transform: OptionValue.reportFormat)
    var format = RunReport.Format.html
    @Option(help: "Write the report to this file.") var out: String?
    @Option(help: "Diagnose again against this latency objective, p99=DURATION (default: the recorded diagnosis's, else p99=300ms).",
            transform: OptionValue.slo)
    var slo: Double?
    @Option(help: "Diagnose again with the rule files in this folder instead of reading the recorded diagnosis.") var rules: String?
    @OptionGroup var phases: PhaseOptions

    func run() throws {
        let source: RunReport.DiagnosisSource
        if slo != nil || rules != nil || phases.changesDefaults {
            source = .reevaluated(rules: try rules.map { try RuleSelection.load(directory: $0) },
                                  rulesDescription: (rules.map { "the rules in \($0)" } ?? "the default rules")
                                      + (phases.changesDefaults ? ", the phase mapping given" : ""),
                                  sloP99Milliseconds: slo ?? SLOSpec.defaultP99Milliseconds)
        } else {
            source = .recorded(sloP99Milliseconds: SLOSpec.defaultP99Milliseconds)
        }
        let data = try RunReport.load(directory: runDirectory, diagnosis: source, segments: try phases.segments())
        let bytes = try RunReport.render(data, format: format)
        let path = out ?? (format == .html ? (runDirectory as NSString).appendingPathComponent("report.html") : nil)
        guard let path else {
            FileHandle.standardOutput.write(bytes)
            return
        }
        do {
            try bytes.write(to: URL(fileURLWithPath: path))
        } catch {
            throw ValidationError("--out \(path): cannot write the report (\(error.localizedDescription))")
        }
        print("wrote \(path)")
    }
}
