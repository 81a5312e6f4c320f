import CPcap
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One source of packets: a live device or a capture file, behind one libpcap handle.
///
/// The handle is owned by this class and closed in `deinit`, on every path, including a failed
/// `pcap_activate`. A `PacketSource` is used by one thread at a time (libpcap handles are not
/// thread-safe); only `breakLoop()` may be called from another thread.
public final class PacketSource {
    /// How a read ended.
    public enum Read {
        case packet(CapturedPacket)
        /// Live capture: the read timeout passed without a packet.
        case timeout
        /// End of file, or `breakLoop()` was called.
        case end
    }

    let handle: OpaquePointer
    /// Framing of every packet from this source.
    public let linkType: LinkType
    /// Whether this source reads a device (true) or a file (false).
    public let isLive: Bool
    /// The snap length in effect: packets longer than this are cut.
    public let snapLength: Int
    /// Set when timestamps are microseconds (scaled to nanoseconds on read).
    private let microsecondTimestamps: Bool

    private init(handle: OpaquePointer, isLive: Bool, microsecondTimestamps: Bool) throws {
        self.handle = handle
        self.isLive = isLive
        self.microsecondTimestamps = microsecondTimestamps
        self.snapLength = Int(pcap_snapshot(handle))
        let dlt = pcap_datalink(handle)
        guard let linkType = LinkType(rawValue: dlt) else {
            pcap_close(handle)
            let name = pcap_datalink_val_to_name(dlt).map { String(cString: $0) } ?? "\(dlt)"
            throw CaptureError(.unsupportedLinkType, """
                link type \(name) is not supported; capture on an Ethernet, loopback or `any` \
                interface, or convert the file with editcap
                """)
        }
        self.linkType = linkType
    }

    deinit { pcap_close(handle) }

    /// Opens a live device for capture.
    ///
    /// Nanosecond timestamps, falling back to microseconds where the device cannot do better.
    /// Not immediate mode: the kernel stamps each packet when it arrives either way, so timings
    /// are the same; delivering a buffer at a time (or at the read timeout) keeps the capture
    /// thread's wake-ups, whose CPU counts against the load generator's, low.
    /// - Parameters:
    ///   - device: interface name (`lo`, `eth0`, `any`).
    ///   - filter: BPF expression, e.g. `tcp port 8080`; nil captures everything.
    ///   - snapLength: bytes kept per packet; `SnapLength.headersOnly` keeps HTTP headers only.
    ///   - bufferSize: kernel ring buffer bytes; larger rings drop less under bursts.
    ///   - readTimeoutMilliseconds: how long a read waits before returning `.timeout`.
    public static func live(
        device: String, filter: String? = nil, snapLength: Int = SnapLength.headersOnly,
        bufferSize: Int = 32 << 20, readTimeoutMilliseconds: Int = 100
    ) throws -> PacketSource {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let handle = pcap_create(device, &errbuf) else {
            throw CaptureError(.activateFailed, "could not open \(device) for capture", pcapMessage: string(fromCBuffer: errbuf))
        }
        // From here the handle is released either by `source` (deinit) or explicitly below.
        _ = pcap_set_snaplen(handle, Int32(clamping: snapLength))
        _ = pcap_set_promisc(handle, 0)
        _ = pcap_set_timeout(handle, Int32(clamping: readTimeoutMilliseconds))
        // No immediate mode: the kernel hands packets over a buffer at a time (or at the read
        // timeout) instead of waking the capture thread per packet, whose CPU would count
        // against the load generator's own (measured: `make bench`, capture_live.py).
        _ = pcap_set_buffer_size(handle, Int32(clamping: bufferSize))
        let nano = pcap_set_tstamp_precision(handle, Int32(PCAP_TSTAMP_PRECISION_NANO)) == 0
        let status = pcap_activate(handle)
        if status < 0 {
            let text = String(cString: pcap_geterr(handle))
            pcap_close(handle)
            switch status {
            case PCAP_ERROR_PERM_DENIED, PCAP_ERROR_PROMISC_PERM_DENIED:
                throw CaptureError.permissionDenied(device: device, pcapMessage: text)
            case PCAP_ERROR_NO_SUCH_DEVICE:
                throw CaptureError(.noSuchDevice, "no interface named \(device); list them with `ip link` and pass --capture NAME", pcapMessage: text)
            case PCAP_ERROR_IFACE_NOT_UP:
                throw CaptureError(.interfaceDown, "interface \(device) is down; bring it up (ip link set \(device) up) or capture elsewhere", pcapMessage: text)
            default:
                throw CaptureError(.activateFailed, "could not start capture on \(device)", pcapMessage: text)
            }
        }
        // Warnings (status > 0) still give a working handle.
        let source = try PacketSource(
            handle: handle, isLive: true,
            microsecondTimestamps: !nano || pcap_get_tstamp_precision(handle) != PCAP_TSTAMP_PRECISION_NANO)
        if let filter { try source.setFilter(filter) }
        return source
    }

