/// How a probe connection failed.
public enum ConnectionFailureKind: String, Sendable, Codable, CaseIterable {
    /// connect() was refused (RST to the SYN): nothing listens, or the listener was closed.
    case refused
    /// The SYN was not answered in time: the accept queue was full and the kernel dropped it.
    case connectTimeout = "connect-timeout"
    /// The server reset an established connection.
    case reset
    /// The server closed a connection it had answered on, before its keep-alive timeout.
    case closed
    /// Connected, but the request was not answered in time: the server is not reading this
    /// connection (it sits in the accept queue, or every worker is pinned).
    case noAnswer = "no-answer"
    /// Answered 5xx: a proxy or server refusing more work (503, 502).
    case serverError = "server-error"

    /// What the kind means, for reports.
    public var meaning: String {
        switch self {
        case .refused: "connection refused"
        case .connectTimeout: "SYN not answered (the accept queue was full)"
        case .reset: "reset by the server"
        case .closed: "closed by the server while held"
        case .noAnswer: "connected but never answered (not accepted, or no free worker)"
        case .serverError: "answered with a 5xx"
        }
    }
}

/// What one level of the probe held and saw.
public struct ConnectionProbeLevel: Sendable, Codable, Equatable {
    public var index: Int
    /// Connections the level aimed to hold.
    public var target: Int
    /// Connections held and answering (keep-alive) or connected (silent) at the level's end.
    public var held: Int
    /// Connections established but not answered at the level's end.
    public var unanswered: Int
    /// Failures during the level, by kind (`ConnectionFailureKind` raw values).
    public var failures: [String: Int]
    /// Milliseconds a fresh request on a new connection waited for its answer while the level
    /// was held (connect included); a request not answered in time is left out and counted in `freshUnanswered`.
    public var freshWaitMs: [Double]
    public var freshUnanswered: Int
    /// Connections whose connect took more than 900 ms: a SYN was dropped and retried.
    public var slowConnects: Int
    /// Seconds since the probe began, at the level's start and end.
    public var startSeconds: Double
    public var endSeconds: Double
    /// Held connections established (no longer connecting), counted at the level's first
    /// failure of a held connection (the failed one included when it had been answered): about
    /// how many the server held when it stopped — the ones still in its accept queue count too;
    /// nil when none failed.
    public var heldAtFirstFailure: Int? = nil
    /// True for the level that added connections one at a time after the first failure: its
    /// `heldAtFirstFailure` is exact. nil otherwise.
    public var oneAtATime: Bool? = nil

    public init(index: Int, target: Int) {
        self.index = index
        self.target = target
        held = 0
        unanswered = 0
        failures = [:]
        freshWaitMs = []
        freshUnanswered = 0
        slowConnects = 0
        startSeconds = 0
        endSeconds = 0
    }
}

/// The outcome of a connections probe: the limit and how it showed, level by level.
public struct ConnectionProbeResult: Sendable, Codable, Equatable {
    public var schema = "bottleneck.connections/v1"
    public var target: String
    /// Connections the probe was allowed to hold, and the tool's own fd limit behind it.
    public var maxConnections: Int
    public var openFileLimit: Int
    /// True when the server keeps connections open after answering (HTTP/1.1 keep-alive).
    /// False when it answered `Connection: close`: the probe then holds silent connections,
    /// which is how a sync worker is pinned (it blocks reading the request).
    public var keepAlive: Bool
    /// The most connections held at once while every one was served; nil when none was.
    public var maxHeld: Int
    /// The held count at which the first failure appeared; nil when no connection failed.
    public var limit: Int?
    public var firstFailure: String?
    /// Connections established but never answered once the server stopped serving new
    /// ones, up to the first dropped SYN: the depth of the accept queue the server left full.
    public var queued: Int?
    /// The shortest idle time after which the server closed a held connection (a failure:
    /// the pings come well inside common keep-alive timeouts, so it shed the connection or
    /// its keep-alive timeout is shorter than the ping interval).
    public var idleCloseSeconds: Double?
    /// Seconds between pings on each held connection at the end.
    public var pingIntervalSeconds: Double
    /// Why the probe ended.
    public var stoppedBecause: String
    public var levels: [ConnectionProbeLevel]
    public var durationSeconds: Double

    /// Median fresh-request wait at the highest level where a fresh request was answered.
    public var freshWaitAtMaxMs: Double? { levels.last { !$0.freshWaitMs.isEmpty }?.freshWaitMedianMs }

    /// Median fresh-request wait at the first level (nothing held).
    public var freshWaitAtRestMs: Double? { levels.first { !$0.freshWaitMs.isEmpty }?.freshWaitMedianMs }
}

extension ConnectionProbeLevel {
    /// The median of the level's fresh-request waits; nil when none was answered.
    public var freshWaitMedianMs: Double? {
        guard !freshWaitMs.isEmpty else { return nil }
        return freshWaitMs.sorted()[freshWaitMs.count / 2]
    }
}
