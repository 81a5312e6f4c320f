/// Where the time of an average request of one step went, in milliseconds.
///
/// Means, not percentiles: means add up (the segments sum to the mean latency), percentiles
/// do not. The segments follow the attribution model:
/// - `generator`: schedule lag + connection wait (the load generator's own time), plus, with a
///   packet capture, the generator's overhead around the wire (its service time − t4 + t1);
/// - `network`, `proxy` (with a packet capture, see ``WireAttribution``): moving the bytes on the
///   front leg, and front-leg minus back-leg server time when the proxy's back leg was captured;
/// - `preprocessing`, `model`, `postprocessing`, `serverQueue`: the service's `Server-Timing`
///   phases, averaged over every successful request (a request without the header adds 0);
/// - `outsideService`: service time minus those phases (and minus the wire's segments when
///   there was a capture) — the web framework around the handler, and without a capture also
///   the network and the proxy;
/// - `unknown`: the service time no source explains: all of it when no response carried
///   `Server-Timing` (less the wire's segments with a capture).
import BottleneckLoad

public struct RunReportTimeBreakdown: Sendable, Codable, Equatable {
    public var step: Int
    public var name: String
    public var generator: Double
    public var preprocessing: Double
    public var model: Double
    public var postprocessing: Double
    public var serverQueue: Double
    public var network: Double
    public var proxy: Double
    public var outsideService: Double
    public var unknown: Double
    /// Successful requests averaged over, and how many of them carried `Server-Timing`.
    public var requests: Int
    public var requestsWithServerTiming: Int

    /// Segment names and values in stacking order, bottom (generator) to top.
    public var segments: [(name: String, value: Double)] {
        [("generator", generator), ("network", network), ("proxy", proxy), ("server queue", serverQueue),
         ("preprocessing", preprocessing), ("model", model), ("postprocessing", postprocessing),
         ("outside the service", outsideService), ("unknown", unknown)]
    }

    public var total: Double { segments.reduce(0) { $0 + $1.value } }

    /// A capture covering at least this share of a step's successful requests splits its time.
    static let wireCoverage = 0.9

    package init(step: StepResult, aggregate: RequestAggregates.Step?, wire: WireAttribution.Step? = nil) {
        self.step = step.index
        name = step.name
        let ok = aggregate?.ok ?? 0
        let covered = wire.flatMap { ok > 0 && Double($0.requests) >= Self.wireCoverage * Double(ok) ? $0 : nil }
        let overhead = covered?.generatorOverheadMs ?? 0
        generator = Self.round(step.scheduleLag.mean + step.connectionWait.mean + overhead)
        network = Self.round(covered?.networkMs ?? 0)
        proxy = Self.round(covered?.proxyMs ?? 0)
        let wireSegments = overhead + (covered?.networkMs ?? 0) + (covered?.proxyMs ?? 0)
        requests = ok
        requestsWithServerTiming = aggregate?.withTiming ?? 0
        let serviceMean = ok > 0 ? (aggregate?.serviceSumMs ?? 0) / Double(ok) : step.serviceTime.mean
        func phase(_ segment: ServerTimingSegments.Segment) -> Double {
            guard ok > 0 else { return 0 }
            return (aggregate?.segmentSumMs[segment] ?? 0) / Double(ok)
        }
        if requestsWithServerTiming > 0 {
            preprocessing = Self.round(phase(.preprocess))
            model = Self.round(phase(.model))
            postprocessing = Self.round(phase(.postprocess))
            serverQueue = Self.round(phase(.queue))
            let phases = phase(.preprocess) + phase(.model) + phase(.postprocess) + phase(.queue)
            outsideService = Self.round(serviceMean - phases - wireSegments)
            unknown = 0
        } else {
            preprocessing = 0; model = 0; postprocessing = 0; serverQueue = 0; outsideService = 0
            unknown = Self.round(serviceMean - wireSegments)
        }
    }

    /// Microsecond resolution keeps the golden files stable across platforms' float formatting.
    static func round(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

}
