/// Points without connecting lines, optionally with a fitted straight line, e.g. latency
/// against payload size: the slope is the cost per byte, the intercept the fixed cost.
import BottleneckCore

public struct ScatterChart: Sendable, Equatable {
    public var title: String
    public var summary: String
    public var xAxis: ChartAxis
    public var yAxis: ChartAxis
    public var series: [ChartSeries]
    /// Drawn across the x range of the data; `LinearFit.leastSquares` computes one.
    public var fit: LinearFit?
    public var referenceLines: [ChartReferenceLine]
    public var width: Double
    public var height: Double

    public init(title: String, summary: String = "", xAxis: ChartAxis, yAxis: ChartAxis, series: [ChartSeries],
                fit: LinearFit? = nil, referenceLines: [ChartReferenceLine] = [], width: Double = 640, height: Double = 360) {
        self.title = title
        self.summary = summary
        self.xAxis = xAxis
        self.yAxis = yAxis
        self.series = series
        self.fit = fit
        self.referenceLines = referenceLines
        self.width = width
        self.height = height
    }

    public func svg() -> String {
        var renderer = ChartXYRenderer(kind: "scatter-chart", title: title,
                                       description: summary.isEmpty ? "\(yAxis.title) against \(xAxis.title)" : summary,
                                       xAxis: xAxis, yAxis: yAxis, series: series, references: referenceLines,
                                       width: width, height: height)
        renderer.connectPoints = false
        renderer.fit = fit
        renderer.maxPointTooltips = 5_000
        if let fit {
            renderer.fitLabel = "Least-squares fit (r² = \(ChartText.value((fit.r2 * 1000).rounded() / 1000)))"
        }
        return renderer.render()
    }
}
