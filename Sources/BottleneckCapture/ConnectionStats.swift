/// Counters for one direction of a TCP connection.
public struct DirectionStats: Sendable, Codable, Equatable {
    public var packets: UInt64 = 0
    /// Segments carrying payload (the denominator of the retransmit ratio).
    public var dataSegments: UInt64 = 0
    public var payloadBytes: UInt64 = 0
    public var retransmissions: UInt64 = 0
    public var outOfOrder: UInt64 = 0
    /// Bytes that were acknowledged or skipped but never captured.
    public var missingBytes: UInt64 = 0
    public var dupAcks: UInt64 = 0
    /// Packets from this side advertising a zero receive window.
    public var zeroWindows: UInt64 = 0
    public var resets: UInt64 = 0
    public var fins: UInt64 = 0
    public init() {}
}

/// Per-connection result: handshake timing and TCP health in both directions.
public struct ConnectionStats: Sendable, Codable, Equatable {
    public var connection: ConnectionKey
    public var firstSeen: UInt64
    public var lastSeen: UInt64
    /// SYN → client's handshake ACK: the full round trip wherever the capture sits on the path.
    public var handshakeRTT: UInt64?
    /// SYN → SYN/ACK: round trip between the capture point and the server.
    public var synToSynAck: UInt64?
    /// SYN/ACK → ACK: round trip between the capture point and the client.
    public var synAckToAck: UInt64?
    public var clientToServer: DirectionStats
    public var serverToClient: DirectionStats
    public var exchanges: Int
}
