/// One packet as libpcap delivered it. `bytes` points into libpcap's buffer and is valid only
/// until the next read from the same `PacketSource`: copy what must outlive it.
public struct CapturedPacket {
    /// Capture timestamp, nanoseconds since the Unix epoch.
    public var timestamp: UInt64
    /// The captured bytes (at most the snap length), starting at the link-layer header.
    public var bytes: UnsafeRawBufferPointer
    /// The packet's length on the wire; larger than `bytes.count` when the snap length cut it.
    public var originalLength: Int

    public init(timestamp: UInt64, bytes: UnsafeRawBufferPointer, originalLength: Int) {
        self.timestamp = timestamp
        self.bytes = bytes
        self.originalLength = originalLength
    }
}

@available(*, unavailable, message: "bytes borrow libpcap's buffer; copy them into an OwnedPacket")
extension CapturedPacket: Sendable {}

/// A packet whose bytes were copied out of libpcap's buffer, so it can cross threads.
public struct OwnedPacket: Sendable, Equatable {
    public var timestamp: UInt64
    public var bytes: [UInt8]
    public var originalLength: Int

    public init(timestamp: UInt64, bytes: [UInt8], originalLength: Int) {
        self.timestamp = timestamp
        self.bytes = bytes
        self.originalLength = originalLength
    }

    public init(_ packet: CapturedPacket) {
        self.init(timestamp: packet.timestamp, bytes: Array(packet.bytes), originalLength: packet.originalLength)
    }
}

/// Counters from `pcap_stats`: how many packets the kernel saw and how many it had to drop
/// because the capture did not keep up (the evidence that capture timings are incomplete).
public struct CaptureStats: Sendable, Codable, Equatable {
    public var received: UInt64
    public var droppedByKernel: UInt64
    public var droppedByInterface: UInt64

    public init(received: UInt64, droppedByKernel: UInt64, droppedByInterface: UInt64) {
        self.received = received
        self.droppedByKernel = droppedByKernel
        self.droppedByInterface = droppedByInterface
    }
}

/// Link-layer framing of a capture, from `pcap_datalink`.
public enum LinkType: Int32, Sendable, Codable, CaseIterable {
    /// BSD loopback: 4-byte address family in host byte order.
    case null = 0
    /// Ethernet; Linux `lo` is captured as Ethernet with zero addresses.
    case ethernet = 1
    /// Raw IP, DLT 12 on Linux (LINKTYPE_RAW 101 in files maps to it).
    case raw = 12
    /// OpenBSD loopback: 4-byte address family in network byte order.
    case loop = 108
    /// Linux cooked capture v1 (`-i any` before libpcap 1.10).
    case linuxSLL = 113
    /// Raw IPv4.
    case ipv4 = 228
    /// Raw IPv6.
    case ipv6 = 229
    /// Linux cooked capture v2 (`-i any` since libpcap 1.10).
    case linuxSLL2 = 276
    /// LINKTYPE_RAW as stored in some files.
    case rawLinktype = 101
}
