import BottleneckCore

/// The settings of a load run, each already parsed and checked, every one optional so a
/// probe spec and the command line can be merged (the command line wins) before the plan
/// is built. `LoadPlanBuilder` turns the merged options into a `LoadPlan`.
public struct LoadOptions: Sendable, Equatable {
    public var name: String?
    public var target: TargetURL?
    /// The steps: a rate, a list or ramp of rates, a concurrency or list of them, or
    /// explicit steps. One source (the command line or a probe spec) gives one shape.
    public var steps: RequestedSteps?
    public var arrivals: ArrivalProcess?
    /// The length of each step, in nanoseconds.
    public var duration: UInt64?
    /// Load before the first step, not measured, in nanoseconds.
    public var warmup: UInt64?
    public var maxConnections: Int?
    /// Upper-case, one of `LoadValueParsing.methods`.
    public var method: String?
    public var headers: [RequestHeader]?
    /// Nanoseconds.
    public var timeout: UInt64?
    /// Nanoseconds.
    public var connectTimeout: UInt64?
    public var keepAlive: Bool?
    /// HTTP/2 (`--http2`) and its streams per connection (`--streams`, default 1).
    public var http2: Bool?
    public var streams: Int?
    /// https: verification, the CA file, the SNI name.
    public var tls: TLSClientSettings?
    public var payloads: [PayloadSpec]?
    public var body: BodyWrapping?
    public var seed: UInt64?
    public var poolSize: Int?
    public var threads: Int?

    public init() {}

    /// These options with every field that `overrides` sets replaced. A shape in
    /// `overrides` (its steps) replaces this one as a whole.
    public func overridden(by overrides: LoadOptions) -> LoadOptions {
        var merged = self
        func take<T>(_ keyPath: WritableKeyPath<LoadOptions, T?>) {
            if let value = overrides[keyPath: keyPath] { merged[keyPath: keyPath] = value }
        }
        take(\.name); take(\.target); take(\.steps); take(\.arrivals); take(\.duration); take(\.warmup)
        take(\.maxConnections); take(\.method); take(\.headers); take(\.timeout); take(\.connectTimeout)
        take(\.keepAlive); take(\.http2); take(\.streams); take(\.tls); take(\.payloads); take(\.body); take(\.seed); take(\.poolSize)
        take(\.threads)
        return merged
    }
}

/// The steps of a load run as the user described them.
public enum RequestedSteps: Sendable, Equatable {
    /// Open loop at one rate (requests per second).
    case rate(Double)
    /// Open loop, one step per rate (a list, or a ramp expanded to its rates).
    case rates([Double])
    /// Closed loop with this many connections.
    case concurrency(Int)
    /// Closed loop, one step per concurrency.
    case concurrencySteps([Int])
    /// Explicit steps from a probe spec (e.g. a spike: low, high, low).
    case steps([ProbeStep])
}

/// One explicit step of a probe spec: a rate or a concurrency, and optionally its own
/// duration (nanoseconds) and name.
public struct ProbeStep: Sendable, Equatable {
    public enum Load: Sendable, Equatable {
        case rate(Double)
        case concurrency(Int)
    }

    public var name: String?
    public var load: Load
    public var duration: UInt64?

    public init(name: String? = nil, load: Load, duration: UInt64? = nil) {
        self.name = name
        self.load = load
        self.duration = duration
    }
}
