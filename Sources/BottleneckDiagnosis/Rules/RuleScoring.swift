/// How sure a verdict is. Kept in one place so reports and docs can quote it.
public enum RuleScoring: Sendable {
    /// A comparison this far beyond its threshold (relative) counts as fully clear.
    public static let fullMarginFraction = 0.25

    /// Confidence of a fired rule, in 0...1:
    ///
    ///     margin_i     = |lhs − rhs| / max(|lhs|, |rhs|, 1e-12)          for <, <=, >, >=
    ///     score_i      = 0.5 + 0.5 · min(1, margin_i / 0.25)             (1 for == and !=)
    ///     marginScore  = min over the comparisons that support the firing (1 if none)
    ///     completeness = metric reads that found a value / all metric reads
    ///     confidence   = marginScore · (0.5 + 0.5 · completeness)
    ///
    /// So a rule that barely crosses its threshold scores 0.5, one 25 % past it scores 1,
    /// the weakest supporting comparison bounds the score (an `and` is as strong as its
    /// weakest leg), and every missing value costs up to half the confidence.
    /// "Supporting" comparisons are those whose outcome makes the rule fire: the ones that
    /// hold, or under an odd number of `not`s, the ones that fail.
    static func confidence(comparisons: [RuleComparisonRecord], completeness: Double) -> Double {
        var marginScore = 1.0
        for record in comparisons where record.supportsFiring {
            marginScore = min(marginScore, score(record))
        }
        let value = marginScore * (0.5 + 0.5 * completeness)
        return (value * 1000).rounded() / 1000
    }

    static func score(_ record: RuleComparisonRecord) -> Double {
        guard let lhs = record.lhs, let rhs = record.rhs else { return 0.5 }
        switch record.op {
        case .equal, .notEqual: return 1
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            let margin = Swift.abs(lhs - rhs) / Swift.max(Swift.abs(lhs), Swift.abs(rhs), 1e-12)
            return 0.5 + 0.5 * Swift.min(1, margin / fullMarginFraction)
        }
    }
}
