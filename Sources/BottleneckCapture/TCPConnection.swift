/// `a` is before `b` in sequence space (mod 2^32).
@inline(__always) func seqLess(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) < 0 }

/// Where an HTTP/1.x byte stream parser stands, in sequence space.
enum StreamState {
    /// Between messages: the next byte starts one.
    case idle
    /// Inside the start line and headers (bytes needed).
    case headers
    /// Inside a Content-Length body: bytes left (counted, not needed).
    case body(UInt64)
    /// Inside a chunk-size line (bytes needed).
    case chunkSize
    /// Inside chunk data plus its CRLF: bytes left (counted, not needed).
    case chunkData(UInt64)
    /// After the last chunk: trailer lines until an empty one (bytes needed).
    case chunkTrailer
    /// A response body delimited by the connection's close.
    case untilClose
    /// Lost track of message boundaries: wait for a segment that starts a message.
    case lost
}

/// A segment that arrived ahead of a gap, kept until the gap fills (rare path: it allocates).
struct BufferedSegment {
    var seq: UInt32
    var length: Int
    var timestamp: UInt64
    var bytes: [UInt8]
}

/// One direction of a connection: TCP sequence tracking and the HTTP parser of its bytes.
final class HalfStream {
    var fromClient: Bool
    var synced = false
    var nextSeq: UInt32 = 0
    var isn: UInt32 = 0
    var finSeq: UInt32?
    var finConsumed = false
    var ackValid = false
    var lastAck: UInt32 = 0
    var lastWindow: UInt16 = 0
    var buffered: [BufferedSegment] = []
    var stats = DirectionStats()

    var state: StreamState
    var header: [UInt8] = []
    var line: [UInt8] = []
    /// Index of the exchange whose message is being parsed in this direction.
    var current: Int?
    /// Index of the exchange whose message last ended in this direction.
    var last: Int?
    /// Flags for the next message (a gap between messages).
    var carry: ExchangeFlags = []
    var messageBytes: UInt64 = 0
    var bodyBytes: UInt64 = 0
    var lastDataTimestamp: UInt64 = 0
    var interim = false

    init(fromClient: Bool) {
        self.fromClient = fromClient
        self.state = .idle
        header.reserveCapacity(1024)
    }
}

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

/// Tracks one TCP connection and the HTTP/1.1 exchanges on it.
final class TCPConnection {
    var key: ConnectionKey
    var rolesCertain: Bool
    var c2s = HalfStream(fromClient: true)
    var s2c = HalfStream(fromClient: false)
    var synTs: UInt64?
    var synAckTs: UInt64?
    var ackTs: UInt64?
    var firstSeen: UInt64
    var lastSeen: UInt64
    var exchangeCount = 0
    /// Requests waiting for (or receiving) their response, oldest first (pipelining).
    var awaiting: [Int] = []
    var closed = false
    let store: ExchangeStore

    init(key: ConnectionKey, rolesCertain: Bool, timestamp: UInt64, store: ExchangeStore) {
        self.key = key
        self.rolesCertain = rolesCertain
        self.firstSeen = timestamp
        self.lastSeen = timestamp
        self.store = store
    }

    var handshakeRTT: UInt64? {
        guard let s = synTs, let a = ackTs, a >= s else { return nil }
        return a - s
    }

    func stats() -> ConnectionStats {
        ConnectionStats(
            connection: key, firstSeen: firstSeen, lastSeen: lastSeen, handshakeRTT: handshakeRTT,
            synToSynAck: synTs.flatMap { s in synAckTs.flatMap { $0 >= s ? $0 - s : nil } },
            synAckToAck: synAckTs.flatMap { s in ackTs.flatMap { $0 >= s ? $0 - s : nil } },
            clientToServer: c2s.stats, serverToClient: s2c.stats, exchanges: exchangeCount)
    }

