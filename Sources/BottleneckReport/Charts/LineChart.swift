/// Several series against a shared x axis, with optional reference lines.
///
/// The report's main picture: p50/p90/p99/max latency against offered load, with the SLO
/// as a horizontal line and the knee as a vertical one, so a reader sees at once where the
/// service stops meeting its objective. Also achieved against offered rate with a y = x
/// reference: the gap between the line and the diagonal is the load the service dropped.
public struct LineChart: Sendable, Equatable {
    public var title: String
    /// Read by screen readers (`<desc>`); say what the reader should conclude.
    public var summary: String
    public var xAxis: ChartAxis
    public var yAxis: ChartAxis
    public var series: [ChartSeries]
    public var referenceLines: [ChartReferenceLine]
    public var width: Double
    public var height: Double

    public init(title: String, summary: String = "", xAxis: ChartAxis, yAxis: ChartAxis, series: [ChartSeries],
                referenceLines: [ChartReferenceLine] = [], width: Double = 640, height: Double = 360) {
        self.title = title
        self.summary = summary
        self.xAxis = xAxis
        self.yAxis = yAxis
        self.series = series
        self.referenceLines = referenceLines
        self.width = width
        self.height = height
    }

    /// The chart as one `<svg>` element, ready to inline in HTML next to `ChartStyle.css`.
    public func svg() -> String {
        ChartXYRenderer(kind: "line-chart", title: title,
                        description: summary.isEmpty ? "\(yAxis.title) against \(xAxis.title)" : summary,
                        xAxis: xAxis, yAxis: yAxis, series: series, references: referenceLines,
                        width: width, height: height).render()
    }
}
