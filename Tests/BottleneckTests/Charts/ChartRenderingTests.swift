@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Foundation
import Testing

@Suite("Chart rendering")
struct ChartRenderingTests {
    static let load = ChartAxis(label: "Offered load", unit: "req/s")
    static let latency = ChartAxis(label: "Latency", unit: "ms")

    static func latencyChart(series: [ChartSeries]) -> LineChart {
        LineChart(title: "Latency vs load", xAxis: load, yAxis: latency, series: series,
                  referenceLines: [.horizontal(at: 200, label: "SLO p99 200 ms"), .vertical(at: 400, label: "knee")])
    }

    /// One of every chart kind, with ordinary data.
    static var everyKind: [(String, String)] {
        let rates = [50.0, 100, 200, 300, 400, 500]
        let line = latencyChart(series: [
            ChartSeries(name: "p50", points: rates.map { r in ChartPoint(x: r, y: 8 + r / 50) }),
            ChartSeries(name: "p99", points: rates.map { r in ChartPoint(x: r, y: 20 + pow(r / 100, 3)) }),
        ])
        let bars = StackedBarChart(title: "Where the time goes", categoryLabel: "Step", categories: ["100 rps", "200 rps"],
                                   segments: [.init(name: "network", values: [1, 1.2]), .init(name: "model", values: [40, 55])],
                                   yAxis: latency)
        let cpu: [ChartPoint] = (0..<40).map { i in ChartPoint(x: Double(i) / 4, y: 0.5 + Double(i % 7) / 10) }
        let time = TimeSeriesChart(title: "CPU", yAxis: ChartAxis(label: "CPU", unit: "cores"),
                                   series: [ChartSeries(name: "uvicorn", points: cpu)],
                                   markers: [.init(time: 5, label: "step 2")])
        let scatterPoints: [ChartPoint] = (1...20).map { i in ChartPoint(x: Double(i) * 10_000, y: 5 + Double(i) * 0.8) }
        let scatter = ScatterChart(title: "Latency vs size", xAxis: ChartAxis(label: "Payload", unit: "bytes"), yAxis: latency,
                                   series: [ChartSeries(name: "requests", points: scatterPoints)],
                                   fit: LinearFit.leastSquares(scatterPoints))
        let percentiles = PercentileChart(title: "Distribution", series: [
            ChartSeries(name: "200 rps", points: [(x: 0, y: 5), (x: 50, y: 9), (x: 90, y: 14), (x: 99, y: 30), (x: 99.9, y: 80), (x: 100, y: 120)]),
        ])
        return [("line", line.svg()), ("bars", bars.svg()), ("time", time.svg()), ("scatter", scatter.svg()),
                ("percentile", percentiles.svg())]
    }

    @Test func everyChartIsWellFormedAccessibleAndCarriesItsSeries() {
        let expected = ["line": ["p50", "p99"], "bars": ["network", "model"], "time": ["uvicorn"],
                        "scatter": ["requests"], "percentile": ["200 rps"]]
        for (kind, svg) in Self.everyKind {
            #expect(ChartSVGCheck.parseError(svg) == nil, "\(kind): \(ChartSVGCheck.parseError(svg) ?? "")")
            #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""), "\(kind)")
            #expect(svg.contains("viewBox=\"0 0 "), "\(kind)")
            #expect(svg.contains("role=\"img\""), "\(kind)")
            #expect(svg.contains("<title>") && svg.contains("<desc>"), "\(kind)")
            #expect(ChartSVGCheck.seriesNames(svg) == expected[kind]!, "\(kind)")
            for name in expected[kind]! {
                let paths = ChartSVGCheck.pathData(svg, series: name)
                #expect(!paths.isEmpty && paths.allSatisfy { !$0.isEmpty }, "\(kind)/\(name)")
            }
            #expect(!ChartSVGCheck.hasBadNumbers(svg), "\(kind)")
            // Colours come from classes with an attribute fallback, never a hard-coded black stroke.
            #expect(!svg.contains("stroke=\"#000\"") && !svg.contains("stroke=\"black\""), "\(kind)")
        }
    }

