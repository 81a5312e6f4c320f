/// Turns merged `LoadOptions` into a `LoadPlan`: expands the requested steps and builds
/// the payload pool (off the hot path, from the seed).
/// The values were checked where they were read (`LoadValueParsing`); what is left is
/// what only the whole can tell: a step too short, timeouts, a body with nothing to wrap.
import BottleneckCore

public enum LoadPlanBuilder: Sendable {
    /// The plan plus what `run.json` and the record writer need to describe it.
    public struct Result: Sendable {
        public var plan: LoadPlan
        public var name: String
        public var payloadSpecs: [String]
        public var body: String?
        public var payloadDescriptors: [RequestRecordWriter.PayloadDescriptor]
    }

    public static let defaultDuration: UInt64 = 10_000_000_000
    public static let defaultConcurrency = 10
    public static let defaultPoolSize = 64

    /// The plan of `options`: its target, its steps (the requested ones, or the default
    /// closed loop), payloads and connection settings.
    public static func build(_ options: LoadOptions, runTag: String) throws -> Result {
        let target = try target(of: options)
        return try complete(options, target: target, steps: try steps(of: options), runTag: runTag)
    }

    /// A plan with steps the caller chose (a probe's: the diagnosis ramp, the capacity sweep, a
    /// playbook's), and the target, payloads and connection settings of `options`; the steps
    /// in `options` are not read.
    public static func build(_ options: LoadOptions, steps: [LoadStep], runTag: String) throws -> Result {
        try complete(options, target: try target(of: options), steps: steps, runTag: runTag)
    }

    private static func target(of options: LoadOptions) throws(LoadError) -> TargetURL {
        guard let target = options.target else {
            throw LoadError(.badInput, "no target: give the endpoint URL, like http://127.0.0.1:8080/predict")
        }
        return target
    }

    /// The steps the options describe (rates, concurrencies, or a probe spec's explicit steps).
    private static func steps(of options: LoadOptions) throws(LoadError) -> [LoadStep] {
        let duration = options.duration ?? defaultDuration
        guard duration >= 100_000_000 else {
            throw LoadError(.badInput, "a step must last at least 100ms, like 10s")
        }
        let arrivals = options.arrivals ?? .uniform
        func open(_ rate: Double, name: String? = nil, duration: UInt64 = duration) -> LoadStep {
            LoadStep(name: name ?? "rate-\(formatRate(rate))", shape: .open(rate: rate, arrivals: arrivals), duration: duration)
        }
        func closed(_ concurrency: Int, name: String? = nil, duration: UInt64 = duration) -> LoadStep {
            LoadStep(name: name ?? "c-\(concurrency)", shape: .closed(concurrency: concurrency), duration: duration)
        }
        switch options.steps ?? .concurrency(defaultConcurrency) {
        case .rate(let rate): return [open(rate)]
        case .rates(let rates): return rates.map { open($0) }
        case .concurrency(let concurrency): return [closed(concurrency)]
        case .concurrencySteps(let levels): return levels.map { closed($0) }
        case .steps(let explicit):
            return explicit.map { step in
                switch step.load {
                case .rate(let rate): return open(rate, name: step.name, duration: step.duration ?? duration)
                case .concurrency(let concurrency): return closed(concurrency, name: step.name, duration: step.duration ?? duration)
                }
            }
        }
    }

    /// The plan around `steps`: warm-up, timeouts, connections, headers, payloads and method.
    private static func complete(_ options: LoadOptions, target: TargetURL, steps: [LoadStep], runTag: String) throws -> Result {
        var plan = LoadPlan(target: target, steps: steps, runTag: runTag)
        plan.warmup = options.warmup ?? 0
        plan.timeout = options.timeout ?? plan.timeout
        plan.connectTimeout = options.connectTimeout ?? plan.connectTimeout
        guard plan.timeout >= 1_000_000, plan.connectTimeout >= 1_000_000 else {
            throw LoadError(.badInput, "the request and connect timeouts must be at least 1ms, like 30s")
        }
        plan.keepAlive = options.keepAlive ?? true
        if options.http2 == true || target.isGRPC {
            let streams = options.streams ?? 1
            guard (1...maxStreamsPerConnection).contains(streams) else {
                throw LoadError(.badInput, "--streams \(streams): give 1 to \(maxStreamsPerConnection) streams per HTTP/2 connection (the server may allow fewer: its SETTINGS_MAX_CONCURRENT_STREAMS)")
            }
            guard plan.keepAlive else {
                throw LoadError(.badInput, "--no-keepalive with \(target.isGRPC ? "a gRPC target" : "--http2"): an HTTP/2 connection carries many requests by design; drop --no-keepalive")
            }
            plan.http2Streams = streams
        } else if let streams = options.streams {
            throw LoadError(.badInput, "--streams \(streams) needs --http2 (an HTTP/1.1 connection carries one request at a time)")
        }
        plan.tls = options.tls ?? TLSClientSettings()
        plan.maxConnections = options.maxConnections ?? plan.maxConnections
        plan.seed = options.seed ?? plan.seed
        plan.threads = options.threads ?? plan.threads
        plan.headers = (options.headers ?? []).map { ($0.name, $0.value) }

        let specs = options.payloads ?? []
        var descriptors: [RequestRecordWriter.PayloadDescriptor] = []
        if !specs.isEmpty {
            let pool = try PayloadPool(specs: specs, wrapping: options.body ?? .raw, seed: plan.seed, size: options.poolSize ?? defaultPoolSize)
            plan.bodies = pool.payloads.map { RequestBody(bytes: $0.body, contentType: $0.contentType) }
            descriptors = pool.payloads.map {
                RequestRecordWriter.PayloadDescriptor(payloadClass: $0.payloadClass, bytes: $0.rawBytes, pixels: $0.pixels)
            }
        } else if let body = options.body {
            throw LoadError(.badInput, "body \"\(body)\" needs a payload to wrap, like image:w=256..1024")
        }
        if target.isGRPC, let method = options.method, method != "POST" {
            throw LoadError(.badInput, "-X \(method) with a gRPC target: every gRPC call is a POST; drop -X")
        }
        plan.method = options.method ?? (specs.isEmpty && !target.isGRPC ? "GET" : "POST")
        let name = options.name ?? (steps.count == 1 ? steps[0].name : "steps")
        return Result(plan: plan, name: name, payloadSpecs: specs.map(\.source), body: options.body?.description,
                      payloadDescriptors: descriptors)
    }

    /// The most HTTP/2 streams per connection `--streams` accepts (the protocol's stream ids allow far
    /// more; servers allow 100 or 128 at once by default).
    public static let maxStreamsPerConnection = 1000

    /// Eight hex digits, different for every run, that prefix its request ids.
    public static func makeRunTag() -> String {
        var random = SystemRandomNumberGenerator()
        let value = UInt32.random(in: 0...UInt32.max, using: &random)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}
