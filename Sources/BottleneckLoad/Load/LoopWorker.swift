import Histogram
import BottleneckCore
import NIOCore
import NIOPosix
import NIOSSL

/// Receives finished request records in batches, off the measuring event loop's hot path.
public protocol RequestRecordSink: Sendable {
    /// Takes the batch, or returns false when it cannot without waiting; the caller keeps
    /// the records and offers them again later.
    func trySubmit(_ batch: [RequestRecord]) -> Bool
    /// Takes the batch, waiting if it must (end of a step, shutdown).
    func submit(_ batch: [RequestRecord])
}

extension RequestRecordSink {
    public func trySubmit(_ batch: [RequestRecord]) -> Bool {
        submit(batch)
        return true
    }
}

/// Settings every worker shares, fixed for the whole run.
struct WorkerSettings: Sendable {
    var address: SocketAddress
    var timeout: UInt64
    var connectTimeout: UInt64
    var keepAlive: Bool
    var isHeadRequest: Bool
    var seed: UInt64
    /// Over https: the run's TLS context, and the name for SNI and verification (nil: an address).
    var tls: NIOSSLContext?
    var serverHostname: String?
    /// HTTP/2 (nil: HTTP/1.1): the stream slots each connection offers, requests in flight at once on it.
    var http2Streams: Int?
}

/// A request scheduled by the open-loop clock but not yet on the wire.
struct PendingRequest {
    var intended: UInt64
    var dispatched: UInt64
}

/// A snapshot a worker reports once per progress interval.
struct WorkerTick: Sendable {
    var interval: Histogram<UInt64>
    var sent: UInt64
    var completed: UInt64
    var errors: UInt64
    var inFlight: Int
    var pending: Int
}

/// One event loop's share of the load. Everything here runs on `eventLoop` and is
/// touched by nothing else, so the per-request path takes no locks (as in wrk2, where
/// each thread owns its connections and histograms and results are merged after).
final class LoopWorker {
    let eventLoop: any EventLoop
    let index: UInt16
    private let settings: WorkerSettings
    private let templates: [RequestTemplate]
    /// The templates the current step draws from (`LoadStep.payloadIndices`).
    private var active: [RequestTemplate]
    private let sink: any RequestRecordSink
    private var random: SplitMix64
    var isHeadRequest: Bool { settings.isHeadRequest }
    /// False with `--no-keepalive`: every connection closes after its response.
    var keepAlive: Bool { settings.keepAlive }

    // Connections.
    /// Every lane, those still connecting included.
    private var connections: [UInt32: any LoadLane] = [:]
    private var idle: [any LoadLane] = []
    private var connecting = 0
    private var nextConnectionSerial: UInt32 = 0

    // The current step.
    private var stepIndex: Int32 = -1
    private var shape: LoadShape = .closed(concurrency: 0)
    /// True while the step generates new requests.
    private var generating = false
    /// True while finished requests count toward `stats` (false in warm-up).
    private var counting = false
    private var stats = StepStatistics()
    private var interval = StepStatistics.makeHistogram()
    private var sequence: UInt64 = 0
    private var batch: [RequestRecord] = []

    // Open loop.
    private var schedule: ArrivalSchedule?
    /// Open loop: the step's end; arrivals at or after it belong to no step and are never sent,
    /// even when a late loop catches up past it.
    private var scheduleEnd: UInt64 = .max
    /// Open loop with a duration: the step's thirds, for the latency trend and the backlog.
    private var thirds: StepThirds?
    private var maxConnections = 1
    private var pending = CircularBuffer<PendingRequest>(initialCapacity: 64)
    /// The armed wake-up for the next intended send, if any.
    private var timer: NIOScheduledCallback?
    /// True while `fireSchedule` dispatches a round that started late.
    private var roundIsLate = false
    private lazy var clock = OpenLoopClock(worker: self)
    // Closed loop.
    private var concurrency = 0
    private var busy = 0  // connections with a request in flight
    private var retryScheduled = false
    private var timeoutSweep: RepeatedTask?
    /// True while this loop's thread runs on the open loop's short scheduler slice.
    private var onShortSlice = false