    @Test func lineChartDrawsSLOAndKneeAndUnitsInAxisTitles() {
        let svg = Self.latencyChart(series: [ChartSeries(name: "p99", points: [(x: 100, y: 20), (x: 500, y: 900)])]).svg()
        #expect(svg.contains("bn-ref-slo"))
        #expect(ChartSVGCheck.attributeValues("data-reference", in: svg) == ["horizontal", "vertical"])
        #expect(svg.contains(">Offered load (req/s)<") && svg.contains(">Latency (ms)<"))
        #expect(ChartSVGCheck.titles(svg).contains("p99 — Offered load 500 req/s: 900 ms"))
    }

    @Test func identityReferenceIsDrawnForAchievedVsOffered() {
        let chart = LineChart(title: "Achieved vs offered", xAxis: Self.load, yAxis: ChartAxis(label: "Achieved", unit: "req/s"),
                              series: [ChartSeries(name: "achieved", points: [(x: 100, y: 100), (x: 200, y: 198), (x: 400, y: 260)])],
                              referenceLines: [.identity()])
        let svg = chart.svg()
        #expect(ChartSVGCheck.attributeValues("data-reference", in: svg) == ["identity"])
        #expect(ChartSVGCheck.parseError(svg) == nil)
    }

    @Test func emptyChartsSayNoDataAndStayWellFormed() {
        let charts: [String] = [
            Self.latencyChart(series: []).svg(),
            Self.latencyChart(series: [ChartSeries(name: "p99", points: [ChartPoint]())]).svg(),
            Self.latencyChart(series: [ChartSeries(name: "p99", points: [(x: Double.nan, y: 1), (x: 1, y: .infinity)])]).svg(),
            StackedBarChart(title: "t", categoryLabel: "Step", categories: [], segments: [], yAxis: Self.latency).svg(),
            StackedBarChart(title: "t", categoryLabel: "Step", categories: ["a"], segments: [.init(name: "model", values: [.nan])],
                            yAxis: Self.latency).svg(),
            PercentileChart(title: "t", series: [ChartSeries(name: "only max", points: [(x: 100, y: 3)])]).svg(),
            ScatterChart(title: "t", xAxis: Self.load, yAxis: ChartAxis(label: "y", scale: .log),
                         series: [ChartSeries(name: "s", points: [(x: 1, y: 0), (x: 2, y: -1)])]).svg(),
        ]
        for svg in charts {
            #expect(svg.contains(">No data<"), "\(svg.prefix(200))")
            #expect(ChartSVGCheck.parseError(svg) == nil)
            #expect(!ChartSVGCheck.hasBadNumbers(svg))
        }
        // The series still has its (empty) group so a DOM check can tell "no data" from "missing".
        #expect(ChartSVGCheck.seriesNames(charts[1]) == ["p99"])
        #expect(charts[1].contains("data-empty=\"true\""))
    }

    @Test func singlePointSeriesGetsAVisibleMarkerAndSaneAxes() {
        for svg in [Self.latencyChart(series: [ChartSeries(name: "p99", points: [(x: 190, y: 12)])]).svg(),
                    TimeSeriesChart(title: "rss", yAxis: ChartAxis(label: "RSS", unit: "MiB", includesZero: false),
                                    series: [ChartSeries(name: "python", points: [(x: 3, y: 512)])]).svg()] {
            #expect(!svg.contains(">No data<"))
            #expect(ChartSVGCheck.parseError(svg) == nil)
            let series = ChartSVGCheck.seriesNames(svg)[0]
            let paths = ChartSVGCheck.pathData(svg, series: series)
            #expect(paths.count == 1 && paths[0].hasPrefix("M"), "\(paths)")
            #expect(!ChartSVGCheck.hasBadNumbers(svg))
        }
    }

