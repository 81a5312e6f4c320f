/// Everything a capture yields: exchanges, connection health, per-leg summaries, drops.
public struct CaptureAnalysis: Sendable, Codable {
    public var exchanges: [HTTPExchange]
    public var connections: [ConnectionStats]
    public var packets: PacketCounters
    /// `pcap_stats` of a live capture; nil for files.
    public var captureStats: CaptureStats?
    /// Why reading stopped early (a truncated file), when it did.
    public var readError: String?

    public init(exchanges: [HTTPExchange], connections: [ConnectionStats], packets: PacketCounters,
                captureStats: CaptureStats? = nil, readError: String? = nil) {
        self.exchanges = exchanges
        self.connections = connections
        self.packets = packets
        self.captureStats = captureStats
        self.readError = readError
    }

    /// One summary per server port (a leg: e.g. 80 = client→proxy, 8000 = proxy→service).
    public var legs: [LegSummary] {
        var ports = Set(connections.map(\.connection.server.port))
        for e in exchanges { ports.insert(e.serverPort) }
        return ports.sorted().map { port in
            LegSummary(port: port, of: exchanges, connections: connections.filter { $0.connection.server.port == port })
        }
    }
}

/// Percentiles of a set of durations in nanoseconds (nearest-rank, exact).
public struct DurationSummary: Sendable, Codable, Equatable {
    public var count: Int
    public var min: UInt64
    public var p50: UInt64
    public var p90: UInt64
    public var p99: UInt64
    public var p999: UInt64
    public var max: UInt64
    public var mean: Double

    /// nil for an empty set.
    public init?(_ values: [UInt64]) {
        guard !values.isEmpty else { return nil }
        let v = values.sorted()
        func rank(_ q: Double) -> UInt64 {
            let r = Int((q * Double(v.count)).rounded(.up))
            return v[Swift.max(0, Swift.min(v.count - 1, r - 1))]
        }
        count = v.count
        min = v[0]
        max = v[v.count - 1]
        p50 = rank(0.50)
        p90 = rank(0.90)
        p99 = rank(0.99)
        p999 = rank(0.999)
        mean = Double(v.reduce(0, &+)) / Double(v.count)
    }
}

/// One leg (server port) of a capture: latency percentiles and TCP health.
public struct LegSummary: Sendable, Codable, Equatable {
    public var port: UInt16
    public var exchanges: Int
    public var completeExchanges: Int
    /// t3 − t2 over complete exchanges: time the server side took, seen from the capture point.
    public var serverTime: DurationSummary?
    /// t4 − t1 over complete exchanges.
    public var totalTime: DurationSummary?
    /// Handshake RTT over connections whose handshake was captured.
    public var handshakeRTT: DurationSummary?
    public var connections: Int
    public var dataSegments: UInt64
    public var retransmissions: UInt64
    /// Retransmitted segments / data segments, both directions.
    public var retransmitRatio: Double
    public var dupAcks: UInt64
    public var zeroWindows: UInt64
    public var resets: UInt64
    /// Count of each non-empty flag among this leg's exchanges.
    public var flagCounts: [String: Int]
    public var statusCounts: [String: Int]

    /// Summarizes the exchanges of `all` whose server port is `port` (no copies of exchanges).
    public init(port: UInt16, of all: [HTTPExchange], connections: [ConnectionStats]) {
        self.port = port
        var count = 0, complete = 0
        var server: [UInt64] = [], total: [UInt64] = []
        var flags: [String: Int] = [:]
        var statuses: [Int: Int] = [:]
        for e in all where e.serverPort == port {
            count += 1
            if !e.flags.isEmpty { for n in e.flags.names { flags[n, default: 0] += 1 } }
            statuses[e.status ?? -1, default: 0] += 1
            guard e.complete else { continue }
            complete += 1
            if let s = e.serverTime { server.append(s) }
            if let t = e.totalTime { total.append(t) }
        }
        self.exchanges = count
        completeExchanges = complete
        serverTime = DurationSummary(server)
        totalTime = DurationSummary(total)
        handshakeRTT = DurationSummary(connections.compactMap(\.handshakeRTT))
        self.connections = connections.count
        var seg: UInt64 = 0, re: UInt64 = 0, dup: UInt64 = 0, zw: UInt64 = 0, rst: UInt64 = 0
        for c in connections {
            for d in [c.clientToServer, c.serverToClient] {
                seg += d.dataSegments; re += d.retransmissions; dup += d.dupAcks; zw += d.zeroWindows; rst += d.resets
            }
        }
        dataSegments = seg
        retransmissions = re
        retransmitRatio = seg == 0 ? 0 : Double(re) / Double(seg)
        dupAcks = dup
        zeroWindows = zw
        resets = rst
        flagCounts = flags
        statusCounts = Dictionary(uniqueKeysWithValues: statuses.map { ($0.key < 0 ? "none" : String($0.key), $0.value) })
    }
}
