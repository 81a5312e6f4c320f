import Foundation

/// Axis tick positions a person can read at a glance.
///
/// Ticks fall on multiples of 1, 2 or 5 × 10ⁿ (Heckbert's "nice numbers"), and the range is
/// widened outwards to whole ticks so the first and last gridline frame the data. Unlike
/// Heckbert's original, the step is the smallest of the 1-2-5 series whose tick count fits
/// `maxTicks`, so callers get a hard upper bound they can lay out against.
public enum NiceTicks: Sendable {
    /// Ticks covering `min...max` (the first ≤ min, the last ≥ max), at most `maxTicks` of them.
    ///
    /// A zero-width range is widened by 10 % on each side (to 0...1 at zero), so a single
    /// measurement still gets an axis. Returns `[]` when a bound is not finite. When the span
    /// itself overflows a Double, the two bounds are returned as they are.
    public static func linear(min lower: Double, max upper: Double, maxTicks: Int = 6) -> [Double] {
        guard lower.isFinite, upper.isFinite else { return [] }
        var lo = Swift.min(lower, upper)
        var hi = Swift.max(lower, upper)
        if lo == hi {
            if lo == 0 {
                hi = 1
            } else {
                let pad = abs(lo) * 0.1
                lo -= pad
                hi += pad
            }
        }
        let span = hi - lo
        guard span.isFinite, span > 0 else { return [lo, hi] }
        let limit = Swift.max(2, maxTicks)

        // Start one decade below the step that would give `limit` ticks and walk up the series.
        var exponent = Int((log10(span / Double(limit))).rounded(.down)) - 1
        while true {
            for mantissa in [1.0, 2.0, 5.0] {
                let step = niceStep(mantissa, exponent)
                let first = (lo / step).rounded(.down)
                let last = (hi / step).rounded(.up)
                let count = last - first + 1
                guard count.isFinite else { continue }
                if count <= Double(limit) {
                    let ticks = (0..<Int(count)).map { niceValue(first + Double($0), mantissa, exponent) }
                    let finite = ticks.filter(\.isFinite)
                    return finite.count >= 2 ? finite : [lo, hi]
                }
            }
            exponent += 1
            if exponent > 400 { return [lo, hi] }
        }
    }

    /// Major ticks of a log axis: powers of ten from the decade at or below `min` to the one
    /// at or above `max`. Ranges over more than 10 decades keep every 2nd, 3rd … decade.
    /// Returns `[]` unless both bounds are positive and finite.
    public static func log(min lower: Double, max upper: Double) -> [Double] {
        guard let (first, last) = decades(lower, upper) else { return [] }
        let stride = Swift.max(1, Int((Double(last - first) / 10).rounded(.up)))
        var ticks: [Double] = []
        var exponent = first
        while exponent < last {
            ticks.append(pow10(exponent))
            exponent += stride
        }
        ticks.append(pow10(exponent))
        return ticks
    }

    /// Minor ticks of a log axis (2…9 × 10ⁿ) strictly between the major ticks of
    /// `log(min:max:)`; empty when the majors skip decades, where minors would be clutter.
    public static func logMinor(min lower: Double, max upper: Double) -> [Double] {
        let majors = log(min: lower, max: upper)
        guard majors.count >= 2, let first = majors.first, let last = majors.last,
              (majors[1] / majors[0]).rounded() == 10 else { return [] }
        var minors: [Double] = []
        var decade = first
        while decade < last {
            for m in 2...9 { minors.append(decade * Double(m)) }
            decade *= 10
        }
        return minors
    }

    private static func decades(_ lower: Double, _ upper: Double) -> (Int, Int)? {
        guard lower.isFinite, upper.isFinite, lower > 0, upper > 0 else { return nil }
        let lo = Swift.min(lower, upper)
        let hi = Swift.max(lower, upper)
        var first = Int(log10(lo).rounded(.down))
        var last = Int(log10(hi).rounded(.up))
        // log10 of an exact power of ten can land a hair off; trust the exact comparison.
        if pow10(first + 1) <= lo { first += 1 }
        if last > first, pow10(last - 1) >= hi { last -= 1 }
        if first == last { last += 1 }
        return (first, last)
    }

    /// 10ⁿ computed so that negative exponents are exact decimal fractions (1 / 1000, not 10^-3).
    private static func pow10(_ exponent: Int) -> Double {
        exponent >= 0 ? Foundation.pow(10, Double(exponent)) : 1 / Foundation.pow(10, Double(-exponent))
    }

    private static func niceStep(_ mantissa: Double, _ exponent: Int) -> Double {
        exponent >= 0 ? mantissa * pow10(exponent) : mantissa / pow10(-exponent)
    }

    /// index × mantissa × 10ⁿ, computed so 0.1 + 0.2-style error never reaches a tick label.
    private static func niceValue(_ index: Double, _ mantissa: Double, _ exponent: Int) -> Double {
        let value = exponent >= 0 ? index * mantissa * pow10(exponent) : (index * mantissa) / pow10(-exponent)
        return value == 0 ? 0 : value  // no "-0"
    }
}
