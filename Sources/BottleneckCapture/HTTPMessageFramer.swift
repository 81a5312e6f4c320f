/// Where an HTTP/1.x byte stream parser stands, in sequence space.
enum HTTPFramingState {
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

/// One direction's HTTP/1.x messages: the framing state and the message being parsed.
final class HTTPMessageStream {
    var fromClient: Bool
    var state: HTTPFramingState = .idle
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
        header.reserveCapacity(1024)
    }
}

/// Frames the HTTP/1.x messages of one connection's two byte streams, as a `TCPConnection`
/// delivers them, and records each request/response pair as an `HTTPExchange` in `store`.
///
/// Requests and responses are paired in order (pipelining); interim 1xx responses belong to
/// the exchange of the final response. A body ends at its Content-Length, at its last chunk,
/// or (for a response with neither) at the server's FIN. A gap or a reset where the framing
/// needs the bytes abandons the message and waits for a segment that starts one.
final class HTTPMessageFramer: TCPStreamConsumer {
    /// The connection, as recorded in its exchanges.
    var key: ConnectionKey
    /// The connection's handshake round trip once known, recorded in the exchanges begun after.
    var handshakeRTT: UInt64?
    var c2s = HTTPMessageStream(fromClient: true)
    var s2c = HTTPMessageStream(fromClient: false)
    var exchangeCount = 0
    /// Requests waiting for (or receiving) their response, oldest first (pipelining).
    var awaiting: [Int] = []
    let store: ExchangeStore

    init(key: ConnectionKey, store: ExchangeStore) {
        self.key = key
        self.store = store
    }

    // MARK: - Stream events

    func streamStarted(fromClient: Bool) {
        (fromClient ? c2s : s2c).state = .idle
    }

    func streamJoined(fromClient: Bool) {
        (fromClient ? c2s : s2c).state = .lost
    }

    @inline(__always)
    func received(fromClient: Bool, _ captured: UnsafeRawBufferPointer, length: Int, timestamp: UInt64) {
        consume(fromClient ? c2s : s2c, timestamp, length, captured)
    }

    func missing(fromClient: Bool, count: Int, timestamp: UInt64) {
        consumeMissing(fromClient ? c2s : s2c, timestamp, count)
    }

    func retransmitted(fromClient: Bool) {
        let h = fromClient ? c2s : s2c
        if let i = h.current ?? h.last { store.items[i].flags.insert(.retransmission) }
    }

    func reordered(fromClient: Bool) {
        mark(fromClient ? c2s : s2c, .outOfOrder)
    }

    /// The sender will send no more: a close-delimited body ends with its last data byte.
    func endOfStream(fromClient: Bool) {
        let h = fromClient ? c2s : s2c
        if case .untilClose = h.state, let i = h.current {
            finishMessage(h, i, h.lastDataTimestamp)
        }
        h.state = .lost
    }

    func reset() {
        for h in [c2s, s2c] {
            if let i = h.current { store.items[i].flags.insert(.reset) }
            h.current = nil
            h.state = .lost
        }
        for i in awaiting { store.items[i].flags.insert(.reset) }
        awaiting.removeAll()
    }

    func rolesSwapped() {
        key = ConnectionKey(client: key.server, server: key.client)
        swap(&c2s, &s2c)
        c2s.fromClient = true
        s2c.fromClient = false
    }

    func handshakeCompleted(rtt: UInt64) {
        handshakeRTT = rtt
    }

    /// Unfinished messages, and requests still waiting for their response, are unterminated.
    func captureEnded() {
        for h in [c2s, s2c] {
            if let i = h.current { store.items[i].flags.insert(.unterminated) }
            h.current = nil
        }
        for i in awaiting where store.items[i].t4 == nil { store.items[i].flags.insert(.unterminated) }
        awaiting.removeAll()
    }

    /// Flags the message being parsed in `h`, or the next one when none is.
    func mark(_ h: HTTPMessageStream, _ f: ExchangeFlags) {
        if let i = h.current { store.items[i].flags.insert(f) } else { h.carry.insert(f) }
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
