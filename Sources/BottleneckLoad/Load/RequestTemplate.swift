import NIOCore
import NIOHPACK
import BottleneckCore

/// Pre-encoded request bytes, built once per payload before the run so the hot path
/// only copies a prefix, writes the request id digits and hands over a shared body.
/// A class: choosing one for a request is then one reference count, not one per buffer.
final class RequestTemplate: Sendable {
    /// Everything up to and including "X-Request-Id: <run>-<loop>-".
    let prefix: ByteBuffer
    /// "\r\n" plus "Connection: close\r\n" when keep-alive is off, plus the final "\r\n".
    let suffix: ByteBuffer
    /// The body, shared by reference between all requests that use it.
    let body: ByteBuffer?
    let bodyBytes: Int
    let payloadIndex: Int32
    /// Over HTTP/2, the same request as a header block (nil over HTTP/1.1).
    let http2: HTTP2RequestHead?

    init(method: String, target: TargetURL, headers: [(name: String, value: String)], contentType: String?,
         body: [UInt8]?, payloadIndex: Int32, runTag: String, loop: UInt16, keepAlive: Bool,
         http2: Bool = false, allocator: ByteBufferAllocator) {
        // A gRPC call's body is its message behind the 5-byte length prefix (an empty message without a payload).
        let body = target.isGRPC ? GRPCFraming.frame(body ?? []) : body
        self.http2 = http2 || target.isGRPC
            ? HTTP2RequestHead(method: method, target: target, headers: headers, contentType: contentType,
                               bodyBytes: body?.count, requestIDPrefix: "\(runTag)-\(loop)-") : nil
        var head = "\(method) \(target.pathAndQuery) HTTP/1.1\r\nHost: \(target.hostHeader)\r\n"
        let userHeaderNames = Set(headers.map { $0.name.lowercased() })
        if !userHeaderNames.contains("user-agent") { head += "User-Agent: bottleneck/\(BottleneckVersion.current)\r\n" }
        if !userHeaderNames.contains("accept") { head += "Accept: */*\r\n" }
        if let contentType, !userHeaderNames.contains("content-type") { head += "Content-Type: \(contentType)\r\n" }
        if let body {
            head += "Content-Length: \(body.count)\r\n"
        } else if method == "POST" || method == "PUT" || method == "PATCH" {
            head += "Content-Length: 0\r\n"
        }
        for header in headers { head += "\(header.name): \(header.value)\r\n" }
        head += "X-Request-Id: \(runTag)-\(loop)-"
        prefix = allocator.buffer(string: head)
        suffix = allocator.buffer(string: keepAlive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n")
        if let body {
            self.body = allocator.buffer(bytes: body)
            bodyBytes = body.count
        } else {
            self.body = nil
            bodyBytes = 0
        }
        self.payloadIndex = payloadIndex
    }

    /// Writes the head for request `sequence` into `buffer`, replacing what it held.
    /// The connection passes the buffer of its previous request: once the socket has taken
    /// those bytes nobody else holds it, and clearing it reuses its memory (no allocation).
    @inline(__always)
    func writeHead(sequence: UInt64, into buffer: inout ByteBuffer) {
        buffer.clear(minimumCapacity: prefix.readableBytes + 20 + suffix.readableBytes)
        buffer.writeImmutableBuffer(prefix)
        buffer.writeDecimal(sequence)
        buffer.writeImmutableBuffer(suffix)
    }
}

/// An HTTP/2 request's header block, built once per payload: pseudo-headers first, then the
/// same fields the HTTP/1.1 head carries, names in lower case, without the fields HTTP/2
/// forbids (Connection, Keep-Alive, Transfer-Encoding, Upgrade; Host becomes :authority).
struct HTTP2RequestHead: Sendable {
    let headers: HPACKHeaders
    /// "<run>-<loop>-": the request's sequence number completes its X-Request-Id.
    let requestIDPrefix: String
    /// What the block weighs before HPACK (name, value and ": " and CRLF per field, as HTTP/1.1
    /// would send it, plus the frames' 9-byte headers): `bytesOut` counts this, since the
    /// compressed size is not exposed and changes as the connection's table fills.
    let headerBytes: Int

    static let forbidden: Set<String> = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host"]

    init(method: String, target: TargetURL, headers: [(name: String, value: String)], contentType: String?,
         bodyBytes: Int?, requestIDPrefix: String) {
        let names = Set(headers.map { $0.name.lowercased() })
        let authority = headers.first { $0.name.lowercased() == "host" }?.value ?? target.hostHeader
        var fields: [(String, String)] = [
            (":method", method), (":scheme", target.isTLS ? "https" : "http"),
            (":authority", authority), (":path", target.pathAndQuery),
        ]
        if !names.contains("user-agent") { fields.append(("user-agent", "bottleneck/\(BottleneckVersion.current)")) }
        if target.isGRPC {
            fields += [("content-type", "application/grpc"), ("te", "trailers")]
        } else {
            if !names.contains("accept") { fields.append(("accept", "*/*")) }
            if let contentType, !names.contains("content-type") { fields.append(("content-type", contentType)) }
        }
        if target.isGRPC {
            // No content-length: a gRPC body is framed by its messages.
        } else if let bodyBytes {
            fields.append(("content-length", String(bodyBytes)))
        } else if method == "POST" || method == "PUT" || method == "PATCH" {
            fields.append(("content-length", "0"))
        }
        for header in headers where !Self.forbidden.contains(header.name.lowercased())
            && !(target.isGRPC && ["content-type", "te"].contains(header.name.lowercased())) {
            fields.append((header.name.lowercased(), header.value))
        }
        self.headers = HPACKHeaders(fields)
        self.requestIDPrefix = requestIDPrefix
        let idField = "x-request-id".utf8.count + requestIDPrefix.utf8.count + 8 + 4
        headerBytes = fields.reduce(9 + idField) { $0 + $1.0.utf8.count + $1.1.utf8.count + 4 } + (bodyBytes == nil ? 0 : 9)
    }
}

extension ByteBuffer {
    /// Writes an unsigned integer in decimal without going through String.
    @inline(__always)
    mutating func writeDecimal(_ value: UInt64) {
        var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // 32 bytes of scratch
        var v = value
        withUnsafeMutableBytes(of: &digits) { scratch in
            var i = 32
            repeat {
                i -= 1
                scratch[i] = UInt8(truncatingIfNeeded: v % 10) &+ 0x30
                v /= 10
            } while v > 0
            self.writeBytes(UnsafeRawBufferPointer(rebasing: scratch[i..<32]))
        }
    }
}
