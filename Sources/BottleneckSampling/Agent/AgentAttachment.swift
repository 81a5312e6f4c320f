#if canImport(Glibc)
import Glibc
import BottleneckCore
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// The run side of `bottleneck agent` (`bottleneck load --agent URL --agent-token-file F`):
/// pulls the agent's sample lines while the run goes on and appends them to
/// `samples-agent.jsonl` in the run directory.
///
/// A separate file from `samples.jsonl` because the agent's `t` is the *server host's*
/// monotonic clock. `clock` records relate the two: `{"type":"clock","t":LOCAL_NS,
/// "agent_t":AGENT_NS,"rtt_ns":N}` (local `t` is the midpoint of the request; the offset
/// is good to ±rtt/2). Lines are the agent's records unchanged (`source` = `agent`) plus
/// their `"seq"`; sequence numbers are contiguous unless a `gap` record says otherwise:
/// `{"type":"gap","t":LOCAL_NS,"from_seq":A,"to_seq":B|null,"reason":…}` — lines A…B
/// were lost (evicted from the agent's window while disconnected, the agent restarted, or
/// it could not be reached at the end). Nothing is ever filled in.
///
/// The pull runs on its own thread with a blocking client: it polls every `pollInterval`,
/// reconnects with backoff (0.1 s doubling to 2 s), and at `stop` fetches everything the
/// agent has up to that moment.
///
/// Then the file is folded into per-step aggregates (`summary`, `summary.json` under
/// `agentSampling`) by the local sampler's own fold (`SampleLineReplay`): the agent's `t`s
/// are put on the run's clock with the nearest `clock` record, and each interval goes to the
/// run's step its midpoint falls in. The agent takes a sample when a step mark reaches it
/// (milliseconds after the step began: one request), so the split is the local sampler's
/// but for that delay; a mark held up by a disconnection costs at most one interval, which
/// goes to the step it mostly belongs to. Intervals after `stop` are left out.
public final class AgentAttachment: RunAttachment {
    public let name = "agent"
    /// The file written in the run directory.
    public static let fileName = RunFile.agentSamples.rawValue

    private let client: AgentHTTPClient
    private let serverPorts: [UInt16]
    private let serverPIDs: [Int32]
    private let interval: Duration?
    private let pollInterval: Duration
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    /// What happened while pulling, for notes and tests.
    public struct Statistics: Sendable, Equatable {
        /// Sample lines written.
        public var lines = 0
        /// First and last sequence number written.
        public var firstSequence: UInt64?
        public var lastSequence: UInt64?
        /// Gap records written, and how many lines they cover (unbounded gaps count 0).
        public var gaps = 0
        public var linesLost: UInt64 = 0
        /// Times a pull failed after an earlier one had worked.
        public var disconnects = 0
        /// The last failure, if any.
        public var lastError: String?
    }

    private struct State {
        var statistics = Statistics()
        /// Step marks not yet delivered to the agent.
        var steps: [(index: Int, name: String)] = []
        /// Every step of the run and when it began (run clock).
        var stepStarts: [SampleLineReplay.StepStart] = []
        var stopRequested = false
        var started = false
        var summary: SamplingSummary?
    }

    /// - Parameters:
    ///   - url: `http://HOST:PORT` of the agent.
    ///   - serverPorts, serverPIDs: what the agent should sample; when both are empty the
    ///     agent keeps sampling what it was started with.
    ///   - interval: the agent's sample interval for this run (nil: keep the agent's).
    public init(url: String, token: AgentToken?, serverPorts: [UInt16] = [], serverPIDs: [Int32] = [],
                interval: Duration? = nil, pollInterval: Duration = .milliseconds(250)) throws(AgentError) {
        client = try AgentHTTPClient(url: url, token: token)
        self.serverPorts = serverPorts
        self.serverPIDs = serverPIDs
        self.interval = interval
        self.pollInterval = pollInterval
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// The server's per-step aggregates from the agent's samples, once stopped; nil when
    /// nothing could be placed on the run's clock (no samples, or no `clock` record).
    public var summary: SamplingSummary? { state.withLock { $0.summary } }

    public func start(directory: RunDirectory) throws -> [String] {
        // Configure (or just locate) the agent's stream now, so a wrong URL, token or port
        // fails the run before any load is sent.
        let after: UInt64
        let epoch: String
        if serverPorts.isEmpty && serverPIDs.isEmpty && interval == nil {
            let object = try Self.json(try client.get("/v1/status"), from: client)
            after = (object["latest"] as? NSNumber)?.uint64Value ?? 0
            epoch = object["epoch"] as? String ?? ""
        } else {
            var body: [String: Any] = ["serverPorts": serverPorts.map(Int.init), "serverPIDs": serverPIDs.map(Int.init)]
            if let interval { body["interval"] = "\(SamplerConfiguration.nanoseconds(interval))ns" }
            let object = try Self.json(try client.post("/v1/session", json: body), from: client)
            after = (object["after"] as? NSNumber)?.uint64Value ?? 0
            epoch = object["epoch"] as? String ?? ""
        }
        let path = directory.file(Self.fileName)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw AgentError(.unreachable, "\(path): cannot write agent samples: \(String(cString: strerror(errno)))")
        }
        state.withLock { $0.started = true }
        let puller = Puller(attachment: self, fd: fd, after: after, epoch: epoch)
        let thread = Thread { puller.run() }
        thread.name = "bottleneck-agent-pull"
        thread.start()
        return []
    }

