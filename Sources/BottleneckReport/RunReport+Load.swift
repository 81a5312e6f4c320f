import Foundation
import BottleneckCore
import BottleneckRun
import BottleneckDiagnosis
import Histogram

extension RunReport {
    /// At most this many points are drawn in the payload scatter: enough to see the shape,
    /// few enough that the HTML stays small (the fit uses the requests of the diagnosis's size
    /// fit: the first step's when it has 20 or more, else every step's).
    public static let scatterPointLimit = 1500
    /// Server processes drawn one by one in the CPU chart (the busiest); the rest are in the "server" total.
    static let serverProcessLimit = 3
    /// The percentiles the distribution table lists.
    static let keyPercentiles: [Double] = [50, 90, 99, 99.9, 99.99]

    /// How the report gets its diagnosis.
    public enum DiagnosisSource: Sendable {
        /// The one the command just made and printed (it has recorded it too).
        case made(DiagnosisResult, RunEvidence)
        /// `diagnosis.json` in the run directory, as the run's command recorded it; evaluated
        /// with the default rules at `sloP99Milliseconds` when the run has none (`load` writes none).
        case recorded(sloP99Milliseconds: Double)
        /// Evaluated again now, with `rules` (the default rules when nil): the report says so.
        case reevaluated(rules: [Rule]?, rulesDescription: String, sloP99Milliseconds: Double)
    }

    /// Reads a run directory and the diagnosis `source` names.
    ///
    /// - Throws: ``AnalysisError`` (exit 2) when the directory is not a readable run directory.
    public static func load(directory: String, diagnosis source: DiagnosisSource = .recorded(sloP99Milliseconds: 300),
                            segments: ServerTimingSegments = .defaults) throws -> RunReportData {
        let record = try RunRecord(directory: directory)
        // One read of summary.json, requests.csv and the capture: the evidence's, which the charts share.
        let evidence: RunEvidence
        let diagnosis: DiagnosisResult
        var diagnosisNote: String?
        switch source {
        case .made(let made, let madeEvidence):
            evidence = madeEvidence
            diagnosis = made
        case .recorded(let sloP99Milliseconds):
            if let recorded = try DiagnosisResult.recorded(in: record) {
                evidence = try RunEvidence.load(record: record, sloP99Milliseconds: recorded.sloP99Ms, segments: segments)
                diagnosis = recorded
            } else {
                evidence = try RunEvidence.load(record: record, sloP99Milliseconds: sloP99Milliseconds, segments: segments)
                diagnosis = DiagnosisResult.evaluate(evidence: evidence, rules: try DefaultRules.load(catalog: EvidenceCatalog.catalog))
                diagnosisNote = "Diagnosed now with the default rules: the run directory holds no \(DiagnosisResult.fileName)."
            }
        case .reevaluated(let rules, let rulesDescription, let sloP99Milliseconds):
            evidence = try RunEvidence.load(record: record, sloP99Milliseconds: sloP99Milliseconds, segments: segments)
            diagnosis = DiagnosisResult.evaluate(evidence: evidence, rules: try rules ?? DefaultRules.load(catalog: EvidenceCatalog.catalog))
            diagnosisNote = "Diagnosed again now with \(rulesDescription) and p99 ≤ \(formatRate(sloP99Milliseconds)) ms, not read from \(DiagnosisResult.fileName)."
        }
        let summary = evidence.summary
        let run = evidence.record.description
        let requests = evidence.requests
        let wire = evidence.wire
        let breakdown = summary.steps.map {
            RunReportTimeBreakdown(step: $0, aggregate: requests.steps[$0.index], wire: wire?.steps[$0.index])
        }
        let samples = evidence.record.data(.samples)
        let usage = samples.map { sampledUsage(samples: $0, startNs: run?.monotonicStartNs, stepNames: summary.steps.map(\.name)) }
        let cpu = usage?.cpu ?? RunReportData.CPUUsage(series: [], stepStarts: [], allowedCores: nil)
        var cpuWithLimit = cpu
        cpuWithLimit.allowedCores = run?.host.allowedCores ?? summary.steps.first?.allowedCores
        let hlog = evidence.record.data(.latencyLog).map { String(decoding: $0, as: UTF8.self) }
        let distributions = try hlog.map { try Self.distributions(hlog: $0, stepNames: summary.steps.map(\.name)) } ?? []
        return RunReportData(directory: directory, run: run, summary: summary, diagnosis: diagnosis, diagnosisNote: diagnosisNote, breakdown: breakdown,
                             cpu: cpuWithLimit, sampled: usage?.sampled ?? RunReportData.SampledSeries(),
                             payload: payloadScatter(requests.payloadPoints), distributions: distributions,
                             capacity: try CapacityReport.recorded(in: evidence.record))
    }

