/// TCP flag bits.

struct TCPFlags: OptionSet {
    var rawValue: UInt8
    static let fin = TCPFlags(rawValue: 0x01)
    static let syn = TCPFlags(rawValue: 0x02)
    static let rst = TCPFlags(rawValue: 0x04)
    static let psh = TCPFlags(rawValue: 0x08)
    static let ack = TCPFlags(rawValue: 0x10)
}

/// A decoded TCP segment; `payload` borrows the packet's bytes.
struct TCPSegment {
    var timestamp: UInt64
    var src: Endpoint
    var dst: Endpoint
    var seq: UInt32
    var ack: UInt32
    var flags: TCPFlags
    var window: UInt16
    /// Payload bytes the segment carried on the wire (from the IP length, not the capture).
    var payloadLength: Int
    /// The captured part of the payload: a prefix of at most `payloadLength` bytes.
    var payload: UnsafeRawBufferPointer
}

/// Why a packet was not decoded into a TCP segment (counted, never fatal).
enum DecodeOutcome {
    case tcp(TCPSegment)
    case notTCP
    case malformed
}

/// Pure, allocation-free decoding of link, IP and TCP headers straight from the capture buffer.
enum PacketDecoder {
    @inline(__always)
    static func u16(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt16 {
        UInt16(b[o]) << 8 | UInt16(b[o + 1])
    }

    @inline(__always)
    static func u32(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt32 {
        UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
    }

    @inline(__always)
    static func u64(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt64 {
        UInt64(u32(b, o)) << 32 | UInt64(u32(b, o + 4))
    }

    /// Decodes one packet. `originalLength` is the wire length, used when the IP length is 0
    /// (segmentation offload shows outgoing super-packets that way).
    static func decode(_ bytes: UnsafeRawBufferPointer, originalLength: Int, linkType: LinkType, timestamp: UInt64) -> DecodeOutcome {
        var offset: Int
        var etherType: UInt16
        let n = bytes.count
        switch linkType {
        case .ethernet:
            guard n >= 14 else { return .malformed }
            offset = 14
            etherType = u16(bytes, 12)
            // 802.1Q / 802.1ad tags.
            var tags = 0
            while (etherType == 0x8100 || etherType == 0x88A8) && tags < 2 {
                guard n >= offset + 4 else { return .malformed }
                etherType = u16(bytes, offset + 2)
                offset += 4
                tags += 1
            }
        case .linuxSLL:
            guard n >= 16 else { return .malformed }
            offset = 16
            etherType = u16(bytes, 14)
        case .linuxSLL2:
            guard n >= 20 else { return .malformed }
            offset = 20
            etherType = u16(bytes, 0)
        case .raw, .rawLinktype:
            guard n >= 1 else { return .malformed }
            offset = 0
            etherType = bytes[0] >> 4 == 6 ? 0x86DD : 0x0800
        case .ipv4:
            offset = 0
            etherType = 0x0800
        case .ipv6:
            offset = 0
            etherType = 0x86DD
        case .null, .loop:
            guard n >= 4 else { return .malformed }
            offset = 4
            guard n >= 5 else { return .malformed }
            etherType = bytes[4] >> 4 == 6 ? 0x86DD : 0x0800
        }

        let src: IPAddress, dst: IPAddress
        var ipPayloadLength: Int
        var l4: Int
        switch etherType {
        case 0x0800:
            guard n >= offset + 20, bytes[offset] >> 4 == 4 else { return .malformed }
            let ihl = Int(bytes[offset] & 0x0F) * 4
            guard ihl >= 20, n >= offset + ihl else { return .malformed }
            guard bytes[offset + 9] == 6 else { return .notTCP }
            // Non-first fragments carry no TCP header; first fragments are rare for TCP (DF).
            let frag = u16(bytes, offset + 6)
            guard frag & 0x1FFF == 0, frag & 0x2000 == 0 else { return .notTCP }
            var total = Int(u16(bytes, offset + 2))
            if total == 0 { total = originalLength - offset }
            ipPayloadLength = total - ihl
            src = IPAddress(ipv4: u32(bytes, offset + 12))
            dst = IPAddress(ipv4: u32(bytes, offset + 16))
            l4 = offset + ihl
        case 0x86DD:
            guard n >= offset + 40, bytes[offset] >> 4 == 6 else { return .malformed }
            var next = bytes[offset + 6]
            var plen = Int(u16(bytes, offset + 4))
            if plen == 0 { plen = originalLength - offset - 40 }
            src = IPAddress(high: u64(bytes, offset + 8), low: u64(bytes, offset + 16))
            dst = IPAddress(high: u64(bytes, offset + 24), low: u64(bytes, offset + 32))
            l4 = offset + 40
            ipPayloadLength = plen
            // Skip hop-by-hop, routing and destination-options headers.
            var hops = 0
            while next == 0 || next == 43 || next == 60 {
                guard n >= l4 + 8, hops < 4 else { return .malformed }
                let len = (Int(bytes[l4 + 1]) + 1) * 8
                next = bytes[l4]
                l4 += len
                ipPayloadLength -= len
                hops += 1
            }
            guard next == 6 else { return .notTCP }
        default:
            return .notTCP
        }

        guard n >= l4 + 20 else { return .malformed }
        let dataOffset = Int(bytes[l4 + 12] >> 4) * 4
        guard dataOffset >= 20, ipPayloadLength >= dataOffset else { return .malformed }
        let payloadLength = ipPayloadLength - dataOffset
        let payloadStart = l4 + dataOffset
        let captured = max(0, min(n - payloadStart, payloadLength))
        let payload = captured > 0
            ? UnsafeRawBufferPointer(rebasing: bytes[payloadStart..<(payloadStart + captured)])
            : UnsafeRawBufferPointer(start: nil, count: 0)
        return .tcp(TCPSegment(
            timestamp: timestamp,
            src: Endpoint(address: src, port: u16(bytes, l4)),
            dst: Endpoint(address: dst, port: u16(bytes, l4 + 2)),
            seq: u32(bytes, l4 + 4), ack: u32(bytes, l4 + 8),
            flags: TCPFlags(rawValue: bytes[l4 + 13] & 0x3F), window: u16(bytes, l4 + 14),
            payloadLength: payloadLength, payload: payload))
    }
}
