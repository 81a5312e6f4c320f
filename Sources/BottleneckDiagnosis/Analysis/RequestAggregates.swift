import Foundation
import BottleneckRun
import BottleneckCore
import BottleneckLoad

/// Per-step sums over `requests.csv`: what the Server-Timing phases add up to, how
/// latency relates to input size. One pass over the file, constant memory per step
/// (plus a bounded sample of points for the size fits).
package struct RequestAggregates {
    package struct Step {
        package var ok = 0
        package var serviceSumMs = 0.0
        package var withTiming = 0
        package var segmentSumMs: [ServerTimingSegments.Segment: Double] = [:]
        package var payloadBytesSum = 0.0
        package var pixelsSum = 0.0
        /// Bytes the generator wrote and read on the wire (headers and bodies) for the successful requests.
        package var bytesOutSum = 0.0
        package var bytesInSum = 0.0
        /// The same sums over the step's tail: the requests whose latency reached the step's p99.
        package var tail = Tail()
    }

    /// Where the slowest requests' time went: sums over the requests at or above a step's p99.
    package struct Tail {
        package var count = 0
        package var latencySumMs = 0.0
        /// Latency − service time: schedule lag and connection wait, the generator's own time.
        package var generatorSumMs = 0.0
        package var serviceSumMs = 0.0
        package var withTiming = 0
        package var segmentSumMs: [ServerTimingSegments.Segment: Double] = [:]
    }

    /// One successful request with a payload, as the size fits and the payload scatter see it.
    package struct PayloadPoint {
        package var step: Int
        package var bytes: Double
        /// 0 when the payload is not an image.
        package var pixels: Double
        /// From the intended send time (what the user waited).
        package var latencyMs: Double
        /// From the actual send (what the service and the network took).
        package var serviceMs: Double
        /// The sum of the response's Server-Timing phases; nil when it carried none.
        package var serverMs: Double?
        package var preprocessMs: Double
    }

    /// A request that failed: a transport error, or a 5xx status.
    package struct FailedRequest: Sendable, Equatable {
        package var step: Int
        /// When it was sent and when it ended (the error noticed, or the 5xx's last byte), ns.
        package var sentNanoseconds: UInt64
        package var endNanoseconds: UInt64
        /// 0 when no response arrived.
        package var status: Int
        /// `RequestErrorKind.label`; empty for a 5xx response.
        package var error: String
        package var payloadBytes: Double
        package var pixels: Double
    }

    package var steps: [Int: Step] = [:]
    /// Every failed request, in file order (at most `failureLimit`): what `FailureAccount`
    /// explains, one by one.
    package var failures: [FailedRequest] = []
    package static let failureLimit = 100_000
    /// The service times of the successful requests by step, ms, in file order (at most
    /// `failureLimit` in all): what a healthy request takes, against which a request killed
    /// with its worker is judged.
    package var successServiceMs: [Int: [Double]] = [:]
    private var successCount = 0
    /// The largest input a request succeeded with: pixels (images) and bytes.
    package var largestSuccessPixels = 0.0
    package var largestSuccessBytes = 0.0
    /// The distinct input sizes that succeeded (pixels, bytes): a payload pool is small, so this is too.
    package var successSizes = Set<InputSize>()

    package struct InputSize: Hashable, Sendable {
        package var pixels: Double
        package var bytes: Double
    }
    /// Server-Timing metric names (with a duration) that map to no segment, e.g. `featurize`:
    /// the diagnosis tells the user to map them with `--phase`. At most 16 are kept.
    package var unmappedPhaseNames: Set<String> = []
    /// The first `pointLimit` requests with a payload, in file order (every step's, the first step first).
    package var payloadPoints: [PayloadPoint] = []
    package static let pointLimit = 50_000

    /// (step, payload bytes, time outside the service's phases in ms) of every payload point: the
    /// transfer and whatever else is not the service's own work (its whole service time when the
    /// response carried no Server-Timing).
    package var transferPoints: [(step: Int, size: Double, ms: Double)] {
        payloadPoints.map { ($0.step, $0.bytes, max(0, $0.serviceMs - ($0.serverMs ?? 0))) }
    }
    /// (step, payload bytes, service ms) of every payload point.
    package var sizePoints: [(step: Int, size: Double, ms: Double)] { payloadPoints.map { ($0.step, $0.bytes, $0.serviceMs) } }
    /// (step, pixels, preprocess ms) of the image requests whose response carried Server-Timing.
    package var pixelPoints: [(step: Int, size: Double, ms: Double)] {
        payloadPoints.filter { $0.pixels > 0 && $0.serverMs != nil }.map { ($0.step, $0.pixels, $0.preprocessMs) }
    }
    /// (step, input size, service ms): pixels when the payloads are images, else bytes — the size a
    /// service's preprocessing work grows with, for telling it from a fixed-cost model without Server-Timing.
    package var inputSizePoints: [(step: Int, size: Double, ms: Double)] {
        let images = payloadPoints.filter { $0.pixels > 0 }
        return images.count * 2 >= payloadPoints.count && !images.isEmpty
            ? images.map { ($0.step, $0.pixels, $0.serviceMs) }
            : payloadPoints.map { ($0.step, $0.bytes, $0.serviceMs) }
    }

    /// The points a size fit should use: the first step's when it has enough of them — the least
    /// loaded, so queueing does not blur how time grows with size — else every step's.
    package static func fitPoints(_ points: [(step: Int, size: Double, ms: Double)]) -> [(x: Double, y: Double)] {
        let first = points.filter { $0.step == 0 }
        let chosen = first.count >= minimumFitPoints ? first : points
        return chosen.map { (x: $0.size / 1e6, y: $0.ms) }
    }
    package static let minimumFitPoints = 20
    /// Server-Timing names that are the whole, not a phase: never reported as unmapped.
    package static let totals: Set<String> = ["total", "app", "server", "request", "response", "cdn-cache", "edge", "origin"]

    /// One pass over `requests.csv`. `tailThresholdsMs` (step → its p99 latency) selects the
    /// requests whose sums also go to the step's ``Tail``. The file comes through the run's record.
    package static func read(record: RunRecord, segments: ServerTimingSegments, tailThresholdsMs: [Int: Double] = [:]) throws -> RequestAggregates {
        guard let data = record.data(.requests) else {
            throw AnalysisError("cannot read \(RunFile.requests.path(in: record.directory)); is this a run directory written by bottleneck load?")
        }
        return read(data: data, segments: segments, tailThresholdsMs: tailThresholdsMs)
    }

    private static func read(data: Data, segments: ServerTimingSegments, tailThresholdsMs: [Int: Double]) -> RequestAggregates {
        var result = RequestAggregates()
        var columns: [String: Int] = [:]
        var first = true
        data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            var lineStart = 0
            for i in 0...bytes.count {
                guard i == bytes.count || bytes[i] == 0x0A else { continue }
                defer { lineStart = i + 1 }
                guard i > lineStart else { continue }
                let line = String(decoding: UnsafeBufferPointer(rebasing: bytes[lineStart..<i]), as: UTF8.self)
                let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                if first {
                    for (index, name) in fields.enumerated() { columns[String(name)] = index }
                    first = false
                    continue
                }
                result.add(fields, columns: columns, segments: segments, tailThresholdsMs: tailThresholdsMs)
            }
        }
        return result
    }

    private mutating func add(_ fields: [Substring], columns: [String: Int], segments: ServerTimingSegments,
                              tailThresholdsMs: [Int: Double]) {
        func field(_ name: String) -> Substring? {
            guard let index = columns[name], index < fields.count else { return nil }
            return fields[index]
        }
        guard let stepText = field("step"), let step = Int(stepText), step >= 0 else { return }
        let status = field("status").flatMap { Int($0) } ?? 0
        let error = field("error") ?? ""
        if !error.isEmpty || status >= 500 {
            // Never sent (no connection): it waited from its intended time.
            let sentOrIntended = field("sent_ns").flatMap { UInt64($0) }.flatMap { $0 > 0 ? $0 : nil }
                ?? field("intended_ns").flatMap { UInt64($0) }
            if failures.count < Self.failureLimit, let sent = sentOrIntended, let end = field("last_byte_ns").flatMap({ UInt64($0) }) {
                failures.append(FailedRequest(step: step, sentNanoseconds: sent, endNanoseconds: max(sent, end), status: status,
                                              error: String(error), payloadBytes: field("payload_bytes").flatMap { Double($0) } ?? 0,
                                              pixels: field("pixels").flatMap { Double($0) } ?? 0))
            }
            // A 5xx is the service (or a proxy) failing, not a measure of its work.
            return
        }
        guard let service = field("service_us").flatMap({ Double($0) }) else { return }
        let latencyMs = (field("latency_us").flatMap { Double($0) } ?? service) / 1000
        var entry = steps[step] ?? Step()
        entry.ok += 1
        let serviceMs = service / 1000
        if successCount < Self.failureLimit {
            successServiceMs[step, default: []].append(serviceMs)
            successCount += 1
        }
        entry.serviceSumMs += serviceMs
        let bytes = field("payload_bytes").flatMap { Double($0) } ?? 0
        let pixels = field("pixels").flatMap { Double($0) } ?? 0
        entry.payloadBytesSum += bytes
        entry.pixelsSum += pixels
        largestSuccessPixels = max(largestSuccessPixels, pixels)
        largestSuccessBytes = max(largestSuccessBytes, bytes)
        if successSizes.count < 4096 { successSizes.insert(InputSize(pixels: pixels, bytes: bytes)) }
        entry.bytesOutSum += field("bytes_out").flatMap { Double($0) } ?? 0
        entry.bytesInSum += field("bytes_in").flatMap { Double($0) } ?? 0
        var preprocess = 0.0
        var server: Double?
        let inTail = tailThresholdsMs[step].map { latencyMs >= $0 } ?? false
        if inTail {
            entry.tail.count += 1
            entry.tail.latencySumMs += latencyMs
            entry.tail.generatorSumMs += max(0, latencyMs - serviceMs)
            entry.tail.serviceSumMs += serviceMs
        }
        if segments.readsServerTiming, let timing = field("server_timing"), !timing.isEmpty {
            // A response counts as timed only when at least one of its metrics maps to a segment
            // (`total` or `db` alone name no phase): otherwise its service time stays unknown.
            for metric in ServerTiming.parseCompact(timing) {
                guard let duration = metric.duration else { continue }
                guard let segment = segments.segment(for: metric.name) else {
                    if unmappedPhaseNames.count < 16 && !Self.totals.contains(metric.name.lowercased()) { unmappedPhaseNames.insert(String(metric.name)) }
                    continue
                }
                entry.segmentSumMs[segment, default: 0] += duration
                if inTail { entry.tail.segmentSumMs[segment, default: 0] += duration }
                server = (server ?? 0) + duration
                if segment == .preprocess { preprocess += duration }
            }
            if server != nil {
                entry.withTiming += 1
                if inTail { entry.tail.withTiming += 1 }
            }
        }
        steps[step] = entry
        if bytes > 0 && payloadPoints.count < Self.pointLimit {
            payloadPoints.append(PayloadPoint(step: step, bytes: bytes, pixels: pixels, latencyMs: latencyMs, serviceMs: serviceMs,
                                              serverMs: server, preprocessMs: preprocess))
        }
    }
}

/// The run directory cannot be analysed (missing or unreadable files).
public struct AnalysisError: UserFacingError {
    public let message: String
    public init(_ message: String) { self.message = message }
}
