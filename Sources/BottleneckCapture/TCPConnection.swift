/// `a` is before `b` in sequence space (mod 2^32).
@inline(__always) func seqLess(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) < 0 }

/// A segment that arrived ahead of a gap, kept until the gap fills (rare path: it allocates).
struct BufferedSegment {
    var seq: UInt32
    var length: Int
    var timestamp: UInt64
    var bytes: [UInt8]
}

/// One direction of a connection in sequence space: the delivery frontier, the sender's FIN,
/// the last ACK it sent, segments held behind a gap, and its counters.
final class TCPHalfStream {
    var fromClient: Bool
    var synced = false
    /// The next sequence number to deliver.
    var nextSeq: UInt32 = 0
    var isn: UInt32 = 0
    var finSeq: UInt32?
    var finConsumed = false
    var ackValid = false
    var lastAck: UInt32 = 0
    var lastWindow: UInt16 = 0
    var buffered: [BufferedSegment] = []
    var stats = DirectionStats()

    init(fromClient: Bool) {
        self.fromClient = fromClient
    }
}

/// Reassembles one TCP connection: handshake timing, both byte streams in sequence order
/// (retransmissions dropped, out-of-order segments held until their gap fills, bytes the
/// capture never saw declared missing), FIN and RST, and the counters of each direction.
/// What the streams carry is the business of `consumer`, which receives them in order.
final class TCPConnection<Consumer: TCPStreamConsumer> {
    var key: ConnectionKey
    var rolesCertain: Bool
    var c2s = TCPHalfStream(fromClient: true)
    var s2c = TCPHalfStream(fromClient: false)
    var synTs: UInt64?
    var synAckTs: UInt64?
    var ackTs: UInt64?
    var firstSeen: UInt64
    var lastSeen: UInt64
    var closed = false
    let consumer: Consumer

    init(key: ConnectionKey, rolesCertain: Bool, timestamp: UInt64, consumer: Consumer) {
        self.key = key
        self.rolesCertain = rolesCertain
        self.firstSeen = timestamp
        self.lastSeen = timestamp
        self.consumer = consumer
    }

    var handshakeRTT: UInt64? {
        guard let s = synTs, let a = ackTs, a >= s else { return nil }
        return a - s
    }

    /// The connection's counters; `exchanges` is what the consumer found in its streams.
    func stats(exchanges: Int) -> ConnectionStats {
        ConnectionStats(
            connection: key, firstSeen: firstSeen, lastSeen: lastSeen, handshakeRTT: handshakeRTT,
            synToSynAck: synTs.flatMap { s in synAckTs.flatMap { $0 >= s ? $0 - s : nil } },
            synAckToAck: synAckTs.flatMap { s in ackTs.flatMap { $0 >= s ? $0 - s : nil } },
            clientToServer: c2s.stats, serverToClient: s2c.stats, exchanges: exchanges)
    }

    /// Swaps client and server (roles were guessed from ports and the payload says otherwise).
    func swapRoles() {
        key = ConnectionKey(client: key.server, server: key.client)
        swap(&c2s, &s2c)
        c2s.fromClient = true
        s2c.fromClient = false
        consumer.rolesSwapped()
    }

    // MARK: - Per packet

    func handle(_ s: TCPSegment, fromClient: Bool) {
        let h = fromClient ? c2s : s2c
        let peer = fromClient ? s2c : c2s
        let ts = s.timestamp
        lastSeen = ts
        h.stats.packets &+= 1
        let flags = s.flags

        if flags.contains(.rst) {
            h.stats.resets &+= 1
            closed = true
            consumer.reset()
            return
        }
        if flags.contains(.syn) {
            if !flags.contains(.ack) {
                if synTs == nil { synTs = ts; noteHandshake() } else { h.stats.retransmissions &+= 1 }
            } else {
                if synAckTs == nil { synAckTs = ts } else { h.stats.retransmissions &+= 1 }
            }
            if !h.synced || h.isn == s.seq {
                h.isn = s.seq
                h.nextSeq = s.seq &+ 1
                h.synced = true
                consumer.streamStarted(fromClient: fromClient)
            }
            if flags.contains(.ack) { noteAck(s, h: h, peer: peer) }
            return
        }
        if flags.contains(.ack) {
            if fromClient, ackTs == nil, synAckTs != nil, s.ack == s2c.isn &+ 1 { ackTs = ts; noteHandshake() }
            noteAck(s, h: h, peer: peer)
        }

        let length = s.payloadLength
        if length > 0 {
            h.stats.dataSegments &+= 1
            h.stats.payloadBytes &+= UInt64(length)
            if !h.synced {
                // Capture began mid-connection: the consumer resynchronizes on what follows.
                h.synced = true
                h.nextSeq = s.seq
                consumer.streamJoined(fromClient: fromClient)
            }
            let d = Int32(bitPattern: s.seq &- h.nextSeq)
            if d == 0 {
                deliver(h, ts, length, s.payload)
            } else if d < 0 {
                h.stats.retransmissions &+= 1
                consumer.retransmitted(fromClient: fromClient)
                let overlap = Int(-Int64(d))
                if overlap < length {
                    let tail = s.payload.count > overlap
                        ? UnsafeRawBufferPointer(rebasing: s.payload[overlap...])
                        : UnsafeRawBufferPointer(start: nil, count: 0)
                    deliver(h, ts, length - overlap, tail)
                }
            } else {
                h.stats.outOfOrder &+= 1
                consumer.reordered(fromClient: fromClient)
                if h.buffered.count < 64 && d < (1 << 24) {
                    h.buffered.append(BufferedSegment(seq: s.seq, length: length, timestamp: ts, bytes: Array(s.payload)))
                } else {
                    // Too far ahead or too many: give the gap up as lost.
                    skipMissing(h, to: s.seq, ts)
                    deliver(h, ts, length, s.payload)
                }
            }
        }
        if flags.contains(.fin) {
            h.stats.fins &+= 1
            if h.finSeq == nil { h.finSeq = s.seq &+ UInt32(truncatingIfNeeded: length) }
            consumeFinIfReached(h)
        }
    }