    /// Latency, service and server time against payload size, or nil when sizes do not vary by at
    /// least 10% (a flat cloud over one size says nothing about cost per byte).
    static func payloadScatter(_ points: [RequestAggregates.PayloadPoint]) -> RunReportData.PayloadScatter? {
        guard let low = points.map(\.bytes).min(), let high = points.map(\.bytes).max(), low > 0, high > low * 1.1 else { return nil }
        let stride = max(1, (points.count + scatterPointLimit - 1) / scatterPointLimit)
        let drawn = Swift.stride(from: 0, to: points.count, by: stride).map { points[$0] }
        // The same requests as the diagnosis's size fit (RequestAggregates.fitPoints), in KiB rather than MB.
        let fitted = RequestAggregates.fitPoints(points.map { ($0.step, $0.bytes, $0.serviceMs) }).map { (x: $0.x * 1e6 / 1024, y: $0.y) }
        return RunReportData.PayloadScatter(
            points: drawn.map { ChartPoint(x: $0.bytes / 1024, y: $0.serviceMs) },
            latency: drawn.map { ChartPoint(x: $0.bytes / 1024, y: $0.latencyMs) },
            serverTime: drawn.compactMap { p in p.serverMs.map { ChartPoint(x: p.bytes / 1024, y: $0) } },
            fit: LinearFit.leastSquares(fitted), requests: fitted.count, total: points.count)
    }

    /// Merges each step's `Tag=step-N` intervals and reads percentiles at even steps of
    /// log10(1/(1 − p)), eight per "nine", up to the resolution the step's count supports.
    /// `package` for the fuzzer's hlog target (fuzz/README.md).
    package static func distributions(hlog: String, stepNames: [String]) throws -> [RunReportData.Distribution] {
        var merged: [Int: Histogram<UInt64>] = [:]
        for line in hlog.split(whereSeparator: \.isNewline) {
            guard line.hasPrefix("Tag=step-") else { continue }
            let fields = line.split(separator: ",")
            guard fields.count >= 5, let step = Int(fields[0].dropFirst("Tag=step-".count)) else { continue }
            let histogram: Histogram<UInt64>
            do {
                histogram = try HdrHistogramEncoding.decodeCompressedBase64(fields[4])
            } catch {
                throw AnalysisError("latency.hlog: a step-\(step) interval does not decode (\(error)); was it written by bottleneck?")
            }
            if merged[step] == nil { merged[step] = histogram } else { merged[step]!.add(histogram) }
        }
        return merged.keys.sorted().compactMap { step in
            guard let histogram = merged[step], histogram.totalCount > 0 else { return nil }
            var points: [ChartPoint] = []
            var i = 0
            while true {
                let position = pow(10, Double(i) / 8)
                guard position <= Double(histogram.totalCount), i <= 48 else { break }
                let percentile = 100 * (1 - 1 / position)
                points.append(ChartPoint(x: percentile, y: Double(histogram.valueAtPercentile(percentile)) / 1e6))
                i += 1
            }
            // A percentile with less than a tenth of a request above it is just the maximum again.
            let keys = keyPercentiles.filter { Double(histogram.totalCount) * (1 - $0 / 100) >= 0.1 - 1e-9 }
                .map { ChartPoint(x: $0, y: Double(histogram.valueAtPercentile($0)) / 1e6) }
            let name = step < stepNames.count ? stepNames[step] : "step-\(step)"
            return RunReportData.Distribution(step: step, name: name, points: points, keyPercentiles: keys, count: histogram.totalCount)
        }
    }

