import Foundation

/// Pieces every chart kind shares: the `<svg>` root, axes with gridlines, reference
/// lines, point markers and the "no data" state.
enum ChartFrame {
    static func openSVG(_ svg: inout ChartSVGBuilder, kind: String, title: String, description: String,
                        width: Double, height: Double) {
        let w = ChartText.coordinate(width), h = ChartText.coordinate(height)
        svg.open("svg", [("xmlns", "http://www.w3.org/2000/svg"), ("class", "bn-chart bn-\(kind)"),
                         ("viewBox", "0 0 \(w) \(h)"), ("width", w), ("height", h), ("role", "img"),
                         ("data-chart", kind)])
        svg.text("title", [], title)
        svg.text("desc", [], description)
        svg.text("text", [("class", "bn-title"), ("x", "12"), ("y", "22"), ("font-size", "15"), ("font-weight", "600")], title)
    }

    /// A chart with nothing to plot still says so, keeps its title and legend, and keeps one
    /// (empty) group per series, so DOM checks can tell "no data" from "chart missing".
    static func noData(_ svg: inout ChartSVGBuilder, series: [ChartSeries], width: Double, height: Double,
                       legend: ChartLegend) {
        noData(&svg, names: series.map(\.name), width: width, height: height, legend: legend)
    }

    static func noData(_ svg: inout ChartSVGBuilder, names: [String], width: Double, height: Double, legend: ChartLegend) {
        let midY = (40 + height - legend.height) / 2
        svg.leaf("rect", [("class", "bn-grid"), ("x", "12"), ("y", "40"), ("width", ChartText.coordinate(width - 24)),
                          ("height", ChartText.coordinate(Swift.max(10, height - legend.height - 56))),
                          ("fill", "none"), ("stroke", "currentColor"), ("stroke-opacity", "0.15")])
        svg.text("text", [("class", "bn-nodata"), ("x", ChartText.coordinate(width / 2)), ("y", ChartText.coordinate(midY)),
                          ("text-anchor", "middle")], "No data")
        for name in names {
            svg.leaf("g", [("class", "series"), ("data-series", name), ("data-points", "0"), ("data-empty", "true")])
        }
        legend.draw(&svg, top: height - legend.height - 4)
        svg.close("svg")
    }

    static func axes(_ svg: inout ChartSVGBuilder, xMap: ChartScaleMap, yMap: ChartScaleMap,
                     xTicks: (major: [Double], minor: [Double]), yTicks: (major: [Double], minor: [Double]),
                     xLabel: (Double) -> String, yLabels: [String], xAxis: ChartAxis, yAxis: ChartAxis,
                     width: Double, bottomFixed: Double) {
        let left = xMap.pixelStart, right = xMap.pixelEnd, top = yMap.pixelEnd, bottom = yMap.pixelStart
        let c = ChartText.coordinate
        svg.open("g", [("class", "bn-axes")])
        for v in yTicks.minor where v > yMap.domainMin && v < yMap.domainMax {
            let y = yMap.pixel(v)
            svg.leaf("line", [("class", "bn-grid-minor"), ("x1", c(left)), ("x2", c(right)), ("y1", c(y)), ("y2", c(y))])
        }
        for v in xTicks.minor where v > xMap.domainMin && v < xMap.domainMax {
            let x = xMap.pixel(v)
            svg.leaf("line", [("class", "bn-grid-minor"), ("x1", c(x)), ("x2", c(x)), ("y1", c(top)), ("y2", c(bottom))])
        }
        for (v, label) in zip(yTicks.major, yLabels) {
            let y = yMap.pixel(v)
            svg.leaf("line", [("class", "bn-grid"), ("x1", c(left)), ("x2", c(right)), ("y1", c(y)), ("y2", c(y)),
                              ("stroke", "currentColor"), ("stroke-opacity", "0.15")])
            svg.text("text", [("class", "bn-tick"), ("x", c(left - 6)), ("y", c(y + 4)), ("text-anchor", "end")], label)
        }
        var lastLabelEnd = -Double.infinity
        for v in xTicks.major {
            let x = xMap.pixel(v)
            svg.leaf("line", [("class", "bn-grid"), ("x1", c(x)), ("x2", c(x)), ("y1", c(top)), ("y2", c(bottom)),
                              ("stroke", "currentColor"), ("stroke-opacity", "0.15")])
            let label = xLabel(v)
            let half = ChartText.estimatedWidth(label) / 2
            // Drop a label rather than print two on top of each other; the gridline stays.
            if x - half > lastLabelEnd + 4 {
                svg.text("text", [("class", "bn-tick"), ("x", c(x)), ("y", c(bottom + 16)), ("text-anchor", "middle")], label)
                lastLabelEnd = x + half
            }
        }
        svg.leaf("path", [("class", "bn-axis"), ("d", "M\(c(left)) \(c(top)) V\(c(bottom)) H\(c(right))"),
                          ("fill", "none"), ("stroke", "currentColor")])
        svg.text("text", [("class", "bn-axis-title"), ("x", c((left + right) / 2)), ("y", c(bottom + 34)),
                          ("text-anchor", "middle")], xAxis.title)
        svg.text("text", [("class", "bn-axis-title"), ("transform", "translate(14 \(c((top + bottom) / 2))) rotate(-90)"),
                          ("text-anchor", "middle")], yAxis.title)
        svg.close("g")
    }

