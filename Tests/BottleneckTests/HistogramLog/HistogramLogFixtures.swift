@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Histogram

/// Histograms shared by the .hlog tests. Latencies are nanoseconds, as the load engine
/// records them; every generated distribution is seeded, so a failure replays exactly.
enum HistogramLogFixtures {
    /// The histogram every load worker uses: 1 µs .. 1 h at 3 significant digits.
    static func latency() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1_000, highestTrackableValue: 3_600_000_000_000,
                          numberOfSignificantValueDigits: .three)
    }

    /// Every non-empty slot as [highest value of the slot, count], read through public API.
    /// (`recordedValues()` would do, but its running count × value sum traps on huge counts.)
    static func slots(_ h: Histogram<UInt64>) -> [[UInt64]] {
        let layout = HdrHistogramEncoding.BucketLayout(
            lowestDiscernibleValue: h.lowestDiscernibleValue, highestTrackableValue: h.highestTrackableValue,
            significantDigits: Int(h.numberOfSignificantValueDigits.rawValue))
        guard h.totalCount > 0 else { return [] }
        return (0 ... layout.countsIndex(for: h.maxRecorded)).compactMap { index in
            let value = layout.value(at: index)
            let count = h.countForValue(value)
            return count == 0 ? nil : [h.highestEquivalentForValue(value), count]
        }
    }

    static func filled(_ values: [(UInt64, UInt64)], into histogram: Histogram<UInt64> = latency()) -> Histogram<UInt64> {
        var h = histogram
        for (value, count) in values {
            precondition(h.record(value, count: count), "fixture value \(value) out of range")
        }
        return h
    }

    /// Log-normal latencies between `range` (ns), like a model server's service times.
    static func logNormal(count: Int, between range: ClosedRange<Double>, seed: UInt64) -> Histogram<UInt64> {
        var rng = SeededRandom(seed: seed)
        var h = latency()
        for _ in 0 ..< count { h.record(UInt64(rng.logNormal(between: range))) }
        return h
    }

    static func uniform(count: Int, between range: ClosedRange<Int>, seed: UInt64, into histogram: Histogram<UInt64> = latency()) -> Histogram<UInt64> {
        var rng = SeededRandom(seed: seed)
        var h = histogram
        for _ in 0 ..< count { precondition(h.record(UInt64(rng.uniform(range)))) }
        return h
    }

    /// Fast answers plus a slow mode 100x away (a cache miss, a cold model).
    static func bimodal(count: Int, seed: UInt64) -> Histogram<UInt64> {
        var rng = SeededRandom(seed: seed)
        var h = latency()
        for i in 0 ..< count {
            let slow = i % 20 == 0
            h.record(UInt64(rng.uniform(slow ? 200_000_000 ... 900_000_000 : 2_000_000 ... 9_000_000)))
        }
        return h
    }

    /// Both ends of the trackable range: sub-unit values, exactly 1 µs, and the top slot.
    static func extremes() -> Histogram<UInt64> {
        let h = latency()
        let top = h.highestEquivalentForValue(h.highestTrackableValue)
        return filled([(0, 1), (1, 1), (999, 1), (1_000, 1), (1_001, 1), (3_600_000_000_000, 495), (top, 500)], into: h)
    }
}