    public func stepStarted(index: Int, name: String, at: UInt64) {
        state.withLock {
            $0.steps.append((index, name))
            $0.stepStarts.append(SampleLineReplay.StepStart(index: index, name: name, start: at))
        }
        wake.signal()
    }

    public func stop(directory: RunDirectory) -> [String] {
        let end = MonotonicClock.now()
        let started = state.withLock { s -> Bool in
            s.stopRequested = true
            return s.started
        }
        guard started else { return [] }
        wake.signal()
        finished.wait()
        let s = statistics
        var notes: [String] = []
        if s.gaps > 0 {
            notes.append("agent: \(s.gaps) gap(s) in \(Self.fileName) (\(s.linesLost) sample lines lost while disconnected); they are marked, not filled in")
        }
        if s.lines == 0 {
            notes.append("agent: no samples received\(s.lastError.map { ": \($0)" } ?? "")")
            return notes
        }
        let path = directory.file(Self.fileName)
        do {
            if let clock = try AgentClock.load(path: path) {
                let steps = state.withLock { $0.stepStarts }
                let summary = try SampleLineReplay.summarize(path: path, steps: steps, end: end, runTime: clock.runTime)
                state.withLock { $0.summary = summary }
            } else {
                notes.append("agent: \(Self.fileName) has no clock record to place the agent's samples on the run's steps; the server's evidence is missing")
            }
        } catch {
            notes.append("agent: cannot read \(path) back (\(error.localizedDescription)); the server's evidence is missing")
        }
        return notes
    }

