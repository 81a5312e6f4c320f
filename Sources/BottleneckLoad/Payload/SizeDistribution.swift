/// How a size range (image width, token count, audio length) is sampled.
///
/// `uniform` spreads load evenly over the range, which is what a payload sweep wants;
/// `logNormal` clusters around the geometric middle with a tail to the large end, which is
/// what production traffic usually looks like.
import BottleneckCore

public enum SizeDistribution: String, Sendable, Equatable {
    case uniform
    case logNormal = "lognormal"

    /// Draws an integer in `range` under this distribution.
    func sample(_ range: ClosedRange<Int>, _ random: inout SeededRandom) -> Int {
        switch self {
        case .uniform:
            return random.uniform(range)
        case .logNormal:
            let value = random.logNormal(between: Double(max(range.lowerBound, 1))...Double(range.upperBound))
            return min(max(Int(value.rounded()), range.lowerBound), range.upperBound)
        }
    }

    /// Draws a number in `range` under this distribution.
    func sample(_ range: ClosedRange<Double>, _ random: inout SeededRandom) -> Double {
        switch self {
        case .uniform:
            return random.uniform(range)
        case .logNormal:
            return random.logNormal(between: range)
        }
    }
}
