/// The rules `diagnose` applies unless `--rules DIR` replaces them: the YAML files of
/// `playbooks/rules/`, compiled into the binary (`scripts/embed-rules.sh`) so a copied
/// binary diagnoses the same way as a checkout.
public enum DefaultRules: Sendable {
    /// Parses the embedded rule files against the evidence catalog.
    public static func load(catalog: MetricCatalog) throws -> [Rule] {
        var rules: [Rule] = []
        for (name, text) in embedded {
            rules += try RuleFile.parse(text: text, source: "playbooks/rules/\(name)", catalog: catalog)
        }
        return rules
    }

    /// The embedded file names, for messages and tests.
    public static var fileNames: [String] { embedded.map(\.0) }
    public static func text(of name: String) -> String? { embedded.first { $0.0 == name }?.1 }
}
