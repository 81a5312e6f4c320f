import Foundation

/// One bar per category (usually per load step), split into stacked segments, e.g. where the
/// time of a request goes: generator, network, proxy, server queue, preprocessing, model,
/// postprocessing, unknown.
///
/// Stacking shows both the total and which part grew as load rose, which is the question
/// "where does the time go?" asks. Values that are not finite or not positive are left out
/// of the stack (an attribution can come out slightly negative from clock noise; drawing it
/// would push other segments around), and the tooltip of the bar total says how many.
public struct StackedBarChart: Sendable, Equatable {
    /// One layer of every bar, e.g. "model". `values[i]` belongs to `categories[i]`.
    public struct Segment: Sendable, Equatable {
        public var name: String
        public var values: [Double]
        public var style: ChartSeriesStyle

        public init(name: String, values: [Double], style: ChartSeriesStyle = .automatic) {
            self.name = name
            self.values = values
            self.style = style
        }
    }

    public var title: String
    public var summary: String
    /// Label of the category axis, e.g. "Offered load".
    public var categoryLabel: String
    public var categories: [String]
    public var segments: [Segment]
    public var yAxis: ChartAxis
    public var referenceLines: [ChartReferenceLine]
    public var width: Double
    public var height: Double

    public init(title: String, summary: String = "", categoryLabel: String, categories: [String], segments: [Segment],
                yAxis: ChartAxis, referenceLines: [ChartReferenceLine] = [], width: Double = 640, height: Double = 360) {
        self.title = title
        self.summary = summary
        self.categoryLabel = categoryLabel
        self.categories = categories
        self.segments = segments
        self.yAxis = yAxis
        self.referenceLines = referenceLines
        self.width = width
        self.height = height
    }

    private func usable(_ segment: Segment, _ index: Int) -> Double? {
        guard index < segment.values.count else { return nil }
        let v = segment.values[index]
        return v.isFinite && v > 0 ? v : nil
    }

    public func svg() -> String {
        let width = Swift.max(width, 160), height = Swift.max(height, 120)
        let c = ChartText.coordinate
        var svg = ChartSVGBuilder()
        ChartFrame.openSVG(&svg, kind: "stacked-bar-chart", title: title,
                           description: summary.isEmpty ? "\(yAxis.title) per \(categoryLabel), stacked by part" : summary,
                           width: width, height: height)
        let styles = segments.enumerated().map { ChartResolvedStyle($1.style, index: $0) }
        let legend = ChartLegend(entries: zip(segments, styles).map {
            ChartLegend.Entry(name: $0.name, style: $1, line: false, swatch: true)
        }, width: width)

        let totals = categories.indices.map { i in segments.reduce(0) { $0 + (usable($1, i) ?? 0) } }
        var yValues = totals.filter { $0 > 0 }
        yValues += referenceLines.filter { $0.orientation == .horizontal && $0.value.isFinite }.map(\.value)
        let top = 40.0
        let bottomFixed = 46.0 + legend.height
        guard !categories.isEmpty, totals.contains(where: { $0 > 0 }),
              let yTicks = ChartScaleMap.ticks(for: yValues + [0], scale: .linear, includesZero: true,
                                               maxTicks: Swift.max(3, Swift.min(9, Int((height - top - bottomFixed) / 45))))
        else {
            ChartFrame.noData(&svg, names: segments.map(\.name), width: width, height: height, legend: legend)
            return svg.markup
        }
        let yStep = yTicks.major[1] - yTicks.major[0]
        let yLabels = yTicks.major.map { ChartText.tick($0, step: yStep) }
        let left = 30 + (yLabels.map { ChartText.estimatedWidth($0) }.max() ?? 20)
        let right = 24.0
        let bottom = height - bottomFixed
        let yMap = ChartScaleMap(scale: .linear, domainMin: yTicks.major.first!, domainMax: yTicks.major.last!,
                                 pixelStart: bottom, pixelEnd: top)
        let band = (width - right - left) / Double(categories.count)
        let barWidth = Swift.min(band * 0.62, 64)
        // Categories are placed by index; the x map exists so reference lines can share code.
        let xMap = ChartScaleMap(scale: .linear, domainMin: 0, domainMax: Double(categories.count),
                                 pixelStart: left, pixelEnd: width - right)
        ChartFrame.axes(&svg, xMap: xMap, yMap: yMap, xTicks: ([], []), yTicks: yTicks, xLabel: { _ in "" },
                        yLabels: yLabels, xAxis: ChartAxis(label: categoryLabel), yAxis: yAxis,
                        width: width, bottomFixed: bottomFixed)
        let maxLabelChars = Swift.max(3, Int(band / 6.6))
        for (i, name) in categories.enumerated() {
            // Long names are shortened to fit the band; the tooltip keeps the full name.
            let label = name.count > maxLabelChars ? String(name.prefix(maxLabelChars - 1)) + "…" : name
            svg.text("text", [("class", "bn-tick"), ("x", c(left + band * (Double(i) + 0.5))), ("y", c(bottom + 16)),
                              ("text-anchor", "middle")], label, tooltip: label == name ? nil : name)
        }

        for ref in referenceLines where ref.orientation == .horizontal {
            ChartFrame.reference(&svg, ref, xMap: xMap, yMap: yMap, xValueLabel: nil)
        }
        let unit = yAxis.unit.map { $0 == "%" ? "%" : " \($0)" } ?? ""
        for (s, segment) in segments.enumerated() {
            let style = styles[s]
            let drawn = categories.indices.filter { usable(segment, $0) != nil }.count
            svg.open("g", [("class", "series \(style.colorClass)"), ("data-series", segment.name),
                           ("data-points", String(drawn)), ("data-empty", drawn == 0 ? "true" : nil)])
            for i in categories.indices {
                guard let value = usable(segment, i) else { continue }
                let below = segments[..<s].reduce(0) { $0 + (usable($1, i) ?? 0) }
                let y0 = yMap.pixel(below), y1 = yMap.pixel(below + value)
                let x = left + band * (Double(i) + 0.5) - barWidth / 2
                let share = totals[i] > 0 ? value / totals[i] * 100 : 0
                let tip = "\(categories[i]) — \(segment.name): \(ChartText.value(value))\(unit) (\(String(format: "%.0f", share))%)"
                svg.withTooltip("rect", [("class", "bn-bar"), ("x", c(x)), ("y", c(y1)), ("width", c(barWidth)),
                                         ("height", c(Swift.max(0, y0 - y1))), ("fill", style.hex)], tooltip: tip)
            }
            svg.close("g")
        }
        svg.open("g", [("class", "bn-totals")])
        for i in categories.indices where totals[i] > 0 {
            let skipped = segments.filter { i < $0.values.count && usable($0, i) == nil && $0.values[i] != 0 }.count
            let tip = "\(categories[i]) total: \(ChartText.value(totals[i]))\(unit)"
                + (skipped > 0 ? " (\(skipped) missing or negative part(s) not drawn)" : "")
            svg.text("text", [("class", "bn-tick"), ("x", c(left + band * (Double(i) + 0.5))),
                              ("y", c(yMap.pixel(totals[i]) - 4)), ("text-anchor", "middle")],
                     ChartText.value(totals[i]), tooltip: tip)
        }
        svg.close("g")
        legend.draw(&svg, top: height - legend.height - 4)
        svg.close("svg")
        return svg.markup
    }
}
