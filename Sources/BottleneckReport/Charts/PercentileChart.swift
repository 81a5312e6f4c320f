import Foundation

/// A latency distribution in the HdrHistogram style: the x axis is 1/(1 − p) on a log
/// scale, labelled 0 %, 90 %, 99 %, 99.9 % …, so each extra "nine" gets the same width.
///
/// Averages and even p99 hide tails; this plot shows where the tail starts and how far it
/// goes, and lets several steps or runs be compared on one picture. Points are
/// (percentile in percent, latency); 100 % (the maximum) has no position on this axis and
/// is left out, as HdrHistogram's plotter does.
public struct PercentileChart: Sendable, Equatable {
    public var title: String
    public var summary: String
    /// Latency axis; `.log` helps when the tail is orders of magnitude above the median.
    public var yAxis: ChartAxis
    /// x = percentile in percent (0 ..< 100), y = value at that percentile.
    public var series: [ChartSeries]
    public var referenceLines: [ChartReferenceLine]
    public var width: Double
    public var height: Double

    public init(title: String, summary: String = "", yAxis: ChartAxis = ChartAxis(label: "Latency", unit: "ms"),
                series: [ChartSeries], referenceLines: [ChartReferenceLine] = [], width: Double = 640, height: Double = 360) {
        self.title = title
        self.summary = summary
        self.yAxis = yAxis
        self.series = series
        self.referenceLines = referenceLines
        self.width = width
        self.height = height
    }

    /// The position of percentile `p` (in percent) on the x axis: 1/(1 − p/100).
    static func position(percentile p: Double) -> Double? {
        guard p.isFinite, p >= 0, p < 100 else { return nil }
        let x = 1 / (1 - p / 100)
        return x.isFinite ? x : nil
    }

    /// "99.9%" for the position 1000.
    static func percentileLabel(position x: Double) -> String {
        let p = 100 * (1 - 1 / x)
        if p <= 0 { return "0%" }
        // Enough decimals to show every nine: 99.99 needs two.
        let nines = Swift.max(0, Int((log10(x) - 2).rounded(.up)))
        var s = String(format: "%.\(nines)f", p)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s + "%"
    }

    public func svg() -> String {
        let mapped = series.map { s in
            ChartSeries(name: s.name, points: s.points.map { p in
                ChartPoint(x: Self.position(percentile: p.x) ?? .nan, y: p.y)
            }, style: s.style)
        }
        let refs = referenceLines.map { r -> ChartReferenceLine in
            guard r.orientation == .vertical else { return r }
            var r = r
            r.value = Self.position(percentile: r.value) ?? .nan
            return r
        }
        var renderer = ChartXYRenderer(kind: "percentile-chart", title: title,
                                       description: summary.isEmpty ? "\(yAxis.title) by percentile" : summary,
                                       xAxis: ChartAxis(label: "Percentile", scale: .log, includesZero: false),
                                       yAxis: yAxis, series: mapped, references: refs, width: width, height: height)
        renderer.xTickLabel = { v, _ in Self.percentileLabel(position: v) }
        renderer.xValueLabel = { v in Self.percentileLabel(position: v) }
        return renderer.render()
    }
}
