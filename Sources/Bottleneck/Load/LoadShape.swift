/// How arrivals are spaced in an open-loop step.
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

    public init(name: String, shape: LoadShape, duration: UInt64) {
        self.name = name
        self.shape = shape
        self.duration = duration
    }
}

func formatRate(_ rate: Double) -> String {
    rate == rate.rounded() && rate < 1e15 ? String(Int(rate)) : String(format2: rate)
}

extension String {
    /// A double with at most 2 decimals and no trailing zeros, without Foundation.
    init(format2 value: Double) {
        guard value.isFinite else { self = String(value); return }
        let scaled = (value * 100).rounded()
        let whole = Int(scaled / 100)
        let frac = Int(abs(scaled).truncatingRemainder(dividingBy: 100))
        if frac == 0 { self = String(whole); return }
        let sign = (value < 0 && whole == 0) ? "-" : ""
        var fracText = frac < 10 ? "0\(frac)" : String(frac)
        if fracText.hasSuffix("0") { fracText.removeLast() }
        self = "\(sign)\(whole).\(fracText)"
    }
}
