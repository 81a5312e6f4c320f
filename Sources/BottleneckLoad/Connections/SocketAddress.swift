#if canImport(Glibc)
import Glibc
#endif
import BottleneckCore

/// The target's address for raw sockets: the first TCP address getaddrinfo gives for its host.
struct ResolvedAddress {
    let family: Int32
    private let storage: [UInt8]

    init(_ target: TargetURL) throws(LoadError) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(target.host, String(target.port), &hints, &list)
        guard status == 0, let first = list, let address = first.pointee.ai_addr else {
            let reason = status == 0 ? "no address" : String(cString: gai_strerror(status))
            throw LoadError(.unreachable, "cannot resolve \(target.host): \(reason); check the host in the URL")
        }
        defer { freeaddrinfo(list) }
        family = first.pointee.ai_family
        storage = Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(address), count: Int(first.pointee.ai_addrlen)))
    }

    /// Starts a non-blocking connect; returns 0, or errno (EINPROGRESS while it is under way).
    func connect(_ fd: Int32) -> Int32 {
        storage.withUnsafeBytes { bytes in
            let result = Glibc.connect(fd, bytes.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(bytes.count))
            return result == 0 ? 0 : errno
        }
    }
}

/// The process's limit on open files, raised to its hard limit (the probe holds one per connection).
enum OpenFileLimit {
    /// Raises the soft limit to the hard one where it is lower; returns the soft limit now in force.
    static func raise() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur >= UInt64(Int32.max) ? Int(Int32.max) : Int(limit.rlim_cur)
    }
}
