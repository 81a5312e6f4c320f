import Foundation

/// Accumulates SVG markup. Every attribute value and text node goes through
/// `ChartText.escaped`, so no caller can produce malformed XML by accident.
struct ChartSVGBuilder {
    private(set) var markup = ""

    mutating func open(_ name: String, _ attributes: [(String, String?)] = []) {
        markup += "<\(name)\(Self.render(attributes))>"
    }

    mutating func close(_ name: String) {
        markup += "</\(name)>"
    }

    /// An element with no children.
    mutating func leaf(_ name: String, _ attributes: [(String, String?)]) {
        markup += "<\(name)\(Self.render(attributes))/>"
    }

    /// An element whose only child is escaped text.
    mutating func text(_ name: String, _ attributes: [(String, String?)], _ content: String, tooltip: String? = nil) {
        markup += "<\(name)\(Self.render(attributes))>"
        if let tooltip { markup += "<title>\(ChartText.escaped(tooltip))</title>" }
        markup += "\(ChartText.escaped(content))</\(name)>"
    }

    /// An element with a `<title>` child: the browser shows it as a tooltip.
    mutating func withTooltip(_ name: String, _ attributes: [(String, String?)], tooltip: String?) {
        guard let tooltip else { return leaf(name, attributes) }
        open(name, attributes)
        text("title", [], tooltip)
        close(name)
    }

    private static func render(_ attributes: [(String, String?)]) -> String {
        var out = ""
        for (key, value) in attributes {
            guard let value else { continue }
            out += " \(key)=\"\(ChartText.escaped(value))\""
        }
        return out
    }
}

/// Text and number formatting for charts. Internal, under a chart-specific name, so it
/// cannot collide with other helpers in the shared module.
enum ChartText {
    /// XML-escapes text for both attributes and element content, and drops characters
    /// XML 1.0 forbids outright (most C0 controls), which would make the document unparsable.
    static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A pixel coordinate: two decimals, trailing zeros trimmed. A non-finite value (a bug
    /// upstream) becomes 0 rather than "nan", which would break the whole SVG.
    static func coordinate(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let rounded = (value * 100).rounded() / 100
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        var s = String(format: "%.2f", rounded)
        while s.hasSuffix("0") { s.removeLast() }
        return s
    }

    /// A measured value for a tooltip: about four significant digits, no exponent for
    /// ordinary magnitudes.
    static func value(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        let magnitude = abs(value)
        if magnitude == 0 { return "0" }
        if magnitude >= 10_000 { return String(format: "%.0f", value) }
        if magnitude >= 0.001 { return trimmed(String(format: "%.4g", value)) }
        return String(format: "%.3g", value)
    }

    /// A tick label. Decimals follow the tick step so labels in one axis agree
    /// (0.5, 1.0, 1.5 → "0.5", "1", "1.5"), and large values get k/M/G suffixes.
    static func tick(_ value: Double, step: Double) -> String {
        guard value.isFinite else { return "" }
        if value == 0 { return "0" }
        let magnitude = Swift.max(abs(value), abs(step))
        let (divisor, suffix): (Double, String) =
            magnitude >= 1e9 ? (1e9, "G") : magnitude >= 1e6 ? (1e6, "M") : magnitude >= 1e4 ? (1e3, "k") : (1, "")
        let scaledStep = abs(step) / divisor
        let decimals = scaledStep > 0 ? Swift.max(0, Swift.min(9, Int((-log10(scaledStep)).rounded(.up)))) : 0
        if divisor == 1, abs(value) < 1e-4 { return trimmed(String(format: "%.0e", value)) }
        return trimmed(String(format: "%.\(decimals)f", value / divisor)) + suffix
    }

    /// A log-axis tick (a power of ten): 1k, 10k, 1M rather than 1000, 10k.
    static func logTick(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude >= 1e3, magnitude < 1e4 { return trimmed(String(format: "%.0f", value / 1e3)) + "k" }
        return tick(value, step: value)
    }

    private static func trimmed(_ s: String) -> String {
        guard s.contains("."), !s.contains("e") else { return s }
        var out = s
        while out.hasSuffix("0") { out.removeLast() }
        if out.hasSuffix(".") { out.removeLast() }
        return out
    }

    /// Rough rendered width of a label at 11–12 px; layout only needs to avoid overlaps.
    static func estimatedWidth(_ text: String, fontSize: Double = 11) -> Double {
        Double(text.count) * fontSize * 0.6
    }
}
