/// Turns merged `LoadOptions` into a `LoadPlan`: checks every value, expands step
/// lists and ramps, and builds the payload pool (off the hot path, from the seed).
/// Every error names its flag and the accepted form.
import BottleneckCore

public enum LoadPlanBuilder: Sendable {
    /// The methods a prediction endpoint is called with (`-X/--method`).
    public static let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

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

    /// The plan of `options`: its target, its steps (from the shape flags, the probe spec's
    /// steps, or the default closed loop), payloads and connection settings.
    public static func build(_ options: LoadOptions, runTag: String) throws -> Result {
        let target = try target(of: options)
        return try complete(options, target: target, steps: try steps(of: options), runTag: runTag)
    }

    /// A plan with steps the caller chose (a probe's: the diagnosis ramp, the capacity sweep, a
    /// playbook's), and the target, payloads and connection settings of `options`. Shape flags
    /// in `options` are not read.
    public static func build(_ options: LoadOptions, steps: [LoadStep], runTag: String) throws -> Result {
        try complete(options, target: try target(of: options), steps: steps, runTag: runTag)
    }

    private static func target(of options: LoadOptions) throws -> TargetURL {
        guard let targetText = options.target else {
            throw LoadError(.badInput, "--target is required; give the endpoint URL, like --target http://127.0.0.1:8080/predict")
        }
        return try TargetURL(parsing: targetText)
    }

    /// The steps the shape flags (or the probe spec's explicit steps) describe.
    private static func steps(of options: LoadOptions) throws -> [LoadStep] {
        let duration = try options.duration.map { try LoadValueParsing.duration($0, field: "--duration") } ?? defaultDuration
        guard duration >= 100_000_000 else {
            throw LoadError(.badInput, "--duration \"\(options.duration ?? "")\": a step must last at least 100ms, like 10s")
        }
        let arrivals: ArrivalProcess
        if let text = options.arrivals {
            guard let parsed = ArrivalProcess(rawValue: text.lowercased()) else {
                throw LoadError(.badInput, "--arrivals \"\(text)\": use uniform or poisson")
            }
            arrivals = parsed
        } else {
            arrivals = .uniform
        }

        let shapeFlags = [("--rate", options.rate), ("--rates", options.rates), ("--ramp", options.ramp),
                          ("--concurrency", options.concurrency), ("--concurrency-steps", options.concurrencySteps)]
            .filter { $0.1 != nil }
        if shapeFlags.count > 1 {
            throw LoadError(.badInput, "\(shapeFlags.map(\.0).joined(separator: " and ")) conflict; choose one of --rate, --rates, --ramp, --concurrency, --concurrency-steps")
        }
        var steps: [LoadStep] = []
        if let explicit = options.steps, shapeFlags.isEmpty {
            for (i, step) in explicit.enumerated() {
                let stepDuration = try step.duration.map { try LoadValueParsing.duration($0, field: "steps[\(i)].duration") } ?? duration
                if let rate = step.rate {
                    let value = try LoadValueParsing.rate(rate, field: "steps[\(i)].rate")
                    steps.append(LoadStep(name: step.name ?? "rate-\(formatRate(value))", shape: .open(rate: value, arrivals: arrivals), duration: stepDuration))
                } else if let concurrency = step.concurrency {
                    let value = try LoadValueParsing.concurrency(concurrency, field: "steps[\(i)].concurrency")
                    steps.append(LoadStep(name: step.name ?? "c-\(value)", shape: .closed(concurrency: value), duration: stepDuration))
                }
            }
        } else if let rate = options.rate {
            let value = try LoadValueParsing.rate(rate, field: "--rate")
            steps = [LoadStep(name: "rate-\(formatRate(value))", shape: .open(rate: value, arrivals: arrivals), duration: duration)]
        } else if let rates = options.rates {
            steps = try LoadValueParsing.rateList(rates, field: "--rates").map {
                LoadStep(name: "rate-\(formatRate($0))", shape: .open(rate: $0, arrivals: arrivals), duration: duration)
            }
        } else if let ramp = options.ramp {
            steps = try LoadValueParsing.ramp(ramp, field: "--ramp").map {
                LoadStep(name: "rate-\(formatRate($0))", shape: .open(rate: $0, arrivals: arrivals), duration: duration)
            }
        } else if let list = options.concurrencySteps {
            steps = try LoadValueParsing.concurrencyList(list, field: "--concurrency-steps").map {
                LoadStep(name: "c-\($0)", shape: .closed(concurrency: $0), duration: duration)
            }
        } else {
            let value = try options.concurrency.map { try LoadValueParsing.concurrency($0, field: "--concurrency") } ?? defaultConcurrency
            steps = [LoadStep(name: "c-\(value)", shape: .closed(concurrency: value), duration: duration)]
        }
        return steps
    }

