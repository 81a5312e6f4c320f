import Histogram

/// Live numbers for the step in progress, reported about once a second.
public struct LoadProgress: Sendable {
    public var stepIndex: Int
    public var step: LoadStep
    /// Seconds since the step began.
    public var elapsed: Double
    public var sent: UInt64
    public var completed: UInt64
    public var errors: UInt64
    /// Completed requests per second since the step began.
    public var achievedRate: Double
    /// Latency so far in this step (ms).
    public var p50: Double
    public var p99: Double
    /// Cores the generator used in the last interval, and how many it may use.
    public var generatorCores: Double
    public var allowedCores: Double
    public var inFlight: Int
}

/// Receives the run as it happens: the terminal progress display, the run directory's
/// writers. Called from the engine's task, never from an event loop.
public protocol LoadObserver: Sendable {
    func stepStarted(index: Int, step: LoadStep)
    func progress(_ progress: LoadProgress)
    /// A latency histogram for [start, end) of `stepIndex` (monotonic ns), for the .hlog.
    func interval(stepIndex: Int, start: UInt64, end: UInt64, latency: Histogram<UInt64>)
    func stepFinished(_ result: StepResult)
}
