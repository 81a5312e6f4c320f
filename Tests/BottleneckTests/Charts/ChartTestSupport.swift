import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// Helpers for the chart tests, private to them by name.
enum ChartSVGCheck {
    /// Parses `svg` as XML and returns the parse error, if any.
    static func parseError(_ svg: String) -> String? {
        do {
            _ = try XMLDocument(xmlString: svg, options: [])
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// Every `data-series="…"` value, unescaped, in document order.
    static func seriesNames(_ svg: String) -> [String] {
        attributeValues("data-series", in: svg)
    }

    static func attributeValues(_ name: String, in svg: String) -> [String] {
        guard let doc = try? XMLDocument(xmlString: svg, options: []),
              let nodes = try? doc.nodes(forXPath: "//@\(name)") else { return [] }
        return nodes.compactMap(\.stringValue)
    }

    /// FoundationXML's `attribute(forName:)` misses attributes under a default namespace; scan instead.
    static func attribute(_ element: XMLElement, _ name: String) -> String? {
        element.attributes?.first { $0.name == name || $0.localName == name }?.stringValue
    }

    /// The `d` of every path inside the series group named `series`; a bar (`rect`) counts
    /// as its outline path "x,y,w,h" so bar charts are checked the same way.
    static func pathData(_ svg: String, series: String) -> [String] {
        guard let doc = try? XMLDocument(xmlString: svg, options: []),
              let root = doc.rootElement() else { return [] }
        var out: [String] = []
        func walk(_ element: XMLElement, inside: Bool) {
            let here = inside || attribute(element, "data-series") == series
            if here, element.localName == "path", let d = attribute(element, "d") { out.append(d) }
            if here, element.localName == "rect" {
                out.append(["x", "y", "width", "height"].compactMap { attribute(element, $0) }.joined(separator: ","))
            }
            for child in element.children ?? [] {
                if let e = child as? XMLElement { walk(e, inside: here) }
            }
        }
        walk(root, inside: false)
        return out
    }

    /// Text of every `<title>` element (tooltips and the chart title).
    static func titles(_ svg: String) -> [String] {
        guard let doc = try? XMLDocument(xmlString: svg, options: []),
              let nodes = try? doc.nodes(forXPath: "//*[local-name()='title']") else { return [] }
        return nodes.compactMap(\.stringValue)
    }

    /// Output must never contain a number that failed: no NaN, no infinity.
    static func hasBadNumbers(_ svg: String) -> Bool {
        let lower = svg.lowercased()
        return lower.contains("nan") || lower.contains("inf")
    }
}