    static func reference(_ svg: inout ChartSVGBuilder, _ ref: ChartReferenceLine, xMap: ChartScaleMap, yMap: ChartScaleMap,
                          xValueLabel: ((Double) -> String)?) {
        let c = ChartText.coordinate
        let left = xMap.pixelStart, right = xMap.pixelEnd, top = yMap.pixelEnd, bottom = yMap.pixelStart
        let isSLO = ref.label.uppercased().contains("SLO")
        let cls = "bn-ref bn-ref-\(ref.orientation.rawValue)" + (isSLO ? " bn-ref-slo" : "")
        var attrs: [(String, String?)]
        let labelAt: (x: Double, y: Double, anchor: String)
        switch ref.orientation {
        case .horizontal:
            guard yMap.accepts(ref.value) else { return }
            let y = yMap.pixel(ref.value)
            attrs = [("x1", c(left)), ("x2", c(right)), ("y1", c(y)), ("y2", c(y))]
            // Left end: latency and usage curves climb to the right, so the left is usually clear.
            labelAt = (left + 4, y - 5, "start")
        case .vertical:
            guard xMap.accepts(ref.value) else { return }
            let x = xMap.pixel(ref.value)
            attrs = [("x1", c(x)), ("x2", c(x)), ("y1", c(top)), ("y2", c(bottom))]
            labelAt = (x + 4, top + 24, "start")
        case .identity:
            // y = x where both axes can show it.
            let lo = Swift.max(xMap.domainMin, yMap.domainMin), hi = Swift.min(xMap.domainMax, yMap.domainMax)
            guard lo < hi, xMap.accepts(lo), yMap.accepts(lo) else { return }
            attrs = [("x1", c(xMap.pixel(lo))), ("y1", c(yMap.pixel(lo))), ("x2", c(xMap.pixel(hi))), ("y2", c(yMap.pixel(hi)))]
            // Above-left of the diagonal: measured rates lie on or below it, so the label stays clear.
            let at = lo + 0.55 * (hi - lo)
            labelAt = (xMap.pixel(at) - 6, yMap.pixel(at) - 6, "end")
        }
        let valueText = ref.orientation == .identity ? nil
            : ref.orientation == .vertical ? (xValueLabel?(ref.value) ?? ChartText.value(ref.value)) : ChartText.value(ref.value)
        svg.open("g", [("class", "bn-reference"), ("data-reference", ref.orientation.rawValue)])
        svg.withTooltip("line", [("class", cls)] + attrs + [("stroke", "currentColor"), ("stroke-dasharray", "5 4")],
                        tooltip: valueText.map { "\(ref.label): \($0)" } ?? ref.label)
        svg.text("text", [("class", "bn-ref-label"), ("x", c(labelAt.x)), ("y", c(labelAt.y)), ("text-anchor", labelAt.anchor)],
                 ref.label)
        svg.close("g")
    }

