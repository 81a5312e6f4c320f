import Foundation
import BottleneckCore
import Histogram

/// Latency percentiles in milliseconds.
public struct LatencyPercentiles: Sendable, Codable, Equatable {
    public var count: UInt64
    public var mean: Double
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double
    public var max: Double

    public init(_ histogram: Histogram<UInt64>) {
        count = histogram.totalCount
        func ms(_ ns: UInt64) -> Double { (Double(ns) / 1e6 * 1000).rounded() / 1000 }
        guard histogram.totalCount > 0 else {
            mean = 0; p50 = 0; p90 = 0; p99 = 0; p999 = 0; max = 0
            return
        }
        mean = (histogram.mean / 1e6 * 1000).rounded() / 1000
        p50 = ms(histogram.valueAtPercentile(50))
        p90 = ms(histogram.valueAtPercentile(90))
        p99 = ms(histogram.valueAtPercentile(99))
        p999 = ms(histogram.valueAtPercentile(99.9))
        max = ms(histogram.max)
    }
}

/// The result of one step: what was offered, what was achieved, the latency the users
/// felt, and whether the generator itself kept up. This is what `summary.json` holds.
public struct StepResult: Sendable, Codable {
    public var index: Int
    public var name: String
    /// "open" or "closed".
    public var mode: String
    public var targetRate: Double?
    public var arrivals: String?
    public var concurrency: Int?
    /// Seconds the step actually generated load (shorter than planned when interrupted).
    public var duration: Double
    public var interrupted: Bool
    public var sent: UInt64
    public var completed: UInt64
    public var unsent: UInt64
    public var achievedRate: Double
    /// Completed requests over the requests the open-loop schedule produced (open loop only).
    public var achievedRatio: Double?
    /// From the intended send time: coordinated-omission free.
    public var latency: LatencyPercentiles
    /// From the actual send time: what a closed-loop tool would report.
    public var serviceTime: LatencyPercentiles
    /// Dispatch minus intended send time: the generator's own lateness.
    public var scheduleLag: LatencyPercentiles
    /// Actual send minus dispatch: waiting for a free or new connection.
    public var connectionWait: LatencyPercentiles
    public var errors: [String: UInt64]
    public var errorRate: Double
    public var statusClasses: [String: UInt64]
    public var bytesOut: UInt64
    public var bytesIn: UInt64
    public var connectionsOpened: UInt64
    /// Over https: TLS handshakes completed in the step and their durations after the TCP
    /// connect; nil over plain HTTP (or when none completed).
    public var tlsHandshakes: UInt64?
    public var tlsHandshake: LatencyPercentiles?
    /// Over HTTP/2 (nil over HTTP/1.1): the most streams one connection carried at once, the
    /// request bodies the server's flow-control window held back and their mean wait, and the
    /// requests the server refused unprocessed that went out again.
    public var http2: HTTP2StepFigures?
    /// Cores the generator process used (user + system CPU over wall time).
    public var generatorCores: Double
    public var allowedCores: Double
    /// Why this step's numbers may understate the service (the generator fell behind).
    public var warnings: [String]
    /// Open loop: mean latency of the requests scheduled in the first and in the last third of
    /// the step (nil in closed loop or with too few requests).
    public var latencyTrend: LatencyTrend?
    /// Open loop: the requests left unfinished when the schedule ended, against what a steady
    /// queue would hold (nil in closed loop, when interrupted, or with too few requests).
    public var backlog: Backlog?

    /// True when the queue grew through the step: the rate is above what the service sustains,
    /// however short the step and whatever its p99. See ``Backlog/growing``.
    public var queueGrowing: Bool { backlog?.growing ?? false }

    /// The service kept up with the step: it completed at least `minAchievedRatio` of the
    /// schedule (open loop) and its queue did not grow. Without the second test a step of a few
    /// seconds above capacity passes a lax SLO: its queue has not yet grown past the SLO, and the
    /// requests answered after the schedule ended still count.
    public func keptUp(minAchievedRatio: Double) -> Bool {
        (achievedRatio ?? 1) >= minAchievedRatio && !queueGrowing
    }

    /// Whether the step met an objective: something completed, p99 within the SLO, errors within
    /// the budget, and the service kept up. Capacity, the diagnosis and its knee all judge steps so.
    public func meets(sloP99Milliseconds: Double, errorBudget: Double, minAchievedRatio: Double) -> Bool {
        latency.count > 0 && latency.p99 <= sloP99Milliseconds && errorsWithin(budget: errorBudget)
            && keptUp(minAchievedRatio: minAchievedRatio)
    }

