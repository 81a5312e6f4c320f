#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZlib
import Histogram

/// HdrHistogram's portable V2 encoding of a `Histogram<UInt64>`, the form every
/// HdrHistogram implementation (Java, C, Python, Go, Rust) reads and writes, and the
/// payload of each line of an `.hlog` interval log.
///
/// `hdrhistogram-swift` has no serialization and keeps its counts array internal, so the
/// counts array is rebuilt here, slot by slot, with the standard bucket math (see
/// ``BucketLayout``) and the public `countForValue`. Layout, all integers big-endian:
///
/// ```
/// uncompressed:  cookie 0x1c849313 | payload length | normalizingIndexOffset (0)
///                | significant digits | lowestDiscernibleValue (i64) | highestTrackableValue (i64)
///                | integerToDoubleValueConversionRatio (f64, 1.0) | counts
/// counts:        ZigZag LEB128 (at most 9 bytes, the 9th carries 8 bits) per counts-array slot,
///                from index 0 to the index of the largest recorded value; a run of N > 1
///                empty slots is written once as -N
/// compressed:    cookie 0x1c849314 | length of the zlib stream | zlib stream of the above
/// ```
///
/// The cookies carry `0x10` in their word-size nibble, as Java and C write them; readers
/// mask that nibble off, and so does ``decodeCompressedBase64(_:)``.
public enum HdrHistogramEncoding: Sendable {
    static let encodingCookieBase: UInt32 = 0x1c84_9303
    static let compressedCookieBase: UInt32 = 0x1c84_9304
    /// The word-size nibble Java and C set in V2 cookies ("LEB128 + ZigZag").
    static let v2WordSizeFlag: UInt32 = 0x10
    static let headerSize = 40
    /// A decoded counts array larger than this is refused rather than allocated: 5 significant
    /// digits over the full 64-bit range needs about 8.5 M slots, so this only stops garbage.
    static let maxDecodedCountsLength = 1 << 24

    // MARK: Encoding

    /// The uncompressed V2 encoding of `h` (header and ZigZag LEB128 counts).
    public static func encode(_ h: Histogram<UInt64>) -> [UInt8] {
        let layout = BucketLayout(
            lowestDiscernibleValue: h.lowestDiscernibleValue,
            highestTrackableValue: h.highestTrackableValue,
            significantDigits: Int(h.numberOfSignificantValueDigits.rawValue))
        // Our slot numbers are only right if they are the histogram's own (see BucketLayout).
        precondition(h.sizeOfEquivalentRangeForValue(0) == UInt64(1) << UInt64(layout.unitMagnitude),
                     "lowestDiscernibleValue \(h.lowestDiscernibleValue) has no portable bucket layout")

        // Walk the slots from 0 to the one holding the largest recorded value (nothing past it
        // is written, as in Java), reading each through the public `countForValue`. Not
        // `recordedValues()`: its iterator sums count × value in a trapping UInt64, which
        // overflows for big intervals (2^35 values of 2^40 ns is enough).
        var counts: [UInt8] = []
        if h.totalCount > 0 {
            var zeros: Int64 = 0
            for index in 0 ... layout.countsIndex(for: h.maxRecorded) {
                let count = h.countForValue(layout.value(at: index))
                if count == 0 {
                    zeros += 1
                    continue
                }
                appendZeroRun(zeros, to: &counts)
                zeros = 0
                // Java counts are signed: a count above Int64.max has no encoding.
                precondition(count <= UInt64(Int64.max), "count too large for the V2 encoding")
                appendZigZag(Int64(count), to: &counts)
            }
            appendZeroRun(zeros, to: &counts) // none: the last slot is never empty
        }

        var out: [UInt8] = []
        out.reserveCapacity(headerSize + counts.count)
        appendBigEndian(encodingCookieBase | v2WordSizeFlag, to: &out)
        appendBigEndian(UInt32(counts.count), to: &out)
        appendBigEndian(UInt32(0), to: &out) // normalizingIndexOffset: never shifted here
        appendBigEndian(UInt32(h.numberOfSignificantValueDigits.rawValue), to: &out)
        // Java reads these as signed longs; a Swift histogram may claim up to UInt64.max.
        appendBigEndian(Swift.min(h.lowestDiscernibleValue, UInt64(Int64.max)), to: &out)
        appendBigEndian(Swift.min(h.highestTrackableValue, UInt64(Int64.max)), to: &out)
        appendBigEndian((1.0 as Double).bitPattern, to: &out) // integer histogram: ratio 1
        out.append(contentsOf: counts)
        return out
    }

