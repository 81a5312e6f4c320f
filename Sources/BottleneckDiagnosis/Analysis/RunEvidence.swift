import Foundation
import BottleneckCore
import BottleneckLoad
import BottleneckSampling
import BottleneckRun

/// The evidence of one recorded run: every catalog metric per step and for the run,
/// computed from the run directory alone (so `diagnose --from RUN_DIR` and playbook
/// authors can re-run rules without new load). A metric whose source is missing (no
/// server sampled, no Server-Timing, no capture) is absent, never guessed.
public struct RunEvidence: EvidenceSource {
    /// A step a diagnosis counts as within the SLO: p99 within it, at most 1 % errors, 95 % of
    /// the schedule completed and no growing queue (``StepResult/meets(sloP99Milliseconds:errorBudget:minAchievedRatio:)``).
    public static func meetsObjective(_ step: StepResult, sloP99Milliseconds: Double) -> Bool {
        step.meets(sloP99Milliseconds: sloP99Milliseconds, errorBudget: 0.01, minAchievedRatio: 0.95)
    }

    public let directory: String
    public let summary: RunSummary
    public let steps: [[String: Double]]
    public let run: [String: Double]
    public let kneeStep: Int?
    /// The SLO the knee was judged against (p99, ms).
    public let sloP99Milliseconds: Double
    /// The run directory, as read: the report draws from the same reads.
    public let record: RunRecord
    /// The per-step sums over `requests.csv` and the capture's split the metrics came from,
    /// kept for the report's charts so the files are read once.
    package let requests: RequestAggregates
    package let wire: WireAttribution?
    /// Why each failed request failed, and the server's process deaths.
    package let failures: FailureAccount
    /// Who served the target, when the run looked (run.json).
    public var topology: RunTopology? = nil

    public var stepCount: Int { steps.count }

    /// The name of the one-connection step `diagnose` runs before its ramp or its stated load.
    public static let baselineStepName = "baseline"


    public func value(_ metric: String, step: StepSelector) -> Double? {
        Self.lookup(metric, step: step, steps: steps, run: run)
    }

    /// A metric of one step, falling back to the run-level value (constants such as core counts).
    static func lookup(_ metric: String, step: StepSelector, steps: [[String: Double]], run: [String: Double]) -> Double? {
        switch step {
        case .run: return run[metric]
        case .step(let index): return index >= 0 && index < steps.count ? steps[index][metric] ?? run[metric] : nil
        }
    }

    public static func load(directory: String, sloP99Milliseconds: Double = 300,
                            segments: ServerTimingSegments = .defaults) throws -> RunEvidence {
        try load(record: try RunRecord(directory: directory), sloP99Milliseconds: sloP99Milliseconds, segments: segments)
    }

