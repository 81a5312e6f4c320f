#if os(Linux)
import Glibc

/// A `NETLINK_SOCK_DIAG` socket, answering for the network namespace it was created in.
///
/// Owned by the sampler thread (not `Sendable`): it keeps one receive buffer and the last
/// request, so a dump allocates only the returned rows.
final class InetDiagSocket {
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var sequence: UInt32 = 0
    private var request: (ports: [UInt16], states: UInt32, withInfo: Bool, bytes: [UInt8]) = ([], 0, false, [])

    /// A socket in the calling thread's network namespace.
    init() throws(SamplerError) {
        fd = Self.openSocket()
        if fd < 0 { throw SamplerError(.unreadable, "sock_diag: socket: \(String(cString: strerror(errno)))", errno: errno) }
        Self.setReceiveTimeout(fd)
    }

    /// A socket in the network namespace `namespaceFile` (`/proc/PID/ns/net`) refers to.
    ///
    /// A netlink socket answers for the namespace it was created in, for its whole life. A
    /// short-lived helper thread enters the namespace (`setns`, which needs CAP_SYS_ADMIN),
    /// creates the socket and ends, so no thread of ours is ever left in a foreign namespace.
    init(namespaceFile: String) throws(SamplerError) {
        let namespaceFD = open(namespaceFile, O_RDONLY | O_CLOEXEC)
        if namespaceFD < 0 { throw SamplerError.fromErrno(errno, path: namespaceFile) }
        defer { close(namespaceFD) }
        let attempt = NamespaceAttempt(namespaceFD: namespaceFD)
        let context = Unmanaged.passRetained(attempt).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { raw in
            let attempt = Unmanaged<NamespaceAttempt>.fromOpaque(raw!).takeUnretainedValue()
            attempt.run()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<NamespaceAttempt>.fromOpaque(context).release()
            throw SamplerError(.unreadable, "sock_diag: pthread_create: \(String(cString: strerror(rc)))", errno: rc)
        }
        pthread_join(handle, nil)
        Unmanaged<NamespaceAttempt>.fromOpaque(context).release()
        guard attempt.socket >= 0 else {
            throw SamplerError(.unreadable, "\(namespaceFile): cannot enter the network namespace (\(attempt.step)): \(String(cString: strerror(attempt.error)))",
                               errno: attempt.error)
        }
        fd = attempt.socket
        Self.setReceiveTimeout(fd)
    }

    deinit { close(fd) }

    /// TCP sockets (IPv4 and IPv6) in `states` (`InetDiag.allStates`, `listenState`) whose
    /// local or remote port is in `ports` (any port when `ports` is empty).
    /// With `withInfo`, each socket carries the kernel's `tcp_info`.
    func tcpSockets(ports: [UInt16], states: UInt32 = InetDiag.allStates, withInfo: Bool = false) throws(SamplerError) -> [TCPSocket] {
        sequence &+= 1
        if request.ports != ports || request.states != states || request.withInfo != withInfo || request.bytes.isEmpty {
            request = (ports, states, withInfo, InetDiag.dumpRequest(ports: ports, states: states, sequence: sequence, withInfo: withInfo))
        } else {
            let current = sequence
            request.bytes.withUnsafeMutableBytes { $0.storeBytes(of: current, toByteOffset: 8, as: UInt32.self) }
        }
        let sent = request.bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == request.bytes.count else { throw failure("send") }
        var sockets: [TCPSocket] = []
        let current = sequence
        while true {
            let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if received < 0 {
                if errno == EINTR { continue }
                throw failure("recv")
            }
            if received == 0 { throw SamplerError(.unreadable, "sock_diag: the kernel closed the socket mid-dump") }
            let batch = buffer.withUnsafeBytes { raw in
                Result { () throws(SamplerError) -> Bool in
                    try InetDiag.parseDump(UnsafeRawBufferPointer(rebasing: raw[..<received]), sequence: current, into: &sockets)
                }
            }
            if try batch.get() { return sockets }
        }
    }

    private func failure(_ call: String) -> SamplerError {
        SamplerError(.unreadable, "sock_diag: \(call): \(String(cString: strerror(errno)))", errno: errno)
    }

    private static func openSocket() -> Int32 {
        socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), InetDiag.netlinkProtocol)
    }

    /// A dump always ends, but a sampler must never hang on one: give up after a second.
    private static func setReceiveTimeout(_ fd: Int32) {
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// What the helper thread does: enter the namespace, open the socket, report.
    private final class NamespaceAttempt {
        let namespaceFD: Int32
        var socket: Int32 = -1
        var error: Int32 = 0
        var step = "setns"

        init(namespaceFD: Int32) { self.namespaceFD = namespaceFD }

        func run() {
            // Glibc's setns() is behind _GNU_SOURCE, so Swift does not import it; look it up.
            typealias SetNamespace = @convention(c) (Int32, Int32) -> Int32
            guard let symbol = dlsym(nil, "setns") else { error = ENOSYS; return }
            let setns = unsafeBitCast(symbol, to: SetNamespace.self)
            let cloneNewNet: Int32 = 0x4000_0000   // CLONE_NEWNET (linux/sched.h)
            guard setns(namespaceFD, cloneNewNet) == 0 else { error = errno; return }
            step = "socket"
            socket = InetDiagSocket.openSocket()
            if socket < 0 { error = errno }
        }
    }
}
#endif
