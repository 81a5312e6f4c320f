/// How bad a fired rule is; verdicts are ranked by it before confidence.
///
/// `info` is what a rule that fired gets when its severity value did not reach the
/// rule's `warn` level: the condition holds, but not by enough to alarm anyone.
public enum Severity: String, Sendable, Codable, CaseIterable, Comparable {
    case info
    case warn
    case high
    case critical

    private var rank: Int {
        switch self {
        case .info: 0
        case .warn: 1
        case .high: 2
        case .critical: 3
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}
