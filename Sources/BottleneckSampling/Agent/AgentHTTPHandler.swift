import Foundation
import NIOCore

/// One parsed request to the agent.
struct AgentHTTPRequest: Sendable {
    var method: String
    var path: String
    var query: [String: String]
    /// Header names lowercased.
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? { headers.first { $0.0 == name }?.1 }
}

/// One response; always sent with `Content-Length` and `Connection: close`.
struct AgentHTTPResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    static func text(_ status: Int, _ text: String) -> AgentHTTPResponse {
        AgentHTTPResponse(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array(text.utf8))
    }

    static func json(_ status: Int, _ object: [String: Any]) -> AgentHTTPResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return AgentHTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(data) + [10])
    }

    static let reasons: [Int: String] = [200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
                                         405: "Method Not Allowed", 413: "Content Too Large", 500: "Internal Server Error"]
}

/// A deliberately small HTTP/1.1 server handler: one request per connection, bodies only
/// by `Content-Length`, headers under 16 KiB and bodies under 64 KiB. The agent's clients
/// are `bottleneck load` and Prometheus, which need no more; the limits keep an
/// unauthenticated peer from making the agent buffer much.
final class AgentHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let maxHeaderBytes = 16 * 1024
    static let maxBodyBytes = 64 * 1024

    private let router: AgentServer.Router
    private var buffer: [UInt8] = []
    private var answered = false

    init(router: AgentServer.Router) {
        self.router = router
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        var incoming = unwrapInboundIn(data)
        buffer.append(contentsOf: incoming.readBytes(length: incoming.readableBytes) ?? [])
        switch Self.parse(buffer) {
        case .incomplete:
            if buffer.count > Self.maxHeaderBytes + Self.maxBodyBytes { reply(context, .text(413, "request too large\n")) }
        case .invalid(let status, let message):
            reply(context, .text(status, message + "\n"))
        case .complete(let request):
            answered = true
            let loop = context.eventLoop
            let bound = NIOLoopBound((self, context), eventLoop: loop)
            router.respond(to: request) { response in
                loop.execute {
                    let (handler, context) = bound.value
                    handler.reply(context, response)
                }
            }
        }
    }

    private func reply(_ context: ChannelHandlerContext, _ response: AgentHTTPResponse) {
        answered = true
        var head = "HTTP/1.1 \(response.status) \(AgentHTTPResponse.reasons[response.status] ?? "Status")\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(response.body.count)\r\nConnection: close\r\n\r\n"
        var out = context.channel.allocator.buffer(capacity: head.utf8.count + response.body.count)
        out.writeString(head)
        out.writeBytes(response.body)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(out)).whenComplete { _ in channel.close(promise: nil) }
    }

    enum ParseResult {
        case incomplete
        case invalid(Int, String)
        case complete(AgentHTTPRequest)
    }

    /// Parses one request from the bytes received so far.
    static func parse(_ bytes: [UInt8]) -> ParseResult {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = bytes.firstRange(of: separator) else {
            return bytes.count > maxHeaderBytes ? .invalid(413, "request headers too large") : .incomplete
        }
        guard end.lowerBound <= maxHeaderBytes else { return .invalid(413, "request headers too large") }
        let head = String(decoding: bytes[..<end.lowerBound], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        guard !lines.isEmpty else { return .invalid(400, "empty request") }
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1.") else { return .invalid(400, "expected an HTTP/1.1 request line") }
        var headers: [(String, String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { return .invalid(400, "malformed header line") }
            headers.append((line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        if headers.contains(where: { $0.0 == "transfer-encoding" }) {
            return .invalid(400, "chunked request bodies are not supported; send Content-Length")
        }
        let length = Int(headers.first { $0.0 == "content-length" }?.1 ?? "0") ?? -1
        guard length >= 0 else { return .invalid(400, "bad Content-Length") }
        guard length <= maxBodyBytes else { return .invalid(413, "request body too large") }
        let bodyStart = end.upperBound
        guard bytes.count - bodyStart >= length else { return .incomplete }
        let target = String(requestLine[1])
        var path = target
        var query: [String: String] = [:]
        if let mark = target.firstIndex(of: "?") {
            path = String(target[..<mark])
            for pair in target[target.index(after: mark)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                let key = String(parts[0]).removingPercentEncoding ?? String(parts[0])
                let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
                query[key] = value
            }
        }
        return .complete(AgentHTTPRequest(method: String(requestLine[0]), path: path, query: query, headers: headers,
                                          body: Array(bytes[bodyStart..<(bodyStart + length)])))
    }
}