    /// The compressed V2 encoding: the compressed cookie, the length of the zlib stream,
    /// then ``encode(_:)`` deflated at the best compression level (as Java's log writer does).
    public static func compressed(_ h: Histogram<UInt64>) -> [UInt8] {
        let raw = encode(h)
        var deflated = [UInt8](repeating: 0, count: Int(compressBound(uLong(raw.count))))
        var deflatedLength = uLongf(deflated.count)
        let status = deflated.withUnsafeMutableBufferPointer { dst in
            raw.withUnsafeBufferPointer { src in
                compress2(dst.baseAddress, &deflatedLength, src.baseAddress, uLong(src.count), Z_BEST_COMPRESSION)
            }
        }
        // compress2 fails only on a too-small buffer or out of memory; compressBound rules out the first.
        precondition(status == Z_OK, "zlib compress2 failed (\(status))")
        var out: [UInt8] = []
        out.reserveCapacity(8 + Int(deflatedLength))
        appendBigEndian(compressedCookieBase | v2WordSizeFlag, to: &out)
        appendBigEndian(UInt32(deflatedLength), to: &out)
        out.append(contentsOf: deflated[0 ..< Int(deflatedLength)])
        return out
    }

    /// ``compressed(_:)`` in base64 (standard alphabet, padded, no line breaks): the
    /// `Interval_Compressed_Histogram` column of an `.hlog` line.
    public static func compressedBase64(_ h: Histogram<UInt64>) -> String {
        Base64.encode(compressed(h))
    }

    // MARK: Decoding

    /// Decodes the base64 compressed V2 form written by any HdrHistogram implementation.
    ///
    /// The result has the encoded lowest/highest trackable values and significant digits, and
    /// the same count in every slot; as in every implementation, each value comes back as the
    /// lowest value of its slot, so `max`, percentiles and the counts match the original,
    /// while `maxRecorded` is the slot's lowest value rather than the exact value recorded.
    /// Slot 0 (values below `2^floor(log2(lowestDiscernibleValue))`, 512 ns for a 1 µs unit)
    /// comes back as the value 0, so `minNonZero` then skips it, as Java's decoder does.
    ///
    /// - Throws: ``HistogramLogError`` with code `.malformedHistogram` for anything that is
    ///   not a well-formed V2 histogram, and `.unsupportedHistogram` for valid ones that
    ///   `Histogram<UInt64>` cannot hold (e.g. a `DoubleHistogram`).
    public static func decodeCompressedBase64(_ text: some StringProtocol) throws -> Histogram<UInt64> {
        let trimmed = String(text).filter { !$0.isWhitespace }
        guard let bytes = Base64.decode(trimmed) else {
            throw HistogramLogError.malformed("the histogram is not valid base64")
        }
        return try decodeCompressed(bytes)
    }

    /// Decodes the (binary) compressed V2 form.
    static func decodeCompressed(_ bytes: [UInt8]) throws -> Histogram<UInt64> {
        guard bytes.count >= 8 else { throw HistogramLogError.malformed("the compressed histogram is truncated") }
        let cookie = readBigEndian(UInt32.self, bytes, at: 0)
        guard cookie & ~0xF0 == compressedCookieBase else {
            throw HistogramLogError.malformed(
                "not a V2 compressed HdrHistogram (cookie 0x\(String(cookie, radix: 16)))")
        }
        let length = Int(readBigEndian(UInt32.self, bytes, at: 4))
        guard length <= bytes.count - 8 else {
            throw HistogramLogError.malformed("the compressed histogram claims \(length) bytes but has \(bytes.count - 8)")
        }
        let raw = try inflate(Array(bytes[8 ..< 8 + length]))
        return try decode(raw)
    }

