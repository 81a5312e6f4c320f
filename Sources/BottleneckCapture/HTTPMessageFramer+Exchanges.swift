extension HTTPMessageFramer {
    // MARK: - Exchange bookkeeping

    /// A message begins in `h` with the packet at `ts`: a request opens a new exchange; a
    /// response joins the oldest request awaiting one (or opens an exchange without a request).
    func startMessage(_ h: HTTPMessageStream, _ ts: UInt64) {
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

    /// The head of the message in `h` is `block`: record it and choose how the body is framed.
    func headersComplete(_ h: HTTPMessageStream, _ ts: UInt64, _ block: UnsafeRawBufferPointer) {
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
    func finishMessage(_ h: HTTPMessageStream, _ i: Int, _ ts: UInt64) {
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
    func abandonMessage(_ h: HTTPMessageStream, _ flag: ExchangeFlags) {
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