    /// The evidence of a recorded run; the record keeps the files it read for the report.
    public static func load(record: RunRecord, sloP99Milliseconds: Double = 300,
                            segments: ServerTimingSegments = .defaults) throws -> RunEvidence {
        let directory = record.directory
        let summary = record.summary
        let description = record.description
        let ephemeralPorts = description?.host.ephemeralPorts
        // HdrHistogram reports a percentile as the top of its bucket (3 significant digits), up to
        // 0.1% above the request that set it: the tail starts 0.2% below, so it holds that request.
        let tails = Dictionary(summary.steps.filter { $0.latency.count > 0 }.map { ($0.index, $0.latency.p99 * 0.998) }, uniquingKeysWith: { a, _ in a })
        let requests = try RequestAggregates.read(record: record, segments: segments, tailThresholdsMs: tails)
        let wire = TargetURLPort.parse(summary.target).flatMap { WireAttribution.load(record: record, frontPort: $0) }
        let sampling = Dictionary((summary.sampling?.steps ?? []).map { ($0.index, $0) }, uniquingKeysWith: { a, _ in a })
        // The service from the agent on its host when the run pulled from one, else from here.
        let serverSampling = Dictionary((summary.serverSampling?.steps ?? []).map { ($0.index, $0) }, uniquingKeysWith: { a, _ in a })
        let proxySampling = Dictionary((summary.proxySampling?.steps ?? []).map { ($0.index, $0) }, uniquingKeysWith: { a, _ in a })

        // The server's own phases per step, when it offered model statistics (KServe v2 / Triton).
        let modelStatistics = Dictionary(
            ((record.data(.modelStatistics).flatMap { try? JSONDecoder().decode(ModelStatisticsRecord.self, from: $0) })?.steps ?? [])
                .map { ($0.index, $0) }, uniquingKeysWith: { a, _ in a })
        var steps: [[String: Double]] = []
        let baselineP99 = summary.steps.first?.latency.p99
        for result in summary.steps {
            var m: [String: Double] = [:]
            m[Metric.loadOfferedRps] = result.targetRate ?? 0
            m[Metric.loadConcurrency] = Double(result.concurrency ?? 0)
            m[Metric.loadAchievedRps] = result.achievedRate
            m[Metric.loadAchievedRatio] = result.achievedRatio ?? 1
            m[Metric.loadErrorRate] = result.errorRate
            let attempted = Double(max(1, result.completed + result.errors.filter { !$0.key.hasPrefix("http") }.values.reduce(0, +)))
            m[Metric.loadTimeoutRate] = Double(result.errors["timeout"] ?? 0) / attempted
            m[Metric.loadRefusedRate] = Double((result.errors["refused"] ?? 0) + (result.errors["reset"] ?? 0)) / attempted
            let localFailures = (result.errors[RequestErrorKind.noLocalPort.label] ?? 0) + (result.errors[RequestErrorKind.tooManyFiles.label] ?? 0)
            m[Metric.loadLocalErrorRate] = Double(localFailures) / attempted
            m[Metric.loadConnectionsPerRequest] = Double(result.connectionsOpened) / attempted
            if TargetURLPort.isTLS(summary.target) {
                // Over https every new connection pays a handshake (no resumption: swift-nio-ssl
                // offers none), so handshakes per request is the TLS churn, and its share of the
                // time requests took is what keeping connections would give back.
                let handshakes = Double(result.tlsHandshakes ?? 0)
                m[Metric.tlsHandshakesPerRequest] = handshakes / attempted
                if let handshake = result.tlsHandshake {
                    m[Metric.tlsHandshakeP50Ms] = handshake.p50
                    m[Metric.tlsHandshakeP99Ms] = handshake.p99
                    let latencyTotal = result.latency.mean * Double(result.latency.count)
                    if latencyTotal > 0 { m[Metric.tlsHandshakeShare] = min(1, handshake.mean * handshakes / latencyTotal) }
                } else {
                    m[Metric.tlsHandshakeShare] = 0
                }
            }
            if let http2 = result.http2 {
                m[Metric.http2StreamsInFlightMax] = Double(http2.streamsInFlightMax)
                let stalls = Double(http2.flowControlStalls)
                m[Metric.http2FlowControlStallsPerRequest] = stalls / attempted
                m[Metric.http2FlowControlStallMeanMs] = http2.flowControlStallMeanMs
                let latencyTotal = result.latency.mean * Double(result.latency.count)
                m[Metric.http2FlowControlStallShare] = latencyTotal > 0 ? min(1, http2.flowControlStallMeanMs * stalls / latencyTotal) : 0
                m[Metric.http2RefusedStreamsPerRequest] = Double(http2.refusedStreamsRetried) / attempted
            }
            m[Metric.loadScheduleLagP99Ms] = result.scheduleLag.p99
            m[Metric.loadScheduleLagP50Ms] = result.scheduleLag.p50
            m[Metric.loadScheduleLagMaxMs] = result.scheduleLag.max
            if let trend = result.latencyTrend {
                m[Metric.latencyFirstThirdMeanMs] = trend.firstThirdMeanMs
                m[Metric.latencyLastThirdMeanMs] = trend.lastThirdMeanMs
            }
            if let backlog = result.backlog {
                m[Metric.loadBacklogAtEnd] = Double(backlog.atEnd)
                m[Metric.loadBacklogExpected] = backlog.expected
                m[Metric.loadQueueGrowing] = backlog.growing ? 1 : 0
            }
            m[Metric.loadConnectionWaitP99Ms] = result.connectionWait.p99
            if result.latency.count > 0 {
                m[Metric.latencyP50Ms] = result.latency.p50
                m[Metric.latencyP99Ms] = result.latency.p99
                m[Metric.latencyMeanMs] = result.latency.mean
                m[Metric.latencyP90Ms] = result.latency.p90
                m[Metric.latencyP999Ms] = result.latency.p999
                m[Metric.latencyMaxMs] = result.latency.max
                m[Metric.serviceP99Ms] = result.serviceTime.p99
                if let baselineP99, baselineP99 > 0 { m[Metric.latencyP99OverBaseline] = result.latency.p99 / baselineP99 }
            }
            m[Metric.clientCpuCores] = result.generatorCores
            m[Metric.clientAllowedCores] = result.allowedCores
            if result.allowedCores > 0 { m[Metric.clientCpuUtilisation] = result.generatorCores / result.allowedCores }

            if let sample = sampling[result.index] {
                m[Metric.clientRunDelayFraction] = sample.client.runDelayFraction
                if let ratio = sample.client.throttledRatio { m[Metric.clientThrottledRatio] = ratio }
                m[Metric.clientTimeWait] = Double(sample.client.socketStatesMax["TIME_WAIT"] ?? 0)
                if let ephemeralPorts, ephemeralPorts > 0 {
                    m[Metric.clientEphemeralPorts] = Double(ephemeralPorts)
                    let held = sample.client.socketStatesMax.values.reduce(0, +)
                    m[Metric.clientPortUsage] = Double(held) / Double(ephemeralPorts)
                }
                if let ratio = sample.client.retransmitRatio { m[Metric.clientRetransmitRatio] = ratio }
                if let c = sample.client.connections, c.connectionsMax > 0 {
                    // The kernel's own account of the generator's connections (tcp_info).
                    m[Metric.clientTcpRttMs] = c.rttMsMean
                    m[Metric.clientTcpRttMsMax] = c.rttMsMax
                    m[Metric.clientTcpDeliveryMbpsMax] = c.deliveryMbpsMax
                    if result.duration > 0 {
                        m[Metric.clientTcpSentMbps] = Double(c.bytesAcked) * 8 / 1e6 / result.duration
                        m[Metric.clientTcpReceivedMbps] = Double(c.bytesReceived) * 8 / 1e6 / result.duration
                    }
                    m[Metric.clientTcpRetransmits] = Double(c.retransmits)
                    if let segments = c.segmentsOut { m[Metric.clientTcpSegmentsOut] = Double(segments) }
                    if let segments = c.segmentsOut, segments > 0 { m[Metric.clientTcpRetransmitRatio] = Double(c.retransmits) / Double(segments) }
                    if result.duration > 0 { m[Metric.clientTcpBusyShare] = c.busySeconds / result.duration }
                    if c.busySeconds > 0 {
                        m[Metric.clientTcpRwndLimitedShare] = min(1, c.receiveWindowLimitedSeconds / c.busySeconds)
                        m[Metric.clientTcpSndbufLimitedShare] = min(1, c.sendBufferLimitedSeconds / c.busySeconds)
                    }
                }
                m[Metric.hostBusyFraction] = sample.host.busyFractionMean
                m[Metric.hostIdleCores] = Double(sample.host.cpus) - sample.host.busyCoresMean
                m[Metric.hostBusyCores] = sample.host.busyCoresMean
                m[Metric.hostStealFraction] = sample.host.stealFractionMean
            }
            m[Metric.serverSampled] = 0
            if let server = serverSampling[result.index]?.server {
                m[Metric.serverSampled] = server.processes > 0 ? 1 : 0
                if server.processes > 0 {
                    m[Metric.serverProcesses] = Double(server.processes)
                    m[Metric.serverCpuCores] = server.cpuCoresMean
                    if let allowed = server.coresAllowed, allowed > 0 {
                        m[Metric.serverAllowedCores] = allowed
                        m[Metric.serverCpuUtilisation] = server.cpuCoresMean / allowed
                    }
                    m[Metric.serverBusiestProcessCores] = server.busiestProcess?.cores ?? 0
                    if let saturated = server.saturatedProcesses { m[Metric.serverSaturatedProcesses] = Double(saturated) }
                    if let ratio = server.throttledRatio { m[Metric.serverThrottledRatio] = ratio }
                    m[Metric.serverRunDelayFraction] = server.runDelayFraction
                    m[Metric.serverRssPeakMb] = Double(server.rssPeakBytes) / 1e6
                    m[Metric.serverRssGrowthMb] = Double(server.rssGrowthBytes) / 1e6
                    // Overflows before the first step (the warm-up, when a closed loop opens all its
                    // connections and the SYNs the server dropped come back 1, 3, 7 s later) count for
                    // the first step: the server dropped them all the same, and whether a retry lands
                    // just before or just after the warm-up ends is chance.
                    let beforeSteps = result.index == summary.steps.first?.index ? serverSampling[-1]?.server.listenOverflows ?? 0 : 0
                    m[Metric.serverListenOverflows] = Double(server.listenOverflows + beforeSteps)
                    m[Metric.serverAcceptQueueMax] = Double(server.acceptQueueMax)
                    if let usage = server.fdUsageMax {
                        m[Metric.serverFdUsage] = usage
                        m[Metric.serverFds] = server.fdsAtUsageMax.map(Double.init)
                        m[Metric.serverFdLimit] = server.fdLimitAtUsageMax.map(Double.init)
                    }
                    if let ratio = server.retransmitRatio { m[Metric.serverRetransmitRatio] = ratio }
                    m[Metric.serverRetransmittedSegments] = Double(server.retransmittedSegments)
                    m[Metric.serverOutSegments] = Double(server.outSegments)
                    m[Metric.serverTimeWait] = Double(server.socketStatesMax["TIME_WAIT"] ?? 0)
                    if let accepted = server.passiveOpens {
                        // Connections the service accepted per request the generator made (through a
                        // proxy: what the proxy opened upstream).
                        m[Metric.serverConnectionsPerRequest] = Double(accepted) / attempted
                    }
                }
            }
            if let proxy = proxySampling[result.index]?.server, proxy.processes > 0 {
                m[Metric.proxyProcesses] = Double(proxy.processes)
                m[Metric.proxyCpuCores] = proxy.cpuCoresMean
                m[Metric.proxyBusiestProcessCores] = proxy.busiestProcess?.cores ?? 0
                if let ratio = proxy.throttledRatio { m[Metric.proxyThrottledRatio] = ratio }
                if let ratio = proxy.retransmitRatio { m[Metric.proxyRetransmitRatio] = ratio }
                m[Metric.proxyListenOverflows] = Double(proxy.listenOverflows)
                m[Metric.proxyRetransmittedSegments] = Double(proxy.retransmittedSegments)
                m[Metric.proxyOutSegments] = Double(proxy.outSegments)
                m[Metric.proxyRunDelayFraction] = proxy.runDelayFraction
            }

            if summary.agentSampling == nil, let busy = m[Metric.hostBusyCores], let server = m[Metric.serverCpuCores] {
                // Only meaningful when the service runs on the generator's host (sampled locally).
                let ours = server + (m[Metric.proxyCpuCores] ?? 0) + (m[Metric.clientCpuCores] ?? 0)
                m[Metric.hostOtherCores] = max(0, busy - ours)
            }
            if let r = requests.steps[result.index], r.ok > 0 {
                let n = Double(r.ok)
                let service = r.serviceSumMs / n
                m[Metric.serviceMeanMs] = service
                m[Metric.payloadBytesMean] = r.payloadBytesSum / n
                m[Metric.payloadMegapixelsMean] = r.pixelsSum / n / 1e6
                if r.pixelsSum > 0, let growth = m[Metric.serverRssGrowthMb] {
                    m[Metric.serverRssGrowthMbPerMpx] = growth / (r.pixelsSum / 1e6)
                }
                if r.payloadBytesSum > 0, let growth = m[Metric.serverRssGrowthMb] {
                    m[Metric.serverRssGrowthMbPerInputMb] = growth / (r.payloadBytesSum / 1e6)
                }
                m[Metric.timingCoverage] = Double(r.withTiming) / n
                // Without Server-Timing, a KServe v2 / Triton server's own statistics for the step
                // give the same phases: queue, compute_input (preparing the tensors: preprocessing),
                // compute_infer (the model), compute_output (postprocessing), as means per inference.
                let statistics = r.withTiming == 0 ? modelStatistics[result.index].flatMap { $0.inferences > 0 ? $0 : nil } : nil
                if let statistics {
                    m[Metric.timingCoverage] = min(1, Double(statistics.inferences) / n)
                    m[Metric.timingFromModelStatistics] = 1
                }
                if r.withTiming > 0 || statistics != nil {
                    let covered = Double(r.withTiming)
                    func mean(_ segment: ServerTimingSegments.Segment) -> Double {
                        if let statistics {
                            switch segment {
                            case .queue: return statistics.queueMs
                            case .preprocess: return statistics.computeInputMs
                            case .model: return statistics.computeInferMs
                            case .postprocess: return statistics.computeOutputMs
                            }
                        }
                        return (r.segmentSumMs[segment] ?? 0) / covered
                    }
                    let server = ServerTimingSegments.Segment.allCases.reduce(0) { $0 + mean($1) }
                    m[Metric.timingServerMs] = server
                    m[Metric.timingQueueMs] = mean(.queue)
                    m[Metric.timingPreprocessMs] = mean(.preprocess)
                    m[Metric.timingModelMs] = mean(.model)
                    m[Metric.timingPostprocessMs] = mean(.postprocess)
                    // The service's own work: its phases without the time it says it waited. Past the
                    // knee queueing swells the service time, not the work, so what dominates is judged here.
                    let work = mean(.preprocess) + mean(.model) + mean(.postprocess)
                    m[Metric.timingWorkMs] = work
                    if work > 0 {
                        m[Metric.timingModelWorkShare] = mean(.model) / work
                        m[Metric.timingPreprocessWorkShare] = mean(.preprocess) / work
                        m[Metric.timingPostprocessWorkShare] = mean(.postprocess) / work
                    }
                    if service > 0 {
                        m[Metric.timingModelShare] = mean(.model) / service
                        m[Metric.timingPreprocessShare] = mean(.preprocess) / service
                        m[Metric.timingQueueShare] = mean(.queue) / service
                        m[Metric.timingOutsideMs] = max(0, service - server)
                        m[Metric.timingOutsideShare] = max(0, service - server) / service
                    }
                }
            }
            if let r = requests.steps[result.index], result.duration > 0 {
                // What the generator put on the wire and took off it per second (headers and bodies).
                m[Metric.loadSentMbps] = r.bytesOutSum * 8 / 1e6 / result.duration
                m[Metric.loadReceivedMbps] = r.bytesInSum * 8 / 1e6 / result.duration
            }
            m[Metric.loadSloBroken] = meetsObjective(result, sloP99Milliseconds: sloP99Milliseconds) ? 0 : 1
            m[Metric.loadKneeBracketed] = Self.bracketingRate(result, in: summary.steps, sloP99Milliseconds: sloP99Milliseconds) == nil ? 0 : 1
            if let available = Self.serviceAvailableCores(m, serviceOnThisHost: summary.agentSampling == nil) {
                m[Metric.serverAvailableCores] = available
            }
            if let busy = Self.serviceCPUBusy(m, serviceOnThisHost: summary.agentSampling == nil) {
                m[Metric.serverCpuBusy] = busy ? 1 : 0
            }
            m[Metric.proxySaturated] = Self.proxySaturated(m) ? 1 : 0
            m.merge(Self.attributionShares(step: result, aggregate: requests.steps[result.index], wire: wire?.steps[result.index])) { $1 }
            steps.append(m)
        }

        var run: [String: Double] = [Metric.sloP99Ms: sloP99Milliseconds]
        run.merge(Self.unexplainedLoss(steps)) { $1 }
        // Memory kept over the whole run: the sum of the steps' growth (a warm-up's arenas grow
        // once, then RSS goes flat or back down; kept buffers grow with every input served).
        let grown = steps.compactMap { $0[Metric.serverRssGrowthMb] }
        if !grown.isEmpty {
            let kept = grown.reduce(0, +)
            run[Metric.serverRssKeptMb] = kept
            let megapixels = requests.steps.values.reduce(0) { $0 + $1.pixelsSum } / 1e6
            if megapixels > 0 { run[Metric.serverRssKeptMbPerMpx] = kept / megapixels }
        }
        // The one-connection baseline is a closed loop: what it achieved is not a rate the service
        // met under arrivals it does not pace, so it counts only when nothing else ran.
        let loadedSteps = summary.steps.filter { !isReference($0, in: summary.steps) }
        if let capacity = loadedSteps.filter({ meetsObjective($0, sloP99Milliseconds: sloP99Milliseconds) }).map(\.achievedRate).max() {
            run[Metric.loadCapacityAtSloRps] = capacity
        }
        if let fit = LinearFit.leastSquares(RequestAggregates.fitPoints(requests.sizePoints)) {
            run[Metric.fitServiceMsPerMb] = fit.slope
            run[Metric.fitServiceVsBytesR2] = fit.r2
        }
        if let fit = LinearFit.leastSquares(RequestAggregates.fitPoints(requests.pixelPoints)) {
            run[Metric.fitPreprocessMsPerMegapixel] = fit.slope
            run[Metric.fitPreprocessVsPixelsR2] = fit.r2
        }
        run.merge(Self.sizeScaling(requests.inputSizePoints)) { $1 }
        run.merge(Self.transferScaling(requests.transferPoints, service: requests.sizePoints)) { $1 }
        // A path slower than ~800 Mbit/s (10 ms per MB, fitted well): always answered, 0 when the
        // requests carried nothing to transfer, so rules can exclude it without needing payloads.
        let slowPath = (run[Metric.fitTransferMsPerMb] ?? 0) >= 10 && (run[Metric.fitTransferVsBytesR2] ?? 0) >= 0.3
        run[Metric.fitTransferSlowPath] = slowPath ? 1 : 0
        if let linkMbps = run[Metric.fitLinkMbps] {
            for index in steps.indices {
                let sent = steps[index][Metric.loadSentMbps] ?? 0
                if sent > 0 { steps[index][Metric.networkLinkUtilisation] = sent / linkMbps }
            }
        }
        // Throughput against concurrency: the Universal Scalability Law over the closed-loop steps.
        if let usl = USLFit.fit(CapacityRun.uslPoints(summary.steps, CapacityRun.Settings(sloP99Milliseconds: sloP99Milliseconds, budgetSeconds: 0))) {
            run[Metric.fitUslSigma] = usl.sigma
            run[Metric.fitUslKappa] = usl.kappa
            run[Metric.fitUslR2] = usl.r2
            if let n = usl.peakConcurrency { run[Metric.fitUslPeakConcurrency] = n }
            if let x = usl.peakThroughput { run[Metric.fitUslCeilingRps] = x }
        }
        if let bypass = Self.bypassComparison(record.bypass?.summary, summary: summary) {
            run[Metric.bypassConnectionsPerRequest] = bypass.backendConnectionsPerRequest
            if let through = bypass.throughP50, let backend = bypass.backendP50 {
                run[Metric.bypassP50Ms] = backend
                run[Metric.proxyAddedP50Ms] = through - backend
                if through > 0 { run[Metric.proxyAddedShare] = (through - backend) / through }
            }
        }
        if let capture = record.data(.captureSummary).flatMap({ try? JSONDecoder().decode(CaptureSummaryFile.self, from: $0) }) {
            let legs = capture.interfaces.flatMap(\.legs)
            let frontPort = capture.legJoin?.frontPort ?? TargetURLPort.parse(summary.target)
            let front = legs.first { $0.port == frontPort && $0.serverTime != nil }
            let back = capture.legJoin.flatMap { join in legs.first { join.backPorts.contains($0.port) && $0.serverTime != nil } }
            // The service's own server time: the back leg when the proxy's two legs were captured.
            if let leg = back ?? front ?? legs.first(where: { $0.serverTime != nil }) {
                run[Metric.wireServerMs] = (leg.serverTime?.mean ?? 0) / 1e6
                if let rtt = leg.handshakeRTT?.p50 { run[Metric.wireHandshakeRttMs] = Double(rtt) / 1e6 }
            }
            if let join = capture.legJoin, let proxy = join.proxyTime, proxy.count > 0, let frontTime = front?.serverTime {
                run[Metric.wireFrontServerMs] = frontTime.mean / 1e6
                run[Metric.wireProxyMs] = proxy.mean / 1e6
                run[Metric.wireProxyP99Ms] = Double(proxy.p99) / 1e6
                if frontTime.mean > 0 { run[Metric.wireProxyShare] = proxy.mean / frontTime.mean }
            }
            let segments = legs.reduce(0) { $0 + $1.dataSegments }
            if segments > 0 { run[Metric.wireRetransmitRatio] = Double(legs.reduce(0) { $0 + $1.retransmissions }) / Double(segments) }
        }

        // Failures: each failed request against the server's process deaths.
        let server = summary.serverSampling
        let failures = FailureAccount(failures: requests.failures, events: server?.processEvents ?? [],
                                      successServiceMs: requests.successServiceMs, sampleInterval: server?.intervalNanoseconds ?? 250_000_000)
        run.merge(failures.metrics) { _, new in new }
        // The largest input that succeeded below the smallest that killed a worker (the same input
        // can succeed one time and be killed the next, near the limit): where a cap is safe.
        let killedPixels = (run[Metric.failuresKilledInputMpx] ?? 0) * 1e6
        let killedBytes = (run[Metric.failuresKilledInputMb] ?? 0) * 1e6
        let safe = requests.successSizes.filter { size in
            killedPixels > 0 ? size.pixels < killedPixels : killedBytes > 0 ? size.bytes < killedBytes : true
        }
        if let largest = safe.max(by: { ($0.pixels, $0.bytes) < ($1.pixels, $1.bytes) }) {
            if largest.pixels > 0 { run[Metric.payloadLargestOkMpx] = largest.pixels / 1e6 }
            if largest.bytes > 0 { run[Metric.payloadLargestOkMb] = largest.bytes / 1e6 }
        }
        for index in steps.indices {
            let failed = requests.failures.filter { $0.step == summary.steps[index].index }
            let gateway = failed.filter { FailureAccount.isGatewayError($0.status) }.count
            steps[index][Metric.errorsGateway5xx] = Double(gateway)
            steps[index][Metric.errorsService5xx] = Double(failed.filter { $0.status >= 500 }.count - gateway)
        }

        switch description?.topology?.targetServedBy {
        case "proxy": run[Metric.targetServedByProxy] = 1
        case "service": run[Metric.targetServedByProxy] = 0
        default: break
        }
        let knee = kneeIndex(summary.steps, sloP99Milliseconds: sloP99Milliseconds)
        return RunEvidence(directory: directory, summary: summary, steps: steps, run: run, kneeStep: knee,
                           sloP99Milliseconds: sloP99Milliseconds, record: record, requests: requests, wire: wire, failures: failures,
                           topology: description?.topology)
    }
}

