/// The intended send times of one event loop's share of an open-loop step.
///
/// Times advance from the previous intended time, never from "now", so a late timer
/// cannot silently lower the offered rate: it only shows up as schedule lag.
struct ArrivalSchedule {
    private(set) var next: UInt64
    private let meanGap: Double
    private let process: ArrivalProcess
    private var random: SplitMix64
    /// Fractional nanoseconds carried between uniform gaps so long runs do not drift.
    private var carry: Double = 0

    init(start: UInt64, rate: Double, process: ArrivalProcess, seed: UInt64) {
        self.meanGap = 1e9 / rate
        self.process = process
        self.random = SplitMix64(seed: seed)
        // Stagger loops' first arrivals so two loops at the same rate do not send in lockstep.
        self.next = start &+ UInt64(Double(random.next() % 1_000_000) / 1e6 * min(meanGap, 1e9))
    }

    /// Returns the current intended time and moves to the following one.
    @inline(__always)
    mutating func advance() -> UInt64 {
        let current = next
        let gap: Double
        switch process {
        case .uniform:
            gap = meanGap + carry
        case .poisson:
            // Inverse-CDF sampling of an exponential gap; u in (0, 1].
            let u = (Double(random.next() >> 11) + 1) * 0x1p-53
            gap = -meanGap * _log(u) + carry
        }
        let whole = gap.rounded(.down)
        carry = gap - whole
        next = current &+ UInt64(max(0, whole))
        return current
    }
}

/// A tiny, fast generator for arrival jitter (Steele, Lea and Flood's SplitMix64).
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    @inline(__always)
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) func _log(_ x: Double) -> Double { Darwin.log(x) }
#endif
