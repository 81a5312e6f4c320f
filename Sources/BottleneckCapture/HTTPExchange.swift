/// Things that happened to an exchange's packets; any of the `incomplete…` kinds (and a
/// missing timestamp) make the exchange incomplete, so its times are never used silently.
public struct ExchangeFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// A segment of this exchange was seen again (the original was captured too; times hold).
    public static let retransmission = ExchangeFlags(rawValue: 1 << 0)
    /// A segment arrived ahead of a gap that a later segment filled; times are delivery times.
    public static let outOfOrder = ExchangeFlags(rawValue: 1 << 1)
    /// Bytes never captured (capture drop, or capture started mid-connection): incomplete.
    public static let missingSegment = ExchangeFlags(rawValue: 1 << 2)
    /// Headers (or chunk framing) were cut by the snap length, so a boundary is unknown.
    public static let truncatedHeaders = ExchangeFlags(rawValue: 1 << 3)
    /// The connection was reset before the exchange finished.
    public static let reset = ExchangeFlags(rawValue: 1 << 4)
    /// The capture ended (or the connection closed) before the exchange finished.
    public static let unterminated = ExchangeFlags(rawValue: 1 << 5)
    /// A response with no request seen (capture started mid-exchange).
    public static let noRequest = ExchangeFlags(rawValue: 1 << 6)
    /// The byte stream stopped parsing as HTTP/1.x.
    public static let notHTTP = ExchangeFlags(rawValue: 1 << 7)
    /// The response body ends at connection close (no Content-Length, not chunked).
    public static let closeDelimited = ExchangeFlags(rawValue: 1 << 8)

    /// Flags that make an exchange incomplete: its timings are kept but left out of the leg
    /// statistics. Out-of-order segments are reassembled, yet the capture point saw them late
    /// (t3 or t4 may be the reordered segment's arrival), so such an exchange is not trusted either.
    static let incompleteMask: ExchangeFlags = [.outOfOrder, .missingSegment, .truncatedHeaders, .reset, .unterminated, .noRequest, .notHTTP]

    static let names: [(ExchangeFlags, String)] = [
        (.retransmission, "retransmission"), (.outOfOrder, "out-of-order"),
        (.missingSegment, "missing-segment"), (.truncatedHeaders, "truncated-headers"),
        (.reset, "reset"), (.unterminated, "unterminated"), (.noRequest, "no-request"),
        (.notHTTP, "not-http"), (.closeDelimited, "close-delimited"),
    ]

    /// Flag names as written in JSON.
    public var names: [String] { Self.names.filter { contains($0.0) }.map(\.1) }
}

extension ExchangeFlags: Codable {
    public init(from decoder: any Decoder) throws {
        let names = try decoder.singleValueContainer().decode([String].self)
        self = []
        for (flag, name) in Self.names where names.contains(name) { insert(flag) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(names)
    }
}

/// One HTTP/1.1 request/response exchange as seen on the wire at the capture point.
///
/// Times are capture timestamps in nanoseconds since the Unix epoch: `t1` the packet holding
/// the first request byte, `t2` the one completing the request, `t3` the first response byte,
/// `t4` the one completing the response. A time is nil when it could not be known; `complete`
/// is true only when all four are known and nothing in `flags` makes them doubtful.
public struct HTTPExchange: Sendable, Codable, Equatable {
    public var connection: ConnectionKey
    /// The client's port: the key to join with the load generator's per-request records.
    public var clientPort: UInt16 { connection.client.port }
    /// The server's port: the leg this exchange belongs to.
    public var serverPort: UInt16 { connection.server.port }
    /// 0 for the first exchange on its connection, then 1, 2, …
    public var ordinal: Int
    public var method: String?
    public var target: String?
    public var t1: UInt64?
    public var t2: UInt64?
    public var t3: UInt64?
    public var t4: UInt64?
    public var status: Int?
    /// Request bytes on the wire (start line + headers + body), from TCP sequence numbers.
    public var requestBytes: UInt64
    /// Response bytes on the wire (including interim 1xx responses and chunk framing).
    public var responseBytes: UInt64
    /// Request body bytes (Content-Length or chunked payload including framing).
    public var requestBodyBytes: UInt64
    /// Response body bytes.
    public var responseBodyBytes: UInt64
    /// X-Request-Id of the request (or the response, when only it carried one).
    public var requestID: String?
    /// The raw Server-Timing header value(s) of the response, joined with ", ".
    public var serverTiming: String?
    public var chunked: Bool
    public var flags: ExchangeFlags
    /// SYN → handshake ACK of this exchange's connection, when the handshake was captured.
    public var handshakeRTT: UInt64?

