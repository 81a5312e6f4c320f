/// Turns packets into HTTP exchanges and TCP connection statistics.
///
/// Feed packets in capture order, then call `finish()` once. The per-packet path decodes
/// headers in place from the capture buffer and looks the connection up in a dictionary keyed
/// by its 4-tuple; it allocates only when a connection or an exchange begins, and for the rare
/// out-of-order segment it must hold until a gap fills.
///
/// Not thread-safe: one analyzer belongs to one capture thread (or one task) at a time.
public final class ExchangeAnalyzer {
    /// Framing of the packets fed with `feed(_:)`.
    public let linkType: LinkType
    /// Server ports to analyze; empty analyzes every TCP connection.
    public let serverPorts: Set<UInt16>
    private let portFilter: [Bool]
    private typealias Connection = TCPConnection<HTTPMessageFramer>
    private var connections: [FlowKey: Connection] = [:]
    private var retired: [Connection] = []
    private let store = ExchangeStore()
    private var counters = PacketCounters()

    public init(linkType: LinkType, serverPorts: Set<UInt16> = []) {
        self.linkType = linkType
        self.serverPorts = serverPorts
        var filter = [Bool](repeating: serverPorts.isEmpty, count: 65536)
        for p in serverPorts { filter[Int(p)] = true }
        self.portFilter = filter
        connections.reserveCapacity(1024)
    }

    /// Feeds one packet; its bytes are not kept.
    public func feed(_ packet: CapturedPacket) {
        feed(timestamp: packet.timestamp, bytes: packet.bytes, originalLength: packet.originalLength)
    }

    /// Feeds one packet given as a timestamp (ns since epoch) and its captured bytes.
    public func feed(timestamp: UInt64, bytes: UnsafeRawBufferPointer, originalLength: Int) {
        counters.packets &+= 1
        if originalLength > bytes.count { counters.truncatedBySnapLength &+= 1 }
        switch PacketDecoder.decode(bytes, originalLength: originalLength, linkType: linkType, timestamp: timestamp) {
        case .notTCP:
            counters.notTCP &+= 1
        case .malformed:
            counters.malformed &+= 1
        case .tcp(let segment):
            handle(segment)
        }
    }

    private func handle(_ s: TCPSegment) {
        let srcServer = portFilter[Int(s.src.port)]
        let dstServer = portFilter[Int(s.dst.port)]
        guard srcServer || dstServer else {
            counters.otherPorts &+= 1
            return
        }
        counters.tcp &+= 1
        let (flow, _) = FlowKey.make(src: s.src, dst: s.dst)
        var conn: Connection
        if let existing = connections[flow] {
            conn = existing
            // A new SYN on a used 4-tuple starts a new connection (port reuse).
            if s.flags.contains(.syn), !s.flags.contains(.ack), existing.c2s.synced,
               existing.key.client == s.src, existing.c2s.isn != s.seq, existing.closed || existing.c2s.finSeq != nil || existing.s2c.finSeq != nil {
                existing.finish()
                retired.append(existing)
                conn = newConnection(s, srcServer: srcServer, dstServer: dstServer)
                connections[flow] = conn
            }
        } else {
            conn = newConnection(s, srcServer: srcServer, dstServer: dstServer)
            connections[flow] = conn
        }
        var fromClient = conn.key.client == s.src
        if !conn.rolesCertain, s.payload.count > 0 {
            let looksResponse = HTTPHead.looksLikeStart(s.payload, response: true)
            let looksRequest = HTTPHead.looksLikeStart(s.payload, response: false)
            if conn.consumer.exchangeCount == 0, (fromClient && looksResponse) || (!fromClient && looksRequest) {
                conn.swapRoles()
                fromClient.toggle()
            }
            if looksRequest || looksResponse { conn.rolesCertain = true }
        }
        conn.handle(s, fromClient: fromClient)
    }

    private func newConnection(_ s: TCPSegment, srcServer: Bool, dstServer: Bool) -> Connection {
        let syn = s.flags.contains(.syn)
        let srcIsClient: Bool
        var certain = true
        if syn {
            srcIsClient = !s.flags.contains(.ack)
        } else if !serverPorts.isEmpty && srcServer != dstServer {
            srcIsClient = dstServer
        } else {
            // No handshake and no port hint: the lower port is usually the server's; the first
            // payload may still correct this.
            srcIsClient = s.src.port > s.dst.port
            certain = false
        }
        let key = srcIsClient ? ConnectionKey(client: s.src, server: s.dst) : ConnectionKey(client: s.dst, server: s.src)
        return Connection(key: key, rolesCertain: certain, timestamp: s.timestamp, consumer: HTTPMessageFramer(key: key, store: store))
    }

    /// Ends the analysis: unfilled gaps become missing bytes, unfinished exchanges are flagged.
    /// Exchanges are ordered by their first known time.
    public func finish(captureStats: CaptureStats? = nil, readError: CaptureError? = nil) -> CaptureAnalysis {
        var all = retired
        all.append(contentsOf: connections.values)
        for c in all { c.finish() }
        var exchanges = store.items
        var rttByConnection: [ConnectionKey: UInt64] = [:]
        for c in all { if let r = c.handshakeRTT { rttByConnection[c.key] = r } }
        if !rttByConnection.isEmpty {
            for k in exchanges.indices where exchanges[k].handshakeRTT == nil {
                if let r = rttByConnection[exchanges[k].connection] { exchanges[k].handshakeRTT = r }
            }
        }
        // Exchanges are created in capture order, so this is usually already sorted; sorting
        // half a million large structs costs more than checking.
        let before: (HTTPExchange, HTTPExchange) -> Bool = {
            ($0.t1 ?? $0.t3 ?? 0, $0.connection.client.port, $0.ordinal) < ($1.t1 ?? $1.t3 ?? 0, $1.connection.client.port, $1.ordinal)
        }
        var sorted = true
        for k in exchanges.indices.dropFirst() where before(exchanges[k], exchanges[k - 1]) { sorted = false; break }
        if !sorted { exchanges.sort(by: before) }
        let stats = all.map { $0.stats(exchanges: $0.consumer.exchangeCount) }.sorted { ($0.firstSeen, $0.connection.client.port) < ($1.firstSeen, $1.connection.client.port) }
        store.items = []
        connections = [:]
        retired = []
        return CaptureAnalysis(
            exchanges: exchanges, connections: stats, packets: counters,
            captureStats: captureStats, readError: readError?.description)
    }
}

/// How many packets were seen and why some were not analyzed.
public struct PacketCounters: Sendable, Codable, Equatable {
    public var packets: UInt64 = 0
    public var tcp: UInt64 = 0
    public var notTCP: UInt64 = 0
    public var malformed: UInt64 = 0
    /// TCP packets on ports outside `serverPorts`.
    public var otherPorts: UInt64 = 0
    /// Packets longer on the wire than in the capture (headers-only snap length).
    public var truncatedBySnapLength: UInt64 = 0
    public init() {}
}

/// One analyzer belongs to one thread; `LiveCapture` owns one on its capture thread.
@available(*, unavailable)
extension ExchangeAnalyzer: Sendable {}
