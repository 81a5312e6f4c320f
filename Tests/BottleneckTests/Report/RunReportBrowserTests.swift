@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Foundation
import Testing

/// Renders the HTML report in headless Chromium: the file must open offline and every
/// chart must reach the DOM with its series. The screenshot is kept for people to look at.
@Suite("Run report in a browser")
struct RunReportBrowserTests {
    static let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    static let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("test-artifacts")

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String) {
        let result = try TestChildProcess.run(try #require(chromium), ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                                                       "--no-first-run", "--disable-extensions"] + arguments)
        return (result.status, result.output)
    }

    @Test(.enabled(if: chromium != nil || TestRequirements.enforced, "chromium is not installed (Debian package chromium); the HTML report is not rendered"),
          .timeLimit(.minutes(2)))
    func rendersEveryChart() throws {
        try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
        let data = try RunReport.load(directory: RunReportFixtures.nginxImage)
        let page = Self.artifacts.appendingPathComponent("report-nginx-image.html")
        try RunReport.html(data).write(to: page, atomically: true, encoding: .utf8)

        let dom = try Self.run(["--dump-dom", page.absoluteString])
        #expect(dom.status == 0)
        // The verdicts come first in the rendered page: before the charts, after the invalid-run banner.
        let verdicts = try #require(dom.stdout.range(of: "id=\"verdicts\""), "no verdict block in the DOM")
        let charts = try #require(dom.stdout.range(of: "id=\"charts\""), "no chart section in the DOM")
        #expect(verdicts.lowerBound < charts.lowerBound)
        #expect(dom.stdout.range(of: "<svg")!.lowerBound > verdicts.lowerBound)
        if let banner = dom.stdout.range(of: "class=\"bn-invalid\"") { #expect(banner.lowerBound < verdicts.lowerBound) }
        let figures = ["chart-latency", "chart-achieved", "chart-breakdown", "chart-cpu", "chart-memory", "chart-host-cpu",
                       "chart-payload", "chart-distribution"]
        for id in figures {
            // The figure made it into the parsed DOM with an svg whose series hold points.
            let start = try #require(dom.stdout.range(of: "<figure id=\"\(id)\">"), "\(id) is not in the DOM")
            let end = try #require(dom.stdout.range(of: "</figure>", range: start.upperBound..<dom.stdout.endIndex))
            let figure = dom.stdout[start.upperBound..<end.lowerBound]
            #expect(figure.contains("<svg"), "\(id) has no svg")
            #expect(figure.contains("data-series="), "\(id) has no series")
            #expect(!figure.contains("data-empty=\"true\""), "\(id) has an empty series")
        }

        let screenshot = Self.artifacts.appendingPathComponent("report-nginx-image.png")
        try? FileManager.default.removeItem(at: screenshot)
        let shot = try Self.run(["--screenshot=\(screenshot.path)", "--window-size=1200,3000", "--hide-scrollbars", page.absoluteString])
        #expect(shot.status == 0)
        let size = try FileManager.default.attributesOfItem(atPath: screenshot.path)[.size] as? Int ?? 0
        #expect(size > 50_000, "the screenshot is suspiciously small (\(size) bytes): a blank page?")
    }
}
