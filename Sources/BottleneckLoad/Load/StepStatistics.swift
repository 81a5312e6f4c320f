import Histogram

/// What one event loop measured during one step; merged across loops at step end,
/// the way wrk2 merges per-thread histograms after join. Owned by one loop while the
/// step runs, so recording takes no lock.
public struct StepStatistics: Sendable {
    /// Latency from the intended send time (open loop) — the number users felt.
    public var latency: Histogram<UInt64>
    /// Service time from the actual send: what a closed-loop tool would report.
    public var serviceTime: Histogram<UInt64>
    /// Dispatch minus intended: the generator's own lateness.
    public var scheduleLag: Histogram<UInt64>
    /// Sent minus dispatched: waiting for a free or new connection.
    public var connectionWait: Histogram<UInt64>

    public var sent: UInt64 = 0
    public var completed: UInt64 = 0
    /// Requests scheduled but never sent before the step ended (open loop backlog).
    public var unsent: UInt64 = 0
    public var errors: [UInt64] = Array(repeating: 0, count: RequestErrorKind.allCases.count)
    /// Responses by status class: index 1 = 1xx … 5 = 5xx.
    public var statusClasses: [UInt64] = Array(repeating: 0, count: 6)
    public var bytesOut: UInt64 = 0
    public var bytesIn: UInt64 = 0
    public var connectionsOpened: UInt64 = 0
    /// TLS handshakes completed, and how long each took after the TCP connect.
    public var tlsHandshakes: UInt64 = 0
    public var tlsHandshake: Histogram<UInt64>
    /// HTTP/2: the most streams one connection carried at once.
    public var streamsInFlightMax: UInt64 = 0
    /// HTTP/2: request bodies the server's flow-control window held back, and for how long in all (ns).
    public var flowControlStalls: UInt64 = 0
    public var flowControlStallNanoseconds: UInt64 = 0
    /// HTTP/2: requests the server refused unprocessed (REFUSED_STREAM, GOAWAY) and that went out again.
    public var refusedStreamsRetried: UInt64 = 0
    /// Open loop: latency sums (ns) of the successful requests scheduled in the first and the
    /// last third of the step. The first third's mean is the steady latency ``Backlog`` compares
    /// against; both are reported as the step's ``LatencyTrend``.
    public var earlyLatencySum: Double = 0
    public var earlyCount: UInt64 = 0
    public var lateLatencySum: Double = 0
    public var lateCount: UInt64 = 0
    /// Open loop: requests of the step (answered or failed) that finished by the end of the
    /// schedule. What the schedule produced minus these is the backlog the step left behind.
    public var finishedByScheduleEnd: UInt64 = 0

    /// 1 µs .. 1 h at 3 significant digits, in nanoseconds.
    public static func makeHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1_000, highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: .three)
    }

    public init() {
        latency = Self.makeHistogram()
        serviceTime = Self.makeHistogram()
        scheduleLag = Self.makeHistogram()
        connectionWait = Self.makeHistogram()
        tlsHandshake = Self.makeHistogram()
    }

    @inline(__always)
    static func clamp(_ value: UInt64) -> UInt64 { min(value, 3_600_000_000_000) }

    /// Records one finished request (successful or not).
    mutating func record(_ record: RequestRecord) {
        if record.error == .none {
            completed += 1
            let statusClass = Int(record.status / 100)
            if statusClass >= 1 && statusClass <= 5 { statusClasses[statusClass] += 1 }
            _ = latency.record(Self.clamp(record.latency))
            _ = serviceTime.record(Self.clamp(record.serviceTime))
        } else {
            errors[Int(record.error.rawValue)] += 1
        }
        _ = scheduleLag.record(Self.clamp(record.scheduleLag))
        _ = connectionWait.record(Self.clamp(record.sent &- record.dispatched))
        bytesOut &+= UInt64(record.bytesOut)
        bytesIn &+= UInt64(record.bytesIn)
    }

    /// Adds another loop's numbers to these.
    public mutating func add(_ other: StepStatistics) {
        latency.add(other.latency)
        serviceTime.add(other.serviceTime)
        scheduleLag.add(other.scheduleLag)
        connectionWait.add(other.connectionWait)
        sent += other.sent
        completed += other.completed
        unsent += other.unsent
        for i in errors.indices { errors[i] += other.errors[i] }
        for i in statusClasses.indices { statusClasses[i] += other.statusClasses[i] }
        bytesOut += other.bytesOut
        bytesIn += other.bytesIn
        connectionsOpened += other.connectionsOpened
        tlsHandshakes += other.tlsHandshakes
        tlsHandshake.add(other.tlsHandshake)
        streamsInFlightMax = max(streamsInFlightMax, other.streamsInFlightMax)
        flowControlStalls += other.flowControlStalls
        flowControlStallNanoseconds &+= other.flowControlStallNanoseconds
        refusedStreamsRetried += other.refusedStreamsRetried
        earlyLatencySum += other.earlyLatencySum
        earlyCount += other.earlyCount
        lateLatencySum += other.lateLatencySum
        lateCount += other.lateCount
        finishedByScheduleEnd += other.finishedByScheduleEnd
    }

    /// Open loop: counts a finished request of the step toward the backlog (finished by the
    /// schedule's end) and, when it succeeded, its latency toward the first or last third.
    mutating func recordOpenLoop(_ record: RequestRecord, thirds: StepThirds) {
        if record.lastByte <= thirds.end { finishedByScheduleEnd += 1 }
        guard record.error == .none else { return }
        if record.intended < thirds.firstEnd {
            earlyLatencySum += Double(record.latency); earlyCount += 1
        } else if record.intended >= thirds.lastStart {
            lateLatencySum += Double(record.latency); lateCount += 1
        }
    }

    public var transportErrors: UInt64 { errors.reduce(0, +) }
}

/// An open-loop step's schedule split in thirds (monotonic ns), computed once per step.
struct StepThirds: Sendable, Equatable {
    let firstEnd: UInt64
    let lastStart: UInt64
    let end: UInt64

    init(start: UInt64, end: UInt64) {
        let third = (end - start) / 3
        firstEnd = start + third
        lastStart = end - third
        self.end = end
    }
}