extension RunEvidence {
    /// The knee: the least loaded step that breaks the SLO, drops load, errs or ends with a growing
    /// queue (a rate above what the service sustains, even when p99 has not crossed a lax SLO yet);
    /// else the most loaded step. The one-connection baseline counts only when it is the only step
    /// or every step broke: it is the reference the loaded steps are judged against. Steps are
    /// ordered by load (offered rate, else achieved rate), not by when they ran, because the ramp
    /// bisects back below a broken rate.
    static func kneeIndex(_ steps: [StepResult], sloP99Milliseconds: Double) -> Int? {
        guard !steps.isEmpty else { return nil }
        func load(_ step: StepResult) -> Double { step.targetRate ?? Double(step.concurrency ?? 0) }
        let loaded = steps.indices.filter { !isReference(steps[$0], in: steps) }
        guard !loaded.isEmpty else { return steps.count - 1 }
        let byLoad = loaded.sorted { load(steps[$0]) < load(steps[$1]) }
        if let broken = byLoad.first(where: { !meetsObjective(steps[$0], sloP99Milliseconds: sloP99Milliseconds) }) { return broken }
        return byLoad.last ?? steps.count - 1
    }

    /// The cores the service could have used at a step: those it may use (affinity, quota), and
    /// on this host no more than what the other processes left of the machine (the generator, a
    /// proxy, neighbours). Nil when the service was not sampled.
    static func serviceAvailableCores(_ m: [String: Double], serviceOnThisHost: Bool) -> Double? {
        guard m[Metric.serverSampled] == 1, let used = m[Metric.serverCpuCores] else { return nil }
        var available = m[Metric.serverAllowedCores] ?? .infinity
        if serviceOnThisHost, let busy = m[Metric.hostBusyCores], let idle = m[Metric.hostIdleCores] {
            let others = max(0, busy - used)
            available = min(available, busy + idle - others)
        }
        return available.isFinite ? available : nil
    }

