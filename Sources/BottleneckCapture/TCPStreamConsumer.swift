/// What a `TCPConnection` delivers from its two byte streams, each in sequence order.
///
/// `fromClient` names the direction: true for the client's stream (requests), false for the
/// server's (responses). Calls are per segment, never per byte; `TCPConnection` is generic over
/// its consumer, so they are direct calls on the hot path.
protocol TCPStreamConsumer: AnyObject {
    /// The sender's SYN was seen: the stream's next byte is its first.
    func streamStarted(fromClient: Bool)
    /// The first payload of a stream whose SYN was not captured: the bytes may begin mid-message.
    func streamJoined(fromClient: Bool)
    /// `length` bytes that continue the stream, delivered at `timestamp`. The first
    /// `captured.count` of them are in `captured`; the rest were cut by the snap length.
    func received(fromClient: Bool, _ captured: UnsafeRawBufferPointer, length: Int, timestamp: UInt64)
    /// `count` bytes that continue the stream but were never captured (acknowledged by the
    /// receiver, or given up on behind later segments).
    func missing(fromClient: Bool, count: Int, timestamp: UInt64)
    /// A segment repeated bytes already delivered.
    func retransmitted(fromClient: Bool)
    /// A segment arrived ahead of a gap and is held until the gap fills or is given up on.
    func reordered(fromClient: Bool)
    /// The sender's FIN was reached in sequence: the stream has no more bytes.
    func endOfStream(fromClient: Bool)
    /// Either side reset the connection: both streams stop.
    func reset()
    /// Client and server turned out to be the other way round; `fromClient` now names the other side.
    func rolesSwapped()
    /// The client's handshake ACK completed the handshake, `rtt` nanoseconds after the SYN.
    func handshakeCompleted(rtt: UInt64)
    /// The capture ended; every gap left in either stream has been delivered as `missing`.
    func captureEnded()
}
