import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The client of the agent protocol, on NIOHTTP1, called from the attachment's own thread (it
/// waits for the answer): one connection per request (`Connection: close`), and a deadline on
/// connecting and on the whole exchange, so a vanished agent costs a poll, never a hung run.
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
            throw AgentError(.badAddress, "agent \(url): expected http://HOST:PORT, e.g. http://10.0.0.5:9555 (https is not supported; use an SSH tunnel)")
        }
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        self.port = parsed.port ?? 9555
        self.token = token
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    func get(_ path: String) throws(AgentError) -> Response { try request(.GET, path, body: nil) }

    func post(_ path: String, json: [String: Any]) throws(AgentError) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: json)) ?? Data("{}".utf8)
        return try request(.POST, path, body: Array(data))
    }

    func request(_ method: HTTPMethod, _ path: String, body: [UInt8]?) throws(AgentError) -> Response {
        let agent = "\(host):\(port)"
        let group = MultiThreadedEventLoopGroup.singleton
        let answer = group.next().makePromise(of: Response.self)
        let timeout = TimeAmount.milliseconds(Int64(timeoutMilliseconds))
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(answer: answer, agent: agent))
                }
            }
        let channel: any Channel
        do {
            channel = try bootstrap.connect(host: host, port: port).wait()
        } catch {
            answer.fail(error)
            throw AgentError(.unreachable, "agent \(agent): cannot connect: \(Self.describe(error)); is `bottleneck agent` running there?")
        }
        var headers: HTTPHeaders = ["Host": agent, "Connection": "close", "User-Agent": "bottleneck"]
        if let token { headers.add(name: "Authorization", value: "Bearer \(token.value)") }
        if let body {
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(body.count))
        }
        let deadline = channel.eventLoop.scheduleTask(in: timeout) {
            answer.fail(AgentError(.unreachable, "agent \(agent): no answer within \(timeoutMilliseconds) ms"))
            channel.close(promise: nil)
        }
        channel.write(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)), promise: nil)
        if let body {
            channel.write(HTTPClientRequestPart.body(.byteBuffer(channel.allocator.buffer(bytes: body))), promise: nil)
        }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        do {
            return try answer.futureResult.wait()
        } catch let error as AgentError {
            throw error
        } catch {
            throw AgentError(.unreachable, "agent \(agent): \(Self.describe(error))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if error is ChannelError { return "connection closed or timed out" }
        return "\(error)"
    }
}

/// Gathers one response and fulfils the request's promise when it ends (or fails it when the
/// connection ends first or the bytes are not HTTP).
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let answer: EventLoopPromise<AgentHTTPClient.Response>
    private let agent: String
    private var response: AgentHTTPClient.Response?

    init(answer: EventLoopPromise<AgentHTTPClient.Response>, agent: String) {
        self.answer = answer
        self.agent = agent
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            response = AgentHTTPClient.Response(status: Int(head.status.code),
                                                headers: Dictionary(head.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a }),
                                                body: [])
        case .body(var chunk):
            response?.body += chunk.readBytes(length: chunk.readableBytes) ?? []
        case .end:
            if let response { answer.succeed(response) }
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        answer.fail(AgentError(.unreachable, "agent \(agent): connection closed mid-response"))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        answer.fail(AgentError(.protocolError, "agent \(agent): not an HTTP response (\(error))"))
        context.close(promise: nil)
    }
}