    /// Retransmits that no overflowing queue explains, pooled over the steps where none overflowed:
    /// no accept-queue overflow at the service or the proxy, no proxy out of CPU, and a host under
    /// 90% busy. Overload
    /// drops SYNs at a full accept queue and a starved proxy reads late, and those retransmits
    /// are the queues'; what is left, at any load, is loss on the way. Pooled because a lossy
    /// path loses at every load while one light step carries too few segments to tell 1% from
    /// 0.4%. With the ratio goes the count of retransmits it rests on (rules want several: one
    /// timeout retransmits a burst). Under 100 segments sent the ratio is absent.
    static func unexplainedLoss(_ steps: [[String: Double]]) -> [String: Double] {
        // A host 90% busy is itself an overflowing queue: the kernel's per-CPU backlog of received
        // packets (netdev_max_backlog) drops what softirq processing cannot keep up with.
        let calm = steps.filter {
            ($0[Metric.serverListenOverflows] ?? 0) < 1 && ($0[Metric.proxyListenOverflows] ?? 0) < 1 && ($0[Metric.proxySaturated] ?? 0) == 0
                && ($0[Metric.hostBusyFraction] ?? 0) < 0.9
        }
        var m: [String: Double] = [:]
        for (name, retransmitted, sent) in [("server", Metric.serverRetransmittedSegments, Metric.serverOutSegments),
                                            ("proxy", Metric.proxyRetransmittedSegments, Metric.proxyOutSegments),
                                            ("client", Metric.clientTcpRetransmits, Metric.clientTcpSegmentsOut)] {
            let lost = calm.reduce(0) { $0 + ($1[retransmitted] ?? 0) }
            let out = calm.reduce(0) { $0 + ($1[sent] ?? 0) }
            if out >= 100 {
                m["network.\(name)_unexplained_retransmit_ratio"] = lost / out
                m["network.\(name)_unexplained_retransmits"] = lost
            }
        }
        m[Metric.networkCalmSteps] = Double(calm.count)
        return m
    }

