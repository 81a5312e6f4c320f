import Synchronization

/// Runs a `SamplingSession` beside the load: the generator always samples itself, and the
/// server too when `--server-pid` or `--server-port` names it. Writes `samples.jsonl`;
/// the per-step aggregates go into `summary.json` under `sampling`.
public final class SamplingAttachment: RunAttachment {
    public let name = "sampling"
    public let configuration: SamplerConfiguration
    private let session = Mutex<SamplingSession?>(nil)
    private let result = Mutex<SamplingSummary?>(nil)

    public init(configuration: SamplerConfiguration) {
        self.configuration = configuration
    }

    public func start(directory: RunDirectory) throws -> [String] {
        let session = try SamplingSession(configuration: configuration, outputPath: directory.file("samples.jsonl"),
                                          now: MonotonicClock.now)
        session.start()
        self.session.withLock { $0 = session }
        if configuration.serverPIDs.isEmpty && configuration.serverPorts.isEmpty {
            return ["sampling: the generator only; pass --server-port PORT or --server-pid PID to sample the server's CPU, memory and sockets too"]
        }
        return []
    }

    public func stepStarted(index: Int, name: String, at: UInt64) {
        session.withLock { $0 }?.markStep(index, name: name)
    }

    public func stop(directory: RunDirectory) -> [String] {
        guard let session = session.withLock({ current -> SamplingSession? in
            let taken = current
            current = nil
            return taken
        }) else { return [] }
        let summary = session.stop()
        result.withLock { $0 = summary }
        if let error = summary.writeError { return ["sampling: samples.jsonl is incomplete: \(error)"] }
        return []
    }

    /// The per-step aggregates, once stopped.
    public var summary: SamplingSummary? { result.withLock { $0 } }
}
