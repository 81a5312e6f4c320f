/// Text for `bottleneck rules explain` and `rules metrics`, printed from the catalog and
/// the embedded default rules so documentation and behaviour cannot drift apart.
public enum RulesExplanation: Sendable {
    public static func explain(_ name: String) -> String? {
        if let rule = (try? DefaultRules.load(catalog: EvidenceCatalog.catalog))?.first(where: { $0.id == name }) {
            var out = "rule \(rule.id): culprit \(rule.culprit.rawValue), cause \(rule.cause)\n"
            if let summary = rule.description { out += "  " + summary + "\n" }
            out += "  when: \(rule.when)\n"
            if !rule.next.isEmpty { out += "  next: \(rule.next.joined(separator: ", "))\n" }
            return out
        }
        if let metric = EvidenceCatalog.catalog.definition(named: name) {
            return "\(metric.name) [\(metric.unit)] from \(metric.source)\n  \(metric.description)\n"
        }
        return nil
    }

    public static func metricTable() -> String {
        EvidenceCatalog.catalog.definitions.map { "\($0.name)\t\($0.unit)\t\($0.source)\t\($0.description)" }.joined(separator: "\n") + "\n"
    }

    /// docs/metrics.md: the same catalog as a Markdown table (`rules metrics --markdown`; a test
    /// fails when the file differs, and rewrites it with BOTTLENECK_UPDATE_GOLDEN=1).
    public static func metricMarkdown() -> String {
        var out = "# Evidence metrics\n\nGenerated from the catalog by `bottleneck rules metrics --markdown`; "
        out += "do not edit. Rules read these names (docs/rules.md); `bottleneck rules explain NAME` prints one.\n\n"
        out += "| metric | unit | from | meaning |\n|---|---|---|---|\n"
        for metric in EvidenceCatalog.catalog.definitions {
            let cells = [metric.name, metric.unit, metric.source, metric.description].map { $0.replacingOccurrences(of: "|", with: "\\|") }
            out += "| `\(cells[0])` | \(cells[1]) | \(cells[2]) | \(cells[3]) |\n"
        }
        return out
    }
}
