/// What `text:...` asks for: English-like prose, as a prompt or document to classify.
///
/// Keys: `tokens=16..2048` (range or single value; a token here is a word or a punctuation
/// mark, close to what BPE tokenizers count for plain English), `dist=uniform|lognormal`.
/// Default `tokens=16..512`.
public struct TextSpec: Sendable, Equatable {
    public static let maxTokens = 1_000_000

    public var tokens: ClosedRange<Int>
    public var distribution: SizeDistribution

    public init(tokens: ClosedRange<Int> = 16...512, distribution: SizeDistribution = .uniform) {
        self.tokens = tokens
        self.distribution = distribution
    }

    static let keys = ["tokens", "dist", "weight"]

    static func parse(_ fields: inout SpecFields) throws(PayloadError) -> TextSpec {
        var spec = TextSpec()
        spec.tokens = try fields.intRange(
            "tokens", default: spec.tokens, limits: 1...maxTokens, form: "a token count or range like 16..2048")
        spec.distribution = try fields.distribution()
        return spec
    }
}