    /// Swaps client and server (roles were guessed from ports and the payload says otherwise).
    func swapRoles() {
        key = ConnectionKey(client: key.server, server: key.client)
        swap(&c2s, &s2c)
        c2s.fromClient = true
        s2c.fromClient = false
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
            reset(ts)
            return
        }
        if flags.contains(.syn) {
            if !flags.contains(.ack) {
                if synTs == nil { synTs = ts } else { h.stats.retransmissions &+= 1 }
            } else {
                if synAckTs == nil { synAckTs = ts } else { h.stats.retransmissions &+= 1 }
            }
            if !h.synced || h.isn == s.seq {
                h.isn = s.seq
                h.nextSeq = s.seq &+ 1
                h.synced = true
                h.state = .idle
            }
            if flags.contains(.ack) { noteAck(s, h: h, peer: peer) }
            return
        }
        if flags.contains(.ack) {
            if fromClient, ackTs == nil, synAckTs != nil, s.ack == s2c.isn &+ 1 { ackTs = ts }
            noteAck(s, h: h, peer: peer)
        }

        let length = s.payloadLength
        if length > 0 {
            h.stats.dataSegments &+= 1
            h.stats.payloadBytes &+= UInt64(length)
            if !h.synced {
                // Capture began mid-connection: resynchronize on the next message start.
                h.synced = true
                h.nextSeq = s.seq
                h.state = .lost
            }
            let d = Int32(bitPattern: s.seq &- h.nextSeq)
            if d == 0 {
                consume(h, ts, length, s.payload)
                h.nextSeq &+= UInt32(truncatingIfNeeded: length)
                if !h.buffered.isEmpty { drain(h, ts) }
            } else if d < 0 {
                h.stats.retransmissions &+= 1
                markRetransmission(h)
                let overlap = Int(-Int64(d))
                if overlap < length {
                    let tail = s.payload.count > overlap
                        ? UnsafeRawBufferPointer(rebasing: s.payload[overlap...])
                        : UnsafeRawBufferPointer(start: nil, count: 0)
                    consume(h, ts, length - overlap, tail)
                    h.nextSeq &+= UInt32(truncatingIfNeeded: length - overlap)
                    if !h.buffered.isEmpty { drain(h, ts) }
                }
            } else {
                h.stats.outOfOrder &+= 1
                mark(h, .outOfOrder)
                if h.buffered.count < 64 && d < (1 << 24) {
                    h.buffered.append(BufferedSegment(seq: s.seq, length: length, timestamp: ts, bytes: Array(s.payload)))
                } else {
                    // Too far ahead or too many: give the gap up as lost.
                    skipMissing(h, to: s.seq, ts)
                    consume(h, ts, length, s.payload)
                    h.nextSeq &+= UInt32(truncatingIfNeeded: length)
                    if !h.buffered.isEmpty { drain(h, ts) }
                }
            }
        }
        if flags.contains(.fin) {
            h.stats.fins &+= 1
            if h.finSeq == nil { h.finSeq = s.seq &+ UInt32(truncatingIfNeeded: length) }
            consumeFinIfReached(h)
        }
    }

    private func consumeFinIfReached(_ h: HalfStream) {
        guard let fin = h.finSeq, !h.finConsumed, h.synced, h.nextSeq == fin else { return }
        h.finConsumed = true
        h.nextSeq &+= 1
        endOfStream(h)
    }

    /// The sender will send no more: a close-delimited body ends with its last data byte.
    private func endOfStream(_ h: HalfStream) {
        if case .untilClose = h.state, let i = h.current {
            finishMessage(h, i, h.lastDataTimestamp)
        }
        h.state = .lost
    }

    private func noteAck(_ s: TCPSegment, h: HalfStream, peer: HalfStream) {
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

    private func reset(_ ts: UInt64) {
        closed = true
        for h in [c2s, s2c] {
            if let i = h.current { store.items[i].flags.insert(.reset) }
            h.current = nil
            h.state = .lost
        }
        for i in awaiting { store.items[i].flags.insert(.reset) }
        awaiting.removeAll()
    }

    // MARK: - Gaps

    /// Declares the bytes up to `target` lost, then processes what was buffered behind them.
    func skipMissing(_ h: HalfStream, to target: UInt32, _ ts: UInt64) {
        let n = Int(target &- h.nextSeq)
        guard n > 0 else { return }
        h.stats.missingBytes &+= UInt64(n)
        consumeMissing(h, ts, n)
        h.nextSeq = target
        if !h.buffered.isEmpty { drain(h, ts) }
    }

    /// Processes buffered segments the frontier has reached, at the time the gap filled.
    private func drain(_ h: HalfStream, _ ts: UInt64) {
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
                            consume(h, max(ts, b.timestamp), b.length - overlap, tail)
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

    /// End of capture: gaps that never filled are declared lost; unfinished exchanges flagged.
    func finish() {
        for h in [c2s, s2c] {
            while let first = h.buffered.min(by: { seqLess($0.seq, $1.seq) }) {
                skipMissing(h, to: first.seq, first.timestamp)
                if h.buffered.contains(where: { $0.seq == first.seq }) {
                    // Defensive: never loop forever on a segment the frontier cannot reach.
                    h.buffered.removeAll { $0.seq == first.seq }
                }
            }
            if case .untilClose = h.state, let i = h.current, h.finSeq == nil {
                store.items[i].flags.insert(.unterminated)
            }
            if let i = h.current { store.items[i].flags.insert(.unterminated) }
            h.current = nil
        }
        for i in awaiting where store.items[i].t4 == nil { store.items[i].flags.insert(.unterminated) }
        awaiting.removeAll()
    }

    // MARK: - Flags

    private func mark(_ h: HalfStream, _ f: ExchangeFlags) {
        if let i = h.current { store.items[i].flags.insert(f) } else { h.carry.insert(f) }
    }

    private func markRetransmission(_ h: HalfStream) {
        if let i = h.current ?? h.last { store.items[i].flags.insert(.retransmission) }
    }

    // MARK: - HTTP messages in sequence space

    /// Consumes `length` in-order bytes of which the first `bytes.count` were captured.
    func consume(_ h: HalfStream, _ ts: UInt64, _ length: Int, _ bytes: UnsafeRawBufferPointer) {
        var off = 0
        let captured = bytes.count
        while off < length {
            switch h.state {
            case .lost:
                if off == 0, HTTPHead.looksLikeStart(bytes, response: !h.fromClient) {
                    h.state = .idle
                    continue
                }
                off = length
            case .idle:
                if off < captured {
                    let c = bytes[off]
                    if c == 13 || c == 10 { off += 1; continue }
                }
                startMessage(h, ts)
                if off >= captured {
                    // The message's first bytes were not captured: its boundaries are unknown.
                    abandonMessage(h, .truncatedHeaders)
                    off = length
                } else {
                    h.state = .headers
                }
            case .headers:
                guard off < captured else {
                    abandonMessage(h, .truncatedHeaders)
                    off = length
                    continue
                }
                // Common case: the whole header block is in this segment; parse it in place.
                let oldCount = h.header.count
                if oldCount == 0, let end = Self.headerEnd(bytes, from: off, to: captured, floor: off) {
                    h.messageBytes &+= UInt64(end - off)
                    let block = UnsafeRawBufferPointer(rebasing: bytes[off..<end])
                    off = end
                    headersComplete(h, ts, block)
                    continue
                }
                h.header.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[off..<captured]))
                let found = h.header.withUnsafeBytes { Self.headerEnd($0, from: max(0, oldCount - 3), to: $0.count, floor: 0) }
                if let found {
                    let used = found - oldCount
                    h.header.removeLast(h.header.count - found)
                    h.messageBytes &+= UInt64(used)
                    off += used
                    let copy = h.header
                    copy.withUnsafeBytes { headersComplete(h, ts, $0) }
                } else {
                    h.messageBytes &+= UInt64(captured - off)
                    off = captured
                    if h.header.count > 65536 {
                        abandonMessage(h, .notHTTP)
                        off = length
                    }
                }
            case .body(let remaining):
                let n = UInt64(length - off)
                let take = min(remaining, n)
                off += Int(take)
                h.messageBytes &+= take
                h.bodyBytes &+= take
                if take == remaining {
                    if let i = h.current { finishMessage(h, i, ts) } else { h.state = .idle }
                } else {
                    h.state = .body(remaining - take)
                }
            case .chunkData(let remaining):
                let n = UInt64(length - off)
                let take = min(remaining, n)
                off += Int(take)
                h.messageBytes &+= take
                h.bodyBytes &+= take
                h.state = take == remaining ? .chunkSize : .chunkData(remaining - take)
            case .chunkSize, .chunkTrailer:
                guard off < captured else {
                    // Chunk framing cut by the snap length: the body's end is unknown.
                    abandonMessage(h, .truncatedHeaders)
                    off = length
                    continue
                }
                let c = bytes[off]
                off += 1
                h.messageBytes &+= 1
                h.bodyBytes &+= 1
                if c != 10 {
                    if h.line.count < 256 { h.line.append(c) } else { abandonMessage(h, .notHTTP); off = length }
                    continue
                }
                if case .chunkSize = h.state {
                    guard let size = Self.chunkSize(h.line) else { abandonMessage(h, .notHTTP); off = length; continue }
                    h.line.removeAll(keepingCapacity: true)
                    h.state = size == 0 ? .chunkTrailer : .chunkData(size &+ 2)
                } else {
                    let empty = h.line.isEmpty || (h.line.count == 1 && h.line[0] == 13)
                    h.line.removeAll(keepingCapacity: true)
                    if empty {
                        if let i = h.current { finishMessage(h, i, ts) } else { h.state = .idle }
                    }
                }
            case .untilClose:
                let n = length - off
                h.messageBytes &+= UInt64(n)
                h.bodyBytes &+= UInt64(n)
                h.lastDataTimestamp = ts
                off = length
            }
        }
    }

    /// Bytes known to exist but never captured (a gap given up on).
    private func consumeMissing(_ h: HalfStream, _ ts: UInt64, _ n: Int) {
        mark(h, .missingSegment)
        switch h.state {
        case .body(let remaining) where UInt64(n) <= remaining:
            h.messageBytes &+= UInt64(n)
            h.bodyBytes &+= UInt64(n)
            if UInt64(n) == remaining {
                if let i = h.current { finishMessage(h, i, ts) } else { h.state = .idle }
            } else {
                h.state = .body(remaining - UInt64(n))
            }
        case .chunkData(let remaining) where UInt64(n) < remaining:
            h.messageBytes &+= UInt64(n)
            h.bodyBytes &+= UInt64(n)
            h.state = .chunkData(remaining - UInt64(n))
        case .untilClose:
            h.messageBytes &+= UInt64(n)
            h.bodyBytes &+= UInt64(n)
        default:
            if h.current != nil { abandonMessage(h, .missingSegment) }
            h.state = .lost
        }
    }

    static func chunkSize(_ line: [UInt8]) -> UInt64? {
        var v: UInt64 = 0
        var digits = 0
        for c in line {
            let d: UInt64
            switch c {
            case 48...57: d = UInt64(c - 48)
            case 97...102: d = UInt64(c - 87)
            case 65...70: d = UInt64(c - 55)
            case 59, 13, 32, 9: return digits > 0 ? v : nil   // extensions, CR, whitespace
            default: return nil
            }
            guard digits < 15 else { return nil }
            v = v << 4 | d
            digits += 1
        }
        return digits > 0 ? v : nil
    }

    // MARK: - Exchange bookkeeping

    private func startMessage(_ h: HalfStream, _ ts: UInt64) {
        h.header.removeAll(keepingCapacity: true)
        h.line.removeAll(keepingCapacity: true)
        h.messageBytes = 0
        h.bodyBytes = 0
        h.interim = false
        if h.fromClient {
            let i = store.newExchange(connection: key, ordinal: exchangeCount, handshakeRTT: handshakeRTT)
            exchangeCount += 1
            store.items[i].t1 = ts
            store.items[i].flags.formUnion(h.carry)
            h.current = i
            awaiting.append(i)
        } else if let i = h.current, store.items[i].t4 == nil {
            // The next response after an interim 1xx: same exchange.
            _ = i
        } else if let i = awaiting.first {
            h.current = i
            if store.items[i].t3 == nil { store.items[i].t3 = ts }
            store.items[i].flags.formUnion(h.carry)
        } else {
            let i = store.newExchange(connection: key, ordinal: exchangeCount, handshakeRTT: handshakeRTT)
            exchangeCount += 1
            store.items[i].t3 = ts
            store.items[i].flags.insert(.noRequest)
            store.items[i].flags.formUnion(h.carry)
            h.current = i
            awaiting.append(i)
        }
        h.carry = []
    }

    /// The index just past the blank line ending a header block in `b[from..<to]`, if any.
    @inline(__always)
    static func headerEnd(_ b: UnsafeRawBufferPointer, from: Int, to: Int, floor: Int) -> Int? {
        var i = from
        while i < to {
            if b[i] == 10 {
                if i - 3 >= floor && b[i - 1] == 13 && b[i - 2] == 10 && b[i - 3] == 13 { return i + 1 }
                if i - 1 >= floor && b[i - 1] == 10 { return i + 1 }
            }
            i += 1
        }
        return nil
    }

    private func headersComplete(_ h: HalfStream, _ ts: UInt64, _ block: UnsafeRawBufferPointer) {
        let head = HTTPHead.parse(block.assumingMemoryBound(to: UInt8.self), response: !h.fromClient)
        h.header.removeAll(keepingCapacity: true)
        guard let i = h.current else { h.state = .lost; return }
        guard head.valid else {
            abandonMessage(h, .notHTTP)
            return
        }
        if h.fromClient {
            store.items[i].method = head.method
            store.items[i].target = head.target
            store.items[i].requestID = head.requestID
            if head.chunked {
                store.items[i].chunked = true
                h.state = .chunkSize
            } else if let n = head.contentLength, n > 0 {
                h.state = .body(n)
            } else {
                finishMessage(h, i, ts)
            }
            return
        }
        let status = head.status ?? 0
        if store.items[i].requestID == nil { store.items[i].requestID = head.requestID }
        if let st = head.serverTiming {
            store.items[i].serverTiming = store.items[i].serverTiming.map { $0 + ", " + st } ?? st
        }
        if status >= 100 && status < 200 && status != 101 {
            h.interim = true
            finishMessage(h, i, ts)
            return
        }
        store.items[i].status = status
        let isHead = store.items[i].method == "HEAD"
        if status == 101 {
            finishMessage(h, i, ts)
            h.state = .lost   // protocol switch: the rest is not HTTP/1.x
        } else if isHead || status == 204 || status == 304 {
            finishMessage(h, i, ts)
        } else if head.chunked {
            store.items[i].chunked = true
            h.state = .chunkSize
        } else if let n = head.contentLength {
            if n == 0 { finishMessage(h, i, ts) } else { h.state = .body(n) }
        } else {
            store.items[i].flags.insert(.closeDelimited)
            h.lastDataTimestamp = ts
            h.state = .untilClose
        }
    }

    /// The message in `h` ended with the packet at `ts`.
    private func finishMessage(_ h: HalfStream, _ i: Int, _ ts: UInt64) {
        h.state = .idle
        if h.fromClient {
            store.items[i].t2 = ts
            store.items[i].requestBytes &+= h.messageBytes
            store.items[i].requestBodyBytes &+= h.bodyBytes
        } else {
            store.items[i].responseBytes &+= h.messageBytes
            store.items[i].responseBodyBytes &+= h.bodyBytes
            if h.interim {
                h.interim = false
                h.messageBytes = 0
                h.bodyBytes = 0
                return   // keep h.current: the final response follows
            }
            store.items[i].t4 = ts
            if let k = awaiting.firstIndex(of: i) { awaiting.remove(at: k) }
        }
        h.messageBytes = 0
        h.bodyBytes = 0
        h.last = i
        h.current = nil
    }

    /// The message's end cannot be known: flag its exchange and wait for a resynchronization.
    private func abandonMessage(_ h: HalfStream, _ flag: ExchangeFlags) {
        if let i = h.current {
            store.items[i].flags.insert(flag)
            if h.fromClient {
                store.items[i].requestBytes &+= h.messageBytes
            } else {
                store.items[i].responseBytes &+= h.messageBytes
                if let k = awaiting.firstIndex(of: i) { awaiting.remove(at: k) }
            }
            h.last = i
        } else {
            h.carry.insert(flag)
        }
        h.current = nil
        h.messageBytes = 0
        h.bodyBytes = 0
        h.state = .lost
    }
}

/// The analyzer's exchanges, shared by its connections (which refer to them by index).
final class ExchangeStore {
    var items: [HTTPExchange] = []

    func newExchange(connection: ConnectionKey, ordinal: Int, handshakeRTT: UInt64?) -> Int {
        var e = HTTPExchange(connection: connection, ordinal: ordinal)
        e.handshakeRTT = handshakeRTT
        items.append(e)
        return items.count - 1
    }
}