    /// A point marker as a `<path>` (so every drawn point has a non-empty `d`), with its tooltip.
    static func marker(_ svg: inout ChartSVGBuilder, _ marker: ChartMarker, x: Double, y: Double, hex: String, tooltip: String) {
        let c = ChartText.coordinate
        let s = 3.5
        let d: String
        var cls = "bn-marker"
        var paint: [(String, String?)] = [("fill", hex)]
        switch marker {
        case .circle:
            d = "M\(c(x - s)) \(c(y)) a\(c(s)) \(c(s)) 0 1 0 \(c(2 * s)) 0 a\(c(s)) \(c(s)) 0 1 0 \(c(-2 * s)) 0Z"
        case .square:
            d = "M\(c(x - s)) \(c(y - s)) h\(c(2 * s)) v\(c(2 * s)) h\(c(-2 * s))Z"
        case .triangle:
            d = "M\(c(x)) \(c(y - s * 1.25)) L\(c(x + s * 1.15)) \(c(y + s * 0.85)) L\(c(x - s * 1.15)) \(c(y + s * 0.85))Z"
        case .diamond:
            d = "M\(c(x)) \(c(y - s * 1.3)) L\(c(x + s * 1.3)) \(c(y)) L\(c(x)) \(c(y + s * 1.3)) L\(c(x - s * 1.3)) \(c(y))Z"
        case .cross:
            d = "M\(c(x - s)) \(c(y - s)) L\(c(x + s)) \(c(y + s)) M\(c(x - s)) \(c(y + s)) L\(c(x + s)) \(c(y - s))"
            cls = "bn-marker-cross"
            paint = [("fill", "none"), ("stroke", hex), ("stroke-width", "1.75")]
        case .none:
            let r = 5.0
            d = "M\(c(x - r)) \(c(y)) a\(c(r)) \(c(r)) 0 1 0 \(c(2 * r)) 0 a\(c(r)) \(c(r)) 0 1 0 \(c(-2 * r)) 0Z"
            cls = "bn-hit"
            paint = [("fill", "transparent")]
        }
        svg.withTooltip("path", [("class", cls), ("d", d)] + paint, tooltip: tooltip)
    }
}

/// The legend under the plot: one entry per series showing its colour, dash and marker,
/// wrapped into as many rows as the width needs.
struct ChartLegend {
    struct Entry {
        var name: String
        /// Nil for non-series entries such as a fitted line, drawn in `currentColor`.
        var style: ChartResolvedStyle?
        var line: Bool
        var swatch = false
    }

    let entries: [Entry]
    let width: Double
    private let positions: [(x: Double, row: Int)]
    static let rowHeight = 18.0

    init(entries: [Entry], width: Double) {
        self.entries = entries
        self.width = width
        var positions: [(x: Double, row: Int)] = []
        var x = 12.0, row = 0
        for entry in entries {
            let w = 34 + ChartText.estimatedWidth(entry.name)
            if x + w > width - 12, x > 12 {
                row += 1
                x = 12
            }
            positions.append((x, row))
            x += w + 14
        }
        self.positions = positions
    }

    var height: Double {
        guard let last = positions.last else { return 0 }
        return Double(last.row + 1) * Self.rowHeight
    }

    func draw(_ svg: inout ChartSVGBuilder, top: Double) {
        guard !entries.isEmpty else { return }
        let c = ChartText.coordinate
        svg.open("g", [("class", "bn-legend")])
        for (entry, pos) in zip(entries, positions) {
            let y = top + Double(pos.row) * Self.rowHeight + Self.rowHeight / 2
            let x = pos.x
            svg.open("g", [("class", "bn-legend-item" + (entry.style.map { " \($0.colorClass)" } ?? "")),
                           ("data-legend", entry.name)])
            if let style = entry.style {
                if entry.swatch {
                    svg.leaf("rect", [("class", "bn-bar"), ("x", c(x + 6)), ("y", c(y - 6)), ("width", "14"), ("height", "12"),
                                      ("fill", style.hex)])
                } else {
                    if entry.line {
                        svg.leaf("path", [("class", "bn-line"), ("d", "M\(c(x)) \(c(y)) h26"), ("fill", "none"),
                                          ("stroke", style.hex), ("stroke-width", "2"), ("stroke-dasharray", style.dash.dashArray)])
                    }
                    if style.marker != .none {
                        ChartFrame.marker(&svg, style.marker, x: x + 13, y: y, hex: style.hex, tooltip: entry.name)
                    }
                }
            } else {
                svg.leaf("path", [("class", "bn-fit"), ("d", "M\(c(x)) \(c(y)) h26"), ("fill", "none"), ("stroke", "currentColor"),
                                  ("stroke-dasharray", "8 3 1.5 3")])
            }
            svg.text("text", [("x", c(x + 32)), ("y", c(y + 4))], entry.name)
            svg.close("g")
        }
        svg.close("g")
    }
}
