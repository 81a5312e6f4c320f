/// Measurements over wall-clock time with the load steps marked, e.g. CPU per process or
/// memory during a ramp, so a jump can be matched to the step that caused it.
public struct TimeSeriesChart: Sendable, Equatable {
    /// A vertical marker at a moment in the run, usually a step boundary ("step 3: 400 req/s").
    public struct Marker: Sendable, Equatable {
        public var time: Double
        public var label: String

        public init(time: Double, label: String) {
            self.time = time
            self.label = label
        }
    }

    public var title: String
    public var summary: String
    /// Usually "Time since start" in s.
    public var xAxis: ChartAxis
    public var yAxis: ChartAxis
    public var series: [ChartSeries]
    public var markers: [Marker]
    public var referenceLines: [ChartReferenceLine]
    public var width: Double
    public var height: Double

    public init(title: String, summary: String = "", xAxis: ChartAxis = ChartAxis(label: "Time since start", unit: "s"),
                yAxis: ChartAxis, series: [ChartSeries], markers: [Marker] = [],
                referenceLines: [ChartReferenceLine] = [], width: Double = 640, height: Double = 320) {
        self.title = title
        self.summary = summary
        self.xAxis = xAxis
        self.yAxis = yAxis
        self.series = series
        self.markers = markers
        self.referenceLines = referenceLines
        self.width = width
        self.height = height
    }

    public func svg() -> String {
        // Samples are dense (4 per second): no visible markers, but each keeps a hover tooltip.
        let plain = series.map { s in
            var s = s
            if s.style.marker == nil { s.style.marker = ChartMarker.none }
            return s
        }
        var renderer = ChartXYRenderer(kind: "time-series-chart", title: title,
                                       description: summary.isEmpty ? "\(yAxis.title) over \(xAxis.title)" : summary,
                                       xAxis: xAxis, yAxis: yAxis, series: plain, references: referenceLines,
                                       width: width, height: height)
        renderer.markers = markers.map { ChartXYRenderer.Marker(x: $0.time, label: $0.label) }
        return renderer.render()
    }
}