    /// The rate that brackets an open-loop step from below: the highest rate of another open-loop
    /// step that met the objective, when it lies no more than the ramp's resolution
    /// (``DiagnosisProbe/kneeResolution``) below this one. The knee then lies at or above it
    /// whatever this step's verdict, so that verdict moves the knee by at most one bisection of
    /// the ramp. Nil when nothing brackets the step (a lone stated-rate step never is).
    static func bracketingRate(_ step: StepResult, in steps: [StepResult], sloP99Milliseconds: Double) -> Double? {
        guard step.mode == "open", let rate = step.targetRate, rate > 0 else { return nil }
        let below = steps.compactMap { other -> Double? in
            guard other.mode == "open", let r = other.targetRate, r < rate,
                  meetsObjective(other, sloP99Milliseconds: sloP99Milliseconds) else { return nil }
            return r
        }.max()
        guard let below, rate <= below * DiagnosisProbe.kneeResolution else { return nil }
        return below
    }

    /// Whether a step is the one-connection reference of a run rather than one of its loads: the
    /// step named `baseline`, or a closed loop at one connection in a run that also has open-loop
    /// steps (a playbook's baseline under another name), when other steps exist.
    static func isReference(_ step: StepResult, in steps: [StepResult]) -> Bool {
        guard steps.count > 1 else { return false }
        if step.name == baselineStepName { return true }
        return step.mode == "closed" && step.concurrency == 1 && steps.contains { $0.mode == "open" }
    }