    init(eventLoop: any EventLoop, index: UInt16, settings: WorkerSettings, templates: [RequestTemplate], sink: any RequestRecordSink) {
        self.eventLoop = eventLoop
        self.index = index
        self.settings = settings
        self.templates = templates
        self.active = templates
        self.sink = sink
        self.random = SplitMix64(seed: settings.seed &+ UInt64(index) &* 0x9E37_79B9)
        batch.reserveCapacity(1024)
    }

    // MARK: Step control (called by the engine through `eventLoop.submit`).

    /// Starts a step. `share` is this loop's part: its rate, or its connections.
    /// Open loop: arrivals are scheduled from now for `duration` (this loop's share of the step's
    /// schedule: rate × duration arrivals, however late the loop got the message).
    func beginStep(index: Int32, shape: LoadShape, maxConnections: Int, counting: Bool, duration: UInt64? = nil, payloads: [Int]? = nil) {
        stepIndex = index
        let chosen = payloads?.compactMap { templates.indices.contains($0) ? templates[$0] : nil } ?? []
        active = chosen.isEmpty ? templates : chosen
        self.shape = shape
        self.counting = counting
        stats = StepStatistics()
        generating = true
        let now = MonotonicClock.now()
        scheduleEnd = duration.map { now &+ $0 } ?? .max
        thirds = nil
        startTimeoutSweep()
        switch shape {
        case .open(let rate, let arrivals):
            concurrency = 0
            // Sends are timed: wake up on time even beside a busy thread (see `ThreadSlice`).
            ThreadSlice.request(ThreadSlice.openLoop)
            onShortSlice = true
            // Over HTTP/2 the bound is on connections, and each carries `http2Streams` lanes.
            self.maxConnections = max(1, maxConnections) * (settings.http2Streams ?? 1)
            if let duration, duration > 0 { thirds = StepThirds(start: now, end: scheduleEnd) }
            let schedule = ArrivalSchedule(start: now, rate: rate, process: arrivals, seed: random.next())
            self.schedule = schedule
            timer?.cancel()
            scheduleTimer(at: schedule.next)
        case .closed(let concurrency):
            schedule = nil
            if onShortSlice {
                // Nothing here is timed; the default slice costs fewer context switches.
                ThreadSlice.request(0)
                onShortSlice = false
            }
            self.concurrency = concurrency
            fillClosedLoop(now: now)
            // Close idle connections beyond the new concurrency.
            while busy + connecting + idle.count > concurrency, let extra = idle.popLast() {
                extra.close()
            }
        }
    }

    /// Stops generating; requests still in flight finish and count for this step.
    /// Scheduled-but-unsent requests are dropped and counted as unsent: those waiting for a
    /// connection, and those the schedule placed before its end (or `scheduledUntil`, an interrupt) that a
    /// late loop never dispatched — so `sent + unsent` is the whole schedule however busy the host.
    func stopGenerating(scheduledUntil: UInt64 = .max) {
        generating = false
        timer?.cancel()
        timer = nil
        stats.unsent += UInt64(pending.count)
        pending.removeAll(keepingCapacity: true)
        if var schedule {
            // scheduledUntil: an interrupt's time; a step begun without a duration ends now.
            let until = min(scheduledUntil, scheduleEnd == .max ? MonotonicClock.now() : scheduleEnd)
            while schedule.next < until {
                _ = schedule.advance()
                stats.unsent += 1
            }
            self.schedule = schedule
        }
    }

    /// Requests still outstanding on this loop.
    var outstanding: Int { busy + pending.count }

    /// Ends the step: returns its statistics; later completions no longer count.
    func collectStep() -> StepStatistics {
        counting = false
        flushRecords()
        let result = stats
        stats = StepStatistics()
        return result
    }

    /// Returns the interval's latency histogram and counters since the last tick, and starts
    /// the next interval in `fresh`, an empty histogram made by the caller off the event loop:
    /// copying and clearing one here (196 KB of counts, through the histogram's generic code)
    /// held the loop for about 1 ms every second, and sends due meanwhile went out late.
    func tick(replacingIntervalWith fresh: Histogram<UInt64>) -> WorkerTick {
        let snapshot = WorkerTick(interval: interval, sent: stats.sent, completed: stats.completed,
                                  errors: stats.transportErrors, inFlight: busy, pending: pending.count)
        interval = fresh
        if !batch.isEmpty { offerRecords() }
        return snapshot
    }

