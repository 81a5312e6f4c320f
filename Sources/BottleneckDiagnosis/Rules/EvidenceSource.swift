/// Which value of a metric a rule asks for: the whole run's, or one load step's.
///
/// Step indices are 0-based, in the order the steps ran. The rule engine resolves the
/// expression selectors `@knee`, `@first` and `@last` to `.step(i)` before asking, so a
/// source only ever answers these two cases.
public enum StepSelector: Sendable, Hashable, Codable {
    /// The run-level value (an aggregate over the whole run, or a constant such as a core count).
    case run
    /// The value measured during step `i` (0-based).
    case step(Int)
}

/// Where the rule engine reads evidence from; the analysis implements it over a run directory.
///
/// Returning `nil` means "not measured" (no capture privilege, no Server-Timing …).
/// The engine never substitutes a value: a comparison against a missing value does not
/// hold, and the verdicts list the evidence that was missing. A metric that is constant
/// over the run (e.g. `client.cpu.allowed_cores`) should be answered for every `.step(i)`
/// too, because rules read bare metric names per step.
public protocol EvidenceSource: Sendable {
    func value(_ metric: String, step: StepSelector) -> Double?
    /// Number of load steps; 0 when the run has only run-level values.
    var stepCount: Int { get }
    /// The step where latency starts to climb (0-based), if the analysis found one.
    var kneeStep: Int? { get }
}
