/// One comparison as evaluated, so a verdict can print
/// `client.process.cpu_cores = 0.98 (threshold >= 0.90)`.
struct RuleComparisonRecord: Sendable, Equatable {
    var left: String
    var op: RuleExpression.ComparisonOperator
    var right: String
    var lhs: Double?
    var rhs: Double?
    /// nil when a side was missing: the comparison neither holds nor fails.
    var holds: Bool?
    /// Whether this comparison's outcome argues for the rule firing (it holds and is not
    /// under an odd number of `not`s, or fails under one).
    var supportsFiring: Bool
    var step: Int?
}

/// Everything one evaluation touched: comparisons in source order and the evidence reads.
struct RuleTrace: Sendable {
    var comparisons: [RuleComparisonRecord] = []
    var reads = 0
    var missingReads = 0
    /// Metric references (with their selector) that had no value, first seen first.
    var missing: [String] = []
    /// Step indices that explicitly selected metrics resolved to (for step-independent rules).
    var explicitSteps: Set<Int> = []

    mutating func noteMissing(_ name: String) {
        missingReads += 1
        if !missing.contains(name) { missing.append(name) }
    }

    mutating func absorbReads(of other: RuleTrace) {
        reads += other.reads
        missingReads += other.missingReads
        for name in other.missing where !missing.contains(name) { missing.append(name) }
        explicitSteps.formUnion(other.explicitSteps)
    }

    /// Share of metric reads that found a value; 1 when nothing was read.
    var completeness: Double { reads == 0 ? 1 : Double(reads - missingReads) / Double(reads) }
}

/// Evaluates expressions against an evidence source with Kleene three-valued logic.
///
/// A missing value makes arithmetic missing and a comparison *unknown* (nil), and a rule
/// fires only when its condition is definitely true. So a missing value acts as "false"
/// for firing, but `not` cannot turn missing evidence into a verdict:
/// `unknown and false = false`, `unknown or true = true`, `not unknown = unknown`.
/// Both sides of `and`/`or` are always evaluated, so every comparison appears in the evidence.
struct RuleEvaluator<Source: EvidenceSource> {
    let source: Source
    /// The step bare metric names read; nil reads run-level values.
    var currentStep: Int?

    func condition(_ expression: RuleExpression, negated: Bool = false, into trace: inout RuleTrace) -> Bool? {
        switch expression.kind {
        case let .comparison(op, left, right):
            let lhs = number(left, into: &trace)
            let rhs = number(right, into: &trace)
            var holds: Bool?
            if let lhs, let rhs { holds = op.holds(lhs, rhs) }
            trace.comparisons.append(RuleComparisonRecord(
                left: left.text, op: op, right: right.text, lhs: lhs, rhs: rhs, holds: holds,
                supportsFiring: holds.map { $0 != negated } ?? false, step: currentStep))
            return holds
        case let .and(a, b):
            let left = condition(a, negated: negated, into: &trace)
            let right = condition(b, negated: negated, into: &trace)
            if left == false || right == false { return false }
            if left == true && right == true { return true }
            return nil
        case let .or(a, b):
            let left = condition(a, negated: negated, into: &trace)
            let right = condition(b, negated: negated, into: &trace)
            if left == true || right == true { return true }
            if left == false && right == false { return false }
            return nil
        case let .not(a):
            return condition(a, negated: !negated, into: &trace).map { !$0 }
        case let .call(function, arguments) where function == .anyStep || function == .allSteps:
            return stepwiseCondition(function, arguments[0], negated: negated, into: &trace)
        case .number, .metric, .negate, .arithmetic, .call:
            preconditionFailure("parser let a number through as a condition: \(expression.text)")
        }
    }

    func number(_ expression: RuleExpression, into trace: inout RuleTrace) -> Double? {
        switch expression.kind {
        case let .number(value):
            return value
        case let .metric(name, reference):
            return read(name, reference, into: &trace)
        case let .negate(a):
            return number(a, into: &trace).map { -$0 }
        case let .arithmetic(op, a, b):
            let left = number(a, into: &trace)
            let right = number(b, into: &trace)
            guard let left, let right else { return nil }
            let result: Double = switch op {
            case .add: left + right
            case .subtract: left - right
            case .multiply: left * right
            case .divide: left / right
            }
            // x / 0 is not a measurement: treat it as missing rather than as ±infinity.
            return result.isFinite ? result : nil
        case let .call(function, arguments):
            switch function {
            case .min, .max:
                var values: [Double] = []
                var anyMissing = false
                for argument in arguments {
                    if let value = number(argument, into: &trace) { values.append(value) } else { anyMissing = true }
                }
                if anyMissing { return nil }
                return function == .min ? values.min() : values.max()
            case .abs:
                return number(arguments[0], into: &trace).map(Swift.abs)
            case .maxOverSteps, .minOverSteps:
                var values: [Double] = []
                forEachStep { evaluator in
                    if let value = evaluator.number(arguments[0], into: &trace) { values.append(value) }
                }
                return function == .maxOverSteps ? values.max() : values.min()
            case .anyStep, .allSteps:
                preconditionFailure("parser let a condition through as a number: \(expression.text)")
            }
        case .comparison, .and, .or, .not:
            preconditionFailure("parser let a condition through as a number: \(expression.text)")
        }
    }

    /// Runs `body` once per step with bare metrics bound to that step, or once at run
    /// level when the source has no steps.
    private func forEachStep(_ body: (RuleEvaluator) -> Void) {
        if source.stepCount == 0 {
            body(RuleEvaluator(source: source, currentStep: nil))
            return
        }
        for step in 0..<source.stepCount {
            body(RuleEvaluator(source: source, currentStep: step))
        }
    }

    /// `any_step` keeps the comparisons of the first step where the condition holds;
    /// `all_steps` keeps those of the first step where it fails, or of the last step when it holds
    /// everywhere. Reads of every step count toward completeness.
    private func stepwiseCondition(_ function: RuleExpression.RuleFunction, _ argument: RuleExpression, negated: Bool, into trace: inout RuleTrace) -> Bool? {
        var results: [(Bool?, RuleTrace)] = []
        forEachStep { evaluator in
            var stepTrace = RuleTrace()
            let result = evaluator.condition(argument, negated: negated, into: &stepTrace)
            results.append((result, stepTrace))
        }
        for (_, stepTrace) in results { trace.absorbReads(of: stepTrace) }
        let isAny = function == .anyStep
        let decisive = results.first { $0.0 == isAny }
        if let decisive {
            trace.comparisons += decisive.1.comparisons
            return isAny
        }
        if let last = results.last { trace.comparisons += last.1.comparisons }
        return results.contains { $0.0 == nil } ? nil : !isAny
    }

    private func read(_ name: String, _ reference: RuleExpression.MetricReference, into trace: inout RuleTrace) -> Double? {
        trace.reads += 1
        let label = name + reference.suffix
        let selector: StepSelector?
        switch reference {
        case .current: selector = currentStep.map(StepSelector.step) ?? .run
        case .run: selector = .run
        case .first: selector = source.stepCount > 0 ? .step(0) : nil
        case .last: selector = source.stepCount > 0 ? .step(source.stepCount - 1) : nil
        case .knee: selector = source.kneeStep.map(StepSelector.step)
        case let .step(index): selector = index < source.stepCount ? .step(index) : nil
        }
        guard let selector else {
            trace.noteMissing(label)
            return nil
        }
        if reference != .current, case let .step(index) = selector { trace.explicitSteps.insert(index) }
        guard let value = source.value(name, step: selector), value.isFinite else {
            trace.noteMissing(label)
            return nil
        }
        return value
    }
}
