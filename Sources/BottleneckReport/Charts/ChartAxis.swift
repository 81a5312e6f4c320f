/// How an axis maps values to positions.
///
/// Latency and rates often span decades (1 ms next to 4 s, 10 req/s next to 5 000), where a
/// linear axis squeezes everything interesting into one corner; `.log` keeps each decade the
/// same width. A log axis silently drops values ≤ 0, since they have no position on it.
public enum ChartScale: String, Sendable, Codable, Equatable {
    case linear
    case log
}

/// One axis of a chart: what is measured, in which unit, on which scale.
///
/// The unit is separate from the label so every chart prints it the same way
/// ("Offered load (req/s)"); a reader should never have to guess whether a number is ms or s.
public struct ChartAxis: Sendable, Equatable {
    public var label: String
    public var unit: String?
    public var scale: ChartScale
    /// Whether a linear axis must reach zero. Latency and throughput read honestly only
    /// from zero (a bar twice as tall is twice as slow); turn it off for values like
    /// memory that sit far from zero and would become a flat line.
    public var includesZero: Bool

    public init(label: String, unit: String? = nil, scale: ChartScale = .linear, includesZero: Bool = true) {
        self.label = label
        self.unit = unit
        self.scale = scale
        self.includesZero = includesZero
    }

    /// "Label (unit)", or the label alone when there is no unit.
    public var title: String {
        guard let unit, !unit.isEmpty else { return label }
        return "\(label) (\(unit))"
    }
}
