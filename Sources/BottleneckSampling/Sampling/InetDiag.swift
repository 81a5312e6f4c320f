/// The kernel's socket-diagnostics protocol (`sock_diag(7)`, `NETLINK_SOCK_DIAG`) for TCP,
/// as `ss` speaks it: a request that dumps the TCP sockets of one network namespace whose
/// local or remote port is one of a set, and a parser of the kernel's answer into the same
/// `TCPSocket` rows `/proc/PID/net/tcp` gives.
///
/// Why not the text tables: reading `/proc/PID/net/tcp` walks the whole established hash in
/// the kernel's text formatter, whatever the number of sockets — 2.3 ms of CPU per file on
/// this host (262,144 buckets), twice that when read to EOF, so `tcp` + `tcp6` every 250 ms
/// alone would cost 2-4% of a core. One dump here walks the hash once for IPv4 and IPv6
/// together and formats only the rows of the wanted ports: 0.25-0.3 ms.
///
/// The request is the original `TCPDIAG_GETSOCK` message (`struct inet_diag_req`), which the
/// kernel answers for every address family in one walk, where `SOCK_DIAG_BY_FAMILY` needs
/// one request (one walk) per family. The port filter is `inet_diag` bytecode, run by the
/// kernel on each socket. Everything here is pure; `InetDiagSocket` does the I/O.
enum InetDiag {
    /// `NETLINK_SOCK_DIAG` (linux/netlink.h).
    static let netlinkProtocol: Int32 = 4
    /// `TCPDIAG_GETSOCK` (linux/inet_diag.h): dump TCP sockets of all families.
    static let tcpDiagGetSock: UInt16 = 18
    static let headerSize = 16       // struct nlmsghdr
    static let requestSize = 60      // struct inet_diag_req
    static let messageSize = 72      // struct inet_diag_msg

    /// Every TCP state from ESTABLISHED (1) to NEW_SYN_RECV (12): not BOUND_INACTIVE (13),
    /// which would make the kernel walk the bind hash too.
    static let allStates: UInt32 = 0x1FFE
    /// LISTEN alone: the kernel then walks only its listening hash (16K buckets here), not
    /// the established hash (262K buckets plus every connection and TIME_WAIT socket).
    static let listenState: UInt32 = 1 << 10

    private enum MessageType {
        static let error: UInt16 = 2     // NLMSG_ERROR
        static let done: UInt16 = 3      // NLMSG_DONE
    }
    private static let requestFlags: UInt16 = 0x1 | 0x300   // NLM_F_REQUEST | NLM_F_DUMP
    private static let bytecodeAttribute: UInt16 = 1        // INET_DIAG_REQ_BYTECODE

    private enum Bytecode {
        static let jump: UInt8 = 1               // INET_DIAG_BC_JMP
        static let sourcePortEquals: UInt8 = 11  // INET_DIAG_BC_S_EQ (local port)
        static let destinationPortEquals: UInt8 = 12  // INET_DIAG_BC_D_EQ (remote port)
    }

    /// The netlink message asking for the TCP sockets in `states` (a bit per state, e.g.
    /// `allStates`) whose local or remote port is in `ports` (any port when it is empty).
    /// `ext` bit asking for `INET_DIAG_INFO` (`struct tcp_info`) with every socket: 1 << (2 − 1).
    static let infoExtension: UInt8 = 1 << 1
    /// `INET_DIAG_INFO`, the attribute type of `struct tcp_info` in the answer.
    private static let infoAttribute: UInt16 = 2

