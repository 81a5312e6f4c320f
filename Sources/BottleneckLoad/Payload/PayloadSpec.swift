import Foundation

/// One `--payload` argument: what kind of request body to generate, and how often.
///
/// Parsed once from the command line, then handed to `PayloadPool`, which turns a list of
/// specs into concrete bodies before the run starts. The form is `KIND:key=value,...`
/// with an optional `weight=N` (default 1) giving the share of the mix, e.g.
/// `image:w=64..1024,format=jpeg,weight=3` or `dir:/data/samples,weight=2`.
public struct PayloadSpec: Sendable, Equatable {
    /// The kind of body and its parameters.
    public enum Kind: Sendable, Equatable {
        case image(ImageSpec)
        case text(TextSpec)
        case audio(AudioSpec)
        case tensor(TensorSpec)
        /// A KServe v2 inference request for the model the target names (its inputs from the
        /// model's metadata, read before the run).
        case kserveV2(KServeV2Spec)
        /// Files sampled from a dataset folder (searched recursively).
        case directory(path: String)
    }

    public var kind: Kind
    /// The relative share of the pool (positive; the pool normalises the weights).
    public var weight: Double
    /// The text the user typed, for labels and messages.
    public var source: String

    public init(kind: Kind, weight: Double = 1, source: String = "") {
        self.kind = kind
        self.weight = weight
        self.source = source
    }

    /// True when the bodies this spec makes differ in size: a range of image widths, token
    /// counts, audio lengths or tensor dimensions, or a dataset folder's files. Only then can
    /// the server's time be set against its input size.
    public var sizeVaries: Bool {
        switch kind {
        case .image(let image): return image.width.lowerBound < image.width.upperBound
        case .text(let text): return text.tokens.lowerBound < text.tokens.upperBound
        case .audio(let audio): return audio.seconds.lowerBound < audio.seconds.upperBound || audio.rate.lowerBound < audio.rate.upperBound
        case .tensor(let tensor): return tensor.shape.contains { $0.lowerBound < $0.upperBound }
        case .kserveV2(let request): return request.batch.lowerBound < request.batch.upperBound || request.dim.lowerBound < request.dim.upperBound
        case .directory: return true
        }
    }

    /// Parses `KIND:key=value,...`; throws `PayloadError` naming the bad field and its form.
    public static func parse(_ text: String) throws -> PayloadSpec {
        try parseTyped(text)
    }

    static func parseTyped(_ text: String) throws(PayloadError) -> PayloadSpec {
        let colon = text.firstIndex(of: ":")
        let kindName = (colon.map { text[..<$0] } ?? text[...]).trimmingSpaces().lowercased()
        let rest = colon.map { text[text.index(after: $0)...] } ?? ""

        if kindName == "dir" {
            return try parseDirectory(text, rest)
        }
        var fields = try SpecFields(spec: text, text: rest)
        let kind: Kind
        let accepted: [String]
        switch kindName {
        case "image": kind = .image(try ImageSpec.parse(&fields)); accepted = ImageSpec.keys
        case "text": kind = .text(try TextSpec.parse(&fields)); accepted = TextSpec.keys
        case "audio": kind = .audio(try AudioSpec.parse(&fields)); accepted = AudioSpec.keys
        case "tensor": kind = .tensor(try TensorSpec.parse(&fields)); accepted = TensorSpec.keys
        case "kserve-v2": kind = .kserveV2(try KServeV2Spec.parse(&fields)); accepted = KServeV2Spec.keys
        default:
            throw .spec(text, "unknown kind \"\(kindName)\"; use image, text, audio, tensor, kserve-v2 or dir:PATH")
        }
        let weight = try fields.weight()
        try fields.finish(kind: kindName, accepted: accepted)
        return PayloadSpec(kind: kind, weight: weight, source: text)
    }

    /// `dir:PATH[,weight=N]`. Only a trailing `,weight=` is an option, so paths may hold commas.
    private static func parseDirectory(_ text: String, _ rest: Substring) throws(PayloadError) -> PayloadSpec {
        var path = rest
        var weight = 1.0
        if let option = rest.range(of: ",weight=", options: .backwards) {
            path = rest[..<option.lowerBound]
            var fields = try SpecFields(spec: text, text: rest[rest.index(after: option.lowerBound)...])
            weight = try fields.weight()
        }
        guard !path.isEmpty else {
            throw .spec(text, "dir needs a folder, like dir:/data/samples")
        }
        return PayloadSpec(kind: .directory(path: String(path)), weight: weight, source: text)
    }
}
