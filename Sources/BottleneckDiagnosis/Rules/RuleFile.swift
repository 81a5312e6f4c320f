import Foundation
import Yams

/// Reads rules files: a YAML sequence of rule mappings (the format: docs/rules.md).
///
/// Everything a rule author can get wrong is reported with the file, line and column of the
/// offending character: YAML syntax, unknown or missing keys, unknown culprits, duplicate
/// ids, expression syntax and type errors, unknown metrics and explain placeholders.
/// `load`/`parse` throw a `RuleError` carrying all problems of the file; `RulesCheck` lists them.
public enum RuleFile: Sendable {
    /// Keys a rule may have; anything else is a typo worth reporting.
    static let knownKeys = ["id", "culprit", "cause", "when", "severity", "explain", "next", "description"]
    static let severityKeys = ["warn", "high", "critical", "on"]

    public static func load(path: String, catalog: MetricCatalog) throws(RuleError) -> [Rule] {
        let (rules, diagnostics) = try diagnose(path: path, catalog: catalog)
        if !diagnostics.isEmpty { throw RuleError(diagnostics: diagnostics) }
        return rules
    }

    /// All `*.yaml` and `*.yml` files of `directory`, in name order; ids must be unique across them.
    /// This is what `--rules DIR` loads.
    public static func loadDirectory(_ directory: String, catalog: MetricCatalog) throws(RuleError) -> [Rule] {
        let (rules, diagnostics) = RulesCheck.diagnose(paths: [directory], catalog: catalog)
        if !diagnostics.isEmpty { throw RuleError(diagnostics: diagnostics) }
        return rules
    }

    /// `source` is the name errors use for the file (a path, or a resource name for the embedded rules).
    public static func parse(text: String, source: String, catalog: MetricCatalog) throws(RuleError) -> [Rule] {
        let (rules, diagnostics) = diagnose(text: text, source: source, catalog: catalog)
        if !diagnostics.isEmpty { throw RuleError(diagnostics: diagnostics) }
        return rules
    }

    static func diagnose(path: String, catalog: MetricCatalog) throws(RuleError) -> ([Rule], [RuleDiagnostic]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RuleError(.unreadable, "\(path): cannot read the rules file; check the path given to --rules or `rules check`")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RuleError(.unreadable, "\(path): the rules file is not UTF-8 text")
        }
        return diagnose(text: text, source: path, catalog: catalog)
    }

    /// Parses what it can: every well-formed rule is returned even when others have errors.
    static func diagnose(text: String, source: String, catalog: MetricCatalog) -> ([Rule], [RuleDiagnostic]) {
        var reader = RuleFileReader(text: text, source: source, catalog: catalog)
        let rules = reader.read()
        return (rules, reader.diagnostics.sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) })
    }
}

/// The state of reading one file: where diagnostics go and how positions are found.
private struct RuleFileReader {
    let text: String
    let source: String
    let catalog: MetricCatalog
    let locator: RuleScalarLocator
    var diagnostics: [RuleDiagnostic] = []

    init(text: String, source: String, catalog: MetricCatalog) {
        self.text = text
        self.source = source
        self.catalog = catalog
        self.locator = RuleScalarLocator(text: text)
    }

    mutating func report(_ message: String, line: Int, column: Int) {
        diagnostics.append(RuleDiagnostic(location: RuleSourceLocation(file: source, line: line, column: column), message: message))
    }

    mutating func report(_ message: String, at node: Node?) {
        let mark = node?.mark
        report(message, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    mutating func read() -> [Rule] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            reportYAML(error)
            return []
        } catch {
            report("cannot parse YAML: \(error)", line: 1, column: 1)
            return []
        }
        guard let root else { return [] }  // an empty file has no rules, which is fine
        guard let sequence = root.sequence else {
            report("a rules file is a YAML list of rules, each starting with \"- id: …\"", at: root)
            return []
        }
        var rules: [Rule] = []
        var seen: [String: RuleSourceLocation] = [:]
        for item in sequence {
            guard let rule = readRule(item) else { continue }
            if let first = seen[rule.id] {
                report("duplicate rule id \"\(rule.id)\" (first defined at \(first))", line: rule.location.line, column: rule.location.column)
                continue
            }
            seen[rule.id] = rule.location
            rules.append(rule)
        }
        return rules
    }

