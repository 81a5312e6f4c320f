import CPcap

/// Packet capture: the only module that talks to libpcap.
public enum BottleneckCaptureInfo: Sendable {
    /// The libpcap version string, e.g. "libpcap version 1.10.3".
    public static var libraryVersion: String { String(cString: pcap_lib_version()) }
}
