@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Histogram
import Testing

/// The counts-array index math the encoder rebuilds from public API must be the one
/// `Histogram` uses internally and the one every other implementation uses.
@Suite("HdrHistogram bucket layout")
struct HdrBucketLayoutTests {
    typealias Layout = HdrHistogramEncoding.BucketLayout

    static let layouts: [(lowest: UInt64, highest: UInt64, digits: SignificantDigits)] = [
        (1_000, 3_600_000_000_000, .three), (1, 3_600_000_000, .three), (1, 2, .zero), (3, 1_000_000_000, .five),
        (1_023, 1 << 40, .two), (1_024, 1 << 40, .two), (1_025, 1 << 40, .four), (1_000_000, 3_600_000_000_000, .one),
        ((1 << 40) + 1, 1 << 62, .three),
    ]

    @Test("lengths and magnitudes match HdrHistogram's published numbers")
    func knownLengths() {
        // Java's classic example, Histogram(3_600_000_000L, 3): 2048 sub-buckets, 22 buckets, 23552 slots.
        let classic = Layout(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, significantDigits: 3)
        #expect(classic.subBucketCount == 2_048)
        #expect(classic.bucketCount == 22)
        #expect(classic.countsArrayLength == 23_552)
        // Ours, in ns: the unit is 512 ns (2^9 <= 1000), so 1 µs..1 h needs 23 buckets.
        let ours = Layout(lowestDiscernibleValue: 1_000, highestTrackableValue: 3_600_000_000_000, significantDigits: 3)
        #expect(ours.unitMagnitude == 9)
        #expect(ours.countsArrayLength == 24_576)
        #expect(Layout(lowestDiscernibleValue: 1, highestTrackableValue: 2, significantDigits: 0).subBucketCount == 2)
        #expect(Layout(lowestDiscernibleValue: 1, highestTrackableValue: 2, significantDigits: 5).subBucketCount == 262_144)
    }

    @Test("slot of every probed value agrees with Histogram's equivalence ranges", arguments: 0 ..< layouts.count)
    func agreesWithHistogram(_ i: Int) {
        let (lowest, highest, digits) = Self.layouts[i]
        let h = Histogram<UInt64>(lowestDiscernibleValue: lowest, highestTrackableValue: highest, numberOfSignificantValueDigits: digits)
        let layout = Layout(lowestDiscernibleValue: lowest, highestTrackableValue: highest, significantDigits: Int(digits.rawValue))
        #expect(h.sizeOfEquivalentRangeForValue(0) == UInt64(1) << UInt64(layout.unitMagnitude))

        // Every power of two and its neighbours up to the top, plus seeded random values.
        var probes: [UInt64] = [0, 1, lowest - 1, lowest, lowest + 1, highest]
        for bit in 0 ..< 63 where (UInt64(1) << bit) <= h.highestEquivalentForValue(highest) {
            let p = UInt64(1) << bit
            probes += [p - 1, p, p + 1]
        }
        var rng = SeededRandom(seed: UInt64(i))
        for _ in 0 ..< 2_000 { probes.append(rng.next() % highest) }

        for v in probes {
            let index = layout.countsIndex(for: v)
            #expect(index >= 0 && index < layout.countsArrayLength, "value \(v)")
            #expect(layout.value(at: index) == h.lowestEquivalentForValue(v), "value \(v)")
            #expect(layout.countsIndex(for: h.highestEquivalentForValue(v)) == index, "value \(v)")
            let next = h.nextNonEquivalentForValue(v)
            if next <= highest {
                #expect(layout.countsIndex(for: next) == index + 1, "value \(v)")
            }
        }
    }

    @Test("value(at:) inverts countsIndex(for:) over the whole array")
    func inverse() {
        let layout = Layout(lowestDiscernibleValue: 1_000, highestTrackableValue: 3_600_000_000_000, significantDigits: 3)
        for index in 0 ..< layout.countsArrayLength {
            #expect(layout.countsIndex(for: layout.value(at: index)) == index)
        }
    }
}