    /// Decodes the uncompressed V2 form produced by ``encode(_:)``.
    static func decode(_ bytes: [UInt8]) throws -> Histogram<UInt64> {
        guard bytes.count >= headerSize else { throw HistogramLogError.malformed("the histogram header is truncated") }
        let cookie = readBigEndian(UInt32.self, bytes, at: 0)
        guard cookie & ~0xF0 == encodingCookieBase else {
            throw HistogramLogError.malformed("not a V2 HdrHistogram encoding (cookie 0x\(String(cookie, radix: 16)))")
        }
        let payloadLength = Int(readBigEndian(UInt32.self, bytes, at: 4))
        // normalizingIndexOffset (bytes 8..<12) is ignored, as the C and JS readers do: only
        // Java's shifted histograms set it, and they are not written to logs.
        let digits = readBigEndian(UInt32.self, bytes, at: 12)
        let lowest = readBigEndian(UInt64.self, bytes, at: 16)
        let highest = readBigEndian(UInt64.self, bytes, at: 24)
        let ratio = Double(bitPattern: readBigEndian(UInt64.self, bytes, at: 32))

        guard payloadLength <= bytes.count - headerSize else {
            throw HistogramLogError.malformed("the histogram claims \(payloadLength) bytes of counts but has \(bytes.count - headerSize)")
        }
        guard ratio == 1.0 else {
            throw HistogramLogError.unsupported("a histogram of doubles (value ratio \(ratio)) cannot be read as integers")
        }
        guard digits <= 5, let significant = SignificantDigits(rawValue: Int8(digits)) else {
            throw HistogramLogError.malformed("significant digits \(digits) is not in 0...5")
        }
        guard lowest >= 1, lowest <= UInt64(Int64.max) / 2, highest >= 2 * lowest else {
            throw HistogramLogError.malformed("trackable range \(lowest)...\(highest) is not valid")
        }
        let layout = BucketLayout(lowestDiscernibleValue: lowest, highestTrackableValue: highest, significantDigits: Int(digits))
        // `Histogram` derives unitMagnitude in floating point; refuse the rare lowest values where
        // that differs from the exact one instead of tripping its preconditions.
        guard layout.unitMagnitude == Int(log2(Double(lowest))),
              layout.unitMagnitude + layout.subBucketHalfCountMagnitude <= 61,
              layout.countsArrayLength <= maxDecodedCountsLength else {
            throw HistogramLogError.unsupported("trackable range \(lowest)...\(highest) with \(digits) digits is too large")
        }

        var histogram = Histogram<UInt64>(
            lowestDiscernibleValue: lowest, highestTrackableValue: highest, numberOfSignificantValueDigits: significant)
        var reader = ZigZagReader(bytes: bytes, position: headerSize, end: headerSize + payloadLength)
        var index = 0
        while !reader.isAtEnd {
            guard let word = reader.next() else { throw HistogramLogError.malformed("a count is truncated") }
            if word < 0 {
                // A run of empty slots; Int64.min has no positive counterpart and is garbage.
                guard word != .min, index <= layout.countsArrayLength - Int(-word) else {
                    throw HistogramLogError.malformed("a run of empty slots overruns the counts array")
                }
                index += Int(-word)
                continue
            }
            guard index < layout.countsArrayLength else {
                throw HistogramLogError.malformed("more counts than the trackable range has slots")
            }
            if word > 0, !histogram.record(layout.value(at: index), count: UInt64(word)) {
                throw HistogramLogError.malformed("slot \(index) is outside the trackable range")
            }
            index += 1
        }
        return histogram
    }

