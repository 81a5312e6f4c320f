import BottleneckCore
import NIOCore
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS

/// Before an HTTP/2 run: one connection that must reach the server's SETTINGS frame, so a server
/// that does not speak HTTP/2 (no h2 by ALPN on https, no prior-knowledge h2c on http) is a clear
/// one-line error (exit 2), not a run of failed connects.
enum HTTP2Check {
    static func run(address: SocketAddress, target: TargetURL, settings: TLSClientSettings, context: NIOSSLContext?,
                    connectTimeout: Int64, group: any EventLoopGroup) async throws {
        let loop = group.next()
        let done = loop.makePromise(of: Void.self)
        let hostname = settings.serverHostname(for: target)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(.nanoseconds(connectTimeout))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try HTTP2Pipeline.configure(channel, tls: context, serverHostname: hostname,
                                                    handler: SettingsWatcher(promise: done, target: target, tls: context != nil))
                    }
                }
                .connect(to: address).get()
        } catch {
            done.fail(error)
            throw LoadError(.unreachable, "target \(target): cannot connect to \(address) (\(error)); start the service or fix the target URL")
        }
        let timeout = loop.scheduleTask(in: .nanoseconds(connectTimeout)) {
            done.fail(LoadError(.unreachable, notHTTP2(target, why: "no HTTP/2 SETTINGS within the connect timeout")))
        }
        defer { timeout.cancel() }
        do {
            try await done.futureResult.get()
            try? await channel.close().get()
        } catch let error as LoadError {
            try? await channel.close().get()
            throw error
        } catch {
            try? await channel.close().get()
            if context != nil, String(describing: error).contains("SSL") || error is NIOSSLError {
                throw LoadError(.unreachable, settings.explain(handshakeError: error, target: target))
            }
            let text = String(describing: error)
            let why = text.contains("UnableToParseFrame") || text.contains("BadClientMagic") || text.contains("NotSettingsFrame")
                ? "its first bytes were not an HTTP/2 frame: an HTTP/1.1 listener?" : text
            throw LoadError(.unreachable, notHTTP2(target, why: why))
        }
    }

    /// The one-line error for a server that does not answer in HTTP/2.
    static func notHTTP2(_ target: TargetURL, why: String) -> String {
        if target.isTLS {
            return "\(target.hostHeader) did not agree to HTTP/2 (\(why)): enable http2 on its TLS listener, or drop --http2"
        }
        return "\(target.hostHeader) does not speak HTTP/2 without TLS (\(why)): use its https:// URL (h2 by ALPN), a port with prior-knowledge h2c (nginx: listen … http2), or drop --http2"
    }

    /// Succeeds on the server's first SETTINGS frame; fails when the TLS handshake picks another
    /// protocol, on any error, or when the server closes first.
    private final class SettingsWatcher: ChannelInboundHandler {
        typealias InboundIn = HTTP2Frame
        let promise: EventLoopPromise<Void>
        let target: TargetURL
        let tls: Bool

        init(promise: EventLoopPromise<Void>, target: TargetURL, tls: Bool) {
            self.promise = promise
            self.target = target
            self.tls = tls
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? TLSUserEvent, case .handshakeCompleted(let negotiated) = event, negotiated != "h2" {
                promise.fail(LoadError(.unreachable, HTTP2Check.notHTTP2(target, why: "ALPN chose \(negotiated ?? "no protocol"), not h2")))
                context.close(promise: nil)
            }
            context.fireUserInboundEventTriggered(event)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .settings(.settings) = unwrapInboundIn(data).payload { promise.succeed(()) }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise.fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise.fail(LoadError(.unreachable, HTTP2Check.notHTTP2(target, why: "the server closed the connection")))
            context.fireChannelInactive()
        }
    }
}
