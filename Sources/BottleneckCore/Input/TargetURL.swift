/// The endpoint under load, parsed once up front so the hot path only copies bytes.
///
/// Accepts `http://host[:port][/path][?query]` and `https://…` where host is a name, an IPv4
/// literal or a bracketed IPv6 literal (`http://[::1]:8080/predict`). Over https the load
/// engine speaks HTTP/1.1 inside TLS (`TLSClientSettings`). `grpc://` and `grpcs://` (TLS) are
/// gRPC over HTTP/2: the path is a method (`/package.Service/Method`) or a KServe v2 model
/// (`/v2/models/NAME`, whose `ModelInfer` the tool calls).
public struct TargetURL: Sendable, Equatable, CustomStringConvertible {
    /// The host as written, without brackets for IPv6 literals.
    public let host: String
    public let port: Int
    /// Path plus query, always starting with "/".
    public let pathAndQuery: String
    /// True when `host` is an IPv6 literal.
    public let isIPv6Literal: Bool
    /// True for https and grpcs: the connection is TLS.
    public let isTLS: Bool
    /// True for grpc and grpcs: gRPC calls over HTTP/2.
    public let isGRPC: Bool
    /// 443 with TLS, 80 without: the port a URL need not name.
    public var defaultPort: Int { isTLS ? 443 : 80 }
    public var scheme: String { isGRPC ? (isTLS ? "grpcs" : "grpc") : (isTLS ? "https" : "http") }
    /// True when `host` is a literal address (no name to send as SNI or to match a certificate's DNS names).
    public var isAddressLiteral: Bool {
        isIPv6Literal || (host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." })
    }

    /// The value for the `Host` header (brackets kept for IPv6, port omitted when the scheme's default).
    public var hostHeader: String {
        let name = isIPv6Literal ? "[\(host)]" : host
        return port == defaultPort ? name : "\(name):\(port)"
    }

    public var description: String { "\(scheme)://\(hostHeader)\(pathAndQuery)" }

    public init(parsing text: String) throws(LoadError) {
        func bad(_ why: String) -> LoadError {
            LoadError(.badInput, "\(why); use a URL like http://127.0.0.1:8080/predict")
        }
        var rest = Substring(text.trimmingWhitespace())
        let schemes: [(prefix: String, tls: Bool, grpc: Bool)] = [
            ("http://", false, false), ("https://", true, false), ("grpc://", false, true), ("grpcs://", true, true),
        ]
        guard let scheme = schemes.first(where: { rest.lowercased().hasPrefix($0.prefix) }) else {
            throw bad("the scheme must be http://, https://, grpc:// or grpcs://")
        }
        let tls = scheme.tls
        rest = rest.dropFirst(scheme.prefix.count)
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...])
        if let hash = path.firstIndex(of: "#") { path = String(path[..<hash]) }
        if path.isEmpty { path = "/" } else if path.hasPrefix("?") { path = "/" + path }
        guard !authority.isEmpty else { throw bad("the host is missing") }
        if authority.contains("@") { throw bad("user info in the URL is not supported; pass credentials with -H 'Authorization: ...'") }

        var hostPart: Substring
        var portPart: Substring?
        var ipv6 = false
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw bad("the IPv6 literal has no closing ]") }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw bad("unexpected text after the IPv6 literal") }
                portPart = after.dropFirst()
            }
            ipv6 = true
            guard hostPart.contains(":"), hostPart.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." || $0 == "%" })
            else { throw bad("\"\(hostPart)\" is not an IPv6 address") }
        } else {
            if let colon = authority.lastIndex(of: ":") {
                hostPart = authority[..<colon]
                portPart = authority[authority.index(after: colon)...]
            } else {
                hostPart = authority
            }
            guard !hostPart.isEmpty,
                  hostPart.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" })
            else { throw bad("\"\(hostPart)\" is not a host name or IPv4 address") }
        }
        var port = tls ? 443 : 80
        if let portPart {
            guard let value = Int(portPart), (1...65535).contains(value) else {
                throw bad("the port \"\(portPart)\" must be a number from 1 to 65535")
            }
            port = value
        }
        guard !path.contains(" ") else { throw bad("the path contains a space; percent-encode it as %20") }
        self.host = String(hostPart)
        self.port = port
        self.pathAndQuery = path
        self.isIPv6Literal = ipv6
        self.isTLS = tls
        self.isGRPC = scheme.grpc
    }

    /// The same server, another path (a gRPC model's target becomes its method's).
    public func with(pathAndQuery path: String) -> TargetURL {
        TargetURL(host: host, port: port, pathAndQuery: path, isIPv6Literal: isIPv6Literal, isTLS: isTLS, isGRPC: isGRPC)
    }

    private init(host: String, port: Int, pathAndQuery: String, isIPv6Literal: Bool, isTLS: Bool, isGRPC: Bool) {
        self.host = host
        self.port = port
        self.pathAndQuery = pathAndQuery
        self.isIPv6Literal = isIPv6Literal
        self.isTLS = isTLS
        self.isGRPC = isGRPC
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
