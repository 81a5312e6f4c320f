/// What the analyzer needs from an HTTP/1.x start line and headers. Parsed from the header
/// bytes only (which a headers-only snap length keeps); body sizes come from sequence numbers.
struct HTTPHead {
    var isResponse = false
    var status: Int?
    var method: String?
    var target: String?
    var contentLength: UInt64?
    var chunked = false
    var connectionClose = false
    var requestID: String?
    var serverTiming: String?
    var valid = false

    static let methods: [[UInt8]] = ["GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "].map { Array($0.utf8) }

    /// Whether `bytes` begin like an HTTP/1.x message of the given kind (used to resynchronize).
    static func looksLikeStart(_ bytes: UnsafeRawBufferPointer, response: Bool) -> Bool {
        if response {
            return hasPrefix(bytes, Array("HTTP/1.".utf8))
        }
        for m in methods where hasPrefix(bytes, m) { return true }
        return false
    }

    @inline(__always)
    static func hasPrefix(_ bytes: UnsafeRawBufferPointer, _ prefix: [UInt8]) -> Bool {
        guard bytes.count >= prefix.count else { return false }
        for i in 0..<prefix.count where bytes[i] != prefix[i] { return false }
        return true
    }

    /// Parses the header block (start line through the blank line).
    static func parse(_ b: UnsafeBufferPointer<UInt8>, response: Bool) -> HTTPHead {
        var head = HTTPHead()
        head.isResponse = response
        var lineStart = 0
        var first = true
        var i = 0
        let n = b.count
        while i < n {
            guard b[i] == 10 else { i += 1; continue }
            var end = i
            if end > lineStart && b[end - 1] == 13 { end -= 1 }
            if first {
                first = false
                if !head.parseStartLine(b, lineStart, end) { return head }
            } else if end > lineStart {
                head.parseHeader(b, lineStart, end)
            }
            i += 1
            lineStart = i
        }
        return head
    }

    private mutating func parseStartLine(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
        // Split on spaces: METHOD TARGET VERSION  /  VERSION STATUS REASON
        var sp1 = s
        while sp1 < e && b[sp1] != 32 { sp1 += 1 }
        guard sp1 < e else { return false }
        var sp2 = sp1 + 1
        while sp2 < e && b[sp2] != 32 { sp2 += 1 }
        if isResponse {
            guard sp1 - s >= 8, b[s] == 72, b[s + 1] == 84, b[s + 2] == 84, b[s + 3] == 80, b[s + 4] == 47 else { return false }
            var code = 0
            var digits = 0
            var j = sp1 + 1
            while j < sp2, digits < 3, b[j] >= 48, b[j] <= 57 { code = code * 10 + Int(b[j] - 48); j += 1; digits += 1 }
            guard digits == 3 else { return false }
            status = code
        } else {
            guard sp2 < e, e - sp2 > 5 else { return false }
            method = String(decoding: UnsafeBufferPointer(rebasing: b[s..<sp1]), as: UTF8.self)
            target = String(decoding: UnsafeBufferPointer(rebasing: b[(sp1 + 1)..<sp2]), as: UTF8.self)
        }
        valid = true
        return true
    }

    @inline(__always)
    private static func lower(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c | 0x20 : c }

    private static func nameIs(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int, _ name: StaticString) -> Bool {
        guard e - s == name.utf8CodeUnitCount else { return false }
        let p = name.utf8Start
        for k in 0..<(e - s) where lower(b[s + k]) != p[k] { return false }
        return true
    }

    private static func valueContains(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int, _ word: StaticString) -> Bool {
        let m = word.utf8CodeUnitCount
        guard e - s >= m else { return false }
        let p = word.utf8Start
        var i = s
        outer: while i + m <= e {
            for k in 0..<m where lower(b[i + k]) != p[k] { i += 1; continue outer }
            return true
        }
        return false
    }

    private mutating func parseHeader(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) {
        var colon = s
        while colon < e && b[colon] != 58 { colon += 1 }
        guard colon < e else { return }
        var vs = colon + 1
        while vs < e && (b[vs] == 32 || b[vs] == 9) { vs += 1 }
        var ve = e
        while ve > vs && (b[ve - 1] == 32 || b[ve - 1] == 9) { ve -= 1 }
        let first = Self.lower(b[s])
        switch first {
        case 99: // c
            if Self.nameIs(b, s, colon, "content-length") {
                var v: UInt64 = 0
                var ok = vs < ve
                for j in vs..<ve {
                    guard b[j] >= 48, b[j] <= 57, v < (UInt64.max / 10) else { ok = false; break }
                    v = v * 10 + UInt64(b[j] - 48)
                }
                if ok { contentLength = v }
            } else if Self.nameIs(b, s, colon, "connection") {
                if Self.valueContains(b, vs, ve, "close") { connectionClose = true }
            }
        case 116: // t
            if Self.nameIs(b, s, colon, "transfer-encoding"), Self.valueContains(b, vs, ve, "chunked") { chunked = true }
        case 120: // x
            if Self.nameIs(b, s, colon, "x-request-id") {
                requestID = String(decoding: UnsafeBufferPointer(rebasing: b[vs..<ve]), as: UTF8.self)
            }
        case 115: // s
            if Self.nameIs(b, s, colon, "server-timing") {
                let v = String(decoding: UnsafeBufferPointer(rebasing: b[vs..<ve]), as: UTF8.self)
                serverTiming = serverTiming.map { $0 + ", " + v } ?? v
            }
        default:
            break
        }
    }
}
