#if canImport(Glibc)
import Glibc
#endif
import BottleneckCore
import NIOCore
import Synchronization

/// The probe's event loop: one thread, non-blocking sockets under poll(2). It opens the
/// connections of each level, pings the held ones, times fresh requests, and records every
/// failure by kind. Runs to completion in `run()`; `interrupt()` ends it early.
final class ConnectionProbeLoop {
    private enum Role { case held, fresh }
    private enum State { case connecting, awaiting, idle, silent, unanswered }

    private struct Connection {
        let fd: Int32
        let role: Role
        let level: Int
        /// Opened to count the accept queue: never pinged.
        var silent = false
        var state: State = .connecting
        let openedAt: UInt64
        /// When the current connect or request times out (0: no deadline).
        var deadline: UInt64
        var lastAnswerAt: UInt64 = 0
        var nextPingAt: UInt64 = 0
        var requestSentAt: UInt64 = 0
        var scanner = HTTPResponseScanner()
    }

    private let plan: ConnectionProbePlan
    private let address: ResolvedAddress
    private let ping: [UInt8]
    private let maximum: Int
    private let openFileLimit: Int
    private let stop: StopFlag
    private let levelStarted: (Int, String) -> Void
    /// The poll set, rebuilt when a connection is added, removed or finishes connecting.
    private var pollSet: [pollfd] = []
    private var pollSetIsStale = true
    private var connections: [Int32: Connection] = [:]
    private var readBuffer = [UInt8](repeating: 0, count: 16 * 1024)
    private let allocator = ByteBufferAllocator()

    private var keepAlive = true
    private var ranOutOfDescriptors = false
    private let pingInterval: UInt64
    private var idleCloseNanoseconds: UInt64?
    /// The level whose connections are being opened: failures of earlier levels' connections
    /// count too (a held connection reset later is a failure of the level that saw it).
    private var level = ConnectionProbeLevel(index: 0, target: 0)
    private enum FreshOutcome { case pending, answered(milliseconds: Double), unanswered }
    /// The fresh request in flight (one at a time).
    private var fresh = FreshOutcome.pending
    private let start = MonotonicClock.now()
    private let endBy: UInt64

    init(plan: ConnectionProbePlan, stop: StopFlag, levelStarted: @escaping (Int, String) -> Void) throws(LoadError) {
        self.plan = plan
        self.address = try ResolvedAddress(plan.target)
        self.ping = plan.pingRequest()
        self.openFileLimit = OpenFileLimit.raise()
        self.maximum = plan.effectiveMaximum(openFileLimit: openFileLimit)
        self.stop = stop
        self.levelStarted = levelStarted
        self.pingInterval = Self.nanoseconds(plan.pingInterval)
        self.endBy = start &+ Self.nanoseconds(plan.timeLimit)
    }

    deinit {
        for fd in connections.keys { close(fd) }
    }

    /// Silent connections grow by 4% a level, so the worker count is found within 5%.
    static let silentGrowth = 0.04
    /// The rest level lasts two and a half samples of the default 250 ms interval.
    static let restNanoseconds: UInt64 = 650_000_000

    static func nanoseconds(_ d: Duration) -> UInt64 {
        let (s, atto) = d.components
        return UInt64(max(0, s)) &* 1_000_000_000 &+ UInt64(max(0, atto) / 1_000_000_000)
    }

    private var now: UInt64 { MonotonicClock.now() }
    private var elapsedSeconds: Double { Double(now &- start) / 1e9 }
    private var stopRequested: Bool { stop.isSet || now >= endBy }

    /// Connections the server serves: answered before and idle or with a ping in flight
    /// (keep-alive), or connected (silent).
    private var heldCount: Int {
        connections.values.count { $0.role == .held && ($0.state == .silent || ($0.lastAnswerAt > 0 && ($0.state == .idle || $0.state == .awaiting))) }
    }
    private var unansweredCount: Int { connections.values.count { $0.state == .unanswered } }
    /// Connections of the level not yet answered or connected the first time.
    private var pendingHeld: Int {
        connections.values.count { $0.role == .held && ($0.state == .connecting || ($0.state == .awaiting && $0.lastAnswerAt == 0)) }
    }

