/// One metric of a `Server-Timing` response header (W3C Server Timing).
public struct ServerTimingMetric: Sendable, Equatable, Codable {
    public var name: String
    /// Milliseconds; nil when the metric carried no valid `dur` parameter.
    public var duration: Double?
    public var description: String?

    public init(name: String, duration: Double? = nil, description: String? = nil) {
        self.name = name
        self.duration = duration
        self.description = description
    }
}

/// A parser for `Server-Timing` header values following the W3C grammar:
///
///     Server-Timing = #( metric-name *( OWS ";" OWS param-name OWS "=" OWS ( token / quoted-string ) ) )
///
/// Several header lines are simply several comma-separated lists. Like browsers, it
/// never fails: a malformed metric is skipped up to the next top-level comma, a
/// parameter seen twice keeps its first value, and a `dur` that is not a number is
/// treated as missing. Services emit this header by hand, so garbage must not crash us.
public enum ServerTiming: Sendable {
    public static func parse(_ headerValues: [String]) -> [ServerTimingMetric] {
        headerValues.flatMap { parse($0) }
    }

    public static func parse(_ value: String) -> [ServerTimingMetric] {
        var scanner = Scanner(Array(value.utf8))
        var metrics: [ServerTimingMetric] = []
        while !scanner.atEnd {
            scanner.skipWhitespace()
            if scanner.consume(UInt8(ascii: ",")) { continue }
            if let metric = scanner.metric() { metrics.append(metric) }
            scanner.skipToNextMetric()
        }
        return metrics
    }

    /// Parses the compact `name=dur;name=dur` form the request records store.
    public static func parseCompact(_ text: Substring) -> [ServerTimingMetric] {
        text.split(separator: ";").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard let name = parts.first, !name.isEmpty else { return nil }
            return ServerTimingMetric(name: String(name), duration: parts.count > 1 ? Double(parts[1]) : nil)
        }
    }

    /// The compact `name=dur;name=dur` form used in request records (durations in ms).
    public static func compact(_ metrics: [ServerTimingMetric]) -> String {
        metrics.map { metric in
            if let duration = metric.duration { return "\(metric.name)=\(duration)" }
            return metric.name
        }.joined(separator: ";")
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index >= bytes.count }
        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while let c = current, c == 0x20 || c == 0x09 { index += 1 }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            if current == byte { index += 1; return true }
            return false
        }

        static func isTokenByte(_ c: UInt8) -> Bool {
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return "!#$%&'*+-.^_`|~".utf8.contains(c)
            }
        }

        mutating func token() -> String? {
            let start = index
            while let c = current, Scanner.isTokenByte(c) { index += 1 }
            return index > start ? String(decoding: bytes[start..<index], as: UTF8.self) : nil
        }

        mutating func quotedString() -> String? {
            guard consume(UInt8(ascii: "\"")) else { return nil }
            var out: [UInt8] = []
            while let c = current {
                index += 1
                if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                if c == UInt8(ascii: "\\") {
                    guard let escaped = current else { return nil }
                    index += 1
                    out.append(escaped)
                } else {
                    out.append(c)
                }
            }
            return nil  // unterminated
        }

        mutating func metric() -> ServerTimingMetric? {
            guard let name = token() else { return nil }
            var metric = ServerTimingMetric(name: name)
            var seen: Set<String> = []
            while true {
                skipWhitespace()
                guard consume(UInt8(ascii: ";")) else { break }
                skipWhitespace()
                guard let parameter = token()?.lowercased() else { return metric }
                skipWhitespace()
                var value: String? = nil
                if consume(UInt8(ascii: "=")) {
                    skipWhitespace()
                    value = current == UInt8(ascii: "\"") ? quotedString() : token()
                }
                guard !seen.contains(parameter) else { continue }
                seen.insert(parameter)
                switch parameter {
                case "dur":
                    if let value, let number = Double(value), number.isFinite { metric.duration = number }
                case "desc":
                    metric.description = value
                default:
                    break
                }
            }
            skipWhitespace()
            // Anything but a comma or the end means the metric was malformed after its name.
            if let c = current, c != UInt8(ascii: ",") { return nil }
            return metric
        }

        /// Skips to just after the next comma that is not inside a quoted string.
        mutating func skipToNextMetric() {
            var quoted = false
            while let c = current {
                index += 1
                if quoted {
                    if c == UInt8(ascii: "\\") { index += 1 } else if c == UInt8(ascii: "\"") { quoted = false }
                } else if c == UInt8(ascii: "\"") {
                    quoted = true
                } else if c == UInt8(ascii: ",") {
                    return
                }
            }
        }
    }
}
