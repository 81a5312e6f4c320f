/// What a user can give to measure evidence a rule needed and did not have: one line per
/// source, naming the metrics and the flag (or the change) that would provide them.
public enum MissingEvidenceHint: Sendable {
    /// Sources by metric prefix, first match wins; the generator's own metrics are always
    /// measured when the kernel offers them (a missing cgroup quota is not a gap to fill).
    static let sources: [(prefixes: [String], hint: String)] = [
        (["bypass.", "proxy.added_"], "what the proxy adds: --backend URL (the service's own address behind the proxy)"),
        (["proxy."], "the proxy's CPU and queues: run on the proxy's host (found by its listening port), or --proxy-pid / --proxy-port"),
        (["server.", "host.other_cores"], "the service's CPU, workers and queues: run on the service's host (found by its listening port), --server-port / --server-pid, or --agent URL on a remote host"),
        (["wire."], "wire timings per leg: --capture IFACE (root or CAP_NET_RAW)"),
        (["timing."], "the service's own phases: Server-Timing headers from the service (map unknown names with --phase NAME=SEGMENT)"),
        (["fit."], "input-size fits: payloads of varied size (--payload image:w=224..1024 or dir:FOLDER)"),
    ]

    /// One line per source with the missing metrics it would give, in the order of `sources`.
    public static func lines(_ missing: [String]) -> [String] {
        var bySource: [Int: [String]] = [:]
        for reference in missing {
            let metric = String(reference.split(separator: "@").first ?? Substring(reference))
            // No cgroup CPU quota means nothing to throttle: not a gap in the evidence.
            if metric.hasSuffix("throttled_ratio") { continue }
            guard let index = sources.firstIndex(where: { $0.prefixes.contains { metric.hasPrefix($0) } }) else { continue }
            if !(bySource[index]?.contains(metric) ?? false) { bySource[index, default: []].append(metric) }
        }
        return bySource.keys.sorted().map { index in
            let metrics = bySource[index]!
            let shown = metrics.prefix(4).joined(separator: ", ") + (metrics.count > 4 ? " …" : "")
            return "\(sources[index].hint) [\(shown)]"
        }
    }
}
