@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Histogram
import Testing

/// A histogram to encode, with a name for the test report.
struct EncodingCase: Sendable, CustomTestStringConvertible {
    let name: String
    let make: @Sendable () -> Histogram<UInt64>
    var testDescription: String { name }
}

@Suite("HdrHistogram V2 encoding")
struct HdrHistogramEncodingTests {
    static let cases: [EncodingCase] = [
        EncodingCase(name: "empty") { HistogramLogFixtures.latency() },
        EncodingCase(name: "single value") { HistogramLogFixtures.filled([(1_234_567, 1)]) },
        EncodingCase(name: "only zero") { HistogramLogFixtures.filled([(0, 7)]) },
        EncodingCase(name: "extremes of the range") { HistogramLogFixtures.extremes() },
        EncodingCase(name: "log-normal 1 ms..2 s") {
            HistogramLogFixtures.logNormal(count: 50_000, between: 1_000_000 ... 2_000_000_000, seed: 1)
        },
        EncodingCase(name: "uniform 1 µs..1 s") {
            HistogramLogFixtures.uniform(count: 20_000, between: 1_000 ... 1_000_000_000, seed: 2)
        },
        EncodingCase(name: "bimodal") { HistogramLogFixtures.bimodal(count: 10_000, seed: 3) },
        EncodingCase(name: "every slot of the first buckets") {
            var h = HistogramLogFixtures.latency()
            for v in stride(from: UInt64(0), to: 4_000_000, by: 511) { h.record(v) }
            return h
        },
        EncodingCase(name: "huge counts (9-byte words)") {
            HistogramLogFixtures.filled([(5_000, 1 << 61), (6_000, (1 << 61) + 12_345), (7_000, 1)])
        },
        EncodingCase(name: "unit 1, 3 digits, 1 h in µs") {
            HistogramLogFixtures.uniform(count: 5_000, between: 1 ... 3_600_000_000, seed: 4,
                                         into: Histogram(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three))
        },
        EncodingCase(name: "unit 1024, 2 digits") {
            HistogramLogFixtures.uniform(count: 5_000, between: 0 ... 50_000_000, seed: 5,
                                         into: Histogram(lowestDiscernibleValue: 1_024, highestTrackableValue: 60_000_000_000,
                                                         numberOfSignificantValueDigits: .two))
        },
        EncodingCase(name: "unit 3, 5 digits") {
            HistogramLogFixtures.uniform(count: 5_000, between: 0 ... 1_000_000_000, seed: 6,
                                         into: Histogram(lowestDiscernibleValue: 3, highestTrackableValue: 1_000_000_000,
                                                         numberOfSignificantValueDigits: .five))
        },
        EncodingCase(name: "unit 1e6, 1 digit") {
            HistogramLogFixtures.uniform(count: 5_000, between: 0 ... 3_000_000_000_000, seed: 7,
                                         into: Histogram(lowestDiscernibleValue: 1_000_000, highestTrackableValue: 3_600_000_000_000,
                                                         numberOfSignificantValueDigits: .one))
        },
        EncodingCase(name: "0 digits") {
            HistogramLogFixtures.uniform(count: 2_000, between: 0 ... 1_000_000, seed: 8,
                                         into: Histogram(highestTrackableValue: 1_000_000, numberOfSignificantValueDigits: .zero))
        },
        EncodingCase(name: "auto-resized") {
            var h = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
            for v: UInt64 in [1, 10, 1_000, 1_000_000, 1_000_000_000_000, 1 << 50] { h.record(v, count: v % 7 + 1) }
            return h
        },
    ]

