/// Turns evidence into ranked verdicts. Pure: the same rules and evidence give the same outcome,
/// so `bottleneck report RUN_DIR` can re-run it offline.
///
/// A rule whose condition reads a bare metric name (outside `any_step`, `all_steps`,
/// `max_over_steps`, `min_over_steps`) is evaluated once per step, and its verdict is about the
/// worst step where it fired (highest severity, then highest confidence, then earliest).
/// A rule that reads only pinned values (`@knee`, `@run`, aggregations …) is evaluated once.
/// When the source has no steps, bare names read run-level values.
public struct RuleEngine: Sendable {
    public let rules: [Rule]
    public let catalog: MetricCatalog

    public init(rules: [Rule], catalog: MetricCatalog) {
        self.rules = rules
        self.catalog = catalog
    }

    public func evaluate(_ source: some EvidenceSource) -> DiagnosisOutcome {
        var verdicts: [Verdict] = []
        var missing = Set<String>()
        for rule in rules {
            let (verdict, ruleMissing) = evaluate(rule, on: source)
            missing.formUnion(ruleMissing)
            if let verdict { verdicts.append(verdict) }
        }
        verdicts.sort(by: Self.ranksBefore)
        return DiagnosisOutcome(
            verdicts: verdicts,
            invalid: verdicts.contains { $0.culprit == .loadGenerator },
            missingEvidence: missing.sorted())
    }

    /// Load-generator verdicts first (they make the run invalid, which every output shows
    /// first), then severity, then confidence, then rule id (so the order is stable).
    static func ranksBefore(_ a: Verdict, _ b: Verdict) -> Bool {
        if (a.culprit == .loadGenerator) != (b.culprit == .loadGenerator) { return a.culprit == .loadGenerator }
        if a.severity != b.severity { return a.severity > b.severity }
        if a.confidence != b.confidence { return a.confidence > b.confidence }
        if a.rule != b.rule { return a.rule < b.rule }
        return (a.step ?? -1) < (b.step ?? -1)
    }

    /// The verdict if the rule fired, and the references it found missing where they left it undecided.
    func evaluate<Source: EvidenceSource>(_ rule: Rule, on source: Source) -> (Verdict?, Set<String>) {
        let steps: [Int?] = rule.condition.dependsOnCurrentStep && source.stepCount > 0
            ? Array(0..<source.stepCount) : [nil]
        var missing = Set<String>()
        var best: Verdict?
        for step in steps {
            let evaluator = RuleEvaluator(source: source, currentStep: step)
            var trace = RuleTrace()
            let fired = evaluator.condition(rule.condition, into: &trace)
            // Missing evidence matters only where it left the rule undecided: a condition that is
            // false whatever the missing values would have been could not have changed the verdict.
            if fired == nil { missing.formUnion(trace.missing) }
            guard fired == true else { continue }
            let verdict = makeVerdict(rule, evaluator: evaluator, trace: trace, step: step)
            if let current = best {
                if (verdict.severity, verdict.confidence) > (current.severity, current.confidence) { best = verdict }
            } else {
                best = verdict
            }
        }
        return (best, missing)
    }

    private func makeVerdict<Source: EvidenceSource>(_ rule: Rule, evaluator: RuleEvaluator<Source>, trace: RuleTrace, step: Int?) -> Verdict {
        var trace = trace
        let confidence = RuleScoring.confidence(comparisons: trace.comparisons, completeness: trace.completeness)
        let firstOperator = rule.condition.firstComparison.flatMap { node -> RuleExpression.ComparisonOperator? in
            if case let .comparison(op, _, _) = node.kind { return op }
            return nil
        }
        let severityValue: Double? = if let on = rule.severity.onExpression {
            evaluator.number(on, into: &trace)
        } else {
            trace.comparisons.first?.lhs
        }
        let severity = rule.severity.severity(for: severityValue, firstOperator: firstOperator)
        let verdictStep = step ?? (trace.explicitSteps.count == 1 ? trace.explicitSteps.first : nil)
        let explain = rule.explainTemplate.render(with: evaluator, step: verdictStep, into: &trace)
        // The comparisons the verdict rests on: an `or` branch that did not hold is not evidence.
        let evidence = trace.comparisons.filter(\.supportsFiring).map {
            EvidenceItem(metric: $0.left, value: $0.lhs, threshold: $0.rhs, comparison: $0.op.rawValue,
                         thresholdExpression: $0.right, holds: $0.holds)
        }
        return Verdict(rule: rule.id, culprit: rule.culprit, cause: rule.cause, confidence: confidence,
                       severity: severity, evidence: evidence, explain: explain, next: rule.next,
                       step: verdictStep, missing: trace.missing)
    }
}
