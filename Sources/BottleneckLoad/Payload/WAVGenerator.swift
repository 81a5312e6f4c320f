/// Builds 16-bit PCM mono WAV clips with a speech-like signal.
///
/// Audio models and their preprocessing (resampling, VAD, feature extraction) take longer
/// on real signal than on silence, and silence compresses if a proxy gzips it; so the clip
/// is a few gliding tones with syllable-like amplitude bursts over low background noise.
import BottleneckCore

enum WAVGenerator {
    static let headerSize = 44

    /// A complete WAV file: 44-byte RIFF header then `sampleCount` little-endian samples.
    static func clip(sampleCount: Int, rate: Int, random: inout SeededRandom) -> [UInt8] {
        precondition(sampleCount >= 0 && rate > 0)
        let dataBytes = sampleCount * 2
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headerSize + dataBytes)
        bytes += Array("RIFF".utf8)
        append32(&bytes, UInt32(36 + dataBytes))
        bytes += Array("WAVE".utf8)
        bytes += Array("fmt ".utf8)
        append32(&bytes, 16)  // fmt chunk size for PCM
        append16(&bytes, 1)  // PCM
        append16(&bytes, 1)  // mono
        append32(&bytes, UInt32(rate))
        append32(&bytes, UInt32(rate * 2))  // byte rate
        append16(&bytes, 2)  // block align
        append16(&bytes, 16)  // bits per sample
        bytes += Array("data".utf8)
        append32(&bytes, UInt32(dataBytes))

        // Three partials gliding slowly, as a voice's formants do.
        var frequencies = (0..<3).map { _ in random.uniform(120.0...1800.0) }
        let glide = (0..<3).map { _ in random.uniform(-40.0...40.0) }
        var phases = [0.0, 0.0, 0.0]
        let syllableRate = random.uniform(3.0...6.0)  // amplitude bursts per second
        var noiseState = UInt32(truncatingIfNeeded: random.next()) | 1
        let step = 2.0 * Double.pi / Double(rate)
        for n in 0..<sampleCount {
            let t = Double(n) / Double(rate)
            var envelope = 0.5 - 0.5 * cosApprox(2.0 * Double.pi * syllableRate * t)
            envelope *= envelope
            var value = 0.0
            for k in 0..<3 {
                phases[k] += step * frequencies[k]
                if phases[k] > 2.0 * Double.pi { phases[k] -= 2.0 * Double.pi }
                value += sinApprox(phases[k]) / Double(k + 1)
            }
            if n % rate == 0 {
                for k in 0..<3 { frequencies[k] = min(max(frequencies[k] + glide[k], 80), 4000) }
            }
            noiseState ^= noiseState << 13
            noiseState ^= noiseState >> 17
            noiseState ^= noiseState << 5
            let noise = Double(Int16(truncatingIfNeeded: noiseState)) / 32768.0
            let sample = 9000.0 * envelope * value + 600.0 * noise
            append16(&bytes, UInt16(bitPattern: Int16(max(-32768, min(32767, sample)))))
        }
        return bytes
    }

    @inline(__always)
    private static func append16(_ bytes: inout [UInt8], _ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    @inline(__always)
    private static func append32(_ bytes: inout [UInt8], _ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    /// Bhaskara-style parabola approximation of sin on [0, 2π]; plenty for a test signal
    /// and it keeps generation free of libm calls per sample.
    @inline(__always)
    private static func sinApprox(_ x: Double) -> Double {
        let pi = Double.pi
        let folded = x > pi ? x - pi : x
        let sign = x > pi ? -1.0 : 1.0
        return sign * 16 * folded * (pi - folded) / (5 * pi * pi - 4 * folded * (pi - folded))
    }

    @inline(__always)
    private static func cosApprox(_ x: Double) -> Double {
        var shifted = (x + Double.pi / 2).truncatingRemainder(dividingBy: 2 * Double.pi)
        if shifted < 0 { shifted += 2 * Double.pi }
        return sinApprox(shifted)
    }
}