    /// Closes every connection; the loop is about to be shut down.
    func shutdown() {
        generating = false
        timer?.cancel()
        timeoutSweep?.cancel()
        flushRecords()
        for connection in connections.values { connection.close() }
    }

    // MARK: Open loop.

    /// Requests one round dispatches at most before the loop reads its sockets again.
    static let maxDispatchPerRound = 256
    /// How far ahead the next round is put when the generator is behind (see `fireSchedule`).
    static let ioYieldNanoseconds: UInt64 = 20_000
    /// Connects that may be in flight at once even when few connections are established yet.
    static let minimumConnectsInFlight = 8
    /// A round whose first request is later than this finds the loop itself behind (see
    /// `openConnectionForPending`); the same bar as the schedule-lag warning.
    static let lateRoundNanoseconds: UInt64 = 1_000_000

    private func scheduleTimer(at deadline: UInt64) {
        guard generating else { return }
        timer = try? eventLoop.scheduleCallback(at: .uptimeNanoseconds(deadline), handler: clock)
    }

    /// Dispatches every request whose intended time has come, then arms the wake-up for the next.
    fileprivate func fireSchedule() {
        timer = nil
        guard generating, var schedule else { return }
        let now = MonotonicClock.now()
        roundIsLate = schedule.next <= now && now - schedule.next > Self.lateRoundNanoseconds
        var dispatchedThisRound = 0
        while schedule.next <= now && schedule.next < scheduleEnd && dispatchedThisRound < Self.maxDispatchPerRound {
            let intended = schedule.advance()
            dispatchedThisRound += 1
            dispatchOpenLoop(PendingRequest(intended: intended, dispatched: now))
        }
        roundIsLate = false
        self.schedule = schedule
        if schedule.next >= scheduleEnd {
            return  // the schedule of this step is complete; stopGenerating ends it
        }
        let end = MonotonicClock.now()
        if schedule.next > end {
            scheduleTimer(at: schedule.next)
        } else {
            // Behind. NIO runs a callback whose deadline has passed in the same tick, before it
            // reads any socket; re-arming for `schedule.next` would keep this loop off its sockets
            // for as long as it is behind, so no connection could free up or finish connecting.
            // A deadline just ahead makes NIO poll the sockets first; the requests it delays
            // count it in their schedule lag.
            scheduleTimer(at: end + Self.ioYieldNanoseconds)
        }
    }

    private func dispatchOpenLoop(_ request: PendingRequest) {
        if let connection = idle.popLast() {
            send(on: connection, intended: request.intended, dispatched: request.dispatched)
            return
        }
        pending.append(request)
        openConnectionForPending()
    }

    /// Opens a connection for the requests waiting for one, unless the connects in flight will
    /// serve them or the pool may not grow.
    ///
    /// A connect costs this loop tens to hundreds of microseconds (far more than a request on
    /// an open connection), time that delays every later send. So a round that finds the loop
    /// itself late (a busy CPU, a stall) opens none while any connection exists: its requests
    /// wait for responses to free connections, which a fast server does within a round trip,
    /// and connecting would only make the loop later still (at 10k req/s on a busy machine it
    /// used to open a connection per late request: about 1,000, most in the first 200 ms, each
    /// making the loop later). Waiting requests that the
    /// server, not the loop, is slow to serve show up in rounds that are on time, and get
    /// connections then; connects in flight are bounded by the connections already established
    /// (at least `minimumConnectsInFlight`), so the pool grows by doubling, as TCP's slow
    /// start does.
    private func openConnectionForPending() {
        guard !(roundIsLate && !connections.isEmpty) else { return }
        // `connections` holds the ones still connecting too.
        let established = connections.count - connecting
        if connecting < pending.count && connections.count < maxConnections
            && connecting < max(Self.minimumConnectsInFlight, established) {
            openConnection()
        }
    }

    // MARK: Closed loop.

    private func fillClosedLoop(now: UInt64) {
        guard generating, case .closed = shape else { return }
        while busy + connecting < concurrency {
            if let connection = idle.popLast() {
                send(on: connection, intended: now, dispatched: now)
            } else {
                openConnection()
            }
        }
    }

    // MARK: Sending and outcomes.

