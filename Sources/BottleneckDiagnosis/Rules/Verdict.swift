/// One piece of evidence behind a verdict: a comparison as it was evaluated.
///
/// Reports print it as `client.process.cpu_cores = 0.98 (threshold >= 0.90)`.
public struct EvidenceItem: Sendable, Codable, Equatable {
    /// The left side of the comparison as written: a metric name, or an expression over metrics.
    public var metric: String
    /// nil when the evidence was missing.
    public var value: Double?
    /// The right side's value, the reference the metric was compared against.
    public var threshold: Double?
    /// The operator, `<`, `<=`, `>`, `>=`, `==` or `!=`.
    public var comparison: String
    /// The right side as written, e.g. `0.9 * client.cpu.allowed_cores`.
    public var thresholdExpression: String
    /// Whether the comparison held; nil when a side was missing.
    public var holds: Bool?

    public init(metric: String, value: Double?, threshold: Double?, comparison: String, thresholdExpression: String, holds: Bool?) {
        self.metric = metric
        self.value = value
        self.threshold = threshold
        self.comparison = comparison
        self.thresholdExpression = thresholdExpression
        self.holds = holds
    }
}

/// A fired rule: what is to blame, how sure and how bad, with the numbers that say so.
///
/// Findings are data: a verdict is never an error, even a critical one.
public struct Verdict: Sendable, Codable, Equatable {
    public var rule: String
    public var culprit: Culprit
    public var cause: String
    /// 0...1; see `RuleScoring.confidence`.
    public var confidence: Double
    public var severity: Severity
    /// Every comparison evaluated at the verdict's step, in source order.
    public var evidence: [EvidenceItem]
    /// The rendered explain template.
    public var explain: String
    public var next: [String]
    /// The step (0-based) the verdict is about: the worst step for rules over bare metrics,
    /// the selected step for rules pinned to one step (`@knee`), nil for run-level rules.
    public var step: Int?
    /// Evidence the rule wanted but the run did not have (metric names with their selector).
    public var missing: [String]

    public init(rule: String, culprit: Culprit, cause: String, confidence: Double, severity: Severity, evidence: [EvidenceItem], explain: String, next: [String], step: Int?, missing: [String]) {
        self.rule = rule
        self.culprit = culprit
        self.cause = cause
        self.confidence = confidence
        self.severity = severity
        self.evidence = evidence
        self.explain = explain
        self.next = next
        self.step = step
        self.missing = missing
    }
}

/// The rule engine's answer for one run.
public struct DiagnosisOutcome: Sendable, Codable, Equatable {
    /// Most severe first, then most confident, then by rule id.
    public var verdicts: [Verdict]
    /// True when any verdict blames the load generator: the run's numbers must not be trusted
    /// (exit code 3).
    public var invalid: Bool
    /// Every metric reference some rule read and the run did not have, sorted; reports use
    /// it to say which evidence to collect (e.g. run with capture privileges).
    public var missingEvidence: [String]

    public init(verdicts: [Verdict], invalid: Bool, missingEvidence: [String]) {
        self.verdicts = verdicts
        self.invalid = invalid
        self.missingEvidence = missingEvidence
    }
}
