/// How arrivals are spaced in an open-loop step.
import BottleneckCore
public enum ArrivalProcess: String, Sendable, Codable, Equatable {
    /// Evenly spaced, like wrk2: the clearest view of latency versus a fixed rate.
    case uniform
    /// Exponential gaps (a Poisson process), closer to independent users arriving.
    case poisson
}

/// The load one step applies.
public enum LoadShape: Sendable, Equatable {
    /// `concurrency` connections, each with exactly one request in flight (wrk-style).
    case closed(concurrency: Int)
    /// `rate` requests per second sent on schedule whatever the server does; latency is
    /// measured from the scheduled (intended) time, so queueing is not hidden.
    case open(rate: Double, arrivals: ArrivalProcess)

    public var isOpenLoop: Bool {
        if case .open = self { return true }
        return false
    }

    /// A short label for tables and progress lines: "200 rps" or "c=16".
    public var label: String {
        switch self {
        case .closed(let concurrency): return "c=\(concurrency)"
        case .open(let rate, _): return "\(formatRate(rate)) rps"
        }
    }
}

/// One step of a run: a shape held for a duration.
public struct LoadStep: Sendable, Equatable {
    public var name: String
    public var shape: LoadShape
    /// Nanoseconds.
    public var duration: UInt64
    /// The payload pool entries this step draws from (indices into `LoadPlan.bodies`); nil: all.
    /// A size sweep gives each step one band of sizes.
    public var payloadIndices: [Int]?

    public init(name: String, shape: LoadShape, duration: UInt64, payloadIndices: [Int]? = nil) {
        self.name = name
        self.shape = shape
        self.duration = duration
        self.payloadIndices = payloadIndices
    }
}
