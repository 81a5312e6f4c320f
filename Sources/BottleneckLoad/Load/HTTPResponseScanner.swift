#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// An incremental HTTP/1.1 response framer for the load engine's hot path.
///
/// NIOHTTP1's decoder builds header dictionaries and strings for every response; the
/// engine only needs the status, where the message ends, whether the server will close,
/// and the `Server-Timing` value. This scanner reads exactly that from the bytes as they
/// arrive, keeps a partial head or chunk-size line across reads, and allocates only when
/// a response carries `Server-Timing`.
package struct HTTPResponseScanner {
    enum Outcome: Equatable {
        /// The response is not complete yet; feed more bytes.
        case needMore
        /// The response ended; any bytes after it are left in the buffer.
        case complete
        /// The bytes are not an HTTP/1.x response; the connection must be closed.
        case malformed(String)
    }

    private enum State {
        case head
        case fixedBody(remaining: Int)
        case chunkSizeLine
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case done
    }

    private var state: State = .head
    private var stash: ByteBuffer?
    private var searchFrom = 0
    /// True when the request was HEAD: responses have no body whatever they announce.
    var requestWasHead = false

    private(set) var status = 0
    /// Response bytes seen, head and body, across all reads.
    private(set) var bytesIn = 0
    private(set) var serverTiming: String?
    /// True when the server announced it will close the connection after this response.
    private(set) var closeAfter = false

    /// Prepares for the next response on the same connection.
    mutating func reset(requestWasHead: Bool = false) {
        self = HTTPResponseScanner()
        self.requestWasHead = requestWasHead
    }

    /// Consumes bytes belonging to the current response from `buffer`.
    mutating func feed(_ buffer: inout ByteBuffer) -> Outcome {
        bytesIn += buffer.readableBytes
        let outcome = consume(&buffer)
        if outcome == .complete { bytesIn -= buffer.readableBytes }
        return outcome
    }

    /// The connection closed: a body that runs until close is now complete.
    mutating func connectionClosed() -> Bool {
        if case .untilClose = state { state = .done; return true }
        return false
    }

    private mutating func consume(_ buffer: inout ByteBuffer) -> Outcome {
        while true {
            switch state {
            case .done:
                return .complete
            case .head:
                if stash == nil, let end = Self.findHeadEnd(buffer, from: 0) {
                    let outcome = parseHead(buffer.readableBytesView.prefix(end))
                    buffer.moveReaderIndex(forwardBy: end)
                    if case .malformed = outcome { return outcome }
                    continue
                }
                if stash == nil { stash = buffer; searchFrom = 0 } else { stash!.writeImmutableBuffer(buffer) }
                buffer.moveReaderIndex(to: buffer.writerIndex)
                guard let end = Self.findHeadEnd(stash!, from: searchFrom) else {
                    searchFrom = max(0, stash!.readableBytes - 3)
                    if stash!.readableBytes > 64 * 1024 { return .malformed("response head larger than 64 KiB") }
                    return .needMore
                }
                var head = stash!
                stash = nil
                let outcome = parseHead(head.readableBytesView.prefix(end))
                if case .malformed = outcome { return outcome }
                head.moveReaderIndex(forwardBy: end)
                // Bytes after the head that arrived in the same reads: process them next.
                if head.readableBytes > 0 { buffer = head }
            case .fixedBody(let remaining):
                let take = min(remaining, buffer.readableBytes)
                buffer.moveReaderIndex(forwardBy: take)
                if take == remaining { state = .done; return .complete }
                state = .fixedBody(remaining: remaining - take)
                return .needMore
            case .untilClose:
                buffer.moveReaderIndex(to: buffer.writerIndex)
                return .needMore
            case .chunkSizeLine, .chunkDataEnd, .trailers:
                guard let line = takeLine(&buffer) else { return .needMore }
                switch state {
                case .chunkSizeLine:
                    guard let size = Self.parseChunkSize(line) else { return .malformed("bad chunk size line") }
                    state = size == 0 ? .trailers : .chunkData(remaining: size)
                case .chunkDataEnd:
                    guard line.isEmpty else { return .malformed("chunk data not followed by CRLF") }
                    state = .chunkSizeLine
                default:  // trailers end at an empty line
                    if line.isEmpty { state = .done; return .complete }
                }
            case .chunkData(let remaining):
                let take = min(remaining, buffer.readableBytes)
                buffer.moveReaderIndex(forwardBy: take)
                if take == remaining { state = .chunkDataEnd } else {
                    state = .chunkData(remaining: remaining - take)
                    return .needMore
                }
            }
        }
    }

    /// Returns the next CRLF-terminated line (without CRLF), stashing a partial line.
    private mutating func takeLine(_ buffer: inout ByteBuffer) -> ByteBufferView? {
        if var pending = stash {
            pending.writeImmutableBuffer(buffer)
            buffer.moveReaderIndex(to: buffer.writerIndex)
            guard let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
                stash = pending
                return nil
            }
            stash = nil
            let lineEnd = newline - pending.readerIndex
            let line = pending.readableBytesView.prefix(lineEnd)
            pending.moveReaderIndex(forwardBy: lineEnd + 1)
            buffer = pending
            return line.last == UInt8(ascii: "\r") ? line.dropLast() : line
        }
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            stash = buffer
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return nil
        }
        let lineEnd = newline - buffer.readerIndex
        let line = buffer.readableBytesView.prefix(lineEnd)
        buffer.moveReaderIndex(forwardBy: lineEnd + 1)
        return line.last == UInt8(ascii: "\r") ? line.dropLast() : line
    }

    /// Offset just past "\r\n\r\n" in the readable bytes, searching from `from`.
    static func findHeadEnd(_ buffer: ByteBuffer, from: Int) -> Int? {
        buffer.withUnsafeReadableBytes { bytes -> Int? in
            // Line by line: the last byte of a match is "\n", found with memchr.
            var i = max(from, 3)
            while let newline = Self.index(of: 0x0A, in: bytes, from: i, to: bytes.count) {
                if bytes[newline - 1] == 0x0D && bytes[newline - 2] == 0x0A && bytes[newline - 3] == 0x0D {
                    return newline + 1
                }
                i = newline + 1
            }
            return nil
        }
    }

    /// The first position of `byte` in `bytes[from..<to]` (memchr: a vector scan, where a
    /// Swift byte loop costs a compare and branch per byte), nil when absent.
    @inline(__always)
    private static func index(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        guard from < to, let base = bytes.baseAddress, let found = memchr(base + from, Int32(byte), to - from) else { return nil }
        return UnsafeRawPointer(found) - base
    }

    private static func parseChunkSize(_ line: ByteBufferView) -> Int? {
        var size = 0
        var digits = 0
        for byte in line {
            let value: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(byte - UInt8(ascii: "A") + 10)
            case UInt8(ascii: ";"), UInt8(ascii: " "), UInt8(ascii: "\t"):
                return digits > 0 ? size : nil  // chunk extensions are ignored
            default: return nil
            }
            digits += 1
            guard digits <= 15 else { return nil }
            size = size << 4 | value
        }
        return digits > 0 ? size : nil
    }

    private mutating func parseHead(_ head: ByteBufferView) -> Outcome {
        // Parse in place over the buffer's bytes: no copy of the head on the hot path.
        head.withUnsafeBytes { bytes in parseHead(bytes) }
    }

    private mutating func parseHead(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        let count = bytes.count
        guard count >= 12, bytes[0] == 0x48, bytes[1] == 0x54, bytes[2] == 0x54, bytes[3] == 0x50,
              bytes[4] == 0x2F, bytes[5] == 0x31, bytes[6] == 0x2E  // "HTTP/1."
        else { return .malformed("response does not start with HTTP/1.x") }
        let isHTTP10 = bytes[7] == UInt8(ascii: "0")
        guard bytes[8] == 0x20,
              let d0 = Self.digit(bytes[9]), let d1 = Self.digit(bytes[10]), let d2 = Self.digit(bytes[11])
        else { return .malformed("bad status line") }
        status = d0 * 100 + d1 * 10 + d2
        var contentLength: Int?
        var chunked = false
        var connectionClose = isHTTP10
        // Skip the status line.
        var lineStart = (Self.index(of: 0x0A, in: bytes, from: 12, to: count) ?? count) + 1
        while lineStart < count {
            let newline = Self.index(of: 0x0A, in: bytes, from: lineStart, to: count) ?? count
            let lineEnd = newline > lineStart && bytes[newline - 1] == 0x0D ? newline - 1 : newline
            defer { lineStart = newline + 1 }
            var colon = lineStart
            while colon < lineEnd && bytes[colon] != UInt8(ascii: ":") { colon += 1 }
            guard colon < lineEnd else { continue }
            var valueStart = colon + 1
            while valueStart < lineEnd, bytes[valueStart] == 0x20 || bytes[valueStart] == 0x09 { valueStart += 1 }
            var valueEnd = lineEnd
            while valueEnd > valueStart, bytes[valueEnd - 1] == 0x20 || bytes[valueEnd - 1] == 0x09 { valueEnd -= 1 }
            let name = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<colon])
            let value = UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])
            // Dispatch on the name's length first: most headers are skipped after one compare.
            switch name.count {
            case 14 where Self.equalsLowercase(name, "content-length"):
                var length = 0
                for byte in value {
                    guard let d = Self.digit(byte), length < Int.max / 10 - 9 else { return .malformed("bad Content-Length") }
                    length = length * 10 + d
                }
                guard !value.isEmpty else { return .malformed("empty Content-Length") }
                contentLength = length
            case 17 where Self.equalsLowercase(name, "transfer-encoding"):
                chunked = Self.containsLowercase(value, "chunked")
            case 10 where Self.equalsLowercase(name, "connection"):
                if Self.containsLowercase(value, "close") { connectionClose = true }
                if Self.containsLowercase(value, "keep-alive") { connectionClose = false }
            case 13 where Self.equalsLowercase(name, "server-timing"):
                let text = String(decoding: value, as: UTF8.self)
                serverTiming = serverTiming.map { "\($0), \(text)" } ?? text
            default:
                break
            }
        }
        closeAfter = connectionClose
        if status >= 100 && status < 200 {
            // An interim response (100 Continue): the real one follows.
            state = .head
            return .needMore
        }
        if requestWasHead || status == 204 || status == 304 {
            state = .done
        } else if chunked {
            state = .chunkSizeLine
        } else if let contentLength {
            state = contentLength == 0 ? .done : .fixedBody(remaining: contentLength)
        } else {
            state = .untilClose
            closeAfter = true
        }
        return .needMore
    }

    @inline(__always)
    private static func digit(_ byte: UInt8) -> Int? {
        byte >= 0x30 && byte <= 0x39 ? Int(byte - 0x30) : nil
    }

    private static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ lower: StaticString) -> Bool {
        guard bytes.count == lower.utf8CodeUnitCount else { return false }
        return lower.withUTF8Buffer { expected in
            var i = 0
            for byte in bytes {
                let folded = (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
                if folded != expected[i] { return false }
                i += 1
            }
            return true
        }
    }

    private static func containsLowercase(_ bytes: UnsafeRawBufferPointer, _ lower: StaticString) -> Bool {
        @inline(__always) func fold(_ byte: UInt8) -> UInt8 { (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte }
        return lower.withUTF8Buffer { needle in
            guard bytes.count >= needle.count else { return false }
            for start in 0...(bytes.count - needle.count) where fold(bytes[start]) == needle[0] {
                var match = true
                for i in 1..<needle.count where fold(bytes[start + i]) != needle[i] { match = false; break }
                if match { return true }
            }
            return false
        }
    }
}

extension HTTPResponseScanner {
    /// Frames the responses in `bytes` as a connection would receive them, in reads of
    /// `readSize` bytes, a new response starting where the last one ended; then the peer
    /// closes. The number of complete responses, or nil at the first malformed one.
    ///
    /// The scanner stays internal to the engine's hot path; this is its entry for the fuzzer
    /// (fuzz/README.md) and for tests that replay what the fuzzer found.
    package static func frameResponses(in bytes: [UInt8], readSize: Int, requestsWereHead: Bool = false) -> Int? {
        var scanner = HTTPResponseScanner()
        scanner.reset(requestWasHead: requestsWereHead)
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        var complete = 0
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + max(1, readSize))
            buffer.writeBytes(bytes[offset..<end])
            offset = end
            reading: while buffer.readableBytes > 0 {
                switch scanner.feed(&buffer) {
                case .needMore:
                    break reading
                case .complete:
                    complete += 1
                    scanner.reset(requestWasHead: requestsWereHead)
                case .malformed:
                    return nil
                }
            }
            buffer.discardReadBytes()
        }
        return scanner.connectionClosed() ? complete + 1 : complete
    }
}
