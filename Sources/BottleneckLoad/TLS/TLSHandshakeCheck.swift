import BottleneckCore
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// One TLS handshake before the load starts, so a certificate the generator does not trust,
/// a wrong name or a plain-HTTP port is a clear error (exit 2), not a run full of failures.
enum TLSHandshakeCheck {
    /// Connects, completes a handshake and closes; returns the handshake's duration (ns).
    @discardableResult
    static func run(address: SocketAddress, target: TargetURL, settings: TLSClientSettings, context: NIOSSLContext,
                    connectTimeout: Int64, group: any EventLoopGroup) async throws -> UInt64 {
        let loop = group.next()
        let done = loop.makePromise(of: UInt64.self)
        let hostname = settings.serverHostname(for: target)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(.nanoseconds(connectTimeout))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: hostname))
                        try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(promise: done))
                    }
                }
                .connect(to: address).get()
        } catch {
            done.fail(error)
            throw LoadError(.unreachable, "target \(target): cannot connect to \(address) (\(error)); start the service or fix the target URL")
        }
        let timeout = loop.scheduleTask(in: .nanoseconds(connectTimeout)) {
            done.fail(LoadError(.unreachable, "target \(target): no TLS handshake within the connect timeout"))
        }
        defer { timeout.cancel() }
        do {
            let nanoseconds = try await done.futureResult.get()
            try? await channel.close().get()
            return nanoseconds
        } catch let error as LoadError {
            try? await channel.close().get()
            throw error
        } catch {
            try? await channel.close().get()
            throw LoadError(.unreachable, settings.explain(handshakeError: error, target: target))
        }
    }

    /// Completes the promise when the handshake ends, either way.
    private final class HandshakeWatcher: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let promise: EventLoopPromise<UInt64>
        var started: UInt64 = 0

        init(promise: EventLoopPromise<UInt64>) { self.promise = promise }

        func channelActive(context: ChannelHandlerContext) {
            started = MonotonicClock.now()
            context.fireChannelActive()
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
                promise.succeed(MonotonicClock.now() &- started)
            }
            context.fireUserInboundEventTriggered(event)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise.fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise.fail(ChannelError.eof)
            context.fireChannelInactive()
        }
    }
}
