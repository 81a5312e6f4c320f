import Foundation

/// Per-step sums over `requests.csv`: what the Server-Timing phases add up to, how
/// latency relates to input size. One pass over the file, constant memory per step
/// (plus a bounded sample of points for the size fits).
struct RequestAggregates {
    struct Step {
        var ok = 0
        var serviceSumMs = 0.0
        var withTiming = 0
        var segmentSumMs: [ServerTimingSegments.Segment: Double] = [:]
        var payloadBytesSum = 0.0
        var pixelsSum = 0.0
    }

    var steps: [Int: Step] = [:]
    /// (step, payload bytes, service ms) and (step, pixels, preprocess ms) points, at most `pointLimit` each.
    var sizePoints: [(step: Int, size: Double, ms: Double)] = []
    var pixelPoints: [(step: Int, size: Double, ms: Double)] = []
    static let pointLimit = 50_000

    /// The points a size fit should use: the first step's when it has enough of them — the least
    /// loaded, so queueing does not blur how time grows with size — else every step's.
    static func fitPoints(_ points: [(step: Int, size: Double, ms: Double)]) -> [(x: Double, y: Double)] {
        let first = points.filter { $0.step == 0 }
        let chosen = first.count >= minimumFitPoints ? first : points
        return chosen.map { (x: $0.size / 1e6, y: $0.ms) }
    }
    static let minimumFitPoints = 20

    static func read(path: String, segments: ServerTimingSegments) throws -> RequestAggregates {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AnalysisError("cannot read \(path); is this a run directory written by bottleneck load?")
        }
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
                result.add(fields, columns: columns, segments: segments)
            }
        }
        return result
    }

    private mutating func add(_ fields: [Substring], columns: [String: Int], segments: ServerTimingSegments) {
        func field(_ name: String) -> Substring? {
            guard let index = columns[name], index < fields.count else { return nil }
            return fields[index]
        }
        guard let stepText = field("step"), let step = Int(stepText), step >= 0 else { return }
        guard field("error")?.isEmpty ?? true, let service = field("service_us").flatMap({ Double($0) }) else { return }
        var entry = steps[step] ?? Step()
        entry.ok += 1
        let serviceMs = service / 1000
        entry.serviceSumMs += serviceMs
        let bytes = field("payload_bytes").flatMap { Double($0) } ?? 0
        let pixels = field("pixels").flatMap { Double($0) } ?? 0
        entry.payloadBytesSum += bytes
        entry.pixelsSum += pixels
        var preprocess = 0.0
        if let timing = field("server_timing"), !timing.isEmpty {
            entry.withTiming += 1
            for metric in ServerTiming.parseCompact(timing) {
                guard let duration = metric.duration, let segment = segments.segment(for: metric.name) else { continue }
                entry.segmentSumMs[segment, default: 0] += duration
                if segment == .preprocess { preprocess += duration }
            }
        }
        steps[step] = entry
        if bytes > 0 && sizePoints.count < Self.pointLimit { sizePoints.append((step, bytes, serviceMs)) }
        if pixels > 0 && pixelPoints.count < Self.pointLimit { pixelPoints.append((step, pixels, preprocess)) }
    }
}

/// The run directory cannot be analysed (missing or unreadable files).
public struct AnalysisError: UserFacingError {
    public let message: String
    public init(_ message: String) { self.message = message }
}
