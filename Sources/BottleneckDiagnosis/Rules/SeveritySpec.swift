/// How a rule turns "it fired" into warn / high / critical.
///
/// YAML forms: `severity: high` (fixed), or `severity: {warn: W, high: H, critical: C, on: EXPR}`
/// with any subset of the levels. The *severity value* is `on` evaluated at the verdict's
/// step, or, without `on`, the left side of the rule's first comparison (in source order),
/// in that metric's unit. Write a ratio on the left (`a / b >= 0.9`) to get fractions.
///
/// Direction: when the levels grow (warn < critical) higher values are worse; when they
/// shrink, lower values are worse; with one level, the first comparison's operator decides
/// (`<`, `<=`: lower is worse). The verdict gets the highest level the value reaches, `info`
/// if it reaches none, and the lowest configured level if the value is missing.
/// Without a `severity` key a fired rule is `warn`.
public struct SeveritySpec: Sendable, Equatable {
    public var fixed: Severity?
    public var warn: Double?
    public var high: Double?
    public var critical: Double?
    /// The `on:` expression as written, if any.
    public var on: String?
    var onExpression: RuleExpression?

    public static let defaultWarn = SeveritySpec(fixed: .warn)

    init(fixed: Severity? = nil, warn: Double? = nil, high: Double? = nil, critical: Double? = nil, on: String? = nil, onExpression: RuleExpression? = nil) {
        self.fixed = fixed
        self.warn = warn
        self.high = high
        self.critical = critical
        self.on = on
        self.onExpression = onExpression
    }

    var levels: [(Severity, Double)] {
        [(Severity.warn, warn), (.high, high), (.critical, critical)].compactMap { level, value in value.map { (level, $0) } }
    }

    /// nil when the levels go up and down (e.g. warn 1, high 3, critical 2): a rules-check error.
    func higherIsWorse(firstOperator: RuleExpression.ComparisonOperator?) -> Bool? {
        let values = levels.map(\.1)
        guard let first = values.first, let last = values.last else { return true }
        if first == last {
            guard values.allSatisfy({ $0 == first }) else { return nil }
            return !(firstOperator == .less || firstOperator == .lessOrEqual)
        }
        let rising = first < last
        for (a, b) in zip(values, values.dropFirst()) where rising ? a > b : a < b { return nil }
        return rising
    }

    func severity(for value: Double?, firstOperator: RuleExpression.ComparisonOperator?) -> Severity {
        if let fixed { return fixed }
        let levels = levels
        guard let lowest = levels.first else { return .warn }
        guard let value else { return lowest.0 }
        let higherIsWorse = higherIsWorse(firstOperator: firstOperator) ?? true
        var result = Severity.info
        for (level, threshold) in levels where higherIsWorse ? value >= threshold : value <= threshold {
            result = max(result, level)
        }
        return result
    }
}
