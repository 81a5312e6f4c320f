#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address in 16 bytes (IPv4 as ::ffff:a.b.c.d), cheap to hash and compare,
/// so connection lookups on the per-packet path never allocate.
public struct IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// An IPv4 address from its 32-bit big-endian-assembled value.
    public init(ipv4 value: UInt32) {
        self.high = 0
        self.low = 0x0000_FFFF_0000_0000 | UInt64(value)
    }

    public var isIPv4: Bool { high == 0 && (low >> 32) == 0x0000_FFFF }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        (a.high, a.low) < (b.high, b.low)
    }

    public var description: String {
        if isIPv4 {
            let v = UInt32(truncatingIfNeeded: low)
            return "\(v >> 24).\((v >> 16) & 0xFF).\((v >> 8) & 0xFF).\(v & 0xFF)"
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            bytes[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i)))
            bytes[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i)))
        }
        var out = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        guard inet_ntop(AF_INET6, bytes, &out, socklen_t(out.count)) != nil else { return "?" }
        return string(fromCBuffer: out)
    }

    /// Parses dotted IPv4 or textual IPv6; nil when neither.
    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.init(ipv4: UInt32(bigEndian: v4.s_addr))
            return
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        guard inet_pton(AF_INET6, text, &bytes) == 1 else { return nil }
        var h: UInt64 = 0, l: UInt64 = 0
        for i in 0..<8 {
            h = h << 8 | UInt64(bytes[i])
            l = l << 8 | UInt64(bytes[8 + i])
        }
        self.init(high: h, low: l)
    }
}

extension IPAddress: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = IPAddress(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an IP address: \(text)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// One end of a TCP connection.
public struct Endpoint: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    public static func < (a: Endpoint, b: Endpoint) -> Bool {
        (a.address, a.port) < (b.address, b.port)
    }

    public var description: String {
        address.isIPv4 ? "\(address):\(port)" : "[\(address)]:\(port)"
    }
}

/// A TCP connection's 4-tuple, oriented client → server.
public struct ConnectionKey: Hashable, Sendable, Codable, CustomStringConvertible {
    public var client: Endpoint
    public var server: Endpoint

    public init(client: Endpoint, server: Endpoint) {
        self.client = client
        self.server = server
    }

    public var description: String { "\(client) -> \(server)" }
}

/// The direction-free key the analyzer's dictionary uses: the two endpoints in sorted order.
struct FlowKey: Hashable {
    var a: Endpoint
    var b: Endpoint

    /// The key and whether `src` is `a`.
    @inline(__always)
    static func make(src: Endpoint, dst: Endpoint) -> (FlowKey, Bool) {
        src < dst ? (FlowKey(a: src, b: dst), true) : (FlowKey(a: dst, b: src), false)
    }
}