    /// The step's errors are within `budget`: its error rate is at most the budget, or its error
    /// count is one a service failing at exactly the budget's rate gives by chance more often than
    /// one time in twenty (one-sided binomial test). One reset in the 53 requests of a 4 s step
    /// at 14 req/s is 1.9%, but a service failing 1% of requests does that 41% of the time: it is
    /// no evidence of a broken objective. Three in 53 are (1.6% by chance).
    public func errorsWithin(budget: Double) -> Bool {
        guard errorRate > budget else { return true }
        let failed = errors.values.reduce(0, +)
        let transport = failed - (errors["http4xx"] ?? 0) - (errors["http5xx"] ?? 0)
        let attempted = completed + transport
        return Self.binomialUpperTail(atLeast: failed, of: attempted, probability: budget) >= 0.05
    }

    /// P(X ≥ k) for X ~ Binomial(n, p), summed from the terms below k (exact; n is a step's requests).
    static func binomialUpperTail(atLeast k: UInt64, of n: UInt64, probability p: Double) -> Double {
        guard k > 0 else { return 1 }
        guard k <= n, p > 0 else { return 0 }
        guard p < 1 else { return 1 }
        // log P(X = i) from log P(X = i − 1): × (n − i + 1)/i × p/(1 − p).
        var logTerm = Double(n) * log1p(-p)
        var below = exp(logTerm)
        let ratio = log(p) - log1p(-p)
        var i: UInt64 = 1
        while i < k {
            logTerm += log(Double(n - i + 1)) - log(Double(i)) + ratio
            below += exp(logTerm)
            i += 1
        }
        return max(0, 1 - below)
    }

    /// Thresholds for the generator's own health, as the foundation issue states them.
    public enum Limits: Sendable {
        public static let scheduleLagP99Milliseconds = 1.0
        public static let achievedRatio = 0.99
        public static let cpuFraction = 0.90
    }

    public init(index: Int, step: LoadStep, statistics s: StepStatistics, duration: Double, interrupted: Bool,
                generatorCores: Double, allowedCores: Double) {
        self.index = index
        name = step.name
        switch step.shape {
        case .open(let rate, let arrivals):
            mode = "open"; targetRate = rate; self.arrivals = arrivals.rawValue; concurrency = nil
        case .closed(let c):
            mode = "closed"; targetRate = nil; arrivals = nil; concurrency = c
        }
        self.duration = (duration * 1000).rounded() / 1000
        self.interrupted = interrupted
        sent = s.sent
        completed = s.completed
        unsent = s.unsent
        achievedRate = duration > 0 ? (Double(s.completed) / duration * 100).rounded() / 100 : 0
        if let targetRate, targetRate > 0 {
            // Completed over what the schedule produced (sent + never sent), not over
            // rate × duration: Poisson arrivals vary by ±√n, which would read as a shortfall.
            let scheduled = Double(s.sent + s.unsent)
            achievedRatio = scheduled > 0 ? (Double(s.completed) / scheduled * 10000).rounded() / 10000 : 0
        } else {
            achievedRatio = nil
        }
        latency = LatencyPercentiles(s.latency)
        serviceTime = LatencyPercentiles(s.serviceTime)
        if s.earlyCount >= 5 && s.lateCount >= 5 {
            let early = s.earlyLatencySum / Double(s.earlyCount) / 1e6
            let late = s.lateLatencySum / Double(s.lateCount) / 1e6
            latencyTrend = LatencyTrend(firstThirdMeanMs: (early * 1000).rounded() / 1000, lastThirdMeanMs: (late * 1000).rounded() / 1000)
            if let targetRate, !interrupted, s.finishedByScheduleEnd > 0 {
                backlog = Backlog(scheduled: s.sent + s.unsent, finished: s.finishedByScheduleEnd, rate: targetRate,
                                  firstThirdMeanSeconds: early / 1000)
            }
        }
        scheduleLag = LatencyPercentiles(s.scheduleLag)
        connectionWait = LatencyPercentiles(s.connectionWait)
        var errors: [String: UInt64] = [:]
        for kind in RequestErrorKind.allCases where kind != .none && s.errors[Int(kind.rawValue)] > 0 {
            errors[kind.label] = s.errors[Int(kind.rawValue)]
        }
        let http4xx = s.statusClasses[4], http5xx = s.statusClasses[5]
        if http4xx > 0 { errors["http4xx"] = http4xx }
        if http5xx > 0 { errors["http5xx"] = http5xx }
        self.errors = errors
        let attempted = s.completed + s.transportErrors
        errorRate = attempted > 0 ? (Double(s.transportErrors + http4xx + http5xx) / Double(attempted) * 10000).rounded() / 10000 : 0
        var classes: [String: UInt64] = [:]
        for c in 1...5 where s.statusClasses[c] > 0 { classes["\(c)xx"] = s.statusClasses[c] }
        statusClasses = classes
        bytesOut = s.bytesOut
        bytesIn = s.bytesIn
        connectionsOpened = s.connectionsOpened
        tlsHandshakes = s.tlsHandshakes > 0 ? s.tlsHandshakes : nil
        tlsHandshake = s.tlsHandshakes > 0 ? LatencyPercentiles(s.tlsHandshake) : nil
        http2 = s.streamsInFlightMax > 0 ? HTTP2StepFigures(s) : nil
        self.generatorCores = (generatorCores * 1000).rounded() / 1000
        self.allowedCores = allowedCores
        warnings = []
        if scheduleLag.p99 > Limits.scheduleLagP99Milliseconds {
            warnings.append("the generator sent late: schedule lag p99 \(scheduleLag.p99) ms is above \(Limits.scheduleLagP99Milliseconds) ms")
        }
        if let achievedRatio, achievedRatio < Limits.achievedRatio {
            let reason = s.unsent > 0 ? " (\(s.unsent) requests waited for a connection and were never sent; raise --max-connections or lower the rate)" : ""
            warnings.append("achieved \(achievedRate) of \(formatRate(targetRate ?? 0)) req/s (\(String(format2: achievedRatio * 100))%), under \(Int(Limits.achievedRatio * 100))% of target\(reason)")
        }
        if allowedCores > 0 && generatorCores > Limits.cpuFraction * allowedCores {
            warnings.append("the generator used \(String(format2: generatorCores)) of \(String(format2: allowedCores)) allowed cores (above \(Int(Limits.cpuFraction * 100))%): its numbers may be inflated")
        }
    }
}

