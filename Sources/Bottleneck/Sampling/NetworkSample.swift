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
}

/// The TCP counters of a network namespace that point at network or accept-queue trouble.
///
/// From `Tcp:` in `/proc/PID/net/snmp` and `TcpExt:` in `/proc/PID/net/netstat`.
public struct TCPCounters: Sendable, Equatable {
    public var outSegments: UInt64 = 0
    public var retransmittedSegments: UInt64 = 0
    public var activeOpens: UInt64 = 0
    public var attemptFails: UInt64 = 0
    public var establishedResets: UInt64 = 0
    public var outResets: UInt64 = 0
    public var listenOverflows: UInt64 = 0
    public var listenDrops: UInt64 = 0
    public var backlogDrops: UInt64 = 0
    public var timeouts: UInt64 = 0
    public var syncookiesSent: UInt64 = 0

    public init() {}

    /// The JSON names (the kernel's own) and values, in a fixed order.
    var named: [(String, UInt64)] {
        [("RetransSegs", retransmittedSegments), ("OutSegs", outSegments), ("ActiveOpens", activeOpens),
         ("AttemptFails", attemptFails), ("EstabResets", establishedResets), ("OutRsts", outResets),
         ("ListenOverflows", listenOverflows), ("ListenDrops", listenDrops),
         ("TCPBacklogDrop", backlogDrops), ("TCPTimeouts", timeouts), ("SyncookiesSent", syncookiesSent)]
    }
}
