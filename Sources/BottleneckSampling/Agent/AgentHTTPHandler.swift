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
            // Kept empty: "=" and "=x" are a pair with an empty key (found by the fuzzer: an
            // omitted empty part left no parts[0], and the agent trapped before the token check).
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            query[key] = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
        }
        return (String(target[..<mark]), query)
    }
}

/// The agent's HTTP/1.1 handler behind NIOHTTP1's server pipeline: one request per
/// connection, answered and closed. It holds a peer to `AgentServer.Limits`: it takes a
/// connection only within the cap, closes it at the request and response deadlines, answers
/// a request NIOHTTP1 cannot decode with 400 (431 past the header limits), judges the token
/// on the request head so that no body of an unauthenticated peer is buffered, and takes
/// bodies only up to `maxBodyBytes` (413 above). The agent's clients are `bottleneck load`
/// and Prometheus, which need no more.
final class AgentHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let router: AgentServer.Router
    private var limits: AgentServer.Limits { router.server.limits }
    private var connection: UInt64?
    private var deadline: Scheduled<Void>?
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var answered = false

    init(router: AgentServer.Router) {
        self.router = router
    }

    func channelActive(context: ChannelHandlerContext) {
        guard let id = router.server.admit(context.channel) else {
            answered = true
            context.close(promise: nil)
            return
        }
        connection = id
        arm(context, closingAfter: limits.requestTimeout)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        if let connection { router.server.release(connection) }
        connection = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            if let refusal = router.refusal(of: AgentHTTPRequest(head: requestHead, body: [])) {
                reply(context, refusal)
            } else if let length = requestHead.headers.first(name: "content-length").flatMap(Int.init), length > limits.maxBodyBytes {
                reply(context, .text(413, "request body too large\n"))
            }
        case .body(var chunk):
            guard body.count + chunk.readableBytes <= limits.maxBodyBytes else {
                reply(context, .text(413, "request body too large\n"))
                return
            }
            body += chunk.readBytes(length: chunk.readableBytes) ?? []
        case .end:
            guard let head else { return }
            answered = true
            if let connection { router.server.requestReceived(connection) }
            arm(context, closingAfter: limits.responseTimeout)
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

    /// A request NIOHTTP1 could not decode; the decoder reads nothing more of this peer.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !answered, error is HTTPParserError else {
            context.close(promise: nil)
            return
        }
        if case .headerOverflow = error as? HTTPParserError {
            reply(context, .text(431, "request header fields too large\n"))
        } else {
            reply(context, .text(400, "bad request\n"))
        }
    }

    /// Closes the connection after `timeout` unless it closes first.
    private func arm(_ context: ChannelHandlerContext, closingAfter timeout: Duration) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: TimeAmount(timeout)) { channel.close(promise: nil) }
    }

    private func reply(_ context: ChannelHandlerContext, _ response: AgentHTTPResponse) {
        if !answered { arm(context, closingAfter: limits.responseTimeout) }
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