    @Test func nonFiniteValuesAreSkippedAndTheRestIsDrawn() {
        let series = ChartSeries(name: "p99", points: [(x: 100, y: 10), (x: 200, y: .nan), (x: .infinity, y: 5),
                                                       (x: 300, y: 30), (x: 400, y: -.infinity), (x: 500, y: 50)])
        let svg = LineChart(title: "t", xAxis: Self.load, yAxis: Self.latency, series: [series]).svg()
        #expect(!ChartSVGCheck.hasBadNumbers(svg))
        #expect(ChartSVGCheck.parseError(svg) == nil)
        #expect(ChartSVGCheck.attributeValues("data-points", in: svg) == ["3"])
        let tips = ChartSVGCheck.titles(svg)
        for (x, y) in [("100", "10"), ("300", "30"), ("500", "50")] {
            #expect(tips.contains("p99 — Offered load \(x) req/s: \(y) ms"), "\(tips)")
        }
        // The gaps break the line: only 1-point runs remain here, so they are drawn as markers.
        let bars = StackedBarChart(title: "t", categoryLabel: "Step", categories: ["a", "b"],
                                   segments: [.init(name: "model", values: [10, .nan]), .init(name: "network", values: [.infinity, 2])],
                                   yAxis: Self.latency).svg()
        #expect(!ChartSVGCheck.hasBadNumbers(bars))
        #expect(ChartSVGCheck.attributeValues("data-points", in: bars) == ["1", "1"])
    }

    @Test func textIsEscaped() {
        let nasty = "p99 <fast> & \"quoted\" 'single'\u{1}"
        let chart = LineChart(title: "A < B & \"C\"", summary: "x > y", xAxis: ChartAxis(label: "rate <&>", unit: "\"u\""),
                              yAxis: Self.latency, series: [ChartSeries(name: nasty, points: [(x: 1, y: 2), (x: 2, y: 3)])],
                              referenceLines: [.horizontal(at: 2.5, label: "SLO <&>")])
        let svg = chart.svg()
        #expect(ChartSVGCheck.parseError(svg) == nil, "\(ChartSVGCheck.parseError(svg) ?? "")")
        #expect(svg.contains("A &lt; B &amp; &quot;C&quot;"))
        #expect(ChartSVGCheck.seriesNames(svg) == ["p99 <fast> & \"quoted\" 'single'"])
        #expect(ChartSVGCheck.titles(svg).first == "A < B & \"C\"")
        #expect(!svg.contains("<fast>"))
    }

    @Test func logAxesDropNonPositiveValuesAndDrawMinorGrid() {
        let chart = LineChart(title: "log", xAxis: ChartAxis(label: "Concurrency", scale: .log),
                              yAxis: ChartAxis(label: "Latency", unit: "ms", scale: .log),
                              series: [ChartSeries(name: "p99", points: [(x: 0, y: 5), (x: 1, y: 5), (x: 10, y: 50), (x: 100, y: -3), (x: 1_000, y: 4_000)])])
        let svg = chart.svg()
        #expect(ChartSVGCheck.parseError(svg) == nil)
        #expect(ChartSVGCheck.attributeValues("data-points", in: svg) == ["3"])
        #expect(svg.contains("bn-grid-minor"))
        #expect(svg.contains(">1k<") && svg.contains(">10k<"))
    }

    @Test func percentileAxisIsLabelledInNines() {
        let svg = PercentileChart(title: "dist", series: [
            ChartSeries(name: "run", points: [(x: 0, y: 1), (x: 90, y: 2), (x: 99, y: 3), (x: 99.9, y: 4), (x: 99.99, y: 9), (x: 100, y: 12)]),
        ]).svg()
        for label in ["0%", "90%", "99%", "99.9%", "99.99%"] {
            #expect(svg.contains(">\(label)<"), "\(label)")
        }
        // 100 % (the max) has no place on a 1/(1−p) axis and is left out.
        #expect(ChartSVGCheck.attributeValues("data-points", in: svg) == ["5"])
        #expect(PercentileChart.percentileLabel(position: PercentileChart.position(percentile: 99.95)!) == "99.95%")
    }

    @Test func seriesDifferInColourDashAndMarker() {
        let styles = (0..<5).map { ChartResolvedStyle(.automatic, index: $0) }
        #expect(Set(styles.map(\.slot)).count == 5)
        #expect(Set(styles.map(\.dash)).count == 5)
        #expect(Set(styles.map(\.marker)).count == 5)
        #expect(ChartResolvedStyle(ChartSeriesStyle(colorSlot: 8), index: 0).hex == "#8C8C8C")
    }

    @Test func stylesheetFollowsColourSchemeAndPrint() {
        #expect(ChartStyle.css.contains("prefers-color-scheme: dark"))
        #expect(ChartStyle.css.contains("@media print"))
        #expect(ChartStyle.css.contains("currentColor"))
        #expect(ChartStyle.palette.count == 9)
    }
}
