extension HTTPMessageFramer {
    // MARK: - HTTP messages in sequence space

    /// Consumes `length` in-order bytes of which the first `bytes.count` were captured.
    func consume(_ h: HTTPMessageStream, _ ts: UInt64, _ length: Int, _ bytes: UnsafeRawBufferPointer) {
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
    func consumeMissing(_ h: HTTPMessageStream, _ ts: UInt64, _ n: Int) {
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

    /// The size in a chunk-size line (hex digits, then optional extensions), nil when malformed.
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
}