    // MARK: - The levels

    func run() -> ConnectionProbeResult {
        var levels: [ConnectionProbeLevel] = []
        var batch = plan.firstBatch
        var maxHeld = 0
        var limit: Int?
        var firstFailure: String?
        var stoppedBecause = "reached the maximum of \(maximum) connections"
        var lastServedSilent = 0
        while true {
            let heldBefore = heldCount
            // Level 0 holds nothing: the samplers' baseline (fds, queues) and the fresh wait at rest.
            let target = levels.isEmpty ? 0
                : keepAlive ? min(maximum, heldBefore + batch)
                : min(maximum, heldBefore + max(1, Int((Double(heldBefore) * Self.silentGrowth).rounded(.up))))
            level = ConnectionProbeLevel(index: levels.count, target: target)
            level.startSeconds = elapsedSeconds
            levelStarted(level.index, "\(target) connections")
            let wasKeepAlive = keepAlive
            open(upTo: target)
            if keepAlive != wasKeepAlive {
                // The server closes after answering: start again holding silent connections.
                closeAll()
                level.failures = [:]
                continue
            }
            if levels.isEmpty {
                hold(for: Self.restNanoseconds)
            } else if level.failures.isEmpty, keepAlive {
                hold(for: Self.nanoseconds(plan.hold))
            }
            timeFreshRequests()
            level.held = heldCount
            level.unanswered = unansweredCount
            level.endSeconds = elapsedSeconds
            levels.append(level)
            let failed = !level.failures.isEmpty || (!keepAlive && level.freshUnanswered > 0)
            if failed {
                let kinds = level.failures.sorted { $0.value > $1.value }.map(\.key)
                firstFailure = kinds.first ?? ConnectionFailureKind.noAnswer.rawValue
                if keepAlive {
                    maxHeld = max(maxHeld, level.held)
                    limit = maxHeld
                } else {
                    // Silent connections pin the workers: the last level where a fresh request was
                    // still served held that many plus the fresh one.
                    limit = lastServedSilent + 1
                }
                stoppedBecause = "the server stopped serving new connections (\(firstFailure!))"
                break
            }
            if keepAlive { maxHeld = max(maxHeld, level.held) } else { lastServedSilent = level.held; maxHeld = level.held + 1 }
            if stopRequested { stoppedBecause = stop.isSet ? "interrupted" : "reached the time limit"; break }
            if ranOutOfDescriptors { break }
            if target >= maximum { break }
            if levels.count > 1 { batch = min(plan.largestBatch, batch * 2) }
        }
        if keepAlive, limit != nil, !stopRequested, !ranOutOfDescriptors,
           let good = levels.last(where: { $0.index > 0 && $0.failures.isEmpty && $0.held > 0 }),
           let exact = refine(from: good.held, failedAt: levels.last?.heldAtFirstFailure, into: &levels) {
            limit = exact
        }
        var queued: Int?
        if let limit, !stop.isSet {
            queued = measureQueue(limit: limit)
            // The queue's dropped SYNs are the last level's failures too.
            if !levels.isEmpty { levels[levels.count - 1].failures = level.failures }
        }
        if ranOutOfDescriptors { stoppedBecause = "the tool ran out of file descriptors or local ports (limit \(openFileLimit))" }
        let result = ConnectionProbeResult(
            target: plan.target.description, maxConnections: maximum, openFileLimit: openFileLimit, keepAlive: keepAlive,
            maxHeld: maxHeld, limit: limit, firstFailure: firstFailure, queued: queued,
            idleCloseSeconds: idleCloseNanoseconds.map { Double($0) / 1e9 },
            pingIntervalSeconds: Double(effectivePingInterval) / 1e9, stoppedBecause: stoppedBecause, levels: levels,
            durationSeconds: elapsedSeconds)
        closeAll()
        return result
    }

