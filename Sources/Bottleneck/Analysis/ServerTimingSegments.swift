/// Maps `Server-Timing` metric names to the segments of the attribution model
/// (DESIGN.md): preprocessing, model, postprocessing, server queue. Services name their
/// phases freely, so matching is by prefix, case-insensitively; unmatched names are
/// ignored rather than guessed.
public struct ServerTimingSegments: Sendable {
    public enum Segment: String, Sendable, CaseIterable, Codable {
        case queue, preprocess, model, postprocess
    }

    /// (prefix, segment) pairs; the first match wins.
    public var prefixes: [(String, Segment)]

    public static let defaults = ServerTimingSegments(prefixes: [
        ("queue", .queue), ("wait", .queue),
        ("pre", .preprocess), ("decode", .preprocess), ("resize", .preprocess), ("tokeni", .preprocess), ("normali", .preprocess),
        ("model", .model), ("infer", .model), ("predict", .model), ("forward", .model),
        ("post", .postprocess), ("serializ", .postprocess), ("encode", .postprocess),
    ])

    public init(prefixes: [(String, Segment)]) {
        self.prefixes = prefixes
    }

    public func segment(for name: String) -> Segment? {
        let lower = name.lowercased()
        return prefixes.first { lower.hasPrefix($0.0) }?.1
    }
}
