import Foundation
import BottleneckCore

/// Finds, with no flags, the processes that serve a target URL on this host: the listening
/// socket on the URL's address and port — in any network namespace (containers, `ip netns`) —
/// and the process trees that hold it. When the target is a reverse proxy (nginx, Envoy,
/// HAProxy, …) and the service behind it is given (`--backend`) or also served here, the two
/// trees are told apart, so the proxy's CPU and queues are not counted as the service's.
///
/// A listener matches when it is bound to the target's address, or to the wildcard address in a
/// namespace that owns the target's address (`/proc/PID/net/fib_trie`, local routes); a loopback
/// target matches only in this process's own namespace, where its connections go.
public enum ServiceLocator: Sendable {
    /// What was found for one URL: the roots of the process trees holding its listener.
    public struct Found: Sendable, Equatable {
        public var pids: [Int32]
        /// The command name of the first root (`nginx`, `gunicorn`, `python3` …).
        public var command: String
        /// True when the command is a known reverse proxy or load balancer.
        public var isProxy: Bool
    }

    /// Command names of reverse proxies: a target served by one of these is the proxy, not the service.
    static let proxyCommands: Set<String> = ["nginx", "envoy", "haproxy", "traefik", "caddy", "httpd", "apache2", "openresty", "varnishd", "lighttpd"]

    /// The process trees serving `host:port` here; nil when no local process listens there.
    public static func locate(host: String, port: UInt16, procRoot: String = "/proc") -> Found? {
        guard let address = IPAddress(resolving: host) else { return nil }
        let reader = ProcReader(procRoot: procRoot)
        guard let pids = try? reader.allPIDs() else { return nil }
        let ownNamespace = reader.networkNamespace(getpid())
        // Listening sockets on the port that serve `address`, per namespace (read once each).
        var matchingByNamespace: [UInt64: Set<UInt64>] = [:]
        var holders: Set<Int32> = []
        for pid in pids {
            guard let namespace = reader.networkNamespace(pid) else { continue }
            if matchingByNamespace[namespace] == nil {
                if address.isLoopback && namespace != ownNamespace {
                    matchingByNamespace[namespace] = []
                    continue
                }
                let directory = procRoot + "/" + String(pid) + "/net/"
                let listeners = ["tcp", "tcp6"].flatMap { (try? String(contentsOfFile: directory + $0, encoding: .utf8)).map(Self.parseListeners) ?? [] }
                let onPort = listeners.filter { $0.port == port }
                var inodes = Set(onPort.filter { $0.address == address || $0.address.isMappedEqual(address) }.map(\.inode))
                let wildcard = onPort.filter(\.address.isUnspecified)
                if !wildcard.isEmpty && (address.isLoopback || ownsAddress(address, fibTrie: try? String(contentsOfFile: directory + "fib_trie", encoding: .utf8))) {
                    inodes.formUnion(wildcard.map(\.inode))
                }
                matchingByNamespace[namespace] = inodes
            }
            guard let inodes = matchingByNamespace[namespace], !inodes.isEmpty else { continue }
            if !reader.socketInodes(pid).isDisjoint(with: inodes) { holders.insert(pid) }
        }
        guard !holders.isEmpty else { return nil }
        // The roots: holders whose parent does not hold the socket too (a gunicorn master, not its workers).
        var roots: [Int32] = []
        var command = ""
        for pid in holders.sorted() {
            guard let stat = try? reader.readProcessStat(pid) else { continue }
            if !holders.contains(stat.ppid) {
                roots.append(pid)
                if command.isEmpty { command = stat.comm }
            }
        }
        guard !roots.isEmpty else { return nil }
        return Found(pids: roots, command: command, isProxy: proxyCommands.contains(command.lowercased()))
    }

    /// Whether a namespace's routing table (`fib_trie`) has `address` as a local address.
    static func ownsAddress(_ address: IPAddress, fibTrie: String?) -> Bool {
        guard let fibTrie, address.bytes.count == 4 else { return false }
        var previous: Substring = ""
        for line in fibTrie.split(separator: "\n") {
            if line.contains("/32 host LOCAL"), let last = previous.split(separator: " ").last, IPAddress(literal: String(last)) == address {
                return true
            }
            previous = line
        }
        return false
    }

    /// Listening sockets in `/proc/net/tcp` or `tcp6` text: address, port and inode.
    static func parseListeners(_ text: String) -> [(address: IPAddress, port: UInt16, inode: UInt64)] {
        var result: [(address: IPAddress, port: UInt16, inode: UInt64)] = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            guard fields.count >= 10, fields[3] == "0A" else { continue }
            let local = fields[1].split(separator: ":")
            guard local.count == 2, let port = UInt16(local[1], radix: 16), let inode = UInt64(fields[9]),
                  let address = IPAddress(procHex: local[0]) else { continue }
            result.append((address, port, inode))
        }
        return result
    }
}

