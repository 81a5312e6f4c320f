/// A request body from the payload pool, ready to send.
import BottleneckCore

public struct RequestBody: Sendable {
    public var bytes: [UInt8]
    public var contentType: String

    public init(bytes: [UInt8], contentType: String) {
        self.bytes = bytes
        self.contentType = contentType
    }
}

/// Everything the engine needs to run: where, what, and the steps. Built by the command
/// line or a probe spec; the engine itself makes no decisions about defaults.
public struct LoadPlan: Sendable {
    public var target: TargetURL
    public var method: String = "GET"
    public var headers: [(name: String, value: String)] = []
    /// Bodies to cycle through (chosen at random per request); empty means no body.
    public var bodies: [RequestBody] = []
    public var steps: [LoadStep]
    /// Nanoseconds of load with the first step's shape before measuring starts.
    public var warmup: UInt64 = 0
    /// Nanoseconds a request may take before it counts as a timeout.
    public var timeout: UInt64 = 30_000_000_000
    public var connectTimeout: UInt64 = 5_000_000_000
    /// False opens a new connection per request (`Connection: close`).
    public var keepAlive = true
    /// How to speak TLS when the target is https (ignored for http).
    public var tls = TLSClientSettings()
    /// HTTP/2 (`--http2`): the streams each connection carries at once (`--streams`); nil: HTTP/1.1.
    /// A closed loop of C requests in flight then uses ⌈C / streams⌉ connections.
    public var http2Streams: Int?
    /// The most connections an open-loop step may open in total.
    public var maxConnections = 1024
    public var seed: UInt64 = 1
    /// Event-loop threads; nil means the cores this process may use.
    public var threads: Int?
    /// Eight hex digits that prefix every X-Request-Id of the run.
    public var runTag: String
    /// Chooses further steps after `steps` ran, from the results so far (adaptive probes
    /// such as `diagnose`'s ramp to the knee); nil ends the run.
    public var nextStep: (@Sendable ([StepResult]) -> LoadStep?)?

    public init(target: TargetURL, steps: [LoadStep], runTag: String) {
        self.target = target
        self.steps = steps
        self.runTag = runTag
    }
}