    /// CPU cores over time from `samples.jsonl`: the generator's and the server's process
    /// trees summed per tick, plus the busiest server processes on their own; and from the same
    /// pass the trees' memory and the host's CPUs one by one.
    static func sampledUsage(samples: Data, startNs: UInt64?, stepNames: [String])
        -> (cpu: RunReportData.CPUUsage, sampled: RunReportData.SampledSeries) {
        var generator: [UInt64: Double] = [:]
        var server: [UInt64: Double] = [:]
        var generatorRSS: [UInt64: Double] = [:]
        var serverRSS: [UInt64: Double] = [:]
        var processes: [String: [(UInt64, Double)]] = [:]
        var hostBusy: [(UInt64, [Double])] = []
        var steal: [(UInt64, Double)] = []
        var stepStarts: [(UInt64, String)] = []
        var firstT: UInt64?
        // Only these records are charted; skipping the rest unparsed keeps big files fast.
        let wanted = [#"{"type":"tree""#, #"{"type":"step""#, #"{"type":"process""#, #"{"type":"header""#, #"{"type":"host""#]
            .map { Data($0.utf8) }
        for line in samples.split(separator: UInt8(ascii: "\n")) {
            let head = line.prefix(24)
            guard wanted.contains(where: { head.starts(with: $0) }),
                  let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any],
                  let type = object["type"] as? String, let t = (object["t"] as? NSNumber)?.uint64Value else { continue }
            if firstT == nil { firstT = t }
            let role = object["role"] as? String
            let cores = (object["cores"] as? NSNumber)?.doubleValue
            switch type {
            case "step":
                let index = (object["index"] as? NSNumber)?.intValue ?? stepStarts.count
                let name = object["name"] as? String ?? (index < stepNames.count ? stepNames[index] : "step \(index + 1)")
                stepStarts.append((t, name))
            case "tree":
                let rss = (object["rss_bytes"] as? NSNumber).map { $0.doubleValue / 1_048_576 }
                if role == "client" {
                    if let cores { generator[t, default: 0] += cores }
                    if let rss { generatorRSS[t, default: 0] += rss }
                } else if role == "server" {
                    if let cores { server[t, default: 0] += cores }
                    if let rss { serverRSS[t, default: 0] += rss }
                }
            case "process":
                guard role == "server", let cores, let pid = (object["pid"] as? NSNumber)?.intValue else { continue }
                processes["\(object["comm"] as? String ?? "pid") \(pid)", default: []].append((t, cores))
            case "host":
                // The first host sample of a run has no interval yet, hence no busy fractions.
                guard let perCPU = object["per_cpu_busy"] as? [NSNumber] else { continue }
                hostBusy.append((t, perCPU.map { $0.doubleValue * 100 }))
                if let stolen = (object["steal_fraction"] as? NSNumber)?.doubleValue { steal.append((t, stolen * 100)) }
            default:
                continue
            }
        }
        let base = startNs ?? firstT ?? 0
        func seconds(_ t: UInt64) -> Double {
            let s = t >= base ? Double(t - base) / 1e9 : -Double(base - t) / 1e9
            return (s * 1000).rounded() / 1000
        }
        func points(_ values: [UInt64: Double]) -> [ChartPoint] {
            values.keys.sorted().map { ChartPoint(x: seconds($0), y: values[$0]!) }
        }
        func points(_ values: [(UInt64, Double)]) -> [ChartPoint] { values.map { ChartPoint(x: seconds($0.0), y: $0.1) } }
        func mean(_ values: [(UInt64, Double)]) -> Double { values.reduce(0) { $0 + $1.1 } / Double(max(1, values.count)) }

        var series: [(name: String, points: [ChartPoint])] = []
        if !generator.isEmpty { series.append(("generator", points(generator))) }
        if !server.isEmpty { series.append(("server", points(server))) }
        if processes.count > 1 {
            let busiest = processes.sorted { (mean($0.value), $1.key) > (mean($1.value), $0.key) }.prefix(serverProcessLimit)
            for (name, values) in busiest { series.append((name, points(values))) }
        }
        var memory: [(name: String, points: [ChartPoint])] = []
        if !generatorRSS.isEmpty { memory.append(("generator", points(generatorRSS))) }
        if !serverRSS.isEmpty { memory.append(("server", points(serverRSS))) }
        return (RunReportData.CPUUsage(series: series, stepStarts: stepStarts.map { (seconds($0.0), $0.1) }, allowedCores: nil),
                RunReportData.SampledSeries(memory: memory, hostCPU: hostCPUSeries(hostBusy, steal: steal, time: seconds)))
    }

    /// Every CPU drawn on its own up to this many; beyond, the busiest `hostCPUBusiest` and the mean of all.
    static let hostCPULimit = 16
    static let hostCPUBusiest = 8

    /// The host's CPUs as busy percent over time, and the hypervisor's steal when it took any.
    static func hostCPUSeries(_ samples: [(UInt64, [Double])], steal: [(UInt64, Double)],
                              time: (UInt64) -> Double) -> [(name: String, points: [ChartPoint])] {
        let count = samples.map(\.1.count).max() ?? 0
        guard count > 0 else { return [] }
        func cpu(_ index: Int) -> [ChartPoint] {
            samples.compactMap { index < $0.1.count ? ChartPoint(x: time($0.0), y: $0.1[index]) : nil }
        }
        var result: [(name: String, points: [ChartPoint])]
        if count <= hostCPULimit {
            result = (0..<count).map { ("cpu\($0)", cpu($0)) }
        } else {
            func total(_ index: Int) -> Double { samples.reduce(0) { $0 + (index < $1.1.count ? $1.1[index] : 0) } }
            let busiest = (0..<count).sorted { (total($0), $1) > (total($1), $0) }.prefix(hostCPUBusiest).sorted()
            result = busiest.map { ("cpu\($0)", cpu($0)) }
            result.append(("all CPUs (mean)", samples.map { ChartPoint(x: time($0.0), y: $0.1.reduce(0, +) / Double(max(1, $0.1.count))) }))
        }
        if steal.contains(where: { $0.1 > 0 }) {
            result.append(("steal (all CPUs)", steal.map { ChartPoint(x: time($0.0), y: $0.1) }))
        }
        return result
    }
}