/// An IPv4 or IPv6 address as bytes in network order.
public struct IPAddress: Sendable, Equatable, Hashable {
    public var bytes: [UInt8]

    public init?(literal: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, literal, &v4) == 1 {
            bytes = withUnsafeBytes(of: v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        let trimmed = literal.hasPrefix("[") && literal.hasSuffix("]") ? String(literal.dropFirst().dropLast()) : literal
        guard inet_pton(AF_INET6, trimmed, &v6) == 1 else { return nil }
        bytes = withUnsafeBytes(of: v6) { Array($0) }
    }

    /// An address literal, or `localhost`, or a name resolved through the system resolver.
    public init?(resolving host: String) {
        if let literal = IPAddress(literal: host) { self = literal; return }
        if host == "localhost" { self.init(literal: "127.0.0.1"); return }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &info) == 0, let first = info else { return nil }
        defer { freeaddrinfo(info) }
        var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(first.pointee.ai_addr, first.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 else { return nil }
        self.init(literal: String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// The kernel's hex form in `/proc/net/tcp{,6}`: 32-bit words in host (little-endian) order.
    init?(procHex hex: Substring) {
        guard hex.count == 8 || hex.count == 32 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let end = hex.index(index, offsetBy: 8)
            guard let word = UInt32(hex[index..<end], radix: 16) else { return nil }
            bytes.append(contentsOf: withUnsafeBytes(of: word.littleEndian) { Array($0) })
            index = end
        }
        self.bytes = bytes
    }

    var isLoopback: Bool {
        bytes.count == 4 ? bytes[0] == 127 : bytes == Array(repeating: 0, count: 15) + [1] || (isV4Mapped && bytes[12] == 127)
    }
    var isUnspecified: Bool { bytes.allSatisfy { $0 == 0 } }
    private var isV4Mapped: Bool { bytes.count == 16 && bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF }
    /// An IPv4 address and its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`) name the same endpoint.
    func isMappedEqual(_ other: IPAddress) -> Bool {
        if isV4Mapped && other.bytes.count == 4 { return Array(bytes[12...]) == other.bytes }
        if other.isV4Mapped && bytes.count == 4 { return Array(other.bytes[12...]) == bytes }
        return false
    }
}

extension ServiceLocator {
    /// What to sample when the user named no process: the service and, apart from it, the proxy
    /// in front, with a line saying what was found (or what to give when nothing was).
    public struct Plan: Sendable, Equatable {
        public var serverPIDs: [Int32] = []
        public var proxyPIDs: [Int32] = []
        public var notes: [String] = []
        /// Who serves the target here, for run.json.
        public var topology: RunTopology { RunTopology(targetServedBy: targetServedBy, notes: notes) }
        var targetServedBy: String?
    }

    /// Locates the target and the backend (`--backend`, the service behind a proxy), when either
    /// is served from this host. `findServer`/`findProxy` false keep what the user gave.
    public static func plan(target: TargetURL, backend: TargetURL?, findServer: Bool, findProxy: Bool,
                            procRoot: String = "/proc") -> Plan {
        var plan = Plan()
        let front = locate(host: target.host, port: UInt16(target.port), procRoot: procRoot)
        let back = backend.flatMap { locate(host: $0.host, port: UInt16($0.port), procRoot: procRoot) }
        func describe(_ found: Found, _ url: TargetURL) -> String {
            "\(found.command) (pid \(found.pids.map(String.init).joined(separator: ", ")) and its children) on \(url.hostHeader)"
        }
        var service: (Found, TargetURL)?
        var proxy: (Found, TargetURL)?
        if let back, let backend {
            service = (back, backend)
            if let front, front.pids != back.pids { proxy = (front, target) }
        } else if let front {
            if front.isProxy { proxy = (front, target) } else { service = (front, target) }
        }
        if let front {
            plan.targetServedBy = proxy.map { $0.0 == front } ?? false ? "proxy" : "service"
        }
        guard findServer || findProxy else { return plan }
        if findServer {
            if let service {
                plan.serverPIDs = service.0.pids
                plan.notes.append("sampling the service: \(describe(service.0, service.1))")
            } else if let proxy, backend == nil {
                plan.notes.append("\(proxy.0.command) serves \(target.hostHeader); the service behind it was not found: give --backend URL (the service's own address) or --server-port to sample it")
            } else if let backend {
                plan.notes.append("no process on this host listens on \(backend.hostHeader): server metrics need `bottleneck agent` on its host (--agent URL)")
            } else {
                plan.notes.append("no process on this host listens on \(target.hostHeader): server metrics need `bottleneck agent` on its host (--agent URL)")
            }
        }
        if findProxy, let proxy {
            plan.proxyPIDs = proxy.0.pids
            plan.notes.append("sampling the proxy: \(describe(proxy.0, proxy.1))")
        }
        return plan
    }
}
