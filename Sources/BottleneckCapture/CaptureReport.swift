import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a capture file to the end through an `ExchangeAnalyzer`. A truncated file is not an
/// error: the packets before the cut are analyzed and `readError` says where it stopped.
public func analyzeFile(path: String, ports: Set<UInt16> = [], filter: String? = nil) throws -> CaptureAnalysis {
    let source = try PacketSource.file(path: path, filter: filter)
    let analyzer = ExchangeAnalyzer(linkType: source.linkType, serverPorts: ports)
    do {
        try source.forEach { analyzer.feed($0) }
    } catch let error as CaptureError where error.code == .truncatedFile {
        return analyzer.finish(readError: error)
    }
    return analyzer.finish()
}

/// What `bottleneck capture analyze FILE [--ports …] [--json]` prints; the executable only
/// parses its arguments and writes these strings.
public enum CaptureAnalyzeCommandOutput: Sendable {
    /// The human summary: per leg, percentiles of server time (t3−t2) and total (t4−t1),
    /// handshake RTT, retransmit ratio, TCP trouble counters.
    public static func text(_ a: CaptureAnalysis, file: String) -> String {
        var out = "capture \(file): \(a.packets.packets) packets (\(a.packets.tcp) TCP analyzed"
        if a.packets.malformed > 0 { out += ", \(a.packets.malformed) malformed" }
        if a.packets.truncatedBySnapLength > 0 { out += ", \(a.packets.truncatedBySnapLength) cut by snap length" }
        out += "), \(a.connections.count) connections, \(a.exchanges.count) exchanges (\(a.exchanges.reduce(0) { $0 + ($1.complete ? 1 : 0) }) complete)\n"
        if let e = a.readError { out += "warning: \(e)\n" }
        if let s = a.captureStats {
            out += "capture drops: \(s.droppedByKernel) by kernel, \(s.droppedByInterface) by interface of \(s.received) received\n"
        }
        for leg in a.legs {
            out += "\nleg :\(leg.port)  \(leg.exchanges) exchanges, \(leg.completeExchanges) complete, \(leg.connections) connections\n"
            out += row("server time t3-t2", leg.serverTime)
            out += row("total t4-t1", leg.totalTime)
            out += row("handshake RTT", leg.handshakeRTT)
            let ratio = String(format: "%.4f%%", leg.retransmitRatio * 100)
            out += "  retransmits        \(leg.retransmissions) of \(leg.dataSegments) data segments (\(ratio)); dup ACKs \(leg.dupAcks), zero windows \(leg.zeroWindows), resets \(leg.resets)\n"
            if !leg.statusCounts.isEmpty {
                out += "  status             " + leg.statusCounts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "\n"
            }
            if !leg.flagCounts.isEmpty {
                out += "  flags              " + leg.flagCounts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "\n"
            }
        }
        return out
    }

    private static func row(_ name: String, _ s: DurationSummary?) -> String {
        let label = name.padding(toLength: 19, withPad: " ", startingAt: 0)
        guard let s else { return "  \(label)n/a\n" }
        return "  \(label)p50 \(duration(s.p50))  p90 \(duration(s.p90))  p99 \(duration(s.p99))  p99.9 \(duration(s.p999))  max \(duration(s.max))  (n=\(s.count))\n"
    }

    /// Nanoseconds as µs or ms with 3 significant decimals.
    public static func duration(_ ns: UInt64) -> String {
        if ns < 1_000_000 { return String(format: "%.1fµs", Double(ns) / 1e3) }
        if ns < 10_000_000_000 { return String(format: "%.3fms", Double(ns) / 1e6) }
        return String(format: "%.2fs", Double(ns) / 1e9)
    }

    /// One JSON object per exchange, one per line, keys in a fixed order; decodes as `HTTPExchange`.
    public static func jsonLines(_ a: CaptureAnalysis) -> String {
        var out = ""
        for e in a.exchanges {
            appendJSON(e, to: &out)
            out += "\n"
        }
        return out
    }