    static func dumpRequest(ports: [UInt16], states: UInt32, sequence: UInt32, withInfo: Bool = false) -> [UInt8] {
        let filter = portFilter(ports)
        let attributeLength = filter.isEmpty ? 0 : 4 + filter.count   // filter.count is a multiple of 4
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headerSize + requestSize + attributeLength)
        appendHeader(to: &bytes, length: headerSize + requestSize + attributeLength, sequence: sequence)
        // struct inet_diag_req: family (AF_UNSPEC: all), src_len, dst_len, ext, then the
        // 48-byte socket id (all zero: no exact match), states, dbs.
        bytes.append(contentsOf: [0, 0, 0, withInfo ? infoExtension : 0])
        bytes.append(contentsOf: repeatElement(0, count: 48))
        appendNative(states, to: &bytes)
        appendNative(UInt32(0), to: &bytes)
        if !filter.isEmpty {
            appendNative(UInt16(attributeLength), to: &bytes)
            appendNative(bytecodeAttribute, to: &bytes)
            bytes.append(contentsOf: filter)
        }
        return bytes
    }

    /// Bytecode accepting a socket when its local or remote port is one of `ports`.
    ///
    /// The kernel's verifier follows the "yes" branches from the start and requires every
    /// "no" target to lie on that path, so an OR is laid out as `ss` does it: each test
    /// falls through ("yes") to a jump to the end (accept); its "no" skips that jump to the
    /// next test; the last test's "no" points past the end (reject).
    /// Each test is two 4-byte ops (code, yes, no; then the port in the second op's `no`).
    static func portFilter(_ ports: [UInt16]) -> [UInt8] {
        var tests: [(code: UInt8, port: UInt16)] = []
        for port in ports {
            tests.append((Bytecode.sourcePortEquals, port))
            tests.append((Bytecode.destinationPortEquals, port))
        }
        guard !tests.isEmpty else { return [] }
        let length = tests.count * 12 - 4
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        for (i, test) in tests.enumerated() {
            appendOp(to: &bytes, code: test.code, yes: 8, no: 12)
            appendOp(to: &bytes, code: 0, yes: 0, no: test.port)
            if i < tests.count - 1 {
                appendOp(to: &bytes, code: Bytecode.jump, yes: 4, no: UInt16(length - bytes.count))
            }
        }
        return bytes
    }

    /// One batch of the kernel's answer (what one `recv` returned): the sockets in it, and
    /// whether it ends the dump. Messages of another `sequence` (a stale dump) are skipped.
    ///
    /// Throws `.malformed` for lengths that do not add up and `.unreadable` when the kernel
    /// answered with an error (`NLMSG_ERROR`, or a negative `NLMSG_DONE`).
    static func parseDump(_ batch: UnsafeRawBufferPointer, sequence: UInt32, into sockets: inout [TCPSocket]) throws(SamplerError) -> Bool {
        let what = "sock_diag"
        var offset = 0
        while offset + headerSize <= batch.count {
            let length = Int(batch.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            let type = batch.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
            let messageSequence = batch.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            guard length >= headerSize, offset + length <= batch.count else {
                throw SamplerError.malformed(what, "message of \(length) bytes at \(offset) in \(batch.count)")
            }
            let payload = offset + headerSize
            defer { offset += (length + 3) & ~3 }
            guard messageSequence == sequence else { continue }
            switch type {
            case MessageType.done:
                if length >= headerSize + 4 {
                    let status = batch.loadUnaligned(fromByteOffset: payload, as: Int32.self)
                    if status < 0 { throw SamplerError(.unreadable, "sock_diag: dump failed, errno \(-status)", errno: -status) }
                }
                return true
            case MessageType.error:
                guard length >= headerSize + 4 else { throw SamplerError.malformed(what, "short error message") }
                let status = batch.loadUnaligned(fromByteOffset: payload, as: Int32.self)
                throw SamplerError(.unreadable, "sock_diag: the kernel refused the request, errno \(-status)", errno: -status)
            case tcpDiagGetSock:
                guard length >= headerSize + messageSize else {
                    throw SamplerError.malformed(what, "socket message of \(length) bytes (truncated?)")
                }
                // A state this code does not know (a newer kernel's) is left out, not guessed.
                if var socket = socket(in: batch, at: payload) {
                    socket.info = info(in: batch, from: payload + messageSize, to: offset + length)
                    sockets.append(socket)
                }
            default:
                continue   // NLMSG_NOOP, NLMSG_OVERRUN: nothing for us
            }
        }
        guard offset == batch.count else { throw SamplerError.malformed(what, "\(batch.count - offset) trailing bytes (truncated?)") }
        return false
    }

    /// `struct inet_diag_msg`: family, state, timer, retrans; id (ports big-endian, then
    /// addresses, interface, cookie); expires, rqueue, wqueue, uid, inode.
    private static func socket(in batch: UnsafeRawBufferPointer, at offset: Int) -> TCPSocket? {
        guard let state = TCPState(rawValue: batch[offset + 1]) else { return nil }
        let localPort = UInt16(bigEndian: batch.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self))
        let remotePort = UInt16(bigEndian: batch.loadUnaligned(fromByteOffset: offset + 6, as: UInt16.self))
        let rqueue = batch.loadUnaligned(fromByteOffset: offset + 56, as: UInt32.self)
        let wqueue = batch.loadUnaligned(fromByteOffset: offset + 60, as: UInt32.self)
        let uid = batch.loadUnaligned(fromByteOffset: offset + 64, as: UInt32.self)
        let inode = batch.loadUnaligned(fromByteOffset: offset + 68, as: UInt32.self)
        // For a listener the kernel puts the accept backlog limit in wqueue; /proc/net/tcp
        // shows 0 there, and so do we (rxQueue is the accept queue in both).
        return TCPSocket(localPort: localPort, remotePort: remotePort, state: state,
                         txQueue: state == .listen ? 0 : wqueue, rxQueue: rqueue, uid: uid, inode: UInt64(inode))
    }

    /// The `INET_DIAG_INFO` attribute among the `rtattr`s after `inet_diag_msg`, if the kernel sent one.
    private static func info(in batch: UnsafeRawBufferPointer, from start: Int, to end: Int) -> TCPConnectionInfo? {
        var offset = start
        while offset + 4 <= end {
            let length = Int(batch.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            let type = batch.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self)
            guard length >= 4, offset + length <= end else { return nil }
            if type == infoAttribute {
                return TCPConnectionInfo(UnsafeRawBufferPointer(rebasing: batch[(offset + 4)..<(offset + length)]))
            }
            offset += (length + 3) & ~3
        }
        return nil
    }

    private static func appendHeader(to bytes: inout [UInt8], length: Int, sequence: UInt32) {
        appendNative(UInt32(length), to: &bytes)
        appendNative(tcpDiagGetSock, to: &bytes)
        appendNative(requestFlags, to: &bytes)
        appendNative(sequence, to: &bytes)
        appendNative(UInt32(0), to: &bytes)   // port id: the kernel fills ours in
    }

    private static func appendOp(to bytes: inout [UInt8], code: UInt8, yes: UInt8, no: UInt16) {
        bytes.append(code)
        bytes.append(yes)
        appendNative(no, to: &bytes)
    }

    /// Netlink headers and `inet_diag` structs are in host byte order.
    private static func appendNative<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
    }
}