    /// Hands `length` bytes at the frontier to the consumer, then what they let through.
    @inline(__always)
    private func deliver(_ h: TCPHalfStream, _ ts: UInt64, _ length: Int, _ bytes: UnsafeRawBufferPointer) {
        consumer.received(fromClient: h.fromClient, bytes, length: length, timestamp: ts)
        h.nextSeq &+= UInt32(truncatingIfNeeded: length)
        if !h.buffered.isEmpty { drain(h, ts) }
    }

    private func noteHandshake() {
        if let rtt = handshakeRTT { consumer.handshakeCompleted(rtt: rtt) }
    }

    private func consumeFinIfReached(_ h: TCPHalfStream) {
        guard let fin = h.finSeq, !h.finConsumed, h.synced, h.nextSeq == fin else { return }
        h.finConsumed = true
        h.nextSeq &+= 1
        consumer.endOfStream(fromClient: h.fromClient)
    }

    private func noteAck(_ s: TCPSegment, h: TCPHalfStream, peer: TCPHalfStream) {
        if s.payloadLength == 0, !s.flags.contains(.fin), !s.flags.contains(.syn) {
            if h.ackValid, s.ack == h.lastAck, s.window == h.lastWindow, peer.synced, seqLess(s.ack, peer.nextSeq) || !peer.buffered.isEmpty {
                h.stats.dupAcks &+= 1
            }
        }
        if s.window == 0 { h.stats.zeroWindows &+= 1 }
        h.lastAck = s.ack
        h.lastWindow = s.window
        h.ackValid = true
        // The receiver acknowledges bytes the capture never saw: they are lost to us.
        if peer.synced, seqLess(peer.nextSeq, s.ack) {
            var target = s.ack
            if let fin = peer.finSeq, s.ack == fin &+ 1 { target = fin }
            let gap = target &- peer.nextSeq
            if gap > 0, gap < (1 << 30) { skipMissing(peer, to: target, s.timestamp) }
            consumeFinIfReached(peer)
        }
    }

    // MARK: - Gaps

    /// Declares the bytes up to `target` lost, then delivers what was buffered behind them.
    func skipMissing(_ h: TCPHalfStream, to target: UInt32, _ ts: UInt64) {
        let n = Int(target &- h.nextSeq)
        guard n > 0 else { return }
        h.stats.missingBytes &+= UInt64(n)
        consumer.missing(fromClient: h.fromClient, count: n, timestamp: ts)
        h.nextSeq = target
        if !h.buffered.isEmpty { drain(h, ts) }
    }

    /// Delivers buffered segments the frontier has reached, at the time the gap filled.
    private func drain(_ h: TCPHalfStream, _ ts: UInt64) {
        var progressed = true
        while progressed {
            progressed = false
            var k = 0
            while k < h.buffered.count {
                let b = h.buffered[k]
                if !seqLess(h.nextSeq, b.seq) {
                    h.buffered.remove(at: k)
                    let overlap = Int(h.nextSeq &- b.seq)
                    if overlap < b.length {
                        b.bytes.withUnsafeBytes { raw in
                            let tail = raw.count > overlap ? UnsafeRawBufferPointer(rebasing: raw[overlap...]) : UnsafeRawBufferPointer(start: nil, count: 0)
                            consumer.received(fromClient: h.fromClient, tail, length: b.length - overlap, timestamp: max(ts, b.timestamp))
                        }
                        h.nextSeq &+= UInt32(truncatingIfNeeded: b.length - overlap)
                    }
                    progressed = true
                } else {
                    k += 1
                }
            }
        }
        consumeFinIfReached(h)
    }

    /// End of capture: gaps that never filled are declared lost, then the consumer is told.
    func finish() {
        for h in [c2s, s2c] {
            while let first = h.buffered.min(by: { seqLess($0.seq, $1.seq) }) {
                skipMissing(h, to: first.seq, first.timestamp)
                if h.buffered.contains(where: { $0.seq == first.seq }) {
                    // Defensive: never loop forever on a segment the frontier cannot reach.
                    h.buffered.removeAll { $0.seq == first.seq }
                }
            }
        }
        consumer.captureEnded()
    }
}
