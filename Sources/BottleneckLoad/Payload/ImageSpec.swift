/// What `image:...` asks for: photo-like pictures encoded as JPEG or PNG.
///
/// Keys: `w=64..4096` (pixel width, range or single value), `aspect=0.5..2` (width ÷ height,
/// sampled log-uniformly so portraits and landscapes are equally likely), `format=jpeg`,
/// `png` or `jpeg|png` (a mix), `dist=uniform|lognormal` (how widths are drawn),
/// `quality=1..100` (JPEG quality, default 85). Defaults: `w=224..1024,aspect=0.75..1.34`.
public struct ImageSpec: Sendable, Equatable {
    /// The codec an image is encoded with.
    public enum Format: String, Sendable, Equatable {
        case jpeg
        case png
    }

    /// The largest width or height accepted; 8192² is the 64M-pixel guard.
    public static let maxSide = 8192
    public static let maxPixels = 64 * 1024 * 1024

    public var width: ClosedRange<Int>
    public var aspect: ClosedRange<Double>
    public var formats: [Format]
    public var distribution: SizeDistribution
    public var quality: Int

    public init(
        width: ClosedRange<Int> = 224...1024, aspect: ClosedRange<Double> = 0.75...1.34,
        formats: [Format] = [.jpeg], distribution: SizeDistribution = .uniform, quality: Int = 85
    ) {
        self.width = width
        self.aspect = aspect
        self.formats = formats
        self.distribution = distribution
        self.quality = quality
    }

    static let keys = ["w", "aspect", "format", "dist", "quality", "weight"]

    /// Reads the image keys out of `fields` and checks the size guard.
    static func parse(_ fields: inout SpecFields) throws(PayloadError) -> ImageSpec {
        var spec = ImageSpec()
        spec.width = try fields.intRange(
            "w", default: spec.width, limits: 1...maxSide, form: "a pixel width or range like 64..4096")
        spec.aspect = try fields.doubleRange(
            "aspect", default: spec.aspect, limits: 0.01...100,
            form: "a width/height ratio or range like 0.5..2")
        if let text = fields.take("format") {
            var formats: [Format] = []
            for name in text.split(separator: "|") {
                guard let format = Format(rawValue: name.lowercased()) else {
                    throw .spec(fields.spec, "format must be jpeg, png or jpeg|png")
                }
                if !formats.contains(format) { formats.append(format) }
            }
            guard !formats.isEmpty else { throw .spec(fields.spec, "format must be jpeg, png or jpeg|png") }
            spec.formats = formats
        }
        spec.distribution = try fields.distribution()
        spec.quality = try fields.intRange(
            "quality", default: spec.quality...spec.quality, limits: 1...100,
            form: "a JPEG quality from 1 to 100").lowerBound
        let tallest = height(width: spec.width.upperBound, aspect: spec.aspect.lowerBound)
        if tallest > maxSide || spec.width.upperBound * tallest > maxPixels {
            throw .spec(
                fields.spec,
                "w=\(spec.width.upperBound) with aspect=\(spec.aspect.lowerBound.compact) gives \(spec.width.upperBound)x\(tallest) images; keep width and height at most \(maxSide) (64M pixels)")
        }
        return spec
    }

    /// The height of an image `width` pixels wide with ratio `aspect` (at least 1 pixel).
    static func height(width: Int, aspect: Double) -> Int {
        max(1, Int((Double(width) / aspect).rounded()))
    }
}