    private mutating func reportYAML(_ error: YamlError) {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            let suffix = context.map { " \($0.text)" } ?? ""
            report("YAML syntax: \(problem)\(suffix)", line: mark.line, column: mark.column)
        case let .duplicatedKeysInMapping(duplicates, context):
            report("key \(duplicates.map { "\"\($0)\"" }.joined(separator: ", ")) appears more than once in this mapping; keep one", line: context.mark.line, column: context.mark.column)
        default:
            report("YAML: \(String(describing: error).split(separator: "\n").first ?? "")", line: 1, column: 1)
        }
    }

    private mutating func readRule(_ node: Node) -> Rule? {
        guard let mapping = node.mapping else {
            report("each rule is a mapping with id, culprit, cause, when, …", at: node)
            return nil
        }
        let errorsBefore = diagnostics.count
        var values: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                report("rule keys are plain words", at: key)
                continue
            }
            if !RuleFile.knownKeys.contains(name) {
                let suggestion = RuleSuggestion.closest(to: name, in: RuleFile.knownKeys)
                report("unknown key \"\(name)\"\(RuleSuggestion.hint(suggestion)); a rule has \(RuleFile.knownKeys.joined(separator: ", "))", at: key)
                continue
            }
            values[name] = value
        }
        let location = RuleSourceLocation(file: source, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
        for required in ["id", "culprit", "cause", "when"] where values[required] == nil {
            report("rule is missing \"\(required):\"", at: node)
        }

        let id = string(values["id"], key: "id")
        if let id, id.isEmpty || id.contains(where: \.isWhitespace) {
            report("rule id must be one word such as \"loadgen-cpu-saturated\"", at: values["id"])
        }
        var culprit: Culprit?
        if let text = string(values["culprit"], key: "culprit") {
            culprit = Culprit(rawValue: text)
            if culprit == nil {
                let names = Culprit.allCases.map(\.rawValue)
                report("unknown culprit \"\(text)\"\(RuleSuggestion.hint(RuleSuggestion.closest(to: text, in: names))); use one of \(names.joined(separator: " | "))", at: values["culprit"])
            }
        }
        let cause = string(values["cause"], key: "cause")
        if let cause, cause.isEmpty { report("cause must not be empty", at: values["cause"]) }
        let condition = values["when"].flatMap { expression($0, key: "when", expecting: .condition) }
        let severity = readSeverity(values["severity"], firstOperator: condition?.firstComparison)
        let explainText = values["explain"].flatMap { string($0, key: "explain") } ?? ""
        let explainTemplate = values["explain"].flatMap { template($0) } ?? ExplainTemplate(segments: [])
        let next = readNext(values["next"])
        let description = values["description"].flatMap { string($0, key: "description") }

        guard diagnostics.count == errorsBefore, let id, let culprit, let cause, let condition, let severity else { return nil }
        return Rule(id: id, culprit: culprit, cause: cause, when: values["when"]?.scalar?.string ?? "",
                    severity: severity, explain: explainText, next: next, description: description,
                    location: location, condition: condition, explainTemplate: explainTemplate)
    }

    private mutating func string(_ node: Node?, key: String) -> String? {
        guard let node else { return nil }
        guard let scalar = node.scalar else {
            report("\(key) must be a single value (text), not a list or mapping", at: node)
            return nil
        }
        return scalar.string
    }

    /// Reports a failure at `offset` scalars into the value of `scalar`.
    private mutating func report(_ message: String, in scalar: Node.Scalar, offset: Int) {
        let positions = locator.positions(of: scalar)
        let position = positions[min(max(offset, 0), positions.count - 1)]
        report(message, line: position.line, column: position.column)
    }

    /// Unknown metric names, reported at the name itself.
    private mutating func checkMetrics(_ expression: RuleExpression, in scalar: Node.Scalar, shift: Int = 0) -> Bool {
        var ok = true
        for reference in expression.metricReferences where !catalog.contains(reference.name) {
            report("unknown metric \"\(reference.name)\"\(RuleSuggestion.hint(catalog.suggestion(for: reference.name)))", in: scalar, offset: shift + reference.start)
            ok = false
        }
        return ok
    }

    private mutating func expression(_ node: Node, key: String, expecting type: RuleExpression.ValueType) -> RuleExpression? {
        guard let scalar = node.scalar else {
            report("\(key) must be an expression (text), not a list or mapping", at: node)
            return nil
        }
        do {
            let expression = try RuleExpressionParser.parse(scalar.string, expecting: type)
            return checkMetrics(expression, in: scalar) ? expression : nil
        } catch {
            report("\(key): \(error.message)", in: scalar, offset: error.offset)
            return nil
        }
    }

    private mutating func template(_ node: Node) -> ExplainTemplate? {
        guard let scalar = node.scalar else { return nil }  // already reported by string(_:key:)
        do {
            let template = try ExplainTemplate.parse(scalar.string)
            var ok = true
            for (expression, offset) in template.placeholderExpressions {
                ok = checkMetrics(expression, in: scalar, shift: offset) && ok
            }
            return ok ? template : nil
        } catch {
            report("explain: \(error.message)", in: scalar, offset: error.offset)
            return nil
        }
    }

    private mutating func readNext(_ node: Node?) -> [String] {
        guard let node else { return [] }
        if let scalar = node.scalar { return [scalar.string] }
        guard let sequence = node.sequence else {
            report("next is a list of playbook paths or commands", at: node)
            return []
        }
        var steps: [String] = []
        for item in sequence {
            if let text = string(item, key: "each next step") { steps.append(text) }
        }
        return steps
    }

    private mutating func readSeverity(_ node: Node?, firstOperator comparison: RuleExpression?) -> SeveritySpec? {
        guard let node else { return .defaultWarn }
        let levelNames = Severity.allCases.map(\.rawValue)
        if let scalar = node.scalar {
            guard let fixed = Severity(rawValue: scalar.string) else {
                report("unknown severity \"\(scalar.string)\"\(RuleSuggestion.hint(RuleSuggestion.closest(to: scalar.string, in: levelNames))); use \(levelNames.joined(separator: " | ")) or {warn: N, high: N, critical: N}", at: node)
                return nil
            }
            return SeveritySpec(fixed: fixed)
        }
        guard let mapping = node.mapping else {
            report("severity is a level (warn | high | critical) or a mapping {warn: N, high: N, critical: N, on: EXPR}", at: node)
            return nil
        }
        var spec = SeveritySpec()
        var ok = true
        for (key, value) in mapping {
            let name = key.scalar?.string ?? ""
            switch name {
            case "on":
                spec.on = value.scalar?.string
                spec.onExpression = expression(value, key: "severity.on", expecting: .number)
                ok = ok && spec.onExpression != nil
            case "warn", "high", "critical":
                guard let text = value.scalar?.string, let number = Double(text), number.isFinite else {
                    report("severity.\(name) must be a number in the unit of the severity value", at: value)
                    ok = false
                    continue
                }
                switch name {
                case "warn": spec.warn = number
                case "high": spec.high = number
                default: spec.critical = number
                }
            default:
                let suggestion = RuleSuggestion.closest(to: name, in: RuleFile.severityKeys)
                report("unknown severity key \"\(name)\"\(RuleSuggestion.hint(suggestion)); use warn, high, critical, on", at: key)
                ok = false
            }
        }
        if spec.levels.isEmpty, ok {
            report("severity mapping needs at least one of warn, high, critical", at: node)
            return nil
        }
        var op: RuleExpression.ComparisonOperator?
        if let comparison, case let .comparison(found, _, _) = comparison.kind { op = found }
        if ok, spec.higherIsWorse(firstOperator: op) == nil {
            report("severity levels must all rise (warn ≤ high ≤ critical: higher is worse) or all fall (lower is worse)", at: node)
            return nil
        }
        return ok ? spec : nil
    }
}