    /// Opens held connections until `target` are held or pending, and waits until each is
    /// answered (keep-alive), connected (silent) or failed: pending connections end by
    /// themselves, at their connect or answer deadline.
    private func open(upTo target: Int) {
        let wanted = max(0, target - heldCount - pendingHeld)
        let wasKeepAlive = keepAlive
        var opened = 0
        var lastOpenAt = now
        // Every connection resolves by its connect plus answer deadline; a server that keeps
        // closing and a probe that keeps replacing cannot stretch the level past that.
        let settle = Self.nanoseconds(plan.connectTimeout) &+ Self.nanoseconds(plan.answerTimeout) &+ 1_000_000_000
        while !stopRequested {
            while opened < wanted, pendingHeld < plan.concurrentConnects, keepAlive == wasKeepAlive {
                guard openConnection(role: .held) else { ranOutOfDescriptors = true; return }
                opened += 1
                lastOpenAt = now
            }
            if keepAlive != wasKeepAlive { return }
            if opened >= wanted && (pendingHeld == 0 || now > lastOpenAt &+ settle) { return }
            poll(timeoutMilliseconds: 5)
        }
    }

    /// Keep-alive: once a level failed, closes everything, reopens to just below where the first
    /// failure came (a doubling batch opens 16 at once, and connections still in the server's
    /// accept queue blur that count by as many), then adds one connection at a time, each answered
    /// and held for `refineDwell` before the next, up to the first failure. The held count there is
    /// exact, and the samplers, slower than the steps, see every count on the way. Returns it, or
    /// nil when no failure came within one largest batch or the reopening itself failed.
    private func refine(from good: Int, failedAt blurred: Int?, into levels: inout [ConnectionProbeLevel]) -> Int? {
        closeAll()
        hold(for: Self.closeSettleNanoseconds)  // the server sees the closes before the level
        let reopen = max(good, (blurred ?? good) - plan.concurrentConnects - 2)
        level = ConnectionProbeLevel(index: levels.count, target: reopen)
        level.oneAtATime = true
        level.startSeconds = elapsedSeconds
        levelStarted(level.index, "from \(reopen) connections, one at a time")
        open(upTo: reopen)
        let dwell = Self.nanoseconds(plan.refineDwell)
        let ceiling = min(maximum, reopen + plan.largestBatch)
        let reopened = level.failures.isEmpty
        while reopened, level.failures.isEmpty, heldCount < ceiling, !stopRequested {
            level.target = heldCount + 1
            guard openConnection(role: .held) else { ranOutOfDescriptors = true; break }
            while pendingHeld > 0, !stopRequested { poll(timeoutMilliseconds: 5) }
            hold(for: dwell)
        }
        level.held = heldCount
        level.unanswered = unansweredCount
        level.endSeconds = elapsedSeconds
        levels.append(level)
        return reopened && !level.failures.isEmpty ? level.heldAtFirstFailure : nil
    }

    /// Time for a close at one end to reach the other on a local or datacentre network.
    static let closeSettleNanoseconds: UInt64 = 50_000_000

    /// Keeps the held connections alive for `duration`, answering pings.
    private func hold(for duration: UInt64) {
        let until = now &+ duration
        while now < until, !stopRequested { poll(timeoutMilliseconds: 10) }
    }

    /// Times `freshSamples` requests, each on a new connection, one after another.
    private func timeFreshRequests() {
        for _ in 0..<plan.freshSamples {
            guard !stop.isSet else { return }
            fresh = .pending
            guard openConnection(role: .fresh) else { return }
            while case .pending = fresh { poll(timeoutMilliseconds: 5) }
            if case .answered(let wait) = fresh { level.freshWaitMs.append(wait) } else { level.freshUnanswered += 1 }
            if level.freshUnanswered > 0 { return }
        }
    }

