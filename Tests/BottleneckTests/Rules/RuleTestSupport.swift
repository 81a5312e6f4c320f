@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

/// Evidence from a table: `values[metric]` is per step; `runValues[metric]` is run-level.
struct RulesFakeEvidence: EvidenceSource {
    var values: [String: [Double?]] = [:]
    var runValues: [String: Double] = [:]
    var stepCount: Int = 0
    var kneeStep: Int?

    func value(_ metric: String, step: StepSelector) -> Double? {
        switch step {
        case .run: return runValues[metric]
        case let .step(index):
            guard let series = values[metric], index < series.count else { return nil }
            return series[index]
        }
    }
}

enum RulesTestCatalog {
    static let catalog = MetricCatalog([
        MetricDefinition(name: "client.process.cpu_cores", unit: "cores", source: "/proc/self/stat", description: "CPU used by the load generator"),
        MetricDefinition(name: "client.cpu.allowed_cores", unit: "cores", source: "cgroup cpu.max", description: "cores the generator may use"),
        MetricDefinition(name: "load.achieved_ratio", unit: "ratio", source: "load engine", description: "achieved / intended rate"),
        MetricDefinition(name: "server.queue.p99_ms", unit: "ms", source: "Server-Timing", description: "p99 queue time"),
        MetricDefinition(name: "model.p99_ms", unit: "ms", source: "Server-Timing", description: "p99 model time"),
        MetricDefinition(name: "latency.p99_ms", unit: "ms", source: "load engine", description: "p99 latency"),
        MetricDefinition(name: "net.retransmits", unit: "count", source: "capture", description: "TCP retransmits"),
        MetricDefinition(name: "a", unit: "", source: "test", description: "test"),
        MetricDefinition(name: "b", unit: "", source: "test", description: "test"),
        MetricDefinition(name: "c", unit: "", source: "test", description: "test"),
    ])
}

/// Fully parenthesized form of an expression, to assert the tree a precedence rule builds.
func rulesShape(_ e: RuleExpression) -> String {
    switch e.kind {
    case let .number(v): return v == v.rounded() ? String(Int(v)) : String(v)
    case let .metric(name, ref): return name + ref.suffix
    case let .negate(a): return "(-\(rulesShape(a)))"
    case let .not(a): return "(not \(rulesShape(a)))"
    case let .arithmetic(op, a, b): return "(\(rulesShape(a)) \(op.rawValue) \(rulesShape(b)))"
    case let .comparison(op, a, b): return "(\(rulesShape(a)) \(op.rawValue) \(rulesShape(b)))"
    case let .and(a, b): return "(\(rulesShape(a)) and \(rulesShape(b)))"
    case let .or(a, b): return "(\(rulesShape(a)) or \(rulesShape(b)))"
    case let .call(f, args): return "\(f.rawValue)(\(args.map(rulesShape).joined(separator: ", ")))"
    }
}

/// Evaluates a condition (or, with `number: true`, a numeric expression) on `source`.
func rulesEvaluate(_ text: String, _ source: RulesFakeEvidence = RulesFakeEvidence(), step: Int? = nil) throws -> (Bool?, RuleTrace) {
    let expression = try RuleExpressionParser.parse(text, expecting: .condition)
    var trace = RuleTrace()
    let result = RuleEvaluator(source: source, currentStep: step).condition(expression, into: &trace)
    return (result, trace)
}

func rulesNumber(_ text: String, _ source: RulesFakeEvidence = RulesFakeEvidence(), step: Int? = nil) throws -> Double? {
    let expression = try RuleExpressionParser.parse(text, expecting: .number)
    var trace = RuleTrace()
    return RuleEvaluator(source: source, currentStep: step).number(expression, into: &trace)
}
