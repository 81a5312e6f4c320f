import NIOCore
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

    init(method: String, target: TargetURL, headers: [(name: String, value: String)], contentType: String?,
         body: [UInt8]?, payloadIndex: Int32, runTag: String, loop: UInt16, keepAlive: Bool,
         allocator: ByteBufferAllocator) {
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
