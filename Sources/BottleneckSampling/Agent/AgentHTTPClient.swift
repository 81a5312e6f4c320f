#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A tiny blocking HTTP/1.1 client for the agent protocol, used from the attachment's own
/// thread: one connection per request (`Connection: close`), timeouts on connect, send
/// and receive, so a vanished agent costs a poll, never a hung run.
struct AgentHTTPClient: Sendable {
    struct Response: Sendable {
        var status: Int
        /// Header names lowercased.
        var headers: [String: String]
        var body: [UInt8]
    }

    let host: String
    let port: Int
    let token: AgentToken?
    let timeoutMilliseconds: Int

    /// Parses `http://HOST[:PORT]` (port 9555 by default). Only plain HTTP: reach a remote
    /// agent over a private network or an SSH tunnel, since the token travels in clear.
    init(url: String, token: AgentToken?, timeoutMilliseconds: Int = 2000) throws(AgentError) {
        guard let parsed = URL(string: url), parsed.scheme?.lowercased() == "http", let host = parsed.host, !host.isEmpty else {
            throw AgentError(.badAddress, "--agent \(url): expected http://HOST:PORT, e.g. http://10.0.0.5:9555 (https is not supported; use an SSH tunnel)")
        }
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        self.port = parsed.port ?? 9555
        self.token = token
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    func get(_ path: String) throws(AgentError) -> Response { try request("GET", path, body: nil) }

    func post(_ path: String, json: [String: Any]) throws(AgentError) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: json)) ?? Data("{}".utf8)
        return try request("POST", path, body: Array(data))
    }

    func request(_ method: String, _ path: String, body: [UInt8]?) throws(AgentError) -> Response {
        let fd = try openConnection()
        defer { close(fd) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\nUser-Agent: bottleneck\r\n"
        if let token { head += "Authorization: Bearer \(token.value)\r\n" }
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        head += "\r\n"
        try sendAll(fd, Array(head.utf8) + (body ?? []))
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                throw AgentError(.unreachable, "agent \(host):\(port): receiving: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            received.append(contentsOf: chunk[0..<n])
        }
        return try Self.parse(received, from: "\(host):\(port)")
    }

    static func parse(_ bytes: [UInt8], from agent: String) throws(AgentError) -> Response {
        guard let end = bytes.firstRange(of: [13, 10, 13, 10]) else {
            throw AgentError(.protocolError, "agent \(agent): incomplete HTTP response")
        }
        let lines = String(decoding: bytes[..<end.lowerBound], as: UTF8.self).split(separator: "\r\n")
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw AgentError(.protocolError, "agent \(agent): not an HTTP response")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(bytes[end.upperBound...])
        if let length = headers["content-length"].flatMap(Int.init) {
            guard body.count >= length else { throw AgentError(.unreachable, "agent \(agent): connection closed mid-response") }
            body.removeSubrange(length...)
        }
        return Response(status: status, headers: headers, body: body)
    }

    private func openConnection() throws(AgentError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw AgentError(.unreachable, "agent \(host): cannot resolve: \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = 0
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Self.closeOnExec, info.pointee.ai_protocol)
            if fd < 0 { lastError = errno; continue }
            // On Linux SO_SNDTIMEO also bounds connect().
            var timeout = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var result: Int32
            repeat { result = connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) } while result < 0 && errno == EINTR
            if result == 0 { return fd }
            lastError = errno
            close(fd)
        }
        throw AgentError(.unreachable, "agent \(host):\(port): cannot connect: \(String(cString: strerror(lastError))); is `bottleneck agent` running there?")
    }

    #if canImport(Glibc)
    private static let noSignal = Int32(MSG_NOSIGNAL)
    private static let closeOnExec = Int32(SOCK_CLOEXEC.rawValue)
    #else
    private static let noSignal: Int32 = 0
    private static let closeOnExec: Int32 = 0
    #endif

    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws(AgentError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Self.noSignal) }
            if n < 0 {
                if errno == EINTR { continue }
                throw AgentError(.unreachable, "agent \(host):\(port): sending: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }
}
