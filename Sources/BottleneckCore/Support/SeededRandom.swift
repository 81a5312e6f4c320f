#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small, fast, seedable random number generator (xoshiro256**, seeded by splitmix64).
///
/// Every random choice a run makes — payload pool contents, Poisson arrival gaps — goes
/// through this type so that `--seed` makes a run reproducible on any machine and Swift
/// version. `SystemRandomNumberGenerator` cannot be seeded, and the standard library does
/// not promise that its own algorithms stay stable, so the helpers below (uniform double,
/// log-normal between bounds, exponential) are implemented here from raw 64-bit words.
///
/// A value type: copy it to fork a stream, and keep one per worker (no locks on the hot path).
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// Creates a generator whose whole output is a function of `seed`.
    public init(seed: UInt64) {
        // splitmix64 spreads any seed (including 0) into a well-mixed, never all-zero state,
        // as the xoshiro authors recommend.
        var state = seed
        s0 = SeededRandom.splitMix64(&state)
        s1 = SeededRandom.splitMix64(&state)
        s2 = SeededRandom.splitMix64(&state)
        s3 = SeededRandom.splitMix64(&state)
    }

    /// A generator for item `index` of a stream seeded with `seed`: independent of how many
    /// numbers any other item drew, so items can be generated in any order (or in parallel)
    /// and still come out identical.
    public init(seed: UInt64, stream index: UInt64) {
        var mixer = seed ^ (index &* 0x9E37_79B9_7F4A_7C15)
        self.init(seed: SeededRandom.splitMix64(&mixer) ^ index)
    }

    /// One step of splitmix64; also handy for hashing a counter into a well-mixed word.
    @inline(__always)
    public static func splitMix64(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 &- k))
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = SeededRandom.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = SeededRandom.rotl(s3, 45)
        return result
    }

    /// A double in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func unitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A double uniformly distributed in `range` (both ends possible up to rounding).
    public mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + unitDouble() * (range.upperBound - range.lowerBound)
    }

    /// An integer uniformly distributed in `range`, without modulo bias
    /// (Lemire's multiply-shift with rejection), so it is stable across Swift versions.
    public mutating func uniform(_ range: ClosedRange<Int>) -> Int {
        let span = UInt64(bitPattern: Int64(range.upperBound &- range.lowerBound)) &+ 1
        if span == 0 { return Int(truncatingIfNeeded: next()) }  // the full 64-bit range
        var product = next().multipliedFullWidth(by: span)
        if product.low < span {
            let threshold = (0 &- span) % span
            while product.low < threshold {
                product = next().multipliedFullWidth(by: span)
            }
        }
        return range.lowerBound &+ Int(truncatingIfNeeded: product.high)
    }

    /// A standard normal variate (Box–Muller; one of the pair is discarded to keep the
    /// generator a plain value with no cached state).
    public mutating func normal() -> Double {
        let u1 = 1.0 - unitDouble()  // (0, 1]: log stays finite
        let u2 = unitDouble()
        return (-2.0 * log(u1)).squareRoot() * cos(2.0 * Double.pi * u2)
    }

    /// A log-normal value between `range`'s bounds: the median is their geometric mean and
    /// the bounds sit two standard deviations out in log space; the rare value beyond them is
    /// drawn again. Real inputs (image sizes, prompt lengths) cluster like this: many
    /// mid-sized ones, a long tail towards the large end.
    public mutating func logNormal(between range: ClosedRange<Double>) -> Double {
        precondition(range.lowerBound > 0, "log-normal bounds must be positive")
        if range.lowerBound == range.upperBound { return range.lowerBound }
        let logLow = log(range.lowerBound)
        let logHigh = log(range.upperBound)
        let mu = (logLow + logHigh) / 2
        let sigma = (logHigh - logLow) / 4
        for _ in 0..<64 {
            let value = exp(mu + sigma * normal())
            if range.contains(value) { return value }
        }
        return exp(mu)  // practically unreachable (p ≈ 0.05^64)
    }

    /// A value uniform in log space between the bounds: ratios such as aspect 0.5..2 are then
    /// symmetric (as many 1:2 portraits as 2:1 landscapes).
    public mutating func logUniform(_ range: ClosedRange<Double>) -> Double {
        precondition(range.lowerBound > 0, "log-uniform bounds must be positive")
        return exp(uniform(log(range.lowerBound)...log(range.upperBound)))
    }

    /// An exponentially distributed value with the given mean: the gap between arrivals of
    /// a Poisson process, which is how open-loop load schedules requests.
    public mutating func exponential(mean: Double) -> Double {
        -mean * log(1.0 - unitDouble())  // 1 - u is in (0, 1], so log is finite
    }
}