    static func inflate(_ deflated: [UInt8]) throws -> [UInt8] {
        // The header states the payload length only inside the stream, so grow until it fits.
        var capacity = Swift.max(4 * deflated.count, 256)
        let limit = headerSize + 9 * maxDecodedCountsLength
        while true {
            var out = [UInt8](repeating: 0, count: capacity)
            var outLength = uLongf(capacity)
            let status = out.withUnsafeMutableBufferPointer { dst in
                deflated.withUnsafeBufferPointer { src in
                    uncompress(dst.baseAddress, &outLength, src.baseAddress, uLong(src.count))
                }
            }
            switch status {
            case Z_OK:
                out.removeSubrange(Int(outLength)...)
                return out
            case Z_BUF_ERROR where outLength == uLongf(capacity) && capacity < limit:
                capacity = Swift.min(capacity * 4, limit)
            default:
                throw HistogramLogError.malformed("the histogram's zlib stream is corrupt (zlib status \(status))")
            }
        }
    }

    // MARK: Bytes

    static func appendBigEndian<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) }
    }

    static func readBigEndian<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
        var value = T.zero
        for byte in bytes[offset ..< offset + MemoryLayout<T>.size] {
            value = value << 8 | T(byte)
        }
        return value
    }

    /// A run of empty slots: one is written as the count 0, more as minus their number.
    static func appendZeroRun(_ zeros: Int64, to out: inout [UInt8]) {
        if zeros == 1 {
            appendZigZag(0, to: &out)
        } else if zeros > 1 {
            appendZigZag(-zeros, to: &out)
        }
    }

    /// ZigZag then LEB128, as HdrHistogram's `ZigZagEncoding`: 7 bits per byte for the first
    /// eight bytes, and a ninth byte, if needed, that holds the top 8 bits whole.
    static func appendZigZag(_ value: Int64, to out: inout [UInt8]) {
        var v = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        for _ in 0 ..< 8 {
            if v < 0x80 {
                out.append(UInt8(v))
                return
            }
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    struct ZigZagReader {
        let bytes: [UInt8]
        var position: Int
        let end: Int

        var isAtEnd: Bool { position >= end }

        /// The next decoded word, or nil when the bytes end inside it.
        mutating func next() -> Int64? {
            var v: UInt64 = 0
            for byteIndex in 0 ..< 9 {
                guard position < end else { return nil }
                let byte = UInt64(bytes[position])
                position += 1
                if byteIndex == 8 {
                    v |= byte << 56
                    break
                }
                v |= (byte & 0x7F) << (7 * UInt64(byteIndex))
                if byte & 0x80 == 0 { break }
            }
            return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
        }
    }
}

extension HdrHistogramEncoding {
    /// The counts-array layout shared by every HdrHistogram implementation, computed from the
    /// three parameters in an encoding header — the index math of Java's `AbstractHistogram`.
    ///
    /// Bucket 0 holds `subBucketCount` slots of width `2^unitMagnitude`; each later bucket
    /// doubles the width and adds only its upper half (`subBucketHalfCount` slots), its lower
    /// half being covered by the buckets before it.
    ///
    /// `unitMagnitude` is the exact `floor(log2(lowestDiscernibleValue))`. Java and Python
    /// compute it in floating point, which rounds up for a lowestDiscernibleValue within about
    /// 2^-5 of a power of two above 2^47; such histograms (units above 39 hours in ns) are not
    /// a latency use and would be laid out differently by those tools.
    struct BucketLayout: Equatable {
        let unitMagnitude: Int
        let subBucketHalfCountMagnitude: Int
        let subBucketCount: Int
        let subBucketHalfCount: Int
        let subBucketMask: UInt64
        let leadingZeroCountBase: Int
        let bucketCount: Int
        let countsArrayLength: Int

        init(lowestDiscernibleValue: UInt64, highestTrackableValue: UInt64, significantDigits: Int) {
            precondition(lowestDiscernibleValue >= 1 && (0 ... 5).contains(significantDigits))
            unitMagnitude = 63 - lowestDiscernibleValue.leadingZeroBitCount
            // Single-unit resolution is needed up to 2 * 10^digits; round that up to a power of two.
            var largestWithSingleUnitResolution: UInt64 = 2
            for _ in 0 ..< significantDigits { largestWithSingleUnitResolution *= 10 }
            let subBucketCountMagnitude = 64 - (largestWithSingleUnitResolution - 1).leadingZeroBitCount
            subBucketHalfCountMagnitude = Swift.max(subBucketCountMagnitude, 1) - 1
            subBucketCount = 1 << (subBucketHalfCountMagnitude + 1)
            subBucketHalfCount = subBucketCount / 2
            subBucketMask = UInt64(subBucketCount - 1) << unitMagnitude
            leadingZeroCountBase = 64 - unitMagnitude - subBucketHalfCountMagnitude - 1

            var smallestUntrackable = UInt64(subBucketCount) << unitMagnitude
            var buckets = 1
            while smallestUntrackable <= highestTrackableValue {
                if smallestUntrackable > UInt64.max / 2 {
                    buckets += 1
                    break
                }
                smallestUntrackable <<= 1
                buckets += 1
            }
            bucketCount = buckets
            countsArrayLength = (buckets + 1) * subBucketHalfCount
        }

        func bucketIndex(for value: UInt64) -> Int {
            leadingZeroCountBase - (value | subBucketMask).leadingZeroBitCount
        }

        func countsIndex(for value: UInt64) -> Int {
            let bucket = bucketIndex(for: value)
            let subBucket = Int(value >> UInt64(bucket + unitMagnitude))
            return ((bucket + 1) << subBucketHalfCountMagnitude) + (subBucket - subBucketHalfCount)
        }

        /// The lowest value of slot `index`.
        func value(at index: Int) -> UInt64 {
            var bucket = (index >> subBucketHalfCountMagnitude) - 1
            var subBucket = (index & (subBucketHalfCount - 1)) + subBucketHalfCount
            if bucket < 0 {
                subBucket -= subBucketHalfCount
                bucket = 0
            }
            return UInt64(subBucket) << UInt64(bucket + unitMagnitude)
        }
    }
}

extension HdrHistogramEncoding {
    /// RFC 4648 base64 with the standard alphabet, without Foundation.
    enum Base64 {
        private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        private static let reverse: [UInt8] = {
            var table = [UInt8](repeating: 0xFF, count: 256)
            for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
            return table
        }()

        static func encode(_ bytes: [UInt8]) -> String {
            var out: [UInt8] = []
            out.reserveCapacity((bytes.count + 2) / 3 * 4)
            var i = 0
            while i + 3 <= bytes.count {
                let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
                i += 3
            }
            let rest = bytes.count - i
            if rest == 1 {
                let n = UInt32(bytes[i]) << 16
                out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
            } else if rest == 2 {
                let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
                out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], UInt8(ascii: "=")]
            }
            return String(decoding: out, as: UTF8.self)
        }

        /// The decoded bytes, or nil if `text` is not padded standard base64.
        static func decode(_ text: some StringProtocol) -> [UInt8]? {
            let chars = Array(text.utf8)
            guard chars.count % 4 == 0 else { return nil }
            var out: [UInt8] = []
            out.reserveCapacity(chars.count / 4 * 3)
            var i = 0
            while i < chars.count {
                let isLast = i + 4 == chars.count
                let padding = isLast ? (chars[i + 3] == UInt8(ascii: "=") ? (chars[i + 2] == UInt8(ascii: "=") ? 2 : 1) : 0) : 0
                var n: UInt32 = 0
                for j in 0 ..< 4 {
                    let c = chars[i + j]
                    if j >= 4 - padding {
                        n <<= 6
                        continue
                    }
                    let d = reverse[Int(c)]
                    guard d != 0xFF else { return nil }
                    n = n << 6 | UInt32(d)
                }
                out.append(UInt8(n >> 16))
                if padding < 2 { out.append(UInt8(n >> 8 & 0xFF)) }
                if padding < 1 { out.append(UInt8(n & 0xFF)) }
                i += 4
            }
            return out
        }
    }
}