    /// Opens a pcap or pcapng file (tcpdump, Wireshark); timestamps are read at nanosecond
    /// precision whatever precision the file was written with.
    public static func file(path: String, filter: String? = nil) throws -> PacketSource {
        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let handle = pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errbuf) else {
            throw CaptureError(.openFailed, "cannot read \(path) as a pcap or pcapng capture; check the path and that it was written by tcpdump -w or Wireshark", pcapMessage: string(fromCBuffer: errbuf))
        }
        let source = try PacketSource(handle: handle, isLive: false, microsecondTimestamps: false)
        if let filter { try source.setFilter(filter) }
        return source
    }

    private func setFilter(_ expression: String) throws {
        var program = bpf_program()
        guard pcap_compile(handle, &program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            throw CaptureError(.invalidFilter, "the capture filter \"\(expression)\" is not valid BPF syntax (see man pcap-filter), e.g. \"tcp port 8080\"", pcapMessage: String(cString: pcap_geterr(handle)))
        }
        defer { pcap_freecode(&program) }
        guard pcap_setfilter(handle, &program) == 0 else {
            throw CaptureError(.invalidFilter, "the capture filter \"\(expression)\" could not be applied", pcapMessage: String(cString: pcap_geterr(handle)))
        }
    }

    /// Low-level read: the packet header and data pointers, valid until the next read.
    @inline(__always)
    func readRaw() throws -> (Read, UnsafePointer<pcap_pkthdr>?, UnsafePointer<UInt8>?) {
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        switch pcap_next_ex(handle, &header, &data) {
        case 1:
            guard let header, let data else { return (.timeout, nil, nil) }
            let h = header.pointee
            var ts = UInt64(truncatingIfNeeded: h.ts.tv_sec) &* 1_000_000_000
            let frac = UInt64(truncatingIfNeeded: h.ts.tv_usec)
            ts &+= microsecondTimestamps ? frac &* 1000 : frac
            let packet = CapturedPacket(
                timestamp: ts, bytes: UnsafeRawBufferPointer(start: data, count: Int(h.caplen)),
                originalLength: Int(h.len))
            return (.packet(packet), UnsafePointer(header), data)
        case 0:
            return (.timeout, nil, nil)
        case PCAP_ERROR_BREAK:
            return (.end, nil, nil)
        default:
            let text = String(cString: pcap_geterr(handle))
            if !isLive, text.contains("truncated") {
                throw CaptureError(.truncatedFile, "the capture file ends in the middle of a packet (was tcpdump interrupted?); the packets before it were analyzed", pcapMessage: text)
            }
            throw CaptureError(.readFailed, isLive ? "reading packets failed; is the interface still up?" : "reading the capture file failed", pcapMessage: text)
        }
    }

    /// The next read: a packet, a live timeout, or the end.
    public func next() throws -> Read { try readRaw().0 }

    /// The next packet, skipping live timeouts; nil at end of file or after `breakLoop()`.
    public func nextPacket() throws -> CapturedPacket? {
        while true {
            switch try readRaw().0 {
            case .packet(let p): return p
            case .timeout: continue
            case .end: return nil
            }
        }
    }

    /// Calls `body` for every packet until the end of the file or `breakLoop()`.
    public func forEach(_ body: (CapturedPacket) throws -> Void) throws {
        while let packet = try nextPacket() { try body(packet) }
    }

    /// Makes a blocked or future read return `.end`; safe to call from another thread.
    public func breakLoop() { pcap_breakloop(handle) }

    /// Kernel counters of a live capture (`pcap_stats`): received and dropped packets.
    public func stats() throws -> CaptureStats {
        guard isLive else {
            throw CaptureError(.statsUnavailable, "drop counters exist only for live captures; a file holds what was kept")
        }
        var s = pcap_stat()
        guard pcap_stats(handle, &s) == 0 else {
            throw CaptureError(.statsUnavailable, "the capture's drop counters could not be read", pcapMessage: String(cString: pcap_geterr(handle)))
        }
        return CaptureStats(received: UInt64(s.ps_recv), droppedByKernel: UInt64(s.ps_drop), droppedByInterface: UInt64(s.ps_ifdrop))
    }
}

/// Snap lengths: how much of each packet a capture keeps.
public enum SnapLength: Sendable {
    /// Link + IP + TCP headers (up to ~130 bytes) and about 900 bytes of HTTP: enough for
    /// request and response headers, while an image upload's body is dropped. Body sizes are
    /// still known from TCP sequence numbers.
    public static let headersOnly = 1024
    /// Whole packets (`--capture-full`), bodies included.
    public static let full = 262_144
}

/// A libpcap handle is used by one thread at a time; hand it to a capture thread explicitly.
@available(*, unavailable)
extension PacketSource: Sendable {}

@available(*, unavailable)
extension PacketSource.Read: Sendable {}