    static func json(_ response: AgentHTTPClient.Response, from client: AgentHTTPClient) throws(AgentError) -> [String: Any] {
        try check(response, from: client)
        guard let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] else {
            throw AgentError(.protocolError, "agent \(client.host):\(client.port): expected JSON, got \(response.body.count) bytes")
        }
        return object
    }

    static func check(_ response: AgentHTTPClient.Response, from client: AgentHTTPClient) throws(AgentError) {
        let agent = "\(client.host):\(client.port)"
        switch response.status {
        case 200: return
        case 401: throw AgentError(.unauthorized, "agent \(agent) rejected the token: --agent-token-file must hold the same token as the agent's --token-file")
        default:
            let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
            let detail = object?["error"] as? String ?? String(decoding: response.body.prefix(200), as: UTF8.self)
            throw AgentError(.unreachable, "agent \(agent): HTTP \(response.status): \(detail)")
        }
    }

    /// The pulling loop; owns the file and the position in the stream.
    private final class Puller: @unchecked Sendable {   // used by its one thread only
        let attachment: AgentAttachment
        let fd: Int32
        var after: UInt64
        var epoch: String
        var connected = true
        var lastClock: UInt64 = 0
        var out: [UInt8] = []
        static let limit = 5000

        init(attachment: AgentAttachment, fd: Int32, after: UInt64, epoch: String) {
            self.attachment = attachment
            self.fd = fd
            self.after = after
            self.epoch = epoch
        }

        func run() {
            defer {
                close(fd)
                attachment.finished.signal()
            }
            let pollNanoseconds = Int(SamplerConfiguration.nanoseconds(attachment.pollInterval))
            var backoff = 100_000_000
            var stopSeenAt: UInt64?
            while true {
                let stopping = attachment.state.withLock { $0.stopRequested }
                if stopping && stopSeenAt == nil { stopSeenAt = MonotonicClock.now() }
                do {
                    try deliverSteps()
                    try pullAll()
                    if !connected { connected = true }
                    backoff = 100_000_000
                    if stopping { return }
                    _ = attachment.wake.wait(timeout: .now() + .nanoseconds(pollNanoseconds))
                } catch {
                    attachment.state.withLock {
                        $0.statistics.lastError = error.message
                        if connected { $0.statistics.disconnects += 1 }
                    }
                    connected = false
                    if let stopSeenAt, MonotonicClock.now() - stopSeenAt > 3_000_000_000 {
                        writeGap(from: after + 1, to: nil, reason: "agent unreachable at the end of the run: \(error.message)")
                        flush()
                        return
                    }
                    // Sleep out the backoff, but not through a stop.
                    _ = attachment.wake.wait(timeout: .now() + .nanoseconds(backoff))
                    backoff = min(backoff * 2, 2_000_000_000)
                }
            }
        }

        private func deliverSteps() throws(AgentError) {
            while let step = attachment.state.withLock({ $0.steps.first }) {
                try AgentAttachment.check(attachment.client.post("/v1/step", json: ["index": step.index, "name": step.name]), from: attachment.client)
                attachment.state.withLock { _ = $0.steps.removeFirst() }
            }
        }

        /// Pulls until caught up with the agent's newest line.
        private func pullAll() throws(AgentError) {
            while true {
                let sent = MonotonicClock.now()
                let response = try attachment.client.get("/v1/samples?after=\(after)&limit=\(Self.limit)")
                let received = MonotonicClock.now()
                try AgentAttachment.check(response, from: attachment.client)
                guard let first = response.headers["x-bottleneck-first"].flatMap(UInt64.init),
                      let latest = response.headers["x-bottleneck-latest"].flatMap(UInt64.init) else {
                    throw AgentError(.protocolError, "agent \(attachment.client.host):\(attachment.client.port): /v1/samples without sequence headers")
                }
                let responseEpoch = response.headers["x-bottleneck-epoch"] ?? ""
                if responseEpoch != epoch {
                    // The agent restarted: its numbering began again and what it had is gone.
                    writeGap(from: after + 1, to: nil, reason: "agent restarted")
                    epoch = responseEpoch
                    after = 0
                    continue
                }
                if let agentTime = response.headers["x-bottleneck-agent-time"].flatMap(UInt64.init),
                   received - lastClock >= 5_000_000_000 || lastClock == 0 {
                    lastClock = received
                    out.append(contentsOf: "{\"type\":\"clock\",\"t\":\(sent + (received - sent) / 2),\"agent_t\":\(agentTime),\"rtt_ns\":\(received - sent)}\n".utf8)
                }
                if let gap = response.headers["x-bottleneck-gap"] {
                    let bounds = gap.split(separator: "-").compactMap { UInt64($0) }
                    if bounds.count == 2 { writeGap(from: bounds[0], to: bounds[1], reason: "evicted from the agent's buffer while disconnected") }
                }
                var count = 0
                for byte in response.body where byte == UInt8(ascii: "\n") { count += 1 }
                out.append(contentsOf: response.body)
                if count > 0 {
                    let last = first + UInt64(count) - 1
                    after = last
                    attachment.state.withLock {
                        $0.statistics.lines += count
                        if $0.statistics.firstSequence == nil { $0.statistics.firstSequence = first }
                        $0.statistics.lastSequence = last
                    }
                } else if first > after + 1 {
                    after = first - 1   // everything before `first` was reported as a gap
                }
                flush()
                if after >= latest || count == 0 { return }
            }
        }

        private func writeGap(from: UInt64, to: UInt64?, reason: String) {
            let reasonJSON = (try? JSONSerialization.data(withJSONObject: [reason], options: [])).map { String(decoding: $0.dropFirst().dropLast(), as: UTF8.self) } ?? "\"\""
            out.append(contentsOf: "{\"type\":\"gap\",\"t\":\(MonotonicClock.now()),\"from_seq\":\(from),\"to_seq\":\(to.map(String.init) ?? "null"),\"reason\":\(reasonJSON)}\n".utf8)
            attachment.state.withLock {
                $0.statistics.gaps += 1
                if let to, to >= from { $0.statistics.linesLost += to - from + 1 }
            }
            if let to { after = max(after, to) }
        }

        private func flush() {
            var offset = 0
            while offset < out.count {
                let n = out.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0 {
                    if errno == EINTR { continue }
                    attachment.state.withLock { $0.statistics.lastError = "writing \(AgentAttachment.fileName): \(String(cString: strerror(errno)))" }
                    break
                }
                offset += n
            }
            out.removeAll(keepingCapacity: true)
        }
    }
}
