/// What `audio:...` asks for: 16-bit PCM mono WAV clips, as a speech model receives them.
///
/// Keys: `seconds=1..30` (range or single value, fractions allowed), `rate=16000` (sample
/// rate in Hz, range or single value), `dist=uniform|lognormal` (how lengths are drawn).
/// Defaults: `seconds=1..10,rate=16000`.
public struct AudioSpec: Sendable, Equatable {
    /// The largest clip accepted, in bytes of samples, so a typo cannot exhaust memory.
    public static let maxBytes = 256 * 1024 * 1024

    public var seconds: ClosedRange<Double>
    public var rate: ClosedRange<Int>
    public var distribution: SizeDistribution

    public init(
        seconds: ClosedRange<Double> = 1...10, rate: ClosedRange<Int> = 16000...16000,
        distribution: SizeDistribution = .uniform
    ) {
        self.seconds = seconds
        self.rate = rate
        self.distribution = distribution
    }

    static let keys = ["seconds", "rate", "dist", "weight"]

    static func parse(_ fields: inout SpecFields) throws(PayloadError) -> AudioSpec {
        var spec = AudioSpec()
        spec.seconds = try fields.doubleRange(
            "seconds", default: spec.seconds, limits: 0.01...3600, form: "a duration in seconds or range like 1..30")
        spec.rate = try fields.intRange(
            "rate", default: spec.rate, limits: 1000...384_000, form: "a sample rate in Hz like 16000")
        spec.distribution = try fields.distribution()
        if spec.seconds.upperBound * Double(spec.rate.upperBound) * 2 > Double(maxBytes) {
            throw .spec(fields.spec, "seconds × rate is too long; keep a clip under \(maxBytes / 1024 / 1024) MB of samples")
        }
        return spec
    }
}
