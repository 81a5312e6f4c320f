@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Foundation
import Testing

/// Writes /tmp/charts-demo.html with one chart of each kind, to look at in a browser
/// (light, dark, print preview). Off by default: set BOTTLENECK_CHARTS_DEMO=1.
@Suite("Charts demo page")
struct ChartsDemoTests {
    static let enabled = ProcessInfo.processInfo.environment["BOTTLENECK_CHARTS_DEMO"] != nil

    static func charts() -> [String] {
        let rates: [Double] = [50, 100, 150, 200, 250, 300, 350, 400, 450, 500]
        func latency(_ base: Double, _ rate: Double) -> Double { base / (1 - min(rate, 470) / 500) }
        let latencyChart = LineChart(
            title: "Latency percentiles vs offered load",
            summary: "p99 stays under the 200 ms SLO up to about 400 req/s; the knee is at 350 req/s.",
            xAxis: ChartAxis(label: "Offered load", unit: "req/s"), yAxis: ChartAxis(label: "Latency", unit: "ms"),
            series: [
                ChartSeries(name: "p50", points: rates.map { ChartPoint(x: $0, y: latency(12, $0)) }),
                ChartSeries(name: "p90", points: rates.map { ChartPoint(x: $0, y: latency(20, $0)) }),
                ChartSeries(name: "p99", points: rates.map { ChartPoint(x: $0, y: latency(31, $0)) }),
                ChartSeries(name: "max", points: rates.map { ChartPoint(x: $0, y: $0 == 300 ? .nan : latency(44, $0)) }),
            ],
            referenceLines: [.horizontal(at: 200, label: "SLO p99 200 ms"), .vertical(at: 350, label: "knee 350 req/s")])
        let achieved = LineChart(
            title: "Achieved vs offered rate",
            xAxis: ChartAxis(label: "Offered", unit: "req/s"), yAxis: ChartAxis(label: "Achieved", unit: "req/s"),
            series: [ChartSeries(name: "achieved", points: rates.map { ChartPoint(x: $0, y: min($0, 380 + ($0 - 380) * 0.1)) })],
            referenceLines: [.identity(label: "achieved = offered")], width: 480, height: 320)
        let parts = ["generator", "network", "proxy", "server queue", "preprocessing", "model", "postprocessing", "unknown"]
        let values: [[Double]] = [
            [0.3, 0.3, 0.4, 2.5], [0.8, 0.9, 1.0, 1.4], [0.5, 0.6, 0.9, 3.0], [0.2, 1.5, 12, 85],
            [6, 6.2, 6.8, 9], [22, 22.5, 24, 31], [1.1, 1.1, 1.2, 1.6], [0.4, 0.5, -0.2, 4],
        ]
        let bars = StackedBarChart(
            title: "Where the time goes (p50 per step)", categoryLabel: "Step",
            categories: ["100 req/s", "200 req/s", "300 req/s", "400 req/s"],
            segments: zip(parts, values).map { name, v in
                StackedBarChart.Segment(name: name, values: v, style: name == "unknown" ? ChartSeriesStyle(colorSlot: 8) : .automatic)
            },
            yAxis: ChartAxis(label: "Time", unit: "ms"), height: 380)
        let cpuPoints: (Double, Double) -> [ChartPoint] = { base, slope in
            (0..<240).map { i in
                let t = Double(i) / 4
                let step = (t / 15).rounded(.down)
                return ChartPoint(x: t, y: base + slope * step + 0.05 * sin(Double(i) * 1.7))
            }
        }
        let cpu = TimeSeriesChart(
            title: "CPU per process", yAxis: ChartAxis(label: "CPU", unit: "cores"),
            series: [ChartSeries(name: "uvicorn workers", points: cpuPoints(0.4, 0.45)),
                     ChartSeries(name: "nginx", points: cpuPoints(0.05, 0.04)),
                     ChartSeries(name: "bottleneck (client)", points: cpuPoints(0.1, 0.08))],
            markers: [.init(time: 15, label: "200 req/s"), .init(time: 30, label: "300 req/s"), .init(time: 45, label: "400 req/s")],
            referenceLines: [.horizontal(at: 2, label: "2 cores allowed")])
        var sizes: [ChartPoint] = []
        for i in 0..<60 {
            let kb = Double(20 + (i * 37) % 480)
            sizes.append(ChartPoint(x: kb, y: 8 + 0.06 * kb + Double((i * 13) % 7) - 3))
        }
        let scatter = ScatterChart(
            title: "Latency vs payload size", xAxis: ChartAxis(label: "Payload", unit: "KiB"),
            yAxis: ChartAxis(label: "Latency", unit: "ms"), series: [ChartSeries(name: "JPEG requests", points: sizes)],
            fit: LinearFit.leastSquares(sizes))
        let pcts: [Double] = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100]
        func dist(_ scale: Double) -> [ChartPoint] {
            pcts.map { p in ChartPoint(x: p, y: scale * (8 + 2 * log10(1 / (1 - min(p, 99.999) / 100)) * (1 + p / 40))) }
        }
        let percentiles = PercentileChart(
            title: "Latency by percentile", yAxis: ChartAxis(label: "Latency", unit: "ms", scale: .log),
            series: [ChartSeries(name: "100 req/s", points: dist(1)), ChartSeries(name: "300 req/s", points: dist(2.2)),
                     ChartSeries(name: "400 req/s", points: dist(6))],
            referenceLines: [.horizontal(at: 200, label: "SLO 200 ms")])
        let empty = LineChart(title: "Memory (no samples)", xAxis: ChartAxis(label: "Time", unit: "s"),
                              yAxis: ChartAxis(label: "RSS", unit: "MiB"), series: [ChartSeries(name: "uvicorn", points: [ChartPoint]())],
                              width: 480, height: 220)
        return [latencyChart.svg(), achieved.svg(), bars.svg(), cpu.svg(), scatter.svg(), percentiles.svg(), empty.svg()]
    }

    @Test(.enabled(if: enabled, "set BOTTLENECK_CHARTS_DEMO=1 to write /tmp/charts-demo.html"))
    func writeDemoPage() throws {
        let charts = Self.charts()
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>bottleneck charts demo</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 24px; max-width: 1360px; }
            .grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 24px; }
            \(ChartStyle.css)
            </style></head><body>
            <h1>bottleneck charts</h1>
            <div class="grid">
            \(charts.map { "<figure>\($0)</figure>" }.joined(separator: "\n"))
            </div></body></html>
            """
        try html.write(toFile: "/tmp/charts-demo.html", atomically: true, encoding: .utf8)
        for svg in charts {
            #expect(ChartSVGCheck.parseError(svg) == nil)
            #expect(!ChartSVGCheck.hasBadNumbers(svg))
        }
    }
}