    @Test("encode then decode gives the same histogram", arguments: cases)
    func roundTrip(_ c: EncodingCase) throws {
        let original = c.make()
        let text = HdrHistogramEncoding.compressedBase64(original)
        let decoded = try HdrHistogramEncoding.decodeCompressedBase64(text)

        #expect(HistogramLogFixtures.slots(decoded) == HistogramLogFixtures.slots(original))
        #expect(decoded.totalCount == original.totalCount)
        #expect(decoded.max == original.max)
        if original.countForValue(0) == 0 {
            #expect(decoded == original)
            #expect(decoded.minNonZero == original.minNonZero)
        } else {
            // Values below the first unit (0..511 ns here) share slot 0 and, as in every
            // implementation, come back as 0; the smallest non-zero is then the next slot's.
            let next = original.nextNonEquivalentForValue(0)
            let expected = HistogramLogFixtures.slots(original).dropFirst().first.map { original.lowestEquivalentForValue($0[0]) }
            #expect(decoded.minNonZero == (expected ?? .max))
            #expect(decoded.countForValue(0) == original.countForValue(0))
            #expect(next == UInt64(1) << UInt64(63 - original.lowestDiscernibleValue.leadingZeroBitCount))
        }
        #expect(decoded.lowestDiscernibleValue == original.lowestDiscernibleValue)
        #expect(decoded.highestTrackableValue == original.highestTrackableValue)
        #expect(decoded.numberOfSignificantValueDigits == original.numberOfSignificantValueDigits)
        for p in [50.0, 90.0, 99.0, 99.9] {
            #expect(decoded.highestEquivalentForValue(decoded.valueAtPercentile(p))
                == original.highestEquivalentForValue(original.valueAtPercentile(p)), "p\(p)")
        }
        // The decoded histogram encodes to the very same bytes (nothing is lost or reordered).
        #expect(HdrHistogramEncoding.encode(decoded) == HdrHistogramEncoding.encode(original))
    }

    @Test("the wire form starts with the V2 cookies and states its lengths")
    func framing() {
        let h = HistogramLogFixtures.bimodal(count: 1_000, seed: 9)
        let raw = HdrHistogramEncoding.encode(h)
        #expect(Array(raw[0 ..< 4]) == [0x1C, 0x84, 0x93, 0x13])
        #expect(Int(HdrHistogramEncoding.readBigEndian(UInt32.self, raw, at: 4)) == raw.count - 40)
        let packed = HdrHistogramEncoding.compressed(h)
        #expect(Array(packed[0 ..< 4]) == [0x1C, 0x84, 0x93, 0x14])
        #expect(Int(HdrHistogramEncoding.readBigEndian(UInt32.self, packed, at: 4)) == packed.count - 8)
        #expect(HdrHistogramEncoding.compressedBase64(h).hasPrefix("HISTF"))
    }

    /// Worked by hand from the bucket math, and identical to what the `hdrhistogram` Python
    /// package encodes for the same two values: 1 µs sits in slot 1 (1000 >> unitMagnitude 9),
    /// 2 ms in bucket 1, sub-bucket 2e6 >> 10 = 1953, slot 2048 + 1953 - 1024 = 2977.
    @Test("a known encoding, byte for byte")
    func knownEncoding() {
        let h = HistogramLogFixtures.filled([(1_000, 1), (2_000_000, 1)])
        let expected: [UInt8] = [
            0x1C, 0x84, 0x93, 0x13, // V2 cookie, word-size nibble 1
            0x00, 0x00, 0x00, 0x05, // 5 bytes of counts
            0x00, 0x00, 0x00, 0x00, // normalizingIndexOffset
            0x00, 0x00, 0x00, 0x03, // significant digits
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xE8, // lowest 1000
            0x00, 0x00, 0x03, 0x46, 0x30, 0xB8, 0xA0, 0x00, // highest 3.6e12
            0x3F, 0xF0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // ratio 1.0
            0x00, // slot 0: a single zero is written as the count 0
            0x02, // slot 1: count 1
            0xBD, 0x2E, // slots 2..2976: -2975 zeros, ZigZag 5949, LEB128
            0x02, // slot 2977: count 1
        ]
        #expect(HdrHistogramEncoding.encode(h) == expected)
    }

    /// Produced by the `hdrhistogram` Python package (an independent implementation) for
    /// `HdrHistogram(1000, 3600000000000, 3)` with values at both ends, a zero slot, slot
    /// edges and a 2^35 count; our decoder must read it and our encoder must reproduce it.
    @Test("reads what another implementation wrote and re-encodes it identically")
    func foreignEncoding() throws {
        let fromPython = "HISTFAAAADh4nJNpmSzMwMAgyQABzFDqBRC7GexYwGD/ASLCxsf1XZ6Hbz8f08e4kOOXGBtAgGmqlBAATisN6w=="
        let pythonPayloadHex = "1c84931300000019000000000000000300000000000003e80000034630b8a0003ff0000000000000"
            + "060e0af71f0c0ebf0e02f15e54c7d201808080808002951a12"
        let h = try HdrHistogramEncoding.decodeCompressedBase64(fromPython)
        #expect(h.totalCount == 34_359_738_448)
        #expect(h.max == 3_601_330_077_695)
        #expect(h.countForValue(0) == 3) // slot 0 is 0..511 (unitMagnitude 9)
        #expect(h.countForValue(1_023) == 7) // 999, 1000 and 1023 share slot 1
        #expect(h.countForValue(1_024) == 5)
        #expect(h.countForValue(1 << 40) == 1 << 35)
        #expect(h.highestEquivalentForValue(h.valueAtPercentile(50)) == 1_100_585_369_599)
        let hex = HdrHistogramEncoding.encode(h).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        #expect(hex == pythonPayloadHex)
    }

    static let zigZagWords: [(Int64, [UInt8])] = [
        (0, [0x00]), (-1, [0x01]), (1, [0x02]), (63, [0x7E]), (-64, [0x7F]), (64, [0x80, 0x01]),
        (-2_975, [0xBD, 0x2E]),
        (1 << 55, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), // ZigZag 2^56: all in the 9th byte
        (Int64.max, [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
        (Int64.min, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
    ]

    @Test("ZigZag LEB128 words, including Java's 9-byte form", arguments: zigZagWords)
    func zigZag(_ value: Int64, _ bytes: [UInt8]) {
        var out: [UInt8] = []
        HdrHistogramEncoding.appendZigZag(value, to: &out)
        #expect(out == bytes)
        var reader = HdrHistogramEncoding.ZigZagReader(bytes: bytes, position: 0, end: bytes.count)
        #expect(reader.next() == value)
        #expect(reader.isAtEnd)
    }

    @Test("base64 matches RFC 4648 test vectors", arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ])
    func base64(_ plain: String, _ encoded: String) {
        #expect(HdrHistogramEncoding.Base64.encode(Array(plain.utf8)) == encoded)
        #expect(HdrHistogramEncoding.Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test("malformed input is an error, never a crash", arguments: [
        "not base64!", "HISTF", "AAAA", "HISTFAAAAEB4", // bad alphabet, bad length, short, truncated
        HdrHistogramEncoding.Base64.encode([0xDE, 0xAD, 0xBE, 0xEF, 0, 0, 0, 4, 1, 2, 3, 4]), // wrong cookie
        HdrHistogramEncoding.Base64.encode([0x1C, 0x84, 0x93, 0x14, 0, 0, 0, 4, 1, 2, 3, 4]), // not zlib
        HdrHistogramEncoding.Base64.encode([0x1C, 0x84, 0x93, 0x14, 0, 0, 0, 99, 1, 2, 3, 4]), // length past the end
    ])
    func malformed(_ text: String) {
        #expect(throws: HistogramLogError.self) { try HdrHistogramEncoding.decodeCompressedBase64(text) }
    }

    @Test("a corrupt payload inside a valid frame is an error")
    func corruptPayload() throws {
        let good = HdrHistogramEncoding.encode(HistogramLogFixtures.filled([(1_000, 1), (2_000_000, 1)]))
        func rejects(_ edit: (inout [UInt8]) -> Void) {
            var raw = good
            edit(&raw)
            #expect(throws: HistogramLogError.self) { try HdrHistogramEncoding.decode(raw) }
        }
        rejects { $0[3] = 0x14 } // the compressed cookie where the encoding cookie belongs
        rejects { $0[15] = 9 } // 9 significant digits
        rejects { $0[23] = 0; $0[22] = 0 } // lowest 0
        rejects { $0[7] = 200 } // payload length past the end
        rejects { $0.removeLast() ; $0[7] = 4; $0[$0.count - 1] = 0xFF } // last word cut short
        rejects { $0[$0.count - 3] = 0xFF; $0[$0.count - 2] = 0xFF } // a zero run past the array
        rejects { $0[37] = 0x00; $0[32] = 0x40 } // a double histogram's ratio
    }

    @Test("the encoding of an empty histogram holds only the header")
    func emptyIsHeaderOnly() {
        #expect(HdrHistogramEncoding.encode(HistogramLogFixtures.latency()).count == 40)
    }
}
