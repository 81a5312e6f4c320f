import BottleneckCore
/// One measured point. Non-finite coordinates are allowed in the input: renderers skip them
/// (a step that failed has no p99), so callers never have to filter before charting.
public struct ChartPoint: Sendable, Equatable, Codable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// Line dash patterns, so series stay distinguishable when printed in grey or seen
/// by a reader who cannot tell the palette colours apart.
public enum ChartDash: String, Sendable, Equatable, CaseIterable {
    case solid, dashed, dotted, dashDot, longDash

    /// The SVG `stroke-dasharray` value, nil for a solid line.
    var dashArray: String? {
        switch self {
        case .solid: return nil
        case .dashed: return "6 4"
        case .dotted: return "1.5 3"
        case .dashDot: return "8 3 1.5 3"
        case .longDash: return "12 4"
        }
    }
}

/// Point marker shapes: the third cue after colour and dash for telling series apart.
public enum ChartMarker: String, Sendable, Equatable, CaseIterable {
    case circle, square, triangle, diamond, cross
    /// No visible marker; points still get an invisible hover target carrying the tooltip.
    case none
}

/// How one series is drawn. Every field left nil is chosen from the series' position, so
/// series 0, 1, 2 … differ in colour, dash and marker together without any configuration.
public struct ChartSeriesStyle: Sendable, Equatable {
    /// Index into the Okabe–Ito palette (`ChartStyle.palette`), wrapped around.
    public var colorSlot: Int?
    public var dash: ChartDash?
    public var marker: ChartMarker?

    public init(colorSlot: Int? = nil, dash: ChartDash? = nil, marker: ChartMarker? = nil) {
        self.colorSlot = colorSlot
        self.dash = dash
        self.marker = marker
    }

    public static let automatic = ChartSeriesStyle()
}

/// A named sequence of points. The name becomes the legend entry and the
/// `data-series` attribute that browser tests and readers of the DOM rely on.
public struct ChartSeries: Sendable, Equatable {
    public var name: String
    public var points: [ChartPoint]
    public var style: ChartSeriesStyle

    public init(name: String, points: [ChartPoint], style: ChartSeriesStyle = .automatic) {
        self.name = name
        self.points = points
        self.style = style
    }

    public init(name: String, points: [(x: Double, y: Double)], style: ChartSeriesStyle = .automatic) {
        self.init(name: name, points: points.map { ChartPoint(x: $0.x, y: $0.y) }, style: style)
    }
}

/// A straight line drawn across the plot to compare the data with: an SLO, the knee of a
/// latency curve, or the y = x line an achieved rate should follow.
public struct ChartReferenceLine: Sendable, Equatable {
    public enum Orientation: String, Sendable, Equatable {
        /// y = value across the whole plot (an SLO).
        case horizontal
        /// x = value across the whole plot (a knee, a step boundary).
        case vertical
        /// y = x; `value` is ignored. Achieved rate should lie on it until the service saturates.
        case identity
    }

    public var orientation: Orientation
    public var value: Double
    public var label: String

    public init(orientation: Orientation, value: Double, label: String) {
        self.orientation = orientation
        self.value = value
        self.label = label
    }

    public static func horizontal(at value: Double, label: String) -> ChartReferenceLine {
        ChartReferenceLine(orientation: .horizontal, value: value, label: label)
    }

    public static func vertical(at value: Double, label: String) -> ChartReferenceLine {
        ChartReferenceLine(orientation: .vertical, value: value, label: label)
    }

    public static func identity(label: String = "y = x") -> ChartReferenceLine {
        ChartReferenceLine(orientation: .identity, value: 0, label: label)
    }
}

extension LinearFit {
    /// The least-squares line through chart points.
    public static func leastSquares(_ points: [ChartPoint]) -> LinearFit? {
        leastSquares(points.map { (x: $0.x, y: $0.y) })
    }
}