    /// The plan around `steps`: warm-up, timeouts, connections, headers, payloads and method.
    private static func complete(_ options: LoadOptions, target: TargetURL, steps: [LoadStep], runTag: String) throws -> Result {
        var plan = LoadPlan(target: target, steps: steps, runTag: runTag)
        plan.warmup = try options.warmup.map { try LoadValueParsing.duration($0, field: "--warmup") } ?? 0
        plan.timeout = try options.timeout.map { try LoadValueParsing.duration($0, field: "--timeout") } ?? plan.timeout
        plan.connectTimeout = try options.connectTimeout.map { try LoadValueParsing.duration($0, field: "--connect-timeout") } ?? plan.connectTimeout
        guard plan.timeout >= 1_000_000, plan.connectTimeout >= 1_000_000 else {
            throw LoadError(.badInput, "--timeout and --connect-timeout must be at least 1ms, like 30s")
        }
        plan.keepAlive = options.keepAlive ?? true
        if let text = options.maxConnections {
            guard let value = Int(text), (1...100_000).contains(value) else {
                throw LoadError(.badInput, "--max-connections \"\(text)\": give a whole number of connections from 1 to 100000")
            }
            plan.maxConnections = value
        }
        if let text = options.seed {
            guard let value = UInt64(text) else {
                throw LoadError(.badInput, "--seed \"\(text)\": give a whole number from 0 to 18446744073709551615")
            }
            plan.seed = value
        }
        if let text = options.threads {
            guard let value = Int(text), (1...256).contains(value) else {
                throw LoadError(.badInput, "--threads \"\(text)\": give a whole number of event-loop threads from 1 to 256")
            }
            plan.threads = value
        }
        var headers: [(name: String, value: String)] = []
        for header in options.headers ?? [] { headers.append(try LoadValueParsing.header(header)) }
        plan.headers = headers

        let payloadSpecs = options.payloads ?? []
        var descriptors: [RequestRecordWriter.PayloadDescriptor] = []
        if !payloadSpecs.isEmpty {
            var poolSize = defaultPoolSize
            if let text = options.poolSize {
                guard let value = Int(text), (1...100_000).contains(value) else {
                    throw LoadError(.badInput, "--pool-size \"\(text)\": give a whole number of payloads from 1 to 100000")
                }
                poolSize = value
            }
            let specs = try payloadSpecs.map { try PayloadSpec.parse($0) }
            let wrapping = try options.body.map { try BodyWrapping.parse($0) } ?? .raw
            let pool = try PayloadPool(specs: specs, wrapping: wrapping, seed: plan.seed, size: poolSize)
            plan.bodies = pool.payloads.map { RequestBody(bytes: $0.body, contentType: $0.contentType) }
            descriptors = pool.payloads.map {
                RequestRecordWriter.PayloadDescriptor(payloadClass: $0.payloadClass, bytes: $0.rawBytes, pixels: $0.pixels)
            }
        } else if options.body != nil {
            throw LoadError(.badInput, "--body needs at least one --payload to wrap, like --payload image:w=256..1024")
        }
        let method = (options.method ?? (payloadSpecs.isEmpty ? "GET" : "POST")).uppercased()
        guard Self.methods.contains(method) else {
            throw LoadError(.badInput, "--method \"\(options.method ?? "")\": use one of \(Self.methods.joined(separator: ", "))")
        }
        plan.method = method
        let name = options.name ?? (steps.count == 1 ? steps[0].name : "steps")
        return Result(plan: plan, name: name, payloadSpecs: payloadSpecs, body: options.body, payloadDescriptors: descriptors)
    }

    /// Eight hex digits, different for every run, that prefix its request ids.
    public static func makeRunTag() -> String {
        var random = SystemRandomNumberGenerator()
        let value = UInt32.random(in: 0...UInt32.max, using: &random)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}