    /// Whether the service was busy enough at a step that the queue in front of it waits for
    /// it: it used half or more of the cores it could get (``serviceAvailableCores(_:serviceOnThisHost:)``).
    /// At utilisation ρ a queue's mean wait is ρ/(1−ρ) service times (M/M/1), so from ρ = 0.5 a
    /// request waits on average as long as the service works on it, and the p99 wait several
    /// times that: a service whose SLO is a few times its own work breaks it there, long before
    /// its CPU is full. A host made busy by the generator or a proxy, with cores the service
    /// leaves idle, does not count.
    static func serviceCPUBusy(_ m: [String: Double], serviceOnThisHost: Bool) -> Bool? {
        guard let available = serviceAvailableCores(m, serviceOnThisHost: serviceOnThisHost), available > 0,
              let used = m[Metric.serverCpuCores] else { return nil }
        return used >= 0.5 * available
    }

    /// Whether a sampled proxy ran out of CPU at a step: its cgroup throttled in a fifth of the
    /// periods (each throttle stalls it for the rest of the period), or its busiest process — an
    /// nginx worker is single-threaded — at 90% of a core. 0 when no proxy was sampled: then no
    /// proxy is known to be saturated.
    static func proxySaturated(_ m: [String: Double]) -> Bool {
        if let throttled = m[Metric.proxyThrottledRatio], throttled >= 0.2 { return true }
        if let busiest = m[Metric.proxyBusiestProcessCores], busiest >= 0.9 { return true }
        return false
    }