    /// Once the server stops serving new connections: opens silent connections until one is
    /// not accepted (a dropped SYN or a refusal), and counts those established but never
    /// answered: the accept queue the server left full. In silent mode `limit` of the
    /// connections are the ones the workers hold, not queued. Bounded by the maximum and time.
    private func measureQueue(limit: Int) -> Int {
        let deadline = now &+ 4 * Self.nanoseconds(plan.connectTimeout)
        var acceptedAll = true
        while acceptedAll, now < deadline, !stop.isSet, connections.count < maximum {
            let before = level.failures
            var opened = 0
            while opened < plan.concurrentConnects, connections.count < maximum {
                guard openConnection(role: .held, silent: true) else { break }
                opened += 1
            }
            while connections.values.contains(where: { $0.state == .connecting }), now < deadline { poll(timeoutMilliseconds: 5) }
            // Any failure ends it: a dropped SYN or a refusal, or a server that accepts and closes at once.
            let failures = level.failures.values.reduce(0, +) - before.values.reduce(0, +)
            acceptedAll = failures == 0 && opened > 0
        }
        let waiting = connections.values.count { $0.state == .unanswered || $0.state == .silent }
        return max(0, waiting - (keepAlive ? 0 : limit))
    }

    // MARK: - Connections

    /// Opens one non-blocking connection; false when the tool itself ran out of descriptors or ports.
    private func openConnection(role: Role, silent: Bool = false) -> Bool {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let t = now
        var c = Connection(fd: fd, role: role, level: level.index, openedAt: t, deadline: t &+ Self.nanoseconds(plan.connectTimeout))
        c.silent = silent
        let status = address.connect(fd)
        guard status == 0 || status == EINPROGRESS else {
            close(fd)
            if status == EADDRNOTAVAIL || status == EMFILE || status == ENFILE { return false }
            fail(kind: status == ECONNREFUSED ? .refused : .reset, role: role)
            return true
        }
        connections[fd] = c
        pollSetIsStale = true
        return true
    }

    private func poll(timeoutMilliseconds: Int32) {
        if pollSetIsStale {
            pollSet = connections.values.map {
                pollfd(fd: $0.fd, events: Int16($0.state == .connecting ? POLLOUT : POLLIN), revents: 0)
            }
            pollSetIsStale = false
        }
        let n = pollSet.withUnsafeMutableBufferPointer { Glibc.poll($0.baseAddress, nfds_t($0.count), timeoutMilliseconds) }
        if n > 0 {
            for entry in pollSet where entry.revents != 0 { handle(fd: entry.fd, events: entry.revents) }
        }
        checkTimers()
    }

    private func handle(fd: Int32, events: Int16) {
        guard var c = connections[fd] else { return }
        let t = now
        switch c.state {
        case .connecting:
            guard events & Int16(POLLOUT | POLLERR | POLLHUP) != 0 else { return }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error != 0 {
                drop(fd, kind: error == ECONNREFUSED ? .refused : error == ETIMEDOUT ? .connectTimeout : .reset, role: c.role)
                return
            }
            if t &- c.openedAt > 900_000_000 { level.slowConnects += 1 }
            pollSetIsStale = true
            if c.silent || (c.role == .held && !keepAlive) {
                c.state = .silent
                c.deadline = 0
                connections[fd] = c
            } else {
                connections[fd] = c
                send(fd)
            }
        case .awaiting:
            read(fd, at: t)
        case .idle, .silent, .unanswered:
            // Nothing is expected: bytes or an end of stream is the server closing or resetting.
            var byte: UInt8 = 0
            let n = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
            if n > 0 { return }
            if n < 0, errno == EAGAIN || errno == EWOULDBLOCK { return }
            let reset = n < 0
            if c.state == .idle, !reset {
                // The pings come well inside common keep-alive timeouts (uvicorn 5 s, gunicorn 2 s,
                // nginx 75 s): an idle connection closed is the server shedding it. Kept: how
                // idle the shortest-lived was, so a very short keep-alive timeout shows.
                let idle = t &- c.lastAnswerAt
                idleCloseNanoseconds = min(idleCloseNanoseconds ?? idle, idle)
            }
            if c.state == .unanswered { remove(fd); return }
            drop(fd, kind: reset ? .reset : .closed, role: c.role)
        }
    }

