import NIOCore
import NIOSSL
import NIOTLS
import BottleneckCore

/// A request written on a connection and not yet answered.
struct InFlightRequest {
    var step: Int32
    var sequence: UInt64
    var intended: UInt64
    var dispatched: UInt64
    var sent: UInt64
    var firstByte: UInt64 = 0
    var payloadIndex: Int32
    var bytesOut: UInt32
    /// False for warm-up requests and requests of a step that has been collected.
    var counts: Bool
}

/// One keep-alive connection of the load engine: writes pre-encoded requests and frames
/// responses with `HTTPResponseScanner`. It lives on its worker's event loop and reports
/// every outcome to the worker, which owns all scheduling decisions.
final class LoadConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let id: UInt32
    private let worker: LoopWorker
    private var context: ChannelHandlerContext?
    private(set) var localPort: UInt16 = 0
    private var scanner = HTTPResponseScanner()
    /// The previous request's head, rewritten in place for the next (`RequestTemplate.writeHead`).
    private var head: ByteBuffer?
    /// The request awaiting its response, if any.
    var inFlight: InFlightRequest?
    /// Set when we decided to close, so the inactive callback does not count an error.
    var isClosing = false
    private(set) var isActive = false
    /// Why the channel failed, recorded by `errorCaught` before it becomes inactive.
    private var failure: RequestErrorKind?

    init(id: UInt32, worker: LoopWorker) {
        self.id = id
        self.worker = worker
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// When TCP connected (for the TLS handshake's duration).
    private var connectedAt: UInt64 = 0

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            worker.handshakeCompleted(self, nanoseconds: MonotonicClock.now() &- connectedAt)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelActive(context: ChannelHandlerContext) {
        connectedAt = MonotonicClock.now()
        isActive = true
        localPort = UInt16(truncatingIfNeeded: context.localAddress?.port ?? 0)
        worker.connectionBecameActive(self)
        context.fireChannelActive()
    }

    /// Writes one request: the head (prefix, id digits, suffix) and the shared body.
    @inline(__always)
    func send(_ request: InFlightRequest, template: RequestTemplate) {
        guard let context else { return }
        var request = request
        var head = self.head.take() ?? context.channel.allocator.buffer(capacity: 256)
        template.writeHead(sequence: request.sequence, into: &head)
        self.head = head
        request.bytesOut = UInt32(truncatingIfNeeded: head.readableBytes + template.bodyBytes)
        scanner.reset(requestWasHead: worker.isHeadRequest)
        if let body = template.body {
            context.write(wrapOutboundOut(head), promise: nil)
            request.sent = MonotonicClock.now()
            inFlight = request
            context.writeAndFlush(wrapOutboundOut(body), promise: nil)
        } else {
            request.sent = MonotonicClock.now()
            inFlight = request
            context.writeAndFlush(wrapOutboundOut(head), promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard inFlight != nil else {
            // Bytes nobody asked for: the server is confused or pipelining; drop the connection.
            close(context: context)
            return
        }
        let now = MonotonicClock.now()
        if inFlight!.firstByte == 0 { inFlight!.firstByte = now }
        switch scanner.feed(&buffer) {
        case .needMore:
            break
        case .complete:
            let request = inFlight!
            inFlight = nil
            // Close after the response when keep-alive is off, even if the server would keep it.
            let reusable = worker.keepAlive && !scanner.closeAfter && buffer.readableBytes == 0
            worker.responseCompleted(self, request: request, status: UInt16(scanner.status),
                                     bytesIn: UInt32(truncatingIfNeeded: scanner.bytesIn), serverTiming: scanner.serverTiming,
                                     at: now, reusable: reusable)
            if !reusable { close(context: context) }
        case .malformed:
            let request = inFlight!
            inFlight = nil
            worker.requestFailed(self, request: request, kind: .malformed, at: now)
            close(context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failure = RequestErrorKind(classifying: error)
        close(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        isActive = false
        let now = MonotonicClock.now()
        if let request = inFlight {
            inFlight = nil
            if scanner.connectionClosed() {
                worker.responseCompleted(self, request: request, status: UInt16(scanner.status),
                                         bytesIn: UInt32(truncatingIfNeeded: scanner.bytesIn), serverTiming: scanner.serverTiming,
                                         at: now, reusable: false)
            } else {
                worker.requestFailed(self, request: request, kind: failure ?? .closed, at: now)
            }
        }
        worker.connectionBecameInactive(self)
        self.context = nil
        context.fireChannelInactive()
    }

    /// Closes the connection on purpose (not an error).
    func close() {
        guard let context else { return }
        close(context: context)
    }

    private func close(context: ChannelHandlerContext) {
        guard !isClosing else { return }
        isClosing = true
        context.close(promise: nil)
    }
}

extension RequestErrorKind {
    /// Maps a channel or connect error to the kind users see in the error table.
    init(classifying error: any Error) {
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED: self = .refused
            case ECONNRESET, EPIPE: self = .reset
            case ETIMEDOUT: self = .timeout
            case EADDRNOTAVAIL: self = .noLocalPort
            case EMFILE, ENFILE: self = .tooManyFiles
            default: self = .other
            }
            return
        }
        if let tls = error as? NIOSSLError {
            // A server that closes without close_notify has closed; anything else failed the handshake or the record layer.
            if case .uncleanShutdown = tls { self = .closed } else { self = .tls }
            return
        }
        if error is NIOSSLExtraError { self = .tls; return }
        if let channelError = error as? ChannelError {
            switch channelError {
            case .connectTimeout: self = .timeout
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed: self = .closed
            default: self = .other
            }
            return
        }
        let text = String(describing: error)
        if text.contains("Connection refused") || text.contains("connectionRefused") { self = .refused; return }
        if text.contains("reset") { self = .reset; return }
        self = .other
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension LoadConnection: LoadLane {
    /// An HTTP/1.1 lane is its connection.
    var connectionID: UInt32 { id }
}