    /// How the time outside the service's phases grows with the bytes sent, at the least loaded
    /// step (no queue): a link's transfer time is bytes over its rate, so the slope (ms per MB)
    /// gives the rate the path delivered to one connection, `fit.link_mbps`. `fit.transfer_share`
    /// is the part of the mean service time the slope accounts for.
    static func transferScaling(_ points: [(step: Int, size: Double, ms: Double)],
                                service: [(step: Int, size: Double, ms: Double)]) -> [String: Double] {
        let fitted = RequestAggregates.fitPoints(points)
        guard fitted.count >= 2, let fit = LinearFit.leastSquares(fitted) else { return [:] }
        var m = [Metric.fitTransferMsPerMb: fit.slope, Metric.fitTransferVsBytesR2: fit.r2]
        if fit.slope > 0 { m[Metric.fitLinkMbps] = 8000 / fit.slope }
        let serviceFitted = RequestAggregates.fitPoints(service)
        let meanService = serviceFitted.reduce(0) { $0 + $1.y } / Double(max(1, serviceFitted.count))
        let meanSize = fitted.reduce(0) { $0 + $1.x } / Double(fitted.count)
        if meanService > 0 { m[Metric.fitTransferShare] = min(1, max(0, fit.slope * meanSize) / meanService) }
        return m
    }

    /// The attribution segments of a step as shares of its latency: the mean request's
    /// (``RunReportTimeBreakdown``, so they agree with the report's bars) and the tail's — the
    /// requests at or above the step's p99. The tail's network and proxy time cannot be told
    /// apart without per-request wire data, so it stays in `outside` (or `unknown`).
    static func attributionShares(step: StepResult, aggregate: RequestAggregates.Step?, wire: WireAttribution.Step?) -> [String: Double] {
        guard let aggregate, aggregate.ok > 0 else { return [:] }
        var m: [String: Double] = [:]
        let mean = RunReportTimeBreakdown(step: step, aggregate: aggregate, wire: wire)
        let parts: [(String, Double)] = [("generator", mean.generator), ("network", mean.network), ("proxy", mean.proxy),
                                         ("queue", mean.serverQueue), ("preprocess", mean.preprocessing), ("model", mean.model),
                                         ("postprocess", mean.postprocessing), ("outside", mean.outsideService), ("unknown", mean.unknown)]
        // Over the sum of the parts as shown (a negative remainder — phases longer than the service
        // time the client saw — counts as 0), so the shares add up to 1.
        let total = parts.reduce(0) { $0 + max(0, $1.1) }
        if total > 0 {
            for (name, value) in parts { m["attribution.\(name)_share"] = max(0, value) / total }
        }
        let tail = aggregate.tail
        if tail.count > 0, tail.latencySumMs > 0 {
            func share(_ value: Double) -> Double { max(0, value) / tail.latencySumMs }
            m[Metric.attributionGeneratorP99Share] = share(tail.generatorSumMs)
            let phases: [(String, ServerTimingSegments.Segment)] = [("queue", .queue), ("preprocess", .preprocess), ("model", .model), ("postprocess", .postprocess)]
            var phaseSum = 0.0
            for (name, segment) in phases {
                let value = tail.segmentSumMs[segment] ?? 0
                phaseSum += value
                m["attribution.\(name)_p99_share"] = share(value)
            }
            m[Metric.attributionOutsideP99Share] = tail.withTiming > 0 ? share(tail.serviceSumMs - phaseSum) : 0
            m[Metric.attributionUnknownP99Share] = tail.withTiming > 0 ? 0 : share(tail.serviceSumMs)
        }
        return m
    }

