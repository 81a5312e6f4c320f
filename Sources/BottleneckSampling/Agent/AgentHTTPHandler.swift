import Foundation
import NIOCore
import NIOHTTP1

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

}

extension AgentHTTPRequest {
    /// The request NIOHTTP1 decoded, with its path split from its query.
    init(head: HTTPRequestHead, body: [UInt8]) {
        let (path, query) = Self.split(target: head.uri)
        self.init(method: head.method.rawValue, path: path, query: query,
                  headers: head.headers.map { ($0.name.lowercased(), $0.value) }, body: body)
    }

    /// `/v1/samples?after=12&limit=3` as the path and its percent-decoded query parameters.
    static func split(target: String) -> (path: String, query: [String: String]) {
        guard let mark = target.firstIndex(of: "?") else { return (target, [:]) }
        var query: [String: String] = [:]
        for pair in target[target.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let key = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            query[key] = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
        }
        return (String(target[..<mark]), query)
    }
}

/// The agent's HTTP/1.1 handler behind NIOHTTP1's server pipeline (which answers a malformed
/// request with 400): one request per connection, bodies under 64 KiB (413 above), so an
/// unauthenticated peer cannot make the agent buffer much. The agent's clients are
/// `bottleneck load` and Prometheus, which need no more.
final class AgentHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let maxBodyBytes = 64 * 1024

    private let router: AgentServer.Router
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var answered = false

    init(router: AgentServer.Router) {
        self.router = router
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            if let length = requestHead.headers.first(name: "content-length").flatMap(Int.init), length > Self.maxBodyBytes {
                reply(context, .text(413, "request body too large\n"))
            }
        case .body(var chunk):
            guard body.count + chunk.readableBytes <= Self.maxBodyBytes else {
                reply(context, .text(413, "request body too large\n"))
                return
            }
            body += chunk.readBytes(length: chunk.readableBytes) ?? []
        case .end:
            guard let head else { return }
            answered = true
            let loop = context.eventLoop
            let bound = NIOLoopBound((self, context), eventLoop: loop)
            router.respond(to: AgentHTTPRequest(head: head, body: body)) { response in
                loop.execute {
                    let (handler, context) = bound.value
                    handler.reply(context, response)
                }
            }
        }
    }

    private func reply(_ context: ChannelHandlerContext, _ response: AgentHTTPResponse) {
        answered = true
        var headers = HTTPHeaders(response.headers)
        headers.add(name: "Content-Length", value: String(response.body.count))
        headers.add(name: "Connection", value: "close")
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