    public var complete: Bool {
        t1 != nil && t2 != nil && t3 != nil && t4 != nil && flags.isDisjoint(with: .incompleteMask)
    }

    /// t3 − t2: the server's time from the capture point's view (includes network below it).
    public var serverTime: UInt64? {
        guard let t2, let t3, t3 >= t2 else { return nil }
        return t3 - t2
    }

    /// t4 − t1: the whole exchange on the wire.
    public var totalTime: UInt64? {
        guard let t1, let t4, t4 >= t1 else { return nil }
        return t4 - t1
    }

    /// t4 − t2: what Wireshark reports as `http.time` (request complete → response complete).
    public var requestToResponseEnd: UInt64? {
        guard let t2, let t4, t4 >= t2 else { return nil }
        return t4 - t2
    }

    public init(connection: ConnectionKey, ordinal: Int) {
        self.connection = connection
        self.ordinal = ordinal
        self.requestBytes = 0
        self.responseBytes = 0
        self.requestBodyBytes = 0
        self.responseBodyBytes = 0
        self.chunked = false
        self.flags = []
    }

    enum CodingKeys: String, CodingKey {
        case connection, clientPort, serverPort, ordinal, method, target, t1, t2, t3, t4, status
        case requestBytes, responseBytes, requestBodyBytes, responseBodyBytes, requestID, serverTiming
        case chunked, flags, handshakeRTT, complete
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(connection: try c.decode(ConnectionKey.self, forKey: .connection), ordinal: try c.decode(Int.self, forKey: .ordinal))
        method = try c.decodeIfPresent(String.self, forKey: .method)
        target = try c.decodeIfPresent(String.self, forKey: .target)
        t1 = try c.decodeIfPresent(UInt64.self, forKey: .t1)
        t2 = try c.decodeIfPresent(UInt64.self, forKey: .t2)
        t3 = try c.decodeIfPresent(UInt64.self, forKey: .t3)
        t4 = try c.decodeIfPresent(UInt64.self, forKey: .t4)
        status = try c.decodeIfPresent(Int.self, forKey: .status)
        requestBytes = try c.decode(UInt64.self, forKey: .requestBytes)
        responseBytes = try c.decode(UInt64.self, forKey: .responseBytes)
        requestBodyBytes = try c.decodeIfPresent(UInt64.self, forKey: .requestBodyBytes) ?? 0
        responseBodyBytes = try c.decodeIfPresent(UInt64.self, forKey: .responseBodyBytes) ?? 0
        requestID = try c.decodeIfPresent(String.self, forKey: .requestID)
        serverTiming = try c.decodeIfPresent(String.self, forKey: .serverTiming)
        chunked = try c.decodeIfPresent(Bool.self, forKey: .chunked) ?? false
        flags = try c.decodeIfPresent(ExchangeFlags.self, forKey: .flags) ?? []
        handshakeRTT = try c.decodeIfPresent(UInt64.self, forKey: .handshakeRTT)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(connection, forKey: .connection)
        try c.encode(clientPort, forKey: .clientPort)
        try c.encode(serverPort, forKey: .serverPort)
        try c.encode(ordinal, forKey: .ordinal)
        try c.encodeIfPresent(method, forKey: .method)
        try c.encodeIfPresent(target, forKey: .target)
        try c.encodeIfPresent(t1, forKey: .t1)
        try c.encodeIfPresent(t2, forKey: .t2)
        try c.encodeIfPresent(t3, forKey: .t3)
        try c.encodeIfPresent(t4, forKey: .t4)
        try c.encodeIfPresent(status, forKey: .status)
        try c.encode(requestBytes, forKey: .requestBytes)
        try c.encode(responseBytes, forKey: .responseBytes)
        try c.encode(requestBodyBytes, forKey: .requestBodyBytes)
        try c.encode(responseBodyBytes, forKey: .responseBodyBytes)
        try c.encodeIfPresent(requestID, forKey: .requestID)
        try c.encodeIfPresent(serverTiming, forKey: .serverTiming)
        try c.encode(chunked, forKey: .chunked)
        try c.encode(flags, forKey: .flags)
        try c.encodeIfPresent(handshakeRTT, forKey: .handshakeRTT)
        try c.encode(complete, forKey: .complete)
    }
}
