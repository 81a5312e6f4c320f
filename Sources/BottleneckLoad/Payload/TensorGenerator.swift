/// Fills a tensor with plausible values and encodes it as JSON or little-endian binary.
///
/// Floats are roughly standard-normal (what normalised image or embedding inputs look
/// like), integers are token-id-like (0..<30000), uint8 is pixel-like (0...255). JSON
/// floats are written with six decimals, the length real clients send, so a JSON body's
/// size — and the server's parse time — is realistic.
import BottleneckCore

enum TensorGenerator {
    static func encode(shape: [Int], dtype: TensorSpec.DType, encoding: TensorSpec.Encoding, random: inout SeededRandom) -> [UInt8] {
        let count = shape.reduce(1, *)
        var bytes: [UInt8] = []
        switch encoding {
        case .binary:
            bytes.reserveCapacity(count * dtype.size)
            for _ in 0..<count {
                switch dtype {
                case .float32: appendLittleEndian(&bytes, UInt64(Float(gaussian(&random)).bitPattern), size: 4)
                case .float64: appendLittleEndian(&bytes, gaussian(&random).bitPattern, size: 8)
                case .int32: appendLittleEndian(&bytes, UInt64(random.next() % 30000), size: 4)
                case .int64: appendLittleEndian(&bytes, UInt64(random.next() % 30000), size: 8)
                case .uint8: bytes.append(UInt8(truncatingIfNeeded: random.next()))
                }
            }
        case .json:
            bytes.reserveCapacity(count * 10 + 64)
            bytes += Array("{\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"dtype\":\"\(dtype.rawValue)\",\"data\":[".utf8)
            for index in 0..<count {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                switch dtype {
                case .float32, .float64: appendDecimal(&bytes, gaussian(&random))
                case .int32, .int64: appendInteger(&bytes, random.next() % 30000)
                case .uint8: appendInteger(&bytes, random.next() & 0xFF)
                }
            }
            bytes += Array("]}".utf8)
        }
        return bytes
    }

    /// Approximately N(0, 1): the centred sum of four uniforms (Irwin–Hall), scaled.
    /// Cheaper than Box–Muller per element and indistinguishable for a server.
    @inline(__always)
    static func gaussian(_ random: inout SeededRandom) -> Double {
        let word = random.next()
        var sum = 0.0
        for shift in stride(from: 0, to: 64, by: 16) {
            sum += Double((word >> UInt64(shift)) & 0xFFFF) / 65535.0
        }
        return (sum - 2.0) * 1.7320508075688772  // variance of the sum is 4/12
    }

    @inline(__always)
    private static func appendLittleEndian(_ bytes: inout [UInt8], _ value: UInt64, size: Int) {
        for shift in 0..<size { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift * 8))) }
    }

    static func appendInteger(_ bytes: inout [UInt8], _ value: UInt64) {
        if value >= 10 { appendInteger(&bytes, value / 10) }
        bytes.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    /// `-1.234567`: six decimals, no exponent (values are small).
    static func appendDecimal(_ bytes: inout [UInt8], _ value: Double) {
        var scaled = Int64((abs(value) * 1_000_000).rounded())
        if value < 0 && scaled != 0 { bytes.append(UInt8(ascii: "-")) }
        appendInteger(&bytes, UInt64(scaled / 1_000_000))
        bytes.append(UInt8(ascii: "."))
        scaled %= 1_000_000
        var divisor: Int64 = 100_000
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(scaled / divisor))
            scaled %= divisor
            divisor /= 10
        }
    }
}
