/// The front leg (client → proxy) joined request by request to the back leg (proxy → service),
/// and the proxy time that join gives: written as `legJoin` in `capture-summary.json`.
///
/// Shape (every duration in nanoseconds, like the legs' `serverTime`):
/// ```json
/// "legJoin": {
///   "frontPort": 8080, "backPorts": [8000],
///   "frontExchanges": 200, "joined": 200, "joinedByRequestID": 200, "joinedByOrder": 0,
///   "excluded": 0, "backLongerThanFront": 0,
///   "proxyTime": {"count": 200, "min": 61000, "p50": 98000, "p90": 140000, "p99": 310000,
///                 "p999": 410000, "max": 410000, "mean": 104512.5}
/// }
/// ```
/// `proxyTime` is, per joined request, front-leg server time (t3 − t2) minus back-leg server
/// time: what the proxy and the proxy↔service network added. Only pairs whose two exchanges are
/// both complete and timed count; the others are counted in `excluded` or `backLongerThanFront`,
/// so nothing is dropped silently. The key is absent when the run did not capture both a front and a back leg.
public struct LegJoinSummary: Sendable, Codable, Equatable {
    /// The front leg's server port: the one the load generator connects to (the target's).
    public var frontPort: UInt16
    /// The other captured server ports, whose exchanges the front ones were joined to.
    public var backPorts: [UInt16]
    /// Exchanges seen on the front leg: the requests a proxy time is wanted for.
    public var frontExchanges: Int
    /// Front exchanges paired with a back exchange (`joinedByRequestID` + `joinedByOrder`).
    public var joined: Int
    /// Paired by the same X-Request-Id on both legs.
    public var joinedByRequestID: Int
    /// Paired by time containment, for exchanges without a usable id.
    public var joinedByOrder: Int
    /// Pairs left out of `proxyTime` because either exchange is incomplete (a lost segment, a
    /// reset, the capture ended mid-exchange) or has no server time (its response began before
    /// its request ended): their times cannot be trusted or do not say what the proxy added.
    public var excluded: Int
    /// Pairs left out because the back leg took longer than the front: impossible for a right
    /// join on one clock, so a non-zero count means the join (or the capture) is wrong.
    public var backLongerThanFront: Int
    /// Front-leg server time − back-leg server time per joined request, in ns; nil when no
    /// pair was complete.
    public var proxyTime: DurationSummary?

    /// Joins the exchanges on `frontPort` to those on every other port; nil when either side
    /// has no exchange (a single-leg capture has no proxy time to report).
    public init?(exchanges: [HTTPExchange], frontPort: UInt16) {
        let front = exchanges.filter { $0.serverPort == frontPort }
        let back = exchanges.filter { $0.serverPort != frontPort }
        guard !front.isEmpty, !back.isEmpty else { return nil }
        self.frontPort = frontPort
        backPorts = Set(back.map(\.serverPort)).sorted()
        frontExchanges = front.count
        var byID = 0, byOrder = 0, untimed = 0, inverted = 0
        var proxyTimes: [UInt64] = []
        for pair in CaptureLegJoin.join(front: front, back: back) {
            switch pair.match {
            case .requestID: byID += 1
            case .order: byOrder += 1
            case .none: continue
            }
            guard let back = pair.back, pair.front.complete, back.complete,
                  let frontServer = pair.front.serverTime, let backServer = back.serverTime else {
                untimed += 1
                continue
            }
            guard backServer <= frontServer else {
                inverted += 1
                continue
            }
            proxyTimes.append(frontServer - backServer)
        }
        joinedByRequestID = byID
        joinedByOrder = byOrder
        joined = byID + byOrder
        excluded = untimed
        backLongerThanFront = inverted
        proxyTime = DurationSummary(proxyTimes)
    }
}