extension StepResult {
    /// True when the generator used more than 90% of the CPU it may use: its own queueing
    /// then inflates every latency it reports, so `load` exits 3. Late sends and a low
    /// achieved rate are warned about but can have other causes (a slow server holding
    /// every connection, a host that descheduled the generator), so they do not decide this.
    public var generatorSaturated: Bool {
        allowedCores > 0 && generatorCores > Limits.cpuFraction * allowedCores
    }
}

/// What an HTTP/2 step showed of the protocol itself.
public struct HTTP2StepFigures: Sendable, Codable, Equatable {
    /// The most streams one connection carried at once.
    public var streamsInFlightMax: UInt64
    /// Request bodies larger than the server's flow-control window, which waited for its WINDOW_UPDATE.
    public var flowControlStalls: UInt64
    /// Their mean wait, ms (0 without stalls).
    public var flowControlStallMeanMs: Double
    /// Requests the server refused before processing them (REFUSED_STREAM, above a GOAWAY), sent again.
    public var refusedStreamsRetried: UInt64

    init(_ s: StepStatistics) {
        streamsInFlightMax = s.streamsInFlightMax
        flowControlStalls = s.flowControlStalls
        flowControlStallMeanMs = s.flowControlStalls > 0
            ? (Double(s.flowControlStallNanoseconds) / Double(s.flowControlStalls) / 1e3).rounded() / 1e3 : 0
        refusedStreamsRetried = s.refusedStreamsRetried
    }
}

/// How latency moved through an open-loop step.
public struct LatencyTrend: Sendable, Codable, Equatable {
    public var firstThirdMeanMs: Double
    public var lastThirdMeanMs: Double
}

/// Whether an open-loop step's queue grew: the requests the schedule had produced by its end
/// that had not finished by then, against what a steady queue holds.
///
/// By Little's law a service that keeps up holds rate × mean latency requests at any moment. A
/// service offered more than it can serve falls behind by (rate − capacity) every second, so
/// its backlog at the end of a step of T seconds is (rate − capacity) × T more. This shows in a
/// step too short for p99 to cross a lax SLO (30 req/s offered to a 20 req/s service for 3 s
/// leaves 30 requests queued, 1.5 s of waiting: within a 2 s SLO, but a queue that never
/// empties), and it counts requests, which at a few requests per second is steadier than
/// comparing mean latencies: the steady backlog is taken from the first third's mean latency,
/// before a queue could build far.
public struct Backlog: Sendable, Codable, Equatable {
    /// Requests scheduled by the end and not finished by then (answered or failed).
    public var atEnd: UInt64
    /// rate × the first third's mean latency: what a steady queue holds.
    public var expected: Double
    /// How far above `expected` the backlog may be by chance: 5 % of the schedule, or three
    /// standard deviations of a Poisson count of `expected` plus three requests, whichever is
    /// larger (a generator or scheduler stall of a few ms at the end adds a few requests).
    public var allowance: Double

    public init(scheduled: UInt64, finished: UInt64, rate: Double, firstThirdMeanSeconds: Double) {
        atEnd = scheduled > finished ? scheduled - finished : 0
        let steady = max(0, rate * firstThirdMeanSeconds)
        expected = (steady * 100).rounded() / 100
        allowance = (max(0.05 * Double(scheduled), 3 * steady.squareRoot() + 3) * 100).rounded() / 100
    }

    /// The backlog at the end exceeds a steady queue by more than chance: the rate is above
    /// what the service sustains.
    public var growing: Bool { Double(atEnd) > expected + allowance }
}