    private func send(on connection: any LoadLane, intended: UInt64, dispatched: UInt64) {
        let template: RequestTemplate
        if active.count == 1 {
            template = active[0]
        } else {
            template = active[Int(random.next() % UInt64(active.count))]
        }
        sequence &+= 1
        busy += 1
        if counting { stats.sent += 1 }
        connection.send(InFlightRequest(step: stepIndex, sequence: sequence, intended: intended, dispatched: dispatched,
                                        sent: 0, payloadIndex: template.payloadIndex, bytesOut: 0, counts: counting),
                        template: template)
    }

    func responseCompleted(_ connection: any LoadLane, request: InFlightRequest, status: UInt16, bytesIn: UInt32,
                           serverTiming: String?, at now: UInt64, reusable: Bool) {
        busy -= 1
        finish(request, connection: connection, status: status, error: .none, bytesIn: bytesIn, serverTiming: serverTiming, at: now)
        if reusable {
            connectionFree(connection, now: now)
        } else {
            // The connection closes; replace it if the shape needs one.
            refill(now: now)
        }
    }

    func requestFailed(_ connection: any LoadLane, request: InFlightRequest, kind: RequestErrorKind, at now: UInt64) {
        busy -= 1
        finish(request, connection: connection, status: 0, error: kind, bytesIn: 0, serverTiming: nil, at: now)
        refill(now: now)
    }

    private func finish(_ request: InFlightRequest, connection: (any LoadLane)?, status: UInt16, error: RequestErrorKind,
                        bytesIn: UInt32, serverTiming: String?, at now: UInt64) {
        let record = RequestRecord(
            step: request.step, loop: index, sequence: request.sequence, intended: request.intended,
            dispatched: request.dispatched, sent: request.sent == 0 ? now : request.sent, firstByte: request.firstByte,
            lastByte: now, status: status, error: error, bytesOut: request.bytesOut, bytesIn: bytesIn,
            payloadIndex: request.payloadIndex, connectionID: connection?.connectionID ?? 0, localPort: connection?.localPort ?? 0,
            serverTiming: serverTiming)
        guard request.counts && counting && request.step == stepIndex else {
            // Warm-up, or a straggler of a step already collected: keep the record only.
            if request.step >= 0 && request.counts { appendRecord(record) }
            return
        }
        stats.record(record)
        if error == .none { _ = interval.record(StepStatistics.clamp(record.latency)) }
        if let thirds { stats.recordOpenLoop(record, thirds: thirds) }
        appendRecord(record)
    }

    @inline(__always)
    private func appendRecord(_ record: RequestRecord) {
        batch.append(record)
        if batch.count >= 1024 && batch.count % 256 == 0 { offerRecords() }
    }

    /// Hands the batch over if the sink can take it without waiting; past 64k held
    /// records it waits rather than grow without bound.
    private func offerRecords() {
        if batch.count >= 65_536 { flushRecords(); return }
        guard sink.trySubmit(batch) else { return }
        batch = []
        batch.reserveCapacity(1024)
    }

    private func flushRecords() {
        guard !batch.isEmpty else { return }
        sink.submit(batch)
        batch = []
        batch.reserveCapacity(1024)
    }

    /// A connection has no request in flight and may take the next one.
    private func connectionFree(_ connection: any LoadLane, now: UInt64) {
        guard generating else {
            idle.append(connection)
            return
        }
        switch shape {
        case .open:
            if let next = pending.popFirst() {
                send(on: connection, intended: next.intended, dispatched: next.dispatched)
            } else {
                idle.append(connection)
            }
        case .closed(let concurrency):
            if busy + connecting < concurrency {
                send(on: connection, intended: now, dispatched: now)
            } else {
                idle.append(connection)
            }
        }
    }

    private func refill(now: UInt64) {
        guard generating else { return }
        switch shape {
        case .open:
            openConnectionForPending()
        case .closed:
            fillClosedLoop(now: now)
        }
    }

    // MARK: Connections.

