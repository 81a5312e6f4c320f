import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A real HTTP/1.1 server on loopback for engine tests, built on NIOHTTP1 (an
/// independent parser, so the engine's own framing is checked against it).
final class TestHTTPServer: Sendable {
    enum Behaviour: Sendable {
        /// 200 with a fixed body, optionally after a delay, optionally chunked.
        case respond(body: String, delayMilliseconds: Int64 = 0, chunked: Bool = false, serverTiming: [String] = [])
        /// Never answer.
        case hang
    }

    struct Seen: Sendable {
        var requestIDs: [String] = []
        var bodyLengths: [Int] = []
        var contentLengths: [Int] = []
        var connections = 0
        /// Connections open now.
        var active = 0
        var methods: [String] = []
    }

    let group: MultiThreadedEventLoopGroup
    let channel: any Channel
    let seen = NIOLockedValueBox(Seen())
    var port: Int { channel.localAddress!.port! }

    /// `maxConnections`: a connection accepted while that many are open is closed at once
    /// (a server out of connection slots).
    /// `tls`: serve HTTPS with this server context (`TestCertificates`).
    init(behaviour: Behaviour, host: String = "127.0.0.1", maxConnections: Int? = nil, tls: NIOSSLContext? = nil) async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let seen = self.seen
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let admitted = seen.withLockedValue { seen -> Bool in
                    seen.connections += 1
                    guard seen.active < (maxConnections ?? Int.max) else { return false }
                    seen.active += 1
                    return true
                }
                guard admitted else { return channel.close() }
                channel.closeFuture.whenComplete { _ in seen.withLockedValue { $0.active -= 1 } }
                return channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(behaviour: behaviour, seen: seen))
                }
            }
            .bind(host: host, port: 0).get()
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let behaviour: Behaviour
        let seen: NIOLockedValueBox<Seen>
        var bodyBytes = 0
        var announced = 0
        var keepAlive = true

        init(behaviour: Behaviour, seen: NIOLockedValueBox<Seen>) {
            self.behaviour = behaviour
            self.seen = seen
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                bodyBytes = 0
                keepAlive = head.isKeepAlive
                let id = head.headers.first(name: "X-Request-Id") ?? ""
                let length = Int(head.headers.first(name: "Content-Length") ?? "0") ?? -1
                announced = length
                seen.withLockedValue {
                    $0.requestIDs.append(id)
                    $0.methods.append(head.method.rawValue)
                }
            case .body(let buffer):
                bodyBytes += buffer.readableBytes
            case .end:
                let received = bodyBytes, announced = self.announced
                seen.withLockedValue { $0.bodyLengths.append(received); $0.contentLengths.append(announced) }
                respond(context: context)
            }
        }

        private func respond(context: ChannelHandlerContext) {
            guard case .respond(let body, let delay, let chunked, let timings) = behaviour else { return }
            let keepAlive = self.keepAlive
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let send = {
                let (handler, context) = loopBound.value
                var headers = HTTPHeaders()
                if chunked { headers.add(name: "Transfer-Encoding", value: "chunked") } else {
                    headers.add(name: "Content-Length", value: "\(body.utf8.count)")
                }
                for timing in timings { headers.add(name: "Server-Timing", value: timing) }
                if !keepAlive { headers.add(name: "Connection", value: "close") }
                context.write(handler.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                if chunked {
                    // Several chunks so the client must reassemble across reads.
                    let half = body.utf8.count / 2
                    let bytes = Array(body.utf8)
                    context.write(handler.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: bytes[..<half])))), promise: nil)
                    context.write(handler.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: bytes[half...])))), promise: nil)
                } else {
                    context.write(handler.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
                }
                context.writeAndFlush(handler.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                    if !keepAlive { context.close(promise: nil) }
                }
            }
            if delay > 0 {
                context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(delay)) { send() }
            } else {
                send()
            }
        }
    }
}
