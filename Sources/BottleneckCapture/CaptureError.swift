/// The one error type of the capture area: what failed, libpcap's own words, and what to do next.
public struct CaptureError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, coarse enough to branch on.
    public enum Code: String, Sendable, Codable, Equatable {
        /// No root and no CAP_NET_RAW: live capture is impossible for this process.
        case permissionDenied
        /// The interface named with `--capture` does not exist.
        case noSuchDevice
        /// The interface exists but is down.
        case interfaceDown
        /// `pcap_create`/`pcap_activate` failed for another reason.
        case activateFailed
        /// The file could not be opened or is not a pcap/pcapng file.
        case openFailed
        /// The BPF filter expression did not compile or could not be set.
        case invalidFilter
        /// The link type is none of Ethernet, Linux SLL/SLL2, raw IPv4/IPv6, BSD loopback.
        case unsupportedLinkType
        /// The file ends in the middle of a record (an interrupted tcpdump, a cut file).
        case truncatedFile
        /// Reading a packet failed (device gone, I/O error).
        case readFailed
        /// The raw capture file (capture.pcap) could not be created or written.
        case dumpFailed
        /// `pcap_stats` is not available (offline files) or failed.
        case statsUnavailable
    }

    public var code: Code
    /// A sentence a user can act on.
    public var message: String
    /// libpcap's `pcap_geterr`/errbuf text, when there was one.
    public var pcapMessage: String?

    public init(_ code: Code, _ message: String, pcapMessage: String? = nil) {
        self.code = code
        self.message = message
        self.pcapMessage = pcapMessage.flatMap { $0.isEmpty ? nil : $0 }
    }

    public var description: String {
        if let pcapMessage { return "\(message) (libpcap: \(pcapMessage))" }
        return message
    }

    /// Live capture is refused: the message says how to grant the privilege and what is lost without it.
    static func permissionDenied(device: String, pcapMessage: String?) -> CaptureError {
        CaptureError(.permissionDenied, """
            capturing on \(device) needs root or CAP_NET_RAW; run with sudo, or grant the binary the \
            capabilities once: sudo setcap cap_net_raw,cap_net_admin=eip "$(command -v bottleneck)" \
            (or leave out --capture). \(CapturePrivilege.missingEvidence)
            """, pcapMessage: pcapMessage)
    }
}

/// What a run loses without packet capture, and how to get it back; the lead prints this when
/// `LiveCapture` throws `.permissionDenied` and the run continues without capture.
public enum CapturePrivilege: Sendable {
    /// The evidence that will be reported as unknown.
    public static let missingEvidence = """
        Without capture these are missing: wire timings t1..t4 per leg, handshake RTT, \
        retransmissions, zero windows, resets and capture drops; the network and proxy segments \
        of the attribution will be reported as unknown.
        """

    /// The command that grants capture privilege to an executable.
    public static func grantCommand(executable: String) -> String {
        "sudo setcap cap_net_raw,cap_net_admin=eip \(executable)"
    }
}

/// A NUL-terminated C buffer (an errbuf) as a String.
func string(fromCBuffer buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