    private func openConnection() {
        if let streams = settings.http2Streams {
            openHTTP2Connection(streams: streams)
            return
        }
        connecting += 1
        nextConnectionSerial &+= 1
        let id = UInt32(index) << 24 | (nextConnectionSerial & 0x00FF_FFFF)
        let connection = LoadConnection(id: id, worker: self)
        let attemptStart = MonotonicClock.now()
        let boundConnection = NIOLoopBound(connection, eventLoop: eventLoop)
        let settings = settings
        connections[id] = connection
        connect { channel in
            if let tls = settings.tls {
                try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: settings.serverHostname))
            }
            try channel.pipeline.syncOperations.addHandler(boundConnection.value)
        } failed: { error in
            self.connectFailed(connection, kind: Self.connectErrorKind(error), attemptStart: attemptStart)
        }
    }

    /// Connects a new channel to the target with the engine's socket options, `configure` adding
    /// its handlers; `failed` hears a connect that did not succeed.
    private func connect(configure: @escaping @Sendable (any Channel) throws -> Void, failed: @escaping (any Error) -> Void) {
        ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.nanoseconds(Int64(settings.connectTimeout)))
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try configure(channel) } }
            .connect(to: settings.address).assumeIsolated().whenFailure(failed)
    }

    /// Opens an HTTP/2 connection with `streams` lanes (stream slots), all connecting until the
    /// server's SETTINGS says how many it allows.
    private func openHTTP2Connection(streams: Int) {
        nextConnectionSerial &+= 1
        let connectionID = UInt32(index) << 24 | (nextConnectionSerial & 0x00FF_FFFF)
        let session = HTTP2Session(connectionID: connectionID, worker: self, expectsALPN: settings.tls != nil)
        for slot in 0..<streams {
            if slot > 0 { nextConnectionSerial &+= 1 }
            let lane = HTTP2StreamLane(id: UInt32(index) << 24 | (nextConnectionSerial & 0x00FF_FFFF), session: session)
            session.lanes.append(lane)
            connections[lane.id] = lane
            connecting += 1
        }
        let boundSession = NIOLoopBound(session, eventLoop: eventLoop)
        let settings = settings
        connect { channel in
            try HTTP2Pipeline.configure(channel, tls: settings.tls, serverHostname: settings.serverHostname, handler: boundSession.value)
        } failed: { error in
            session.connectFailed(kind: Self.connectErrorKind(error))
        }
    }

    /// An HTTP/2 connection failed before it could carry a request: its first lane counts as
    /// one failed connect, the others are given up.
    func http2ConnectFailed(_ lanes: [HTTP2StreamLane], kind: RequestErrorKind) {
        guard let first = lanes.first else { return }
        for lane in lanes.dropFirst() { laneAbandoned(lane) }
        connectFailed(first, kind: kind, attemptStart: MonotonicClock.now())
    }

    /// A TLS handshake finished `nanoseconds` after the TCP connect did.
    func handshakeCompleted(_ connection: any LoadLane, nanoseconds: UInt64) {
        stats.tlsHandshakes += 1
        _ = stats.tlsHandshake.record(StepStatistics.clamp(nanoseconds))
    }

    /// A lane can take requests. `newConnection`: it is the first of a new TCP connection
    /// (always, for HTTP/1.1; the first stream slot of an HTTP/2 connection).
    func connectionBecameActive(_ connection: any LoadLane, newConnection: Bool = true) {
        connecting -= 1
        if newConnection { stats.connectionsOpened += 1 }
        connectionFree(connection, now: MonotonicClock.now())
    }

    /// A lane that never became active is given up: a stream slot beyond what the HTTP/2 server
    /// allows (SETTINGS_MAX_CONCURRENT_STREAMS), or of a connection that failed.
    func laneAbandoned(_ lane: any LoadLane) {
        connecting -= 1
        connections[lane.id] = nil
    }

    /// An HTTP/2 stream slot whose stream was reset (a timeout) is free for the next request.
    func laneFreed(_ lane: any LoadLane) {
        connectionFree(lane, now: MonotonicClock.now())
    }

    /// A request the HTTP/2 server refused before processing it (REFUSED_STREAM, or a stream
    /// above a GOAWAY's last one): it goes out again on another lane, keeping its intended time,
    /// so its latency includes the wait, as a client's retry would.
    func requestRefusedUnprocessed(_ lane: any LoadLane, request: InFlightRequest) {
        busy -= 1
        if request.counts && counting && request.step == stepIndex && stats.sent > 0 { stats.sent -= 1 }
        stats.refusedStreamsRetried += 1
        guard generating else { return }
        switch shape {
        case .open:
            pending.prepend(PendingRequest(intended: request.intended, dispatched: request.dispatched))
            openConnectionForPending()
        case .closed:
            fillClosedLoop(now: MonotonicClock.now())
        }
    }

    /// An HTTP/2 connection's flow control held a request body: the server's window was smaller
    /// than the body, and the rest waited `nanoseconds` for its WINDOW_UPDATE.
    func flowControlStalled(nanoseconds: UInt64) {
        stats.flowControlStalls += 1
        stats.flowControlStallNanoseconds &+= nanoseconds
    }

    /// Streams an HTTP/2 connection carried at once, seen when one more started.
    func streamsInFlight(_ count: Int) {
        stats.streamsInFlightMax = max(stats.streamsInFlightMax, UInt64(count))
    }

    func connectionBecameInactive(_ connection: any LoadLane) {
        connections[connection.id] = nil
        if let position = idle.firstIndex(where: { $0 === connection }) {
            idle.remove(at: position)
        }
        // Replace a connection the server closed (or that we closed after a response) if needed.
        refill(now: MonotonicClock.now())
    }

    /// What a failed connect counts as.
    private static func connectErrorKind(_ error: any Error) -> RequestErrorKind {
        let kind = RequestErrorKind(classifying: error)
        if kind == .closed || kind == .other, String(describing: error).lowercased().contains("refused") { return .refused }
        return kind
    }

    private func connectFailed(_ connection: any LoadLane, kind: RequestErrorKind, attemptStart: UInt64) {
        connecting -= 1
        connections[connection.id] = nil
        let now = MonotonicClock.now()
        let failed: InFlightRequest
        switch shape {
        case .open:
            guard let request = pending.popFirst() else { return }
            failed = InFlightRequest(step: stepIndex, sequence: 0, intended: request.intended, dispatched: request.dispatched,
                                     sent: now, payloadIndex: -1, bytesOut: 0, counts: counting)
        case .closed:
            guard generating else { return }
            failed = InFlightRequest(step: stepIndex, sequence: 0, intended: attemptStart, dispatched: attemptStart,
                                     sent: now, payloadIndex: -1, bytesOut: 0, counts: counting)
        }
        if counting { stats.sent += 1 }
        finish(failed, connection: nil, status: 0, error: kind, bytesIn: 0, serverTiming: nil, at: now)
        scheduleRetry()
    }

    /// After a failed connect, try again shortly rather than spinning on a dead target.
    private func scheduleRetry() {
        guard generating, !retryScheduled else { return }
        retryScheduled = true
        eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(10)) {
            self.retryScheduled = false
            self.refill(now: MonotonicClock.now())
        }
    }

    // MARK: Timeouts.

    private func startTimeoutSweep() {
        guard timeoutSweep == nil else { return }
        let period = Int64(max(1_000_000, min(settings.timeout / 10, 100_000_000)))
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        timeoutSweep = eventLoop.scheduleRepeatedTask(initialDelay: .nanoseconds(period), delay: .nanoseconds(period)) { _ in
            bound.value.sweepTimeouts()
        }
    }

    private func sweepTimeouts() {
        let now = MonotonicClock.now()
        let limit = settings.timeout
        for connection in connections.values {
            guard let request = connection.inFlight, now &- request.sent > limit else { continue }
            connection.inFlight = nil
            busy -= 1
            finish(request, connection: connection, status: 0, error: .timeout, bytesIn: 0, serverTiming: nil, at: now)
            connection.close()
        }
        // Requests that waited for a connection longer than the timeout have failed too.
        while let first = pending.first, now &- first.intended > limit {
            _ = pending.popFirst()
            if counting { stats.sent += 1 }
            finish(InFlightRequest(step: stepIndex, sequence: 0, intended: first.intended, dispatched: first.dispatched,
                                   sent: now, payloadIndex: -1, bytesOut: 0, counts: counting),
                   connection: nil, status: 0, error: .timeout, bytesIn: 0, serverTiming: nil, at: now)
        }
        refill(now: now)
    }
}

/// Wakes a worker at its open-loop send times. One instance per worker is armed again and
/// again, so a wake-up allocates nothing (`scheduleTask` would allocate a promise and closures
/// for every request).
private final class OpenLoopClock: NIOScheduledCallbackHandler, @unchecked Sendable {
    // @unchecked: NIO calls it only on the worker's event loop, the one thread that touches the worker.
    unowned let worker: LoopWorker

    init(worker: LoopWorker) {
        self.worker = worker
    }

    func handleScheduledCallback(eventLoop: some EventLoop) {
        worker.fireSchedule()
    }
}