    /// Streams the JSON Lines to a file (mode 0600: exchanges can hold request ids and URLs),
    /// in 1 MiB writes, so a million exchanges never sit in memory as one string. Same bytes as
    /// `jsonLines`, rendered straight into a byte buffer (a million exchanges in about a second).
    public static func writeJSONLines(_ a: CaptureAnalysis, toFile path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CaptureError(.dumpFailed, "cannot create \(path); check the directory is writable") }
        defer { close(fd) }
        try writeJSONLines(a, toFileDescriptor: fd, name: path)
    }

    /// Streams the exchanges as JSON Lines to an open descriptor (e.g. stdout), in 1 MiB writes.
    public static func writeJSONLines(_ a: CaptureAnalysis, toFileDescriptor fd: Int32, name path: String = "stdout") throws {
        var buffer = [UInt8]()
        buffer.reserveCapacity(1 << 20 + 8192)
        func flush() throws {
            let ok = buffer.withUnsafeBytes { raw -> Bool in
                var done = 0
                while done < raw.count {
                    let n = write(fd, raw.baseAddress! + done, raw.count - done)
                    if n < 0 { if errno == EINTR { continue }; return false }
                    done += n
                }
                return true
            }
            buffer.removeAll(keepingCapacity: true)
            guard ok else { throw CaptureError(.dumpFailed, "writing \(path) failed; is the disk full?") }
        }
        // The connection part is the same for every exchange on a connection: render it once.
        var prefixes: [ConnectionKey: [UInt8]] = [:]
        var scratch = ""
        for e in a.exchanges {
            if let p = prefixes[e.connection] {
                buffer.append(contentsOf: p)
            } else {
                scratch = ""
                appendConnection(e, to: &scratch)
                let p = Array(scratch.utf8)
                prefixes[e.connection] = p
                buffer.append(contentsOf: p)
            }
            appendNumber(UInt64(e.ordinal), &buffer)
            if e.method != nil || e.target != nil || e.requestID != nil || e.serverTiming != nil {
                scratch = ""
                if let m = e.method { scratch += ",\"method\":"; appendString(m, &scratch) }
                if let t = e.target { scratch += ",\"target\":"; appendString(t, &scratch) }
                buffer.append(contentsOf: scratch.utf8)
            }
            if let t = e.t1 { appendKey(",\"t1\":", &buffer); appendNumber(t, &buffer) }
            if let t = e.t2 { appendKey(",\"t2\":", &buffer); appendNumber(t, &buffer) }
            if let t = e.t3 { appendKey(",\"t3\":", &buffer); appendNumber(t, &buffer) }
            if let t = e.t4 { appendKey(",\"t4\":", &buffer); appendNumber(t, &buffer) }
            if let st = e.status { appendKey(",\"status\":", &buffer); appendNumber(UInt64(max(0, st)), &buffer) }
            appendKey(",\"requestBytes\":", &buffer); appendNumber(e.requestBytes, &buffer)
            appendKey(",\"responseBytes\":", &buffer); appendNumber(e.responseBytes, &buffer)
            appendKey(",\"requestBodyBytes\":", &buffer); appendNumber(e.requestBodyBytes, &buffer)
            appendKey(",\"responseBodyBytes\":", &buffer); appendNumber(e.responseBodyBytes, &buffer)
            if e.requestID != nil || e.serverTiming != nil {
                scratch = ""
                if let r = e.requestID { scratch += ",\"requestID\":"; appendString(r, &scratch) }
                if let st = e.serverTiming { scratch += ",\"serverTiming\":"; appendString(st, &scratch) }
                buffer.append(contentsOf: scratch.utf8)
            }
            appendKey(e.chunked ? ",\"chunked\":true,\"flags\":[" : ",\"chunked\":false,\"flags\":[", &buffer)
            if !e.flags.isEmpty { buffer.append(contentsOf: e.flags.names.map { "\"\($0)\"" }.joined(separator: ",").utf8) }
            buffer.append(93)   // ]
            if let r = e.handshakeRTT { appendKey(",\"handshakeRTT\":", &buffer); appendNumber(r, &buffer) }
            appendKey(e.complete ? ",\"complete\":true}\n" : ",\"complete\":false}\n", &buffer)
            if buffer.count >= 1 << 20 { try flush() }
        }
        try flush()
    }

    @inline(__always)
    private static func appendKey(_ s: StaticString, _ out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    @inline(__always)
    private static func appendNumber(_ v: UInt64, _ out: inout [UInt8]) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)   // up to 20 digits, reversed, 8 bytes each
        var n = 0
        var x = v
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[n] = UInt8(truncatingIfNeeded: 48 &+ x % 10)
                x /= 10
                n += 1
            } while x > 0
            while n > 0 { n -= 1; out.append(d[n]) }
        }
    }

    private static func appendConnection(_ e: HTTPExchange, to out: inout String) {
        out += "{\"connection\":{\"client\":{\"address\":"
        appendString(e.connection.client.address.description, &out)
        out += ",\"port\":\(e.connection.client.port)},\"server\":{\"address\":"
        appendString(e.connection.server.address.description, &out)
        out += ",\"port\":\(e.connection.server.port)}},\"clientPort\":\(e.clientPort),\"serverPort\":\(e.serverPort),\"ordinal\":"
    }

    /// Appends one exchange as a JSON object.
    public static func appendJSON(_ e: HTTPExchange, to out: inout String) {
        appendConnection(e, to: &out)
        out += "\(e.ordinal)"
        if let m = e.method { out += ",\"method\":"; appendString(m, &out) }
        if let t = e.target { out += ",\"target\":"; appendString(t, &out) }
        if let t = e.t1 { out += ",\"t1\":\(t)" }
        if let t = e.t2 { out += ",\"t2\":\(t)" }
        if let t = e.t3 { out += ",\"t3\":\(t)" }
        if let t = e.t4 { out += ",\"t4\":\(t)" }
        if let s = e.status { out += ",\"status\":\(s)" }
        out += ",\"requestBytes\":\(e.requestBytes),\"responseBytes\":\(e.responseBytes),\"requestBodyBytes\":\(e.requestBodyBytes),\"responseBodyBytes\":\(e.responseBodyBytes)"
        if let r = e.requestID { out += ",\"requestID\":"; appendString(r, &out) }
        if let s = e.serverTiming { out += ",\"serverTiming\":"; appendString(s, &out) }
        out += ",\"chunked\":\(e.chunked),\"flags\":["
        out += e.flags.names.map { "\"\($0)\"" }.joined(separator: ",")
        out += "]"
        if let r = e.handshakeRTT { out += ",\"handshakeRTT\":\(r)" }
        out += ",\"complete\":\(e.complete)}"
    }

    private static func appendString(_ s: String, _ out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}
