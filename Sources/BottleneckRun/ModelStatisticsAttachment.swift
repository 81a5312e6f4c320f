import BottleneckCore
import BottleneckLoad
import Synchronization

/// Reads a KServe v2 / Triton server's model statistics as each step starts and after the last,
/// and writes each step's phases per inference to `model-statistics.json`: the server's own
/// account of queue, input preparation, model and output, where it sends no Server-Timing.
public final class ModelStatisticsAttachment: RunAttachment {
    public let name = "model statistics"
    let source: ModelStatisticsSource
    private struct State {
        var snapshots: [(index: Int, fetch: Task<ModelStatisticsSnapshot?, Never>)] = []
        var steps: [ModelStatisticsRecord.Step] = []
        var failure: String?
    }
    private let state = Mutex(State())

    public init(source: ModelStatisticsSource) {
        self.source = source
    }

    public func start(directory: RunDirectory) throws -> [String] { [] }

    public func stepStarted(index: Int, name: String, at: UInt64) {
        let source = source
        let fetch = Task { () -> ModelStatisticsSnapshot? in
            do { return try await source.fetch() } catch {
                return nil
            }
        }
        state.withLock { $0.snapshots.append((index, fetch)) }
    }

    public func finish() async {
        let snapshots = state.withLock { $0.snapshots }
        var values: [(index: Int, snapshot: ModelStatisticsSnapshot?)] = []
        for entry in snapshots { values.append((entry.index, await entry.fetch.value)) }
        var final: ModelStatisticsSnapshot?
        var failure: String?
        do { final = try await source.fetch() } catch { failure = "\(error)" }
        var steps: [ModelStatisticsRecord.Step] = []
        for (position, entry) in values.enumerated() {
            let next = position + 1 < values.count ? values[position + 1].snapshot : final
            guard let start = entry.snapshot, let end = next else { continue }
            let delta = end.since(start)
            let n = Double(max(delta.inferences, 1))
            func ms(_ ns: UInt64) -> Double { (Double(ns) / n / 1e3).rounded() / 1e3 }
            steps.append(.init(index: entry.index, inferences: delta.inferences, queueMs: ms(delta.queueNs),
                               computeInputMs: ms(delta.computeInputNs), computeInferMs: ms(delta.computeInferNs),
                               computeOutputMs: ms(delta.computeOutputNs)))
        }
        state.withLock {
            $0.steps = steps
            $0.failure = failure
        }
    }

    public func stop(directory: RunDirectory) -> [String] {
        let (steps, failure) = state.withLock { ($0.steps, $0.failure) }
        guard !steps.isEmpty else {
            return ["model statistics: none read from \(source.description) (\(failure ?? "no answer")); the server's phases are unknown without Server-Timing"]
        }
        do {
            try directory.write(ModelStatisticsRecord(source: source.description, model: source.model, steps: steps),
                                to: RunFile.modelStatistics.rawValue)
        } catch {
            return ["model statistics: could not write \(RunFile.modelStatistics.rawValue): \(error)"]
        }
        return []
    }
}