    /// How service time scales with input size (pixels for images, else bytes), on the points a
    /// size fit uses (the least-loaded step's): the evidence that tells a fixed-cost model from
    /// size-bound preprocessing when no response carries Server-Timing.
    ///
    /// `fit.service_size_ms` is the slope times the mean input size — the part of the mean service
    /// time that grows with size — and `fit.service_fixed_ms` the intercept; `fit.size_scaled_share`
    /// their ratio to the mean (0 when the slope is negative). Empty when fewer than two distinct
    /// sizes or no positive service time.
    static func sizeScaling(_ points: [(step: Int, size: Double, ms: Double)]) -> [String: Double] {
        let fitted = RequestAggregates.fitPoints(points)
        guard let fit = LinearFit.leastSquares(fitted), let low = fitted.map(\.x).min(), let high = fitted.map(\.x).max(), low > 0 else { return [:] }
        let meanSize = fitted.reduce(0) { $0 + $1.x } / Double(fitted.count)
        let meanService = fitted.reduce(0) { $0 + $1.y } / Double(fitted.count)
        guard meanService > 0 else { return [:] }
        let sized = max(0, fit.slope * meanSize)
        return [Metric.fitServiceVsSizeR2: fit.r2, Metric.fitSizeRangeRatio: high / low, Metric.fitServiceMeanMs: meanService,
                Metric.fitServiceSizeMs: min(sized, meanService), Metric.fitServiceFixedMs: max(0, meanService - sized),
                Metric.fitSizeScaledShare: min(1, sized / meanService)]
    }

    /// The run's first step through the proxy against the same step straight to the backend
    /// (`bypass/`, written by `--backend`); nil unless both ran the same load. The medians are
    /// compared only when each step has `bypassMedianSampleFloor` answers or more.
    static func bypassComparison(_ bypass: RunSummary?, summary: RunSummary) -> BypassComparison? {
        guard let bypass,
              let direct = bypass.steps.first, direct.latency.count > 0,
              let through = summary.steps.first, through.latency.count > 0,
              through.mode == direct.mode, through.concurrency == direct.concurrency, through.targetRate == direct.targetRate else { return nil }
        let attempted = Double(max(1, direct.completed + direct.errors.filter { !$0.key.hasPrefix("http") }.values.reduce(0, +)))
        let typical = min(through.latency.count, direct.latency.count) >= bypassMedianSampleFloor
        return BypassComparison(
            throughP50: typical ? through.latency.p50 : nil, backendP50: typical ? direct.latency.p50 : nil,
            backendConnectionsPerRequest: Double(direct.connectionsOpened) / attempted)
    }

    /// The fewest answers per step whose medians are compared. The distribution-free 95% interval
    /// of a median of n samples spans the ranks n/2 ± √n; from 16 samples on it stays inside the
    /// middle half, so the median is a typical request even when a quarter of them stalled (a worker
    /// timeout, a GC pause). Below that, one stalled request moves "the median" onto the tail and the
    /// difference between the two steps is noise, not the proxy.
    static let bypassMedianSampleFloor: UInt64 = 16

    struct BypassComparison {
        var throughP50: Double?
        var backendP50: Double?
        var backendConnectionsPerRequest: Double
    }
}

/// The port of a run's target URL, for telling the capture's front leg from the back leg.
enum TargetURLPort {
    static func parse(_ target: String) -> UInt16? {
        guard let url = URL(string: target) else { return nil }
        if let port = url.port { return UInt16(exactly: port) }
        return url.scheme == "https" || url.scheme == "grpcs" ? 443 : 80
    }

    static func isTLS(_ target: String) -> Bool { target.lowercased().hasPrefix("https://") || target.lowercased().hasPrefix("grpcs://") }
}

/// The parts of `capture-summary.json` (written by the capture module) the analysis reads.
struct CaptureSummaryFile: Decodable {
    struct Duration: Decodable { var mean: Double; var p50: UInt64 }
    struct Leg: Decodable {
        var port: UInt16
        var serverTime: Duration?
        var handshakeRTT: Duration?
        var dataSegments: UInt64
        var retransmissions: UInt64
    }
    struct Interface: Decodable { var legs: [Leg] }
    /// The front leg (client → proxy) joined to the back leg (proxy → service), per request.
    struct LegJoin: Decodable {
        struct ProxyTime: Decodable { var count: Int; var mean: Double; var p99: UInt64 }
        var frontPort: UInt16
        var backPorts: [UInt16]
        var proxyTime: ProxyTime?
    }
    var interfaces: [Interface]
    var legJoin: LegJoin?

}
