import BottleneckCore

/// What `bottleneck probe connections` does: open idle keep-alive connections to the target in
/// growing batches, keep them alive with a small request now and then, and find where the
/// server stops accepting, resets, closes or stops answering them.
public struct ConnectionProbePlan: Sendable {
    public var target: TargetURL
    /// Headers sent with every ping (authorization, a Host override).
    public var headers: [RequestHeader] = []
    /// The request path of the pings; nil: the target's path. Any HTTP answer counts (a 405
    /// from a POST-only route proves the connection is served as well as a 200 does).
    public var pingPath: String?
    /// The most connections to hold; bounded by the tool's own fd limit (`effectiveMaximum`).
    public var maxConnections = 10_000
    /// How often each held connection sends a ping, at most; the interval stretches so the
    /// pings of all held connections stay under `maxPingsPerSecond`.
    public var pingInterval: Duration = .seconds(1)
    public var maxPingsPerSecond: Double = 2_000
    /// A connection whose SYN was not answered by then counts as dropped (Linux retries a
    /// SYN after 1 s and 3 s, so 3 s sees one retry through).
    public var connectTimeout: Duration = .seconds(3)
    /// A ping not answered by then counts as not served.
    public var answerTimeout: Duration = .seconds(3)
    /// How long each level holds its connections (with a round of pings) before the next.
    public var hold: Duration = .seconds(1)
    /// Fresh requests per level, each on a new connection, timed while the level is held.
    public var freshSamples = 3
    /// Connections in the middle of connecting (or awaiting their first answer) at once. Low, so
    /// a proxy in front is not made to open an upstream connection per new client at once (nginx
    /// counts both against worker_connections: 128 at once held 59 clients of 128, 16 held 98).
    public var concurrentConnects = 16
    /// The first batch; each next batch doubles, up to `largestBatch`.
    public var firstBatch = 8
    public var largestBatch = 512
    /// How long each count is held while the probe adds connections one at a time near the limit:
    /// longer than the samplers' 250 ms interval, so the server's side of every count is sampled.
    public var refineDwell: Duration = .milliseconds(300)
    /// The probe ends by then whatever it found.
    public var timeLimit: Duration = .seconds(120)

    public init(target: TargetURL) {
        self.target = target
    }

    /// Descriptors the probe keeps for itself (stdio, the run directory's files, the samplers).
    public static let reservedDescriptors = 64

    /// The connections the probe may hold: `maxConnections`, or fewer when the tool's fd limit
    /// (after raising it to the hard limit) leaves less room.
    public func effectiveMaximum(openFileLimit: Int) -> Int {
        max(1, min(maxConnections, openFileLimit - Self.reservedDescriptors))
    }

    func pingRequest() -> [UInt8] {
        var head = "GET \(pingPath ?? target.pathAndQuery) HTTP/1.1\r\nHost: \(target.hostHeader)\r\n"
        let names = Set(headers.map { $0.name.lowercased() })
        if !names.contains("user-agent") { head += "User-Agent: bottleneck/\(BottleneckVersion.current) (connections probe)\r\n" }
        for header in headers where header.name.lowercased() != "content-length" { head += "\(header.name): \(header.value)\r\n" }
        head += "\r\n"
        return Array(head.utf8)
    }
}

/// A probe spec's `connections:` key (`probes/connections.yaml`): the connections probe's
/// settings, applied to a plan for the spec's target.
public struct ConnectionsSettings: Sendable, Equatable {
    public var maxConnections: Int?
    public var pingPath: String?
    /// Nanoseconds.
    public var answerTimeout: UInt64?
    public var timeLimit: UInt64?

    public init() {}

    public func apply(to plan: inout ConnectionProbePlan) {
        if let maxConnections { plan.maxConnections = maxConnections }
        if let pingPath { plan.pingPath = pingPath }
        if let answerTimeout {
            plan.answerTimeout = .nanoseconds(Int64(answerTimeout))
            plan.connectTimeout = plan.answerTimeout
        }
        if let timeLimit { plan.timeLimit = .nanoseconds(Int64(timeLimit)) }
    }
}