    private func send(_ fd: Int32) {
        guard var c = connections[fd] else { return }
        let written = ping.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard written == ping.count else {
            drop(fd, kind: .reset, role: c.role)
            return
        }
        let t = now
        c.state = .awaiting
        c.requestSentAt = t
        c.deadline = t &+ Self.nanoseconds(plan.answerTimeout)
        c.scanner.reset()
        connections[fd] = c
    }

    private func read(_ fd: Int32, at t: UInt64) {
        guard var c = connections[fd] else { return }
        let n = readBuffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if n < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK { return }
            drop(fd, kind: .reset, role: c.role)
            return
        }
        if n == 0 {
            if c.scanner.connectionClosed() { answered(&c, at: t, closing: true); return }
            drop(fd, kind: .closed, role: c.role)
            return
        }
        var buffer = allocator.buffer(bytes: readBuffer[0..<n])
        switch c.scanner.feed(&buffer) {
        case .needMore:
            connections[fd] = c
        case .malformed:
            drop(fd, kind: .reset, role: c.role)
        case .complete:
            answered(&c, at: t, closing: c.scanner.closeAfter)
        }
    }

    private func answered(_ c: inout Connection, at t: UInt64, closing: Bool) {
        let fd = c.fd
        if c.scanner.status >= 500 {
            drop(fd, kind: .serverError, role: c.role)
            return
        }
        switch c.role {
        case .fresh:
            fresh = .answered(milliseconds: Double(t &- c.openedAt) / 1e6)
            if closing { keepAlive = false }
            remove(fd)
        case .held:
            if closing {
                // The server does not keep connections: hold them silent from now on.
                keepAlive = false
                remove(fd)
                return
            }
            c.state = .idle
            c.lastAnswerAt = t
            c.deadline = 0
            // Spread the pings: each connection's first one comes at a random point of the interval.
            c.nextPingAt = t &+ UInt64.random(in: effectivePingInterval / 2...effectivePingInterval)
            connections[fd] = c
        }
    }

    /// The ping interval, stretched so all held connections together stay under the ping rate.
    private var effectivePingInterval: UInt64 {
        let byRate = UInt64(Double(max(1, connections.count)) / plan.maxPingsPerSecond * 1e9)
        return max(pingInterval, byRate)
    }

    private func checkTimers() {
        let t = now
        for (fd, c) in connections {
            switch c.state {
            case .connecting where t >= c.deadline:
                drop(fd, kind: .connectTimeout, role: c.role)
            case .awaiting where t >= c.deadline:
                if c.role == .fresh {
                    fresh = .unanswered
                    // Left open: it waits in the server's queue like the others.
                    var kept = c
                    kept.state = .unanswered
                    kept.deadline = 0
                    connections[fd] = kept
                } else {
                    level.failures[ConnectionFailureKind.noAnswer.rawValue, default: 0] += 1
                    var kept = c
                    kept.state = .unanswered
                    kept.deadline = 0
                    connections[fd] = kept
                }
            case .idle where keepAlive && t >= c.nextPingAt:
                send(fd)
            default:
                break
            }
        }
    }

    private func fail(kind: ConnectionFailureKind, role: Role) {
        if role == .fresh {
            fresh = .unanswered
        } else {
            level.failures[kind.rawValue, default: 0] += 1
        }
    }

    /// Closes a connection that failed and counts the failure.
    private func drop(_ fd: Int32, kind: ConnectionFailureKind, role: Role) {
        // The failed one counts when it had been served: an idle one the server shed to make room
        // (nginx), not a new one it turned away.
        let served = connections[fd].map { $0.lastAnswerAt > 0 } ?? false
        remove(fd)
        if role == .held, level.heldAtFirstFailure == nil {
            level.heldAtFirstFailure = connections.values.count { $0.role == .held && $0.state != .connecting } + (served ? 1 : 0)
        }
        fail(kind: kind, role: role)
    }

    private func remove(_ fd: Int32) {
        close(fd)
        pollSetIsStale = true
        connections[fd] = nil
    }

    private func closeAll() {
        for fd in Array(connections.keys) { remove(fd) }
    }
}

/// Set once to end the probe early; read by the probe's thread.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}
