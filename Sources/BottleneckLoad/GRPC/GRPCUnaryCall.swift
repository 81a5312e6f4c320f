import BottleneckCore
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import NIOSSL

/// One gRPC unary call on a connection of its own, before a run: a model's metadata, a trial
/// inference, statistics. Not on the load path (which frames calls on its HTTP/2 lanes).
enum GRPCUnaryCall {
    struct Reply: Sendable {
        /// grpc-status (0 = OK); nil when the server sent none (not a gRPC server: see `httpStatus`).
        var grpcStatus: Int?
        var grpcMessage: String
        var httpStatus: Int
        /// The first response message, without its framing (empty when none).
        var message: [UInt8]
    }

    static func call(target: TargetURL, method: String, message: [UInt8], headers: [RequestHeader], tls: TLSClientSettings,
                     timeoutNanoseconds: Int64) async throws -> Reply {
        let context = target.isTLS ? try tls.makeContext(http2: true) : nil
        let address: SocketAddress
        do {
            address = try SocketAddress.makeAddressResolvingHost(target.host, port: target.port)
        } catch {
            throw LoadError(.unreachable, "target \(target): cannot resolve host \"\(target.host)\"; check the name or use an IP address")
        }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let done = loop.makePromise(of: Reply.self)
        var fields: [(String, String)] = [
            (":method", "POST"), (":scheme", target.isTLS ? "https" : "http"), (":authority", target.hostHeader), (":path", method),
            ("content-type", "application/grpc"), ("te", "trailers"), ("user-agent", "bottleneck/\(BottleneckVersion.current)"),
        ]
        for header in headers where !HTTP2RequestHead.forbidden.contains(header.name.lowercased()) {
            fields.append((header.name.lowercased(), header.value))
        }
        let requestHeaders = HPACKHeaders(fields)
        let body = GRPCFraming.frame(message)
        let hostname = tls.serverHostname(for: target)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(.nanoseconds(min(timeoutNanoseconds, 5_000_000_000)))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try HTTP2Pipeline.configure(channel, tls: context, serverHostname: hostname,
                                                    handler: Exchange(promise: done, headers: requestHeaders, body: body))
                    }
                }
                .connect(to: address).get()
        } catch {
            throw LoadError(.unreachable, "target \(target): cannot connect to \(address) (\(error)); start the service or fix the target URL")
        }
        let timeout = loop.scheduleTask(in: .nanoseconds(timeoutNanoseconds)) {
            done.fail(LoadError(.unreachable, "\(method) on \(target.hostHeader): no answer within \(timeoutNanoseconds / 1_000_000_000) s"))
        }
        defer { timeout.cancel() }
        do {
            let reply = try await done.futureResult.get()
            try? await channel.close().get()
            return reply
        } catch let error as LoadError {
            try? await channel.close().get()
            throw error
        } catch {
            try? await channel.close().get()
            if context != nil, String(describing: error).contains("SSL") || error is NIOSSLError {
                throw LoadError(.unreachable, tls.explain(handshakeError: error, target: target))
            }
            throw LoadError(.unreachable, HTTP2Check.notHTTP2(target, why: "\(error)"))
        }
    }

    /// Sends the call on stream 1 once the connection is up; collects the response until its END_STREAM.
    private final class Exchange: ChannelInboundHandler {
        typealias InboundIn = HTTP2Frame
        typealias OutboundOut = HTTP2Frame
        let promise: EventLoopPromise<Reply>
        let headers: HPACKHeaders
        let body: [UInt8]
        var reply = Reply(grpcStatus: nil, grpcMessage: "", httpStatus: 0, message: [])
        var received: [UInt8] = []

        init(promise: EventLoopPromise<Reply>, headers: HPACKHeaders, body: [UInt8]) {
            self.promise = promise
            self.headers = headers
            self.body = body
        }

        func channelActive(context: ChannelHandlerContext) {
            let stream = HTTP2StreamID(1)
            context.write(wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: headers)))), promise: nil)
            let buffer = context.channel.allocator.buffer(bytes: body)
            context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .data(.init(data: .byteBuffer(buffer), endStream: true)))),
                                  promise: nil)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            guard Int32(frame.streamID) == 1 else { return }
            switch frame.payload {
            case .headers(let block):
                for field in block.headers {
                    switch field.name {
                    case ":status": reply.httpStatus = Int(field.value) ?? 0
                    case "grpc-status": reply.grpcStatus = Int(field.value)
                    case "grpc-message": reply.grpcMessage = field.value.grpcPercentDecoded ?? field.value
                    default: break
                    }
                }
                if block.endStream { finish() }
            case .data(let payload):
                if case .byteBuffer(let buffer) = payload.data { received += buffer.readableBytesView }
                if received.count > 64 << 20 { promise.fail(LoadError(.badInput, "a gRPC reply above 64 MB")); context.close(promise: nil) }
                if payload.endStream { finish() }
            case .rstStream(let code):
                promise.fail(LoadError(.unreachable, "the server reset the call (\(code))"))
            default:
                break
            }
        }

        private func finish() {
            reply.message = GRPCFraming.firstMessage(received) ?? []
            promise.succeed(reply)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise.fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise.fail(LoadError(.unreachable, "the server closed the connection before answering"))
            context.fireChannelInactive()
        }
    }
}

extension String {
    /// gRPC's percent-encoding of grpc-message undone (%XX bytes), or nil when malformed.
    var grpcPercentDecoded: String? {
        var bytes: [UInt8] = []
        var iterator = utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { return nil }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
