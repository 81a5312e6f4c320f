@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Foundation
import Testing

/// Recorded runs and golden outputs for the report tests.
enum RunReportFixtures {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    /// From the Python test bed: Server-Timing phases, one payload kind, no samples.jsonl.
    static let slowModel = fixtures.appendingPathComponent("runs/slow-model").path
    /// nginx with varying JPEG sizes and samplers on (samples.jsonl), no Server-Timing. Recorded on a busy
    /// host: the generator sent late, so a load-generator rule fires and the run is invalid.
    static let nginxImage = fixtures.appendingPathComponent("runs/nginx-image").path
    static let golden = fixtures.appendingPathComponent("golden")
    /// Set to rewrite the golden files from the current output instead of comparing.
    static let updateGolden = ProcessInfo.processInfo.environment["BOTTLENECK_UPDATE_GOLDEN"] != nil

    /// The run directory path differs per checkout; golden files hold `RUN_DIR` instead.
    static func normalized(_ text: String, directory: String) -> String {
        text.replacingOccurrences(of: directory, with: "RUN_DIR")
    }

    /// A copy of `source` in a temporary directory, with each step of summary.json changed by `edit`.
    static func copy(_ source: String, editingSteps edit: ((inout [String: Any]) -> Void)? = nil) throws -> String {
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("bottleneck-report-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: source, toPath: target.path)
        if let edit {
            let url = target.appendingPathComponent("summary.json")
            var summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            var steps = try #require(summary["steps"] as? [[String: Any]])
            for index in steps.indices { edit(&steps[index]) }
            summary["steps"] = steps
            try JSONSerialization.data(withJSONObject: summary).write(to: url)
        }
        return target.path
    }

    static func count(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }
}

@Suite("Run report")
struct RunReportTests {
    @Test("text and Markdown match the golden files", arguments: [RunReport.Format.text, .markdown])
    func golden(format: RunReport.Format) throws {
        let directory = RunReportFixtures.slowModel
        let data = try RunReport.load(directory: directory, diagnosis: .recorded(sloP99Milliseconds: 300))
        let output = RunReportFixtures.normalized(String(decoding: try RunReport.render(data, format: format), as: UTF8.self),
                                                  directory: directory)
        let file = RunReportFixtures.golden.appendingPathComponent("slow-model.\(format == .text ? "txt" : "md")")
        if RunReportFixtures.updateGolden {
            try FileManager.default.createDirectory(at: RunReportFixtures.golden, withIntermediateDirectories: true)
            try output.write(to: file, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(output == expected, "run with BOTTLENECK_UPDATE_GOLDEN=1 to accept the new output, then review the diff")
    }

    @Test("the text report is the same on every call (no clock, no map order)")
    func deterministic() throws {
        let a = try RunReport.load(directory: RunReportFixtures.nginxImage)
        let b = try RunReport.load(directory: RunReportFixtures.nginxImage)
        #expect(RunReport.text(a) == RunReport.text(b))
        #expect(RunReport.markdown(a) == RunReport.markdown(b))
        #expect(RunReport.html(a) == RunReport.html(b))
    }

    @Test("the HTML report has every chart, each with data, after the verdicts")
    func htmlCharts() throws {
        let data = try RunReport.load(directory: RunReportFixtures.nginxImage)
        let html = RunReport.html(data)
        let ids = ["chart-latency", "chart-achieved", "chart-breakdown", "chart-cpu", "chart-memory", "chart-host-cpu", "chart-payload", "chart-distribution"]
        for id in ids { #expect(html.contains("<figure id=\"\(id)\"><svg"), "missing \(id)") }
        #expect(RunReportFixtures.count("<svg", in: html) == ids.count)
        #expect(!html.contains("data-empty=\"true\""), "a chart was drawn without data")
        // latency: 4 percentiles; achieved: 1; breakdown: generator + unknown; CPU: generator, server, 2 nginx processes;
        // memory: generator, server; host CPU: 2 CPUs (+ steal); payload: latency, service time; distribution: 2 steps.
        #expect(RunReportFixtures.count("data-series=", in: html) >= 4 + 1 + 2 + 2 + 2 + 2 + 2 + 2)
        let verdicts = try #require(html.range(of: "id=\"verdicts\""))
        let firstChart = try #require(html.range(of: "<svg"))
        #expect(verdicts.lowerBound < firstChart.lowerBound)
        #expect(html.contains("knee") || html.contains("last step"))
        #expect(html.contains("SLO p99 300 ms"))
        // Recorded while the host was busy: the generator sent late, so this run is invalid and shows the banner.
        #expect(html.contains("class=\"bn-invalid\"") == !data.diagnosis.valid)
    }

    @Test("the HTML report is self-contained: no external URL, no script")
    func htmlSelfContained() throws {
        for directory in [RunReportFixtures.slowModel, RunReportFixtures.nginxImage] {
            let html = RunReport.html(try RunReport.load(directory: directory))
            let external = try Regex(#"(src|href|url)\s*[=(]\s*["']?\s*(https?:)?//"#)
            #expect(html.firstMatch(of: external) == nil, "\(directory)")
            #expect(!html.contains("<script"))
            #expect(!html.contains("<link"))
        }
    }

    @Test("an invalid run gets the red banner before the verdicts, and the text and Markdown say so too")
    func invalidBanner() throws {
        let directory = try RunReportFixtures.copy(RunReportFixtures.slowModel) { step in
            let allowed = step["allowedCores"] as? Double ?? 2
            step["generatorCores"] = allowed * 0.95
        }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = try RunReport.load(directory: directory)
        #expect(!data.diagnosis.valid)
        let html = RunReport.html(data)
        let banner = try #require(html.range(of: "class=\"bn-invalid\""))
        let verdicts = try #require(html.range(of: "id=\"verdicts\""))
        #expect(banner.lowerBound < verdicts.lowerBound)
        #expect(RunReport.text(data).contains("THIS RUN IS INVALID"))
        #expect(RunReport.markdown(data).contains("THIS RUN IS INVALID"))
        // The valid fixture has no banner.
        #expect(!RunReport.html(try RunReport.load(directory: RunReportFixtures.slowModel)).contains("class=\"bn-invalid\""))
    }

    @Test("the time breakdown splits Server-Timing phases and leaves the rest outside the service")
    func breakdown() throws {
        let timed = try RunReport.load(directory: RunReportFixtures.slowModel)
        for (b, step) in zip(timed.breakdown, timed.summary.steps) {
            #expect(b.requestsWithServerTiming > 0)
            #expect(b.model > 0 && b.preprocessing > 0)
            #expect(b.unknown == 0)
            // The segments add up to the mean latency (lag + wait + service), to rounding.
            #expect(abs(b.total - step.latency.mean) < 0.05 * step.latency.mean + 0.05, "\(b.total) vs \(step.latency.mean)")
        }
        let untimed = try RunReport.load(directory: RunReportFixtures.nginxImage)
        for b in untimed.breakdown {
            #expect(b.requestsWithServerTiming == 0)
            #expect(b.unknown > 0 && b.model == 0 && b.outsideService == 0)
        }
    }

    @Test("CPU series, step markers, payload fit and per-step distributions come from the run files")
    func chartData() throws {
        let data = try RunReport.load(directory: RunReportFixtures.nginxImage)
        #expect(data.cpu.series.map(\.name).prefix(2) == ["generator", "server"])
        #expect(data.cpu.series.allSatisfy { !$0.points.isEmpty })
        #expect(data.cpu.stepStarts.map(\.name) == data.summary.steps.map(\.name))
        #expect(data.cpu.stepStarts.allSatisfy { $0.time > 0 })
        let payload = try #require(data.payload)
        #expect(payload.total == Int(data.summary.requestsRecorded))
        #expect(payload.fit != nil)
        // The fit uses the requests of the diagnosis's size fit: the first step's, as it has plenty.
        #expect(payload.requests == Int(data.summary.steps[0].latency.count))
        #expect(payload.latency.count == payload.points.count)
        // Latency counts from the intended send, service time from the actual one: never less.
        #expect(zip(payload.latency, payload.points).allSatisfy { $0.y >= $1.y - 0.001 && $0.x == $1.x })
        #expect(payload.serverTime.isEmpty, "nginx sends no Server-Timing")
        // Memory of both trees in MiB (nginx and the generator each hold a few MiB at least), host CPUs as busy percent.
        #expect(data.sampled.memory.map(\.name) == ["generator", "server"])
        #expect(data.sampled.memory.allSatisfy { $0.points.allSatisfy { $0.y > 1 && $0.y < 4096 } })
        let cpus = data.sampled.hostCPU.filter { $0.name.hasPrefix("cpu") }
        #expect(cpus.map(\.name) == ["cpu0", "cpu1"])
        #expect(cpus.allSatisfy { !$0.points.isEmpty && $0.points.allSatisfy { (0...100).contains($0.y) } })
        #expect(data.distributions.map(\.name) == data.summary.steps.map(\.name))
        for (d, step) in zip(data.distributions, data.summary.steps) {
            #expect(d.count == step.latency.count)
            // The merged hlog agrees with summary.json's p99 to HdrHistogram's precision.
            let p99 = try #require(d.keyPercentiles.first { $0.x == 99 }?.y)
            #expect(abs(p99 - step.latency.p99) <= 0.01 * step.latency.p99 + 0.01)
        }
        // One payload size: no scatter.
        let sameSize = [5.0, 6].map {
            RequestAggregates.PayloadPoint(step: 0, bytes: 1000, pixels: 0, latencyMs: $0, serviceMs: $0, serverMs: nil, preprocessMs: 0)
        }
        #expect(RunReport.payloadScatter(sameSize) == nil)
    }

    @Test("JSON carries the diagnosis and the step table")
    func json() throws {
        let data = try RunReport.load(directory: RunReportFixtures.slowModel)
        let decoded = try RunJSON.decode(RunReportJSON.self, from: try RunReport.json(data))
        #expect(decoded.schema == "bottleneck.report/v1")
        #expect(decoded.steps.count == data.summary.steps.count)
        #expect(decoded.timeBreakdown == data.breakdown)
        #expect(decoded.diagnosis.verdicts == data.diagnosis.verdicts)
    }

    @Test("a directory that is not a run is a one-line user error", arguments: ["/nonexistent/run", "/tmp"])
    func badDirectory(path: String) {
        #expect(throws: RunRecordError.self) { try RunReport.load(directory: path) }
    }

    @Test("--format accepts the four forms and names them otherwise")
    func formatParsing() throws {
        #expect(try RunReport.Format.parse("HTML") == .html)
        let error = #expect(throws: AnalysisError.self) { try RunReport.Format.parse("pdf") }
        #expect(error?.message.contains("text, markdown, json, html") == true)
    }
}
