/// A parsed `when:` condition, `severity.on` value or explain placeholder.
///
/// Every node keeps its span in the text it was parsed from (offsets in Unicode scalars,
/// the unit Yams columns use) so that errors found after parsing — an unknown metric, a
/// type mismatch — still point at a line and column of the YAML file, and so that
/// verdicts can show the left and right side of each comparison as the author wrote it.
struct RuleExpression: Sendable, Equatable {
    indirect enum Kind: Sendable, Equatable {
        case number(Double)
        case metric(String, MetricReference)
        case negate(RuleExpression)
        case arithmetic(ArithmeticOperator, RuleExpression, RuleExpression)
        case comparison(ComparisonOperator, RuleExpression, RuleExpression)
        case and(RuleExpression, RuleExpression)
        case or(RuleExpression, RuleExpression)
        case not(RuleExpression)
        case call(RuleFunction, [RuleExpression])
    }

    /// Whether a node yields a number or a condition (true/false/unknown); checked at parse time.
    enum ValueType: Sendable, Equatable {
        case number
        case condition

        var noun: String { self == .number ? "a number" : "a condition" }
    }

    /// Which step a metric is read at. `current` is a bare name: the step under evaluation.
    enum MetricReference: Sendable, Equatable {
        case current
        case run
        case first
        case last
        case knee
        case step(Int)

        /// The selector as written after `@` (empty for a bare name).
        var suffix: String {
            switch self {
            case .current: ""
            case .run: "@run"
            case .first: "@first"
            case .last: "@last"
            case .knee: "@knee"
            case let .step(index): "@step(\(index))"
            }
        }
    }

    enum ArithmeticOperator: String, Sendable, Equatable {
        case add = "+", subtract = "-", multiply = "*", divide = "/"
    }

    enum ComparisonOperator: String, Sendable, Equatable, CaseIterable {
        case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
        case equal = "==", notEqual = "!="

        func holds(_ lhs: Double, _ rhs: Double) -> Bool {
            switch self {
            case .less: lhs < rhs
            case .lessOrEqual: lhs <= rhs
            case .greater: lhs > rhs
            case .greaterOrEqual: lhs >= rhs
            case .equal: lhs == rhs
            case .notEqual: lhs != rhs
            }
        }
    }

    enum RuleFunction: String, Sendable, Equatable, CaseIterable {
        case min, max, abs
        case maxOverSteps = "max_over_steps"
        case minOverSteps = "min_over_steps"
        case anyStep = "any_step"
        case allSteps = "all_steps"

        /// Argument type, result type, and how many arguments (nil = one or more).
        var signature: (argument: ValueType, result: ValueType, arity: Int?) {
            switch self {
            case .min, .max: (.number, .number, nil)
            case .abs, .maxOverSteps, .minOverSteps: (.number, .number, 1)
            case .anyStep, .allSteps: (.condition, .condition, 1)
            }
        }

        /// Whether the argument is evaluated once per step (so bare metrics inside it vary).
        var iteratesSteps: Bool {
            switch self {
            case .maxOverSteps, .minOverSteps, .anyStep, .allSteps: true
            case .min, .max, .abs: false
            }
        }
    }

    var kind: Kind
    var type: ValueType
    /// Scalar offsets into the parsed text: `start..<end`.
    var start: Int
    var end: Int
    /// The source text of this node, trimmed, as shown in evidence rows.
    var text: String

    /// Every metric named in the tree with its span, in source order.
    var metricReferences: [(name: String, reference: MetricReference, start: Int, end: Int)] {
        var result: [(name: String, reference: MetricReference, start: Int, end: Int)] = []
        visit { node in
            if case let .metric(name, reference) = node.kind {
                result.append((name, reference, node.start, node.end))
            }
        }
        return result
    }

    /// True when a bare metric is read outside any per-step aggregation: only then does the
    /// value of the expression depend on which step is being evaluated.
    var dependsOnCurrentStep: Bool {
        switch kind {
        case .number: false
        case let .metric(_, reference): reference == .current
        case let .negate(a), let .not(a): a.dependsOnCurrentStep
        case let .arithmetic(_, a, b), let .comparison(_, a, b), let .and(a, b), let .or(a, b):
            a.dependsOnCurrentStep || b.dependsOnCurrentStep
        case let .call(function, arguments):
            !function.iteratesSteps && arguments.contains { $0.dependsOnCurrentStep }
        }
    }

    /// The first comparison in source order: the one severity and the headline evidence use.
    var firstComparison: RuleExpression? {
        var found: RuleExpression?
        visit { node in
            if found == nil, case .comparison = node.kind { found = node }
        }
        return found
    }

    /// Pre-order, left to right: source order.
    func visit(_ body: (RuleExpression) -> Void) {
        body(self)
        switch kind {
        case .number, .metric: break
        case let .negate(a), let .not(a): a.visit(body)
        case let .arithmetic(_, a, b), let .comparison(_, a, b), let .and(a, b), let .or(a, b):
            a.visit(body)
            b.visit(body)
        case let .call(_, arguments):
            for argument in arguments { argument.visit(body) }
        }
    }
}
