import Foundation
import BottleneckCore

/// The one renderer behind line, time-series, scatter and percentile charts, so axes,
/// legends, tooltips and the handling of bad values behave identically in all of them.
struct ChartXYRenderer {
    /// A vertical line with a short label at the top, such as a step boundary.
    struct Marker {
        var x: Double
        var label: String
    }

    var kind: String
    var title: String
    var description: String
    var xAxis: ChartAxis
    var yAxis: ChartAxis
    var series: [ChartSeries]
    var references: [ChartReferenceLine] = []
    var markers: [Marker] = []
    var connectPoints = true
    var fit: LinearFit?
    var fitLabel = "Least-squares fit"
    /// Series with more valid points than this get no per-point markers or tooltips.
    var maxPointTooltips = 400
    var xTickLabel: ((Double, Double) -> String)?
    var xValueLabel: ((Double) -> String)?
    var width: Double
    var height: Double

    func render() -> String {
        let width = Swift.max(width, 160)
        let height = Swift.max(height, 120)
        // 1. Keep only placeable points; a gap in the data breaks the line there.
        let runs: [[[ChartPoint]]] = series.map { s in
            var segments: [[ChartPoint]] = [[]]
            for p in s.points {
                if p.x.isFinite, p.y.isFinite, xAxis.scale == .linear || p.x > 0, yAxis.scale == .linear || p.y > 0 {
                    segments[segments.count - 1].append(p)
                } else if !(segments.last?.isEmpty ?? true) {
                    segments.append([])
                }
            }
            return segments.filter { !$0.isEmpty }
        }
        let valid = runs.flatMap { $0.flatMap { $0 } }

        var svg = ChartSVGBuilder()
        ChartFrame.openSVG(&svg, kind: kind, title: title, description: description, width: width, height: height)
        let legend = ChartLegend(entries: series.enumerated().map { index, s in
            ChartLegend.Entry(name: s.name, style: ChartResolvedStyle(s.style, index: index), line: connectPoints)
        } + (fit != nil && !valid.isEmpty ? [ChartLegend.Entry(name: fitLabel, style: nil, line: true)] : []),
            width: width)

        var xValues = valid.map(\.x)
        var yValues = valid.map(\.y)
        for ref in references where ref.value.isFinite {
            if ref.orientation == .horizontal { yValues.append(ref.value) }
            if ref.orientation == .vertical { xValues.append(ref.value) }
        }
        xValues += markers.map(\.x)

        let top = 40.0
        let bottomFixed = 46.0 + legend.height
        guard !valid.isEmpty,
              let yTicks = ChartScaleMap.ticks(for: yValues, scale: yAxis.scale, includesZero: yAxis.includesZero,
                                               maxTicks: Swift.max(3, Swift.min(9, Int((height - top - bottomFixed) / 45))))
        else {
            ChartFrame.noData(&svg, series: series, width: width, height: height, legend: legend)
            return svg.markup
        }
        let yStep = yTicks.major.count > 1 ? yTicks.major[1] - yTicks.major[0] : 1
        let yLabels = yTicks.major.map { yAxis.scale == .log ? ChartText.logTick($0) : ChartText.tick($0, step: yStep) }
        let left = 30 + (yLabels.map { ChartText.estimatedWidth($0) }.max() ?? 20)
        let right = 24.0
        let plotWidth = width - left - right
        guard let xTicks = ChartScaleMap.ticks(for: xValues, scale: xAxis.scale, includesZero: xAxis.includesZero,
                                               maxTicks: Swift.max(3, Swift.min(11, Int(plotWidth / 70))))
        else {
            ChartFrame.noData(&svg, series: series, width: width, height: height, legend: legend)
            return svg.markup
        }
        let bottom = height - bottomFixed
        let xMap = ChartScaleMap(scale: xAxis.scale, domainMin: xTicks.major.first!, domainMax: xTicks.major.last!,
                                 pixelStart: left, pixelEnd: width - right)
        let yMap = ChartScaleMap(scale: yAxis.scale, domainMin: yTicks.major.first!, domainMax: yTicks.major.last!,
                                 pixelStart: bottom, pixelEnd: top)
        let xStep = xTicks.major.count > 1 ? xTicks.major[1] - xTicks.major[0] : 1
        let xLabel: (Double) -> String = { v in
            if let custom = xTickLabel { return custom(v, xStep) }
            return xAxis.scale == .log ? ChartText.logTick(v) : ChartText.tick(v, step: xStep)
        }
        ChartFrame.axes(&svg, xMap: xMap, yMap: yMap, xTicks: xTicks, yTicks: yTicks,
                        xLabel: xLabel, yLabels: yLabels, xAxis: xAxis, yAxis: yAxis, width: width, bottomFixed: bottomFixed)

        // 2. Reference lines and step markers under the data.
        for marker in markers where marker.x.isFinite {
            let x = xMap.pixel(marker.x)
            svg.withTooltip("line", [("class", "bn-step"), ("x1", ChartText.coordinate(x)), ("y1", ChartText.coordinate(top)),
                                     ("x2", ChartText.coordinate(x)), ("y2", ChartText.coordinate(bottom)),
                                     ("stroke", "currentColor"), ("stroke-dasharray", "2 3")], tooltip: marker.label)
            svg.text("text", [("class", "bn-step-label"), ("x", ChartText.coordinate(x + 3)),
                              ("y", ChartText.coordinate(top + 10))], marker.label)
        }
        for ref in references {
            ChartFrame.reference(&svg, ref, xMap: xMap, yMap: yMap, xValueLabel: xValueLabel)
        }
        if let fit {
            drawFit(&svg, fit, xMap: xMap, yMap: yMap, xs: valid.map(\.x))
        }

        // 3. Series.
        for (index, s) in series.enumerated() {
            let style = ChartResolvedStyle(s.style, index: index)
            let segments = runs[index]
            let count = segments.reduce(0) { $0 + $1.count }
            svg.open("g", [("class", "series \(style.colorClass)"), ("data-series", s.name),
                           ("data-points", String(count)), ("data-empty", count == 0 ? "true" : nil)])
            if connectPoints {
                let d = segments.filter { $0.count >= 2 }.map { seg in
                    seg.enumerated().map { i, p in
                        "\(i == 0 ? "M" : "L")\(ChartText.coordinate(xMap.pixel(p.x))) \(ChartText.coordinate(yMap.pixel(p.y)))"
                    }.joined(separator: " ")
                }.joined(separator: " ")
                if !d.isEmpty {
                    svg.withTooltip("path", [("class", "bn-line"), ("d", d), ("fill", "none"), ("stroke", style.hex),
                                             ("stroke-width", "2"), ("stroke-dasharray", style.dash.dashArray)],
                                    tooltip: s.name)
                }
            }
            let showPoints = count <= maxPointTooltips
            for seg in segments {
                for p in seg where showPoints || seg.count == 1 {
                    let marker = (seg.count == 1 && style.marker == .none) ? ChartMarker.circle : style.marker
                    let xText = xValueLabel?(p.x) ?? "\(ChartText.value(p.x))\(unitSuffix(xAxis))"
                    let tip = "\(s.name) — \(xAxis.label) \(xText): \(ChartText.value(p.y))\(unitSuffix(yAxis))"
                    ChartFrame.marker(&svg, marker, x: xMap.pixel(p.x), y: yMap.pixel(p.y), hex: style.hex, tooltip: tip)
                }
            }
            svg.close("g")
        }
        legend.draw(&svg, top: height - legend.height - 4)
        svg.close("svg")
        return svg.markup
    }

