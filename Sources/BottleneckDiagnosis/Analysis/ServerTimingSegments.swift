/// Maps `Server-Timing` metric names to the segments of the attribution model
/// (docs/rules.md, "Where the time goes"): preprocessing, model, postprocessing, server queue. Services name their
/// phases freely, so matching is by prefix, case-insensitively, the longest matching prefix
/// winning (`predict` is the model even though `pre` is preprocessing); unmatched names are
/// ignored rather than guessed.
///
/// Configurable on the command line (`--phase NAME=SEGMENT`, `--no-server-timing`): a user's
/// prefixes are tried first (the longest of them wins), the defaults only for names none matches.
public struct ServerTimingSegments: Sendable {
    public enum Segment: String, Sendable, CaseIterable, Codable {
        case queue, preprocess, model, postprocess
    }

    /// (prefix, segment) pairs, lower case. Of the prefixes a name starts with, the longest wins;
    /// between equally long ones, the first.
    public var prefixes: [(String, Segment)]
    /// The user's pairs (`--phase`), tried before `prefixes`.
    public var overrides: [(String, Segment)]
    /// False to analyse a run as if no response had carried Server-Timing (`--no-server-timing`):
    /// what the diagnosis says from size scaling and the client's clock alone.
    public var readsServerTiming: Bool

    public static let defaults = ServerTimingSegments(prefixes: [
        ("queue", .queue), ("wait", .queue),
        ("pre", .preprocess), ("decode", .preprocess), ("resize", .preprocess), ("tokeni", .preprocess), ("normali", .preprocess),
        ("model", .model), ("infer", .model), ("predict", .model), ("forward", .model),
        ("post", .postprocess), ("serializ", .postprocess), ("encode", .postprocess),
    ])

    public init(prefixes: [(String, Segment)], overrides: [(String, Segment)] = [], readsServerTiming: Bool = true) {
        self.prefixes = prefixes.map { ($0.0.lowercased(), $0.1) }
        self.overrides = overrides.map { ($0.0.lowercased(), $0.1) }
        self.readsServerTiming = readsServerTiming
    }

    public func segment(for name: String) -> Segment? {
        let lower = name.lowercased()
        func longest(_ pairs: [(String, Segment)]) -> Segment? {
            var best: (length: Int, segment: Segment)?
            for (prefix, segment) in pairs where lower.hasPrefix(prefix) && prefix.count > (best?.length ?? -1) {
                best = (prefix.count, segment)
            }
            return best?.segment
        }
        return longest(overrides) ?? longest(prefixes)
    }

    /// The defaults with `mappings` ("PREFIX=SEGMENT", e.g. `gpu=model`, `tok=preprocess`) tried first.
    ///
    /// - Throws: ``AnalysisError`` (exit 2) naming what is wrong and the accepted form.
    public static func parse(mappings: [String], readsServerTiming: Bool = true) throws(AnalysisError) -> ServerTimingSegments {
        let accepted = Segment.allCases.map(\.rawValue).joined(separator: "|")
        let user = try mappings.map { mapping throws(AnalysisError) -> (String, Segment) in
            let parts = mapping.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[0].contains(where: \.isWhitespace) else {
                throw AnalysisError("expected NAME=SEGMENT, e.g. gpu=model (NAME matches Server-Timing metric names by prefix)")
            }
            guard let segment = Segment(rawValue: parts[1].lowercased()) else {
                throw AnalysisError("unknown segment '\(parts[1])'; use one of \(accepted)")
            }
            return (String(parts[0]), segment)
        }
        return ServerTimingSegments(prefixes: defaults.prefixes, overrides: user, readsServerTiming: readsServerTiming)
    }
}
