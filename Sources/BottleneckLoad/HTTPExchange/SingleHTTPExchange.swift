import BottleneckCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One HTTP/1.1 request and its whole response on a connection of its own (`Connection:
/// close`), over TLS when the target is https, with one deadline on connect and answer. For the
/// questions asked before a run (a model's metadata, one trial request), never on the load path.
enum SingleHTTPExchange {
    struct Response: Sendable {
        var status: Int
        var body: [UInt8]
    }

    static func send(method: HTTPMethod, target: TargetURL, path: String, body: [UInt8]?, contentType: String?,
                     headers extra: [RequestHeader], tls: TLSClientSettings, timeoutNanoseconds: Int64) async throws -> Response {
        let address: SocketAddress
        do {
            address = try SocketAddress.makeAddressResolvingHost(target.host, port: target.port)
        } catch {
            throw LoadError(.unreachable, "target \(target): cannot resolve host \"\(target.host)\"; check the name or use an IP address")
        }
        let context = target.isTLS ? try tls.makeContext() : nil
        let hostname = target.isTLS ? tls.serverHostname(for: target) : nil
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let answer = loop.makePromise(of: Response.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(.nanoseconds(timeoutNanoseconds))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let context {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: hostname))
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(NIOHTTPClientResponseAggregator(maxContentLength: maxResponseBytes))
                        try channel.pipeline.syncOperations.addHandler(ResponseGatherer(answer: answer))
                    }
                }
                .connect(to: address).get()
        } catch {
            answer.fail(error)
            throw LoadError(.unreachable, "target \(target): cannot connect to \(address) (\(error)); start the service or fix the target URL")
        }
        var head = HTTPHeaders([("Host", target.hostHeader), ("Connection", "close"), ("User-Agent", "bottleneck")])
        for header in extra where header.name.lowercased() != "host" { head.add(name: header.name, value: header.value) }
        if let body {
            head.add(name: "Content-Type", value: contentType ?? "application/octet-stream")
            head.add(name: "Content-Length", value: String(body.count))
        }
        let deadline = loop.scheduleTask(in: .nanoseconds(timeoutNanoseconds)) {
            answer.fail(LoadError(.unreachable, "target \(target): no answer to \(method) \(path) within \(timeoutNanoseconds / 1_000_000_000) s"))
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        channel.write(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: head)), promise: nil)
        if let body {
            channel.write(HTTPClientRequestPart.body(.byteBuffer(channel.allocator.buffer(bytes: body))), promise: nil)
        }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        do {
            let response = try await answer.futureResult.get()
            try? await channel.close().get()
            return response
        } catch let error as LoadError {
            throw error
        } catch {
            try? await channel.close().get()
            if target.isTLS, !(error is HTTPParserError) { throw LoadError(.unreachable, tls.explain(handshakeError: error, target: target)) }
            throw LoadError(.unreachable, "target \(target): \(method) \(path) got no HTTP answer (\(error))")
        }
    }

    /// The largest answer read (metadata and error bodies are small; a model's reply may not be).
    static let maxResponseBytes = 16 * 1024 * 1024

    /// Hands on the aggregated response; fails when the connection ends first.
    private final class ResponseGatherer: ChannelInboundHandler {
        typealias InboundIn = NIOHTTPClientResponseFull
        private let answer: EventLoopPromise<Response>

        init(answer: EventLoopPromise<Response>) { self.answer = answer }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let full = unwrapInboundIn(data)
            answer.succeed(Response(status: Int(full.head.status.code), body: full.body.map { Array($0.readableBytesView) } ?? []))
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            answer.fail(ChannelError.eof)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            answer.fail(error)
            context.close(promise: nil)
        }
    }
}
