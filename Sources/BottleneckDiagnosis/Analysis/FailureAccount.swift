import BottleneckSampling

/// Why each failed request failed, and the process deaths behind them.
///
/// A sampled server process that ends while requests are outstanding takes them with it: a
/// sync worker its one request, a threaded one all it held. The sampler sees the death
/// between two samples (`ProcessEvent`, after `previousNanoseconds`, by `nanoseconds`); a
/// request failed with it when it was sent before the death was seen and ended after the
/// sample before it, with the connection reset or closed under it, or a gateway 5xx from the
/// proxy in front. What killed the worker:
/// - the OOM killer, when the kernel counted an OOM kill in that interval or the one before
///   (`ProcessEvent.oomKill`): the input it held is what made it grow;
/// - its server's worker timeout, when the request in flight had run far longer than a
///   healthy request (`ageRatio`): the master kills a worker that stops answering its
///   heartbeat, and that happens to a request stuck beyond the timeout, not to a fast one;
/// - else a crash; and a process that took no failed request with it was recycled, not
///   killed (gunicorn's `max_requests`), unless the kernel counted an OOM kill.
/// Every other failed request is counted under what the client saw: a gateway 5xx, a
/// service 5xx, a timeout, a refused or reset connection, or a local error.
package struct FailureAccount: Sendable {
    package enum DeathKind: String, Sendable {
        case oomKill = "oom-kill"
        case timeout = "worker-timeout"
        case crash = "worker-crash"
        /// Ended holding no request that failed: a graceful exit (a worker recycled after
        /// `max_requests`, a scale-down), not a failure.
        case recycled = "recycled"
    }

    package struct Death: Sendable {
        package var event: ProcessEvent
        package var kind: DeathKind
        /// The failed requests that were in flight when the process was seen gone.
        package var inFlight: [RequestAggregates.FailedRequest]
        /// The largest of their inputs: by pixels when images, else bytes.
        package var largestInput: RequestAggregates.FailedRequest?
        /// How long the longest-running of them had run when it failed, ms.
        package var oldestAgeMs: Double?
        /// A new process of the same tree that began after it (the master forked again).
        package var replacement: ProcessEvent?
    }

    package var deaths: [Death] = []
    /// Failed requests by cause (the labels of `causeLabels`).
    package var causes: [String: Int] = [:]
    package var failed = 0
    /// 502, 503 and 504: a gateway's answer (RFC 9110 15.6.3–15.6.5), from the proxy in front.
    package var gatewayErrors = 0
    /// Other 5xx: the service's own failure, passed on.
    package var serviceErrors = 0
    /// What a healthy request takes, ms: the successful requests' service time p90 in the
    /// step where it is lowest (of the steps with 5 or more of them; else the median of all).
    /// Queueing only adds to a step's tail (behind a stalled worker the others wait), so the
    /// lowest is the closest to the work itself; p90, not p99, because a step of a service
    /// whose workers keep dying holds few successes, and their p99 is their slowest one.
    /// The reference for `ageRatio`.
    package var healthyServiceMs: Double?

    /// The largest age of a request in flight at a death over `healthyServiceMs`.
    package var ageRatio: Double? {
        guard let healthy = healthyServiceMs, healthy > 0 else { return nil }
        return deaths.compactMap(\.oldestAgeMs).max().map { $0 / healthy }
    }

    /// A request in flight at a death that has run this many times the healthy p90 was
    /// stuck, not slow: nine in ten healthy requests end by it and a log-normal tail's p99 is
    /// two to three times its p90; five times (and a second at least, under which no worker
    /// timeout is set) means the worker had stopped making progress on it.
    package static let stuckAgeRatio = 5.0
    package static let stuckAgeMinimumMs = 1000.0
    /// How long before the sample that last saw a dying process its requests may fail: a
    /// Python worker's exit (atexit handlers, gunicorn's worker_exit, freeing a large heap)
    /// takes up to about a second after it stopped serving. Measured on gunicorn sync workers
    /// killed for a timeout: the 500 reached the client 0.5–0.8 s before the process was gone.
    package static let exitGrace: UInt64 = 2_000_000_000

    package static let causeLabels = [
        "oom-kill": "in flight when its worker was OOM-killed",
        "worker-timeout": "in flight when its worker was killed for a timeout",
        "worker-crash": "in flight when its worker died",
        "gateway-5xx": "a gateway error (502/503/504) from the proxy",
        "service-5xx": "a 5xx from the service",
        "timeout": "no response within the timeout",
        "refused": "connection refused",
        "reset": "connection reset",
        "closed": "connection closed before the response",
        "generator": "the generator's own limit (local ports, open files)",
        "other": "another error",
    ]

    package init() {}

    /// The account of `failures` against the server's process `events`.
    package init(failures: [RequestAggregates.FailedRequest], events: [ProcessEvent], successServiceMs: [Int: [Double]],
                 sampleInterval: UInt64) {
        failed = failures.count
        healthyServiceMs = successServiceMs.values.filter { $0.count >= 5 }.compactMap { Self.percentile($0, 0.9) }.min()
            ?? Self.percentile(successServiceMs.values.flatMap { $0 }, 0.5)
        let server = events.filter { $0.role == "server" }
        let starts = server.filter { $0.kind == .start }
        var explained = Set<Int>()
        for exit in server where exit.kind == .exit {
            // A worker on its way out may answer or close its connections, then run its exit
            // handlers before it is gone: its requests can fail up to `exitGrace` before the
            // sample that last saw it.
            let after = (exit.previousNanoseconds ?? exit.nanoseconds &- sampleInterval) &- min(Self.exitGrace, exit.previousNanoseconds ?? 0)
            // Seen gone by `nanoseconds`; the client hears of it a moment later at most.
            let until = exit.nanoseconds &+ sampleInterval
            let inFlight = failures.indices.filter { i in
                let f = failures[i]
                return !explained.contains(i) && f.sentNanoseconds <= exit.nanoseconds && f.endNanoseconds > after
                    && f.endNanoseconds <= until && Self.diesWithItsWorker(f)
            }
            explained.formUnion(inFlight)
            let requests = inFlight.map { failures[$0] }
            // How long each had run when it failed: about when the worker was killed.
            let oldest = requests.map { Double($0.endNanoseconds &- $0.sentNanoseconds) / 1e6 }.max()
            var kind = DeathKind.crash
            if exit.oomKill == true {
                kind = .oomKill
            } else if requests.isEmpty {
                kind = .recycled
            } else if let oldest, let healthy = healthyServiceMs,
                      oldest >= max(Self.stuckAgeMinimumMs, Self.stuckAgeRatio * healthy) {
                kind = .timeout
            }
            let largest = requests.max { ($0.pixels, $0.payloadBytes) < ($1.pixels, $1.payloadBytes) }
            let replacement = starts.first { $0.root == exit.root && $0.nanoseconds >= exit.nanoseconds && $0.pid != exit.pid }
            deaths.append(Death(event: exit, kind: kind, inFlight: requests, largestInput: largest, oldestAgeMs: oldest,
                                replacement: replacement))
            if !requests.isEmpty { causes[kind.rawValue, default: 0] += requests.count }
        }
        for (i, f) in failures.enumerated() {
            if Self.isGatewayError(f.status) { gatewayErrors += 1 } else if f.status >= 500 { serviceErrors += 1 }
            guard !explained.contains(i) else { continue }
            causes[Self.cause(of: f), default: 0] += 1
        }
    }

    /// A request that fails when the worker holding it dies: its connection is reset or
    /// closed under it, the proxy in front answers 502 (upstream closed) or 504, or the
    /// server answers 500 on the way out (gunicorn's aborted worker answers its request so).
    static func diesWithItsWorker(_ f: RequestAggregates.FailedRequest) -> Bool {
        f.error == "reset" || f.error == "closed" || f.status >= 500
    }

    /// 502, 503 or 504: a gateway's answer (RFC 9110 15.6.3–15.6.5), from the proxy in front.
    package static func isGatewayError(_ status: Int) -> Bool { (502...504).contains(status) }

    static func cause(of f: RequestAggregates.FailedRequest) -> String {
        if isGatewayError(f.status) { return "gateway-5xx" }
        if f.status >= 500 { return "service-5xx" }
        switch f.error {
        case "timeout", "refused", "reset", "closed": return f.error
        case "no-local-port", "too-many-files": return "generator"
        default: return "other"
        }
    }

    /// The `fraction` percentile (nearest rank) of `values`; nil when empty.
    static func percentile(_ values: [Double], _ fraction: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    /// The run-level metrics of this account.
    package var metrics: [String: Double] {
        var m: [String: Double] = [:]
        m[Metric.failuresFailedRequests] = Double(failed)
        m[Metric.failuresProcessExits] = Double(deaths.count)
        m[Metric.failuresOomKills] = Double(deaths.filter { $0.kind == .oomKill }.count)
        m[Metric.failuresWorkerTimeouts] = Double(deaths.filter { $0.kind == .timeout }.count)
        m[Metric.failuresWorkerCrashes] = Double(deaths.filter { $0.kind == .crash }.count)
        m[Metric.failuresRestarts] = Double(deaths.filter { $0.replacement != nil }.count)
        m[Metric.failuresAtDeaths] = Double(deaths.reduce(0) { $0 + $1.inFlight.count })
        m[Metric.failuresGatewayAtDeaths] = Double(deaths.reduce(0) { $0 + $1.inFlight.filter { $0.status == 502 || $0.status == 504 }.count })
        m[Metric.failuresUnexplained] = Double(causes["other"] ?? 0)
        m[Metric.errorsGateway5xx] = Double(gatewayErrors)
        m[Metric.errorsService5xx] = Double(serviceErrors)
        // The input that killed a worker is the largest it held; the smallest such input over
        // the kills is the tightest bound on what a worker survives.
        let killed = deaths.filter { $0.kind == .oomKill }
        if let pixels = killed.compactMap({ $0.largestInput?.pixels }).filter({ $0 > 0 }).min() { m[Metric.failuresKilledInputMpx] = pixels / 1e6 }
        if let bytes = killed.compactMap({ $0.largestInput?.payloadBytes }).filter({ $0 > 0 }).min() { m[Metric.failuresKilledInputMb] = bytes / 1e6 }
        if let rss = killed.map(\.event.rssBytes).max(), rss > 0 { m[Metric.failuresKilledRssMb] = Double(rss) / 1e6 }
        if let limit = killed.compactMap(\.event.memoryLimitBytes).min() { m[Metric.failuresMemoryLimitMb] = Double(limit) / 1e6 }
        if let age = deaths.compactMap(\.oldestAgeMs).max() { m[Metric.failuresInflightAgeMs] = age }
        if let ratio = ageRatio { m[Metric.failuresInflightAgeRatio] = ratio }
        return m
    }

    /// The failed requests by cause, most first, with what each cause means.
    package var causeList: [DiagnosisResult.FailureCause] {
        causes.filter { $0.value > 0 }
            .sorted { ($0.value, $1.key) > ($1.value, $0.key) }
            .map { DiagnosisResult.FailureCause(cause: $0.key, meaning: Self.causeLabels[$0.key] ?? $0.key, requests: $0.value) }
    }
}
