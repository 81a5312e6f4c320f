import Synchronization
import BottleneckCore

/// Runs a `SamplingSession` beside the load: the generator always samples itself, and the
/// server too when `--server-pid` or `--server-port` names it. Writes `samples.jsonl`;
/// the per-step aggregates go into `summary.json` under `sampling`.
///
/// A second attachment with `role: .proxy` samples a reverse proxy in front of the service
/// (`--proxy-pid`, `--proxy-port`) on its own, so its CPU, throttling and sockets are told
/// apart from the service's: `samples-proxy.jsonl`, `summary.json` under `proxySampling`.
public final class SamplingAttachment: RunAttachment {
    /// Which part of the system the "server" processes of this session are.
    public enum Role: String, Sendable {
        case service, proxy
    }

    public let name: String
    public let role: Role
    public let configuration: SamplerConfiguration
    private let session = Mutex<SamplingSession?>(nil)
    private let result = Mutex<SamplingSummary?>(nil)

    public init(configuration: SamplerConfiguration, role: Role = .service) {
        var configuration = configuration
        if role == .proxy { configuration.sampleSelf = false }
        self.configuration = configuration
        self.role = role
        self.name = role == .proxy ? "proxy sampling" : "sampling"
    }

    public func start(directory: RunDirectory) throws -> [String] {
        let file = (role == .proxy ? RunFile.proxySamples : RunFile.samples).rawValue
        let session = try SamplingSession(configuration: configuration, outputPath: directory.file(file),
                                          now: MonotonicClock.now)
        session.start()
        self.session.withLock { $0 = session }
        if role == .service && configuration.serverPIDs.isEmpty && configuration.serverPorts.isEmpty {
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