    private func unitSuffix(_ axis: ChartAxis) -> String {
        guard let unit = axis.unit, !unit.isEmpty else { return "" }
        return unit == "%" ? "%" : " \(unit)"
    }

    private func drawFit(_ svg: inout ChartSVGBuilder, _ fit: LinearFit, xMap: ChartScaleMap, yMap: ChartScaleMap, xs: [Double]) {
        guard let lo = xs.min(), let hi = xs.max(), fit.slope.isFinite, fit.intercept.isFinite else { return }
        // Sampled, so the straight line bends correctly on a log axis.
        let samples = xAxis.scale == .log || yAxis.scale == .log ? 48 : 1
        var parts: [String] = []
        for i in 0...samples {
            let t = Double(i) / Double(samples)
            let x = xAxis.scale == .log ? lo * pow(hi / lo, t) : lo + (hi - lo) * t
            let y = fit.y(at: x)
            guard xMap.accepts(x), yMap.accepts(y) else { continue }
            // Keep the line inside the plot: clamp to the y domain.
            let py = Swift.min(Swift.max(yMap.pixel(y), yMap.pixelEnd), yMap.pixelStart)
            parts.append("\(parts.isEmpty ? "M" : "L")\(ChartText.coordinate(xMap.pixel(x))) \(ChartText.coordinate(py))")
        }
        guard parts.count >= 2 else { return }
        let r2 = String(format: "%.3f", fit.r2.isFinite ? fit.r2 : 0)
        let tip = "\(fitLabel): y = \(ChartText.value(fit.slope))·x + \(ChartText.value(fit.intercept)), r² = \(r2)"
        svg.open("g", [("class", "bn-fit-group"), ("data-fit", "least-squares")])
        svg.withTooltip("path", [("class", "bn-fit"), ("d", parts.joined(separator: " ")), ("fill", "none"),
                                 ("stroke", "currentColor"), ("stroke-dasharray", "8 3 1.5 3")], tooltip: tip)
        svg.close("g")
    }
}

/// A series style with every automatic choice made.
struct ChartResolvedStyle {
    let slot: Int
    let dash: ChartDash
    let marker: ChartMarker

    init(_ style: ChartSeriesStyle, index: Int) {
        let dashes = ChartDash.allCases
        let markers: [ChartMarker] = [.circle, .square, .triangle, .diamond, .cross]
        slot = style.colorSlot.map { (($0 % ChartStyle.palette.count) + ChartStyle.palette.count) % ChartStyle.palette.count }
            ?? index % ChartStyle.automaticSlots
        dash = style.dash ?? dashes[index % dashes.count]
        marker = style.marker ?? markers[index % markers.count]
    }

    var colorClass: String { "bn-c\(slot)" }
    var hex: String { ChartStyle.palette[slot] }
}
