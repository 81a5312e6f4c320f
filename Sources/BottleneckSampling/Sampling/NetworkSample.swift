/// TCP states as numbered in the kernel's `include/net/tcp_states.h` (the `st` column of
/// `/proc/net/tcp`).
public enum TCPState: UInt8, Sendable, CaseIterable, Codable {
    case established = 1, synSent, synReceived, finWait1, finWait2, timeWait, close, closeWait,
         lastAck, listen, closing, newSynReceived

    /// The name `ss` and `netstat` print, used as the JSON key.
    public var name: String {
        switch self {
        case .established: "ESTABLISHED"
        case .synSent: "SYN_SENT"
        case .synReceived: "SYN_RECV"
        case .finWait1: "FIN_WAIT1"
        case .finWait2: "FIN_WAIT2"
        case .timeWait: "TIME_WAIT"
        case .close: "CLOSE"
        case .closeWait: "CLOSE_WAIT"
        case .lastAck: "LAST_ACK"
        case .listen: "LISTEN"
        case .closing: "CLOSING"
        case .newSynReceived: "NEW_SYN_RECV"
        }
    }
}

/// One row of `/proc/net/tcp` or `/proc/net/tcp6`.
///
/// For a LISTEN socket the kernel reports the current accept-queue length as `rxQueue`:
/// connections the kernel completed that the server has not yet `accept()`ed.
public struct TCPSocket: Sendable, Equatable {
    public var localPort: UInt16
    public var remotePort: UInt16
    public var state: TCPState
    public var txQueue: UInt32
    public var rxQueue: UInt32
    public var uid: UInt32
    /// 0 for sockets no process holds (TIME_WAIT, not-yet-accepted connections).
    public var inode: UInt64
    /// The kernel's own account of the connection (`struct tcp_info`), when it came through
    /// `sock_diag` (the text tables do not carry it).
    public var info: TCPConnectionInfo? = nil
}

/// The parts of the kernel's `struct tcp_info` (linux/tcp.h) that tell a full link from a
/// receiver that does not read: the sender's time busy, and of it the time stopped by the
/// receiver's window (rwnd) or by its own send buffer; the rate it delivered; the RTT.
/// Counters are cumulative over the connection's life. Fields a kernel did not send are 0.
public struct TCPConnectionInfo: Sendable, Equatable {
    /// Smoothed RTT, µs (`tcpi_rtt`).
    public var rttMicros: UInt32 = 0
    /// Retransmitted segments over the connection's life (`tcpi_total_retrans`).
    public var totalRetransmits: UInt32 = 0
    /// Segments sent over the connection's life, retransmissions included (`tcpi_segs_out`, Linux 4.2+).
    public var segmentsOut: UInt32 = 0
    /// Bytes the peer acknowledged (`tcpi_bytes_acked`) and bytes received (`tcpi_bytes_received`).
    public var bytesAcked: UInt64 = 0
    public var bytesReceived: UInt64 = 0
    /// The most recent delivery rate sample, bytes/s (`tcpi_delivery_rate`, Linux 4.9+).
    public var deliveryRateBytesPerSecond: UInt64 = 0
    /// Time with data in flight, and of it limited by the receive window or the send buffer, µs (Linux 4.10+).
    public var busyMicros: UInt64 = 0
    public var receiveWindowLimitedMicros: UInt64 = 0
    public var sendBufferLimitedMicros: UInt64 = 0

    public init() {}

    /// Offsets in `struct tcp_info` (stable ABI: fields are only ever appended).
    static let rttOffset = 68, totalRetransOffset = 100, bytesAckedOffset = 120, bytesReceivedOffset = 128, segsOutOffset = 136
    static let deliveryRateOffset = 160, busyTimeOffset = 168, rwndLimitedOffset = 176, sndbufLimitedOffset = 184

    /// Parses the attribute's payload; fields beyond `bytes.count` (an older kernel) stay 0.
    init(_ bytes: UnsafeRawBufferPointer) {
        func u32(_ offset: Int) -> UInt32 { offset + 4 <= bytes.count ? bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self) : 0 }
        func u64(_ offset: Int) -> UInt64 { offset + 8 <= bytes.count ? bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self) : 0 }
        rttMicros = u32(Self.rttOffset)
        totalRetransmits = u32(Self.totalRetransOffset)
        segmentsOut = u32(Self.segsOutOffset)
        bytesAcked = u64(Self.bytesAckedOffset)
        bytesReceived = u64(Self.bytesReceivedOffset)
        deliveryRateBytesPerSecond = u64(Self.deliveryRateOffset)
        busyMicros = u64(Self.busyTimeOffset)
        receiveWindowLimitedMicros = u64(Self.rwndLimitedOffset)
        sendBufferLimitedMicros = u64(Self.sndbufLimitedOffset)
    }
}

/// The TCP counters of a network namespace that point at network or accept-queue trouble.
///
/// From `Tcp:` in `/proc/PID/net/snmp` and `TcpExt:` in `/proc/PID/net/netstat`.
public struct TCPCounters: Sendable, Equatable {
    /// Segments sent, retransmissions excluded (`Tcp: OutSegs`).
    public var outSegments: UInt64 = 0
    /// Segments sent again (`Tcp: RetransSegs`): loss, or a peer too slow to acknowledge.
    public var retransmittedSegments: UInt64 = 0
    /// Connections this namespace opened (`Tcp: ActiveOpens`).
    public var activeOpens: UInt64 = 0
    /// Connections the namespace accepted (`Tcp: PassiveOpens`): one per request when a client
    /// (a proxy without upstream keep-alive) opens one per request.
    public var passiveOpens: UInt64 = 0
    /// Connects that failed (`Tcp: AttemptFails`): refused, reset or timed out while opening.
    public var attemptFails: UInt64 = 0
    /// Established connections reset (`Tcp: EstabResets`).
    public var establishedResets: UInt64 = 0
    /// Resets sent (`Tcp: OutRsts`).
    public var outResets: UInt64 = 0
    /// Connections dropped because a listener's accept queue was full (`TcpExt: ListenOverflows`).
    public var listenOverflows: UInt64 = 0
    /// SYNs and handshakes a listener dropped, overflows included (`TcpExt: ListenDrops`).
    public var listenDrops: UInt64 = 0
    /// Segments dropped because a socket's backlog was full (`TcpExt: TCPBacklogDrop`).
    public var backlogDrops: UInt64 = 0
    /// Retransmission timeouts (`TcpExt: TCPTimeouts`).
    public var timeouts: UInt64 = 0
    /// SYN cookies sent because the SYN queue was full (`TcpExt: SyncookiesSent`).
    public var syncookiesSent: UInt64 = 0

    public init() {}

    /// The JSON names (the kernel's own) and values, in a fixed order.
    var named: [(String, UInt64)] {
        [("RetransSegs", retransmittedSegments), ("OutSegs", outSegments), ("ActiveOpens", activeOpens),
         ("PassiveOpens", passiveOpens), ("AttemptFails", attemptFails), ("EstabResets", establishedResets), ("OutRsts", outResets),
         ("ListenOverflows", listenOverflows), ("ListenDrops", listenDrops),
         ("TCPBacklogDrop", backlogDrops), ("TCPTimeouts", timeouts), ("SyncookiesSent", syncookiesSent)]
    }
}
