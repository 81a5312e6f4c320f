import BottleneckCore
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOTLS

/// One HTTP/2 connection of the load engine and its stream slots (`HTTP2StreamLane`). It reads
/// and writes frames right after NIO's HTTP/2 handler, keeps the inbound flow-control windows
/// open, and tells the worker what each lane does, as `LoadConnection` does for HTTP/1.1.
///
/// Lanes become active when the server's first SETTINGS arrives: then the tool knows how many
/// streams the server allows at once (SETTINGS_MAX_CONCURRENT_STREAMS), and slots beyond it are
/// given up. A GOAWAY retires every lane once its request is answered; streams the server
/// refused unprocessed (REFUSED_STREAM, or above the GOAWAY's last stream) go out again.
final class HTTP2Session: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    let connectionID: UInt32
    private(set) var localPort: UInt16 = 0
    private unowned let worker: LoopWorker
    private var context: ChannelHandlerContext?
    /// Every slot, in order; `active` counts those the worker may use.
    var lanes: [HTTP2StreamLane] = []
    private var streams: [Int32: HTTP2StreamLane] = [:]
    private var nextStreamID: Int32 = 1
    private var settled = false
    private var goingAway = false
    private var lastAcceptedStream = Int32.max
    private var isClosing = false
    private var failure: RequestErrorKind?
    private var connectedAt: UInt64 = 0
    /// The server's initial window for each new stream's request body (SETTINGS_INITIAL_WINDOW_SIZE).
    private var peerStreamWindow = 65_535
    private var needsFlush = false
    /// True from a read's first frame to its end: the worker's next requests, sent as responses
    /// complete, are written then and flushed together in `channelReadComplete` (one write
    /// syscall for all the streams a read finished, as h2load does), not one flush each.
    private var inRead = false
    /// An https target's negotiated protocol must be h2.
    private let expectsALPN: Bool

    init(connectionID: UInt32, worker: LoopWorker, expectsALPN: Bool) {
        self.connectionID = connectionID
        self.worker = worker
        self.expectsALPN = expectsALPN
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        connectedAt = MonotonicClock.now()
        localPort = UInt16(truncatingIfNeeded: context.localAddress?.port ?? 0)
        // The connection's window for responses, from the protocol's 65,535 to 1 GiB at once.
        context.writeAndFlush(wrapOutboundOut(HTTP2Frame(
            streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: HTTP2Pipeline.connectionWindow - 65_535))), promise: nil)
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let window as NIOHTTP2WindowUpdatedEvent:
            // Keep what the server may send open: top a window up when half of it is used.
            if let inbound = window.inboundWindowSize {
                let target = window.streamID == .rootStream ? HTTP2Pipeline.connectionWindow : HTTP2Pipeline.streamWindow
                if inbound <= target / 2 {
                    context.write(wrapOutboundOut(HTTP2Frame(streamID: window.streamID,
                                                             payload: .windowUpdate(windowSizeIncrement: target - inbound))), promise: nil)
                    needsFlush = true
                }
            }
        case let closed as StreamClosedEvent:
            streamClosed(Int32(closed.streamID), reason: closed.reason)
        case let tls as TLSUserEvent:
            if case .handshakeCompleted(let negotiated) = tls {
                if let first = lanes.first { worker.handshakeCompleted(first, nanoseconds: MonotonicClock.now() &- connectedAt) }
                if expectsALPN && negotiated != "h2" {
                    failure = .tls
                    close(context: context)
                }
            }
        default:
            break
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Requests sent while this read's frames are handled go out in one flush at its end.
        inRead = true
        let frame = unwrapInboundIn(data)
        let id = Int32(frame.streamID)
        switch frame.payload {
        case .headers(let headers):
            guard let lane = streams[id], lane.inFlight != nil else { return }
            let now = MonotonicClock.now()
            if lane.inFlight!.firstByte == 0 { lane.inFlight!.firstByte = now }
            lane.read(headers: headers.headers)
            if headers.endStream { complete(lane, at: now) }
        case .data(let payload):
            guard let lane = streams[id], lane.inFlight != nil else { return }
            let now = MonotonicClock.now()
            if lane.inFlight!.firstByte == 0 { lane.inFlight!.firstByte = now }
            lane.bytesIn &+= UInt32(truncatingIfNeeded: payload.data.readableBytes)
            if payload.endStream { complete(lane, at: now) }
        case .settings(.settings(let settings)):
            var allowed: Int?
            for setting in settings {
                switch setting.parameter {
                case .maxConcurrentStreams: allowed = setting.value
                case .initialWindowSize: peerStreamWindow = setting.value
                default: break
                }
            }
            if !settled { settle(allowing: allowed) }
        case .goAway(let lastStreamID, _, _):
            goingAway = true
            lastAcceptedStream = Int32(lastStreamID)
            // Idle lanes leave now; busy ones when answered (or refused, StreamClosedEvent).
            for lane in lanes where lane.inFlight == nil { retire(lane) }
            closeWhenEmpty(context: context)
        default:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inRead = false
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if failure == nil { failure = RequestErrorKind(classifying: error) }
        close(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let now = MonotonicClock.now()
        if !settled {
            // Closed before the server said anything in HTTP/2: a failed connect.
            connectFailed(kind: failure ?? .closed)
        } else {
            for lane in lanes where !retired.contains(ObjectIdentifier(lane)) {
                if let request = lane.inFlight {
                    lane.inFlight = nil
                    worker.requestFailed(lane, request: request, kind: failure ?? .closed, at: now)
                }
                worker.connectionBecameInactive(lane)
            }
        }
        lanes = []
        streams = [:]
        self.context = nil
        context.fireChannelInactive()
    }

    // MARK: Requests.

    /// Writes a request on a new stream: HEADERS (the template's, with this request's id) and
    /// the shared body as one DATA frame; NIO's flow control slices it to the server's windows.
    func send(_ request: InFlightRequest, on lane: HTTP2StreamLane, template: RequestTemplate) {
        guard let context, let head = template.http2 else { return }
        var request = request
        if goingAway || isClosing {
            // The worker chose this idle slot while the connection was going away.
            worker.requestRefusedUnprocessed(lane, request: request)
            retire(lane)
            closeWhenEmpty(context: context)
            return
        }
        let id = nextStreamID
        nextStreamID &+= 2
        lane.streamID = id
        lane.resetResponse()
        streams[id] = lane
        worker.streamsInFlight(streams.count)
        var headers = head.headers
        // Never indexed: a value used once would only churn the connection's HPACK table.
        headers.add(name: "x-request-id", value: head.requestIDPrefix + String(request.sequence), indexing: .nonIndexable)
        request.bytesOut = UInt32(truncatingIfNeeded: head.headerBytes + template.bodyBytes)
        let streamID = HTTP2StreamID(id)
        if let body = template.body {
            context.write(wrapOutboundOut(HTTP2Frame(streamID: streamID, payload: .headers(.init(headers: headers)))), promise: nil)
            request.sent = MonotonicClock.now()
            lane.inFlight = request
            if template.bodyBytes > peerStreamWindow {
                // The body is larger than the server lets a new stream send before it grants
                // more (WINDOW_UPDATE): its last byte leaves when the server reads the rest.
                let promise = context.eventLoop.makePromise(of: Void.self)
                let sent = request.sent
                let worker = self.worker
                promise.futureResult.assumeIsolated().whenSuccess {
                    worker.flowControlStalled(nanoseconds: MonotonicClock.now() &- sent)
                }
                writeRequestFrame(HTTP2Frame(streamID: streamID, payload: .data(.init(data: .byteBuffer(body), endStream: true))),
                                  context: context, promise: promise)
            } else {
                writeRequestFrame(HTTP2Frame(streamID: streamID, payload: .data(.init(data: .byteBuffer(body), endStream: true))),
                                  context: context, promise: nil)
            }
        } else {
            request.sent = MonotonicClock.now()
            lane.inFlight = request
            writeRequestFrame(HTTP2Frame(streamID: streamID, payload: .headers(.init(headers: headers, endStream: true))),
                              context: context, promise: nil)
        }
    }

    /// A request's last frame: flushed now, or with the others at the end of the read in progress.
    @inline(__always)
    private func writeRequestFrame(_ frame: HTTP2Frame, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        if inRead {
            context.write(wrapOutboundOut(frame), promise: promise)
            needsFlush = true
        } else {
            context.writeAndFlush(wrapOutboundOut(frame), promise: promise)
        }
    }

    /// A lane gives up its request (the worker timed it out): the stream is reset and the slot
    /// is free again, unless the connection is going away.
    func cancel(_ lane: HTTP2StreamLane) {
        guard let context else { return }
        if lane.streamID != 0, streams.removeValue(forKey: lane.streamID) != nil {
            context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: HTTP2StreamID(lane.streamID), payload: .rstStream(.cancel))),
                                  promise: nil)
        }
        lane.streamID = 0
        lane.inFlight = nil
        if goingAway || isClosing {
            retire(lane)
            closeWhenEmpty(context: context)
        } else {
            worker.laneFreed(lane)
        }
    }

    /// The connection failed before the server's SETTINGS (TCP, TLS, ALPN, or not HTTP/2): the
    /// worker counts one failed connect (one waiting request fails; it retries shortly), and the
    /// other slots are given up. Once only, whichever of the connect and the close reports it.
    func connectFailed(kind: RequestErrorKind) {
        guard !settled else { return }
        settled = true
        worker.http2ConnectFailed(lanes, kind: kind)
    }

    // MARK: Internals.

    private var retired = Set<ObjectIdentifier>()

    /// The server's first SETTINGS: as many lanes as it allows streams become active.
    private func settle(allowing allowed: Int?) {
        settled = true
        let usable = min(lanes.count, max(1, allowed ?? lanes.count))
        for (index, lane) in lanes.enumerated() {
            if index < usable {
                worker.connectionBecameActive(lane, newConnection: index == 0)
            } else {
                retired.insert(ObjectIdentifier(lane))
                worker.laneAbandoned(lane)
            }
        }
        lanes.removeSubrange(usable...)
        retired.removeAll()
    }

    private func complete(_ lane: HTTP2StreamLane, at now: UInt64) {
        streams[lane.streamID] = nil
        lane.streamID = 0
        guard let request = lane.inFlight else { return }
        lane.inFlight = nil
        let reusable = !goingAway && !isClosing
        worker.responseCompleted(lane, request: request, status: lane.recordedStatus, bytesIn: lane.bytesIn,
                                 serverTiming: lane.serverTiming, at: now, reusable: reusable)
        if !reusable, let context {
            retire(lane)
            closeWhenEmpty(context: context)
        }
    }

    /// A stream closed: after END_STREAM both ways (already completed), or reset. A reset the
    /// server made before processing the request (REFUSED_STREAM, above the GOAWAY's last
    /// stream) sends the request again; any other fails it.
    private func streamClosed(_ id: Int32, reason: HTTP2ErrorCode?) {
        guard let lane = streams.removeValue(forKey: id) else { return }
        lane.streamID = 0
        guard let request = lane.inFlight else { return }
        lane.inFlight = nil
        let now = MonotonicClock.now()
        if reason == .refusedStream || (goingAway && id > lastAcceptedStream) {
            worker.requestRefusedUnprocessed(lane, request: request)
        } else if reason == nil {
            // Closed cleanly without the END_STREAM we saw: count what arrived as the answer.
            worker.responseCompleted(lane, request: request, status: lane.recordedStatus, bytesIn: lane.bytesIn,
                                     serverTiming: lane.serverTiming, at: now, reusable: !goingAway)
        } else {
            worker.requestFailed(lane, request: request, kind: .reset, at: now)
        }
        if goingAway, let context {
            retire(lane)
            closeWhenEmpty(context: context)
        }
    }

    /// The lane takes no more requests; the worker forgets it (and replaces it if the load needs one).
    private func retire(_ lane: HTTP2StreamLane) {
        guard retired.insert(ObjectIdentifier(lane)).inserted else { return }
        if let request = lane.inFlight {
            lane.inFlight = nil
            worker.requestFailed(lane, request: request, kind: .closed, at: MonotonicClock.now())
        }
        worker.connectionBecameInactive(lane)
    }

    private func closeWhenEmpty(context: ChannelHandlerContext) {
        if lanes.allSatisfy({ retired.contains(ObjectIdentifier($0)) }) { close(context: context) }
    }

    private func close(context: ChannelHandlerContext) {
        guard !isClosing else { return }
        isClosing = true
        context.close(promise: nil)
    }
}
