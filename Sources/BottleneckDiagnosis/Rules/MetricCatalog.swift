/// One metric a rule may name: the contract between the analysis that produces it and the
/// rules that read it.
public struct MetricDefinition: Sendable, Hashable, Codable {
    /// Dotted name as written in rules, e.g. `client.process.cpu_cores`.
    public var name: String
    /// Unit of the value; numbers in rules are in this unit (no unit suffixes are parsed).
    public var unit: String
    /// Which sampler or analysis produces it, e.g. `/proc/PID/stat` or `capture`.
    public var source: String
    public var description: String

    public init(name: String, unit: String, source: String, description: String) {
        self.name = name
        self.unit = unit
        self.source = source
        self.description = description
    }
}

/// The set of metric names rules may use.
///
/// It exists so that a typo in a rule is an error at `rules check` time (with a
/// suggestion) instead of a rule that silently never fires because its metric is always
/// missing.
public struct MetricCatalog: Sendable {
    public let definitions: [MetricDefinition]
    private let byName: [String: MetricDefinition]

    /// Later definitions with the same name replace earlier ones.
    public init(_ definitions: [MetricDefinition]) {
        var byName: [String: MetricDefinition] = [:]
        var ordered: [MetricDefinition] = []
        for definition in definitions {
            if byName[definition.name] == nil {
                ordered.append(definition)
            } else if let index = ordered.firstIndex(where: { $0.name == definition.name }) {
                ordered[index] = definition
            }
            byName[definition.name] = definition
        }
        self.definitions = ordered
        self.byName = byName
    }

    public var names: [String] { definitions.map(\.name) }

    public func definition(named name: String) -> MetricDefinition? { byName[name] }

    public func contains(_ name: String) -> Bool { byName[name] != nil }

    /// The known name closest to `name` by edit distance, if it is close enough to be a typo.
    public func suggestion(for name: String) -> String? {
        RuleSuggestion.closest(to: name, in: names)
    }
}
