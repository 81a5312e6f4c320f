/// A `HOST:PORT` to listen on (`--listen`), `[::1]:9555` for IPv6.
public struct AgentListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    /// `127.0.0.1:9555`: reachable only from the server host itself (or through an SSH tunnel).
    public static let `default` = AgentListenAddress(host: "127.0.0.1", port: 9555)

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`; port 0 asks the kernel for a free one (tests).
    public static func parse(_ text: String) throws(AgentError) -> AgentListenAddress {
        let bad = AgentError(.badAddress, "listen address \(text): expected HOST:PORT, e.g. 127.0.0.1:9555, 0.0.0.0:9555 or [::]:9555")
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { throw bad }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw bad }
        return AgentListenAddress(host: host, port: port)
    }

    /// Whether only this host can connect: 127.0.0.0/8, ::1 or `localhost`.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
