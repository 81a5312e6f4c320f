/// The settings of a load run as the user wrote them: every field optional, as strings,
/// so a probe spec and the command line can be merged (flags win) before anything is
/// interpreted. `LoadPlanBuilder` turns the merged options into a `LoadPlan`.
public struct LoadOptions: Sendable, Equatable {
    public var name: String?
    public var target: String?
    public var rate: String?
    public var rates: String?
    public var ramp: String?
    public var concurrency: String?
    public var concurrencySteps: String?
    /// Explicit steps from a probe spec (e.g. a spike: low, high, low).
    public var steps: [ProbeStep]?
    public var arrivals: String?
    public var duration: String?
    public var warmup: String?
    public var maxConnections: String?
    public var method: String?
    public var headers: [String]?
    public var timeout: String?
    public var connectTimeout: String?
    public var keepAlive: Bool?
    public var payloads: [String]?
    public var body: String?
    public var seed: String?
    public var poolSize: String?
    public var threads: String?

    public init() {}

    /// True when any field choosing the load shape is set.
    var setsShape: Bool {
        rate != nil || rates != nil || ramp != nil || concurrency != nil || concurrencySteps != nil || steps != nil
    }

    /// These options with every field that `overrides` sets replaced. Setting any shape
    /// field on the command line replaces the spec's shape as a whole.
    public func overridden(by overrides: LoadOptions) -> LoadOptions {
        var merged = self
        if overrides.setsShape {
            merged.rate = nil; merged.rates = nil; merged.ramp = nil
            merged.concurrency = nil; merged.concurrencySteps = nil; merged.steps = nil
        }
        func take<T>(_ keyPath: WritableKeyPath<LoadOptions, T?>) {
            if let value = overrides[keyPath: keyPath] { merged[keyPath: keyPath] = value }
        }
        take(\.name); take(\.target); take(\.rate); take(\.rates); take(\.ramp); take(\.concurrency)
        take(\.concurrencySteps); take(\.steps); take(\.arrivals); take(\.duration); take(\.warmup)
        take(\.maxConnections); take(\.method); take(\.headers); take(\.timeout); take(\.connectTimeout)
        take(\.keepAlive); take(\.payloads); take(\.body); take(\.seed); take(\.poolSize); take(\.threads)
        return merged
    }
}

/// One explicit step of a probe spec.
public struct ProbeStep: Sendable, Equatable {
    public var name: String?
    public var rate: String?
    public var concurrency: String?
    public var duration: String?

    public init(name: String? = nil, rate: String? = nil, concurrency: String? = nil, duration: String? = nil) {
        self.name = name
        self.rate = rate
        self.concurrency = concurrency
        self.duration = duration
    }
}
