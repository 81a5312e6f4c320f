/// What went wrong with a request that got no usable response.
public enum RequestErrorKind: UInt8, Sendable, CaseIterable, Codable {
    case none = 0
    /// The TCP connect was refused (nothing listens, or the backlog is full and resets).
    case refused
    /// The connection was reset by the peer while the request was outstanding.
    case reset
    /// No complete response within `--timeout`, or no connection within `--connect-timeout`.
    case timeout
    /// The peer closed the connection before a complete response arrived.
    case closed
    /// The response was not valid HTTP/1.x.
    case malformed
    /// Any other socket error.
    case other
    /// The generator's host had no free local port for a new connection (EADDRNOTAVAIL):
    /// TIME_WAIT sockets from connection churn filled the ephemeral port range.
    case noLocalPort
    /// The generator hit its open-file limit (EMFILE, ENFILE): too many connections for `ulimit -n`.
    case tooManyFiles
    /// The TLS handshake or record layer failed (an untrusted certificate, a wrong name, no common protocol).
    case tls

    public var label: String {
        switch self {
        case .none: return ""
        case .refused: return "refused"
        case .reset: return "reset"
        case .timeout: return "timeout"
        case .closed: return "closed"
        case .malformed: return "malformed"
        case .other: return "other"
        case .noLocalPort: return "no-local-port"
        case .tooManyFiles: return "too-many-files"
        case .tls: return "tls"
        }
    }
}

/// One request as the load generator saw it. All times are `MonotonicClock` nanoseconds.
///
/// Latency is `lastByte − intended` (coordinated-omission free); service time is
/// `lastByte − sent`; schedule lag is `dispatched − intended` (the generator's own
/// lateness) and connection wait is `sent − dispatched` (no free connection, or connecting).
public struct RequestRecord: Sendable {
    public var step: Int32
    /// The event loop that sent it; with `sequence` it forms the X-Request-Id.
    public var loop: UInt16
    public var sequence: UInt64
    public var intended: UInt64
    public var dispatched: UInt64
    public var sent: UInt64
    /// 0 when no response byte arrived.
    public var firstByte: UInt64
    /// Completion time: the last response byte, or when the error was noticed.
    public var lastByte: UInt64
    /// HTTP status, 0 when there was no response.
    public var status: UInt16
    public var error: RequestErrorKind
    public var bytesOut: UInt32
    public var bytesIn: UInt32
    /// Index into the run's payload pool, -1 when the request had no body.
    public var payloadIndex: Int32
    public var connectionID: UInt32
    public var localPort: UInt16
    /// The raw `Server-Timing` value(s), when the response had any.
    public var serverTiming: String?

    public var latency: UInt64 { lastByte &- intended }
    public var serviceTime: UInt64 { lastByte &- sent }
    public var scheduleLag: UInt64 { dispatched &- intended }
}
