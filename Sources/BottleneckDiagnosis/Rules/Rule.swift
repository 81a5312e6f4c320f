/// One diagnosis rule loaded from a rules file: when its condition holds on the evidence,
/// it produces a `Verdict` blaming `culprit` for `cause`.
///
/// Rules are only built by `RuleFile`, which checks every metric name against the catalog,
/// so a rule that loaded can be evaluated without further errors.
public struct Rule: Sendable, Equatable {
    public var id: String
    public var culprit: Culprit
    /// Short kebab-case name of the mechanism, e.g. `client-cpu`; reports group by it.
    public var cause: String
    /// The `when:` condition as written.
    public var when: String
    public var severity: SeveritySpec
    /// The `explain:` template as written.
    public var explain: String
    /// Playbook paths or commands to try next, in order.
    public var next: [String]
    /// Optional free text for `bottleneck rules explain`.
    public var description: String?
    /// Where the rule's `- id:` entry starts.
    public var location: RuleSourceLocation

    var condition: RuleExpression
    var explainTemplate: ExplainTemplate
}
