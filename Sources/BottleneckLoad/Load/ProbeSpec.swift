import Foundation
import BottleneckCore
import Yams

/// A probe spec (`probes/*.yaml`): a named, documented set of load options. Keys are the
/// long flag names of `bottleneck load` without the dashes' prefix (`rate`, `ramp`,
/// `concurrency-steps`, `duration`, `payload`, …) plus `name`, `description` and `steps`, or
/// `connections` for the connections probe instead of a load.
/// Unknown keys are errors with their line, so a typo never silently changes a run.
/// (The key tables are immutable key-path constants, hence `nonisolated(unsafe)`.)
public struct ProbeSpec: Sendable {
    public var name: String
    public var description: String?
    public var options: LoadOptions
    public var path: String?
    /// Set when the spec is a connections probe (`connections:`), not a load.
    public var connections: ConnectionsSettings?

    /// The keys a probe spec may hold, each the long flag of `bottleneck load` it stands for.
    static let knownKeys: Set<String> = [
        "name", "description", "target", "rate", "rates", "ramp", "concurrency", "concurrency-steps", "steps",
        "arrivals", "duration", "warmup", "max-connections", "method", "header", "headers", "timeout",
        "connect-timeout", "keepalive", "payload", "body", "seed", "pool-size", "threads", "connections",
    ]
    /// The keys that choose the steps; a spec gives at most one.
    static let shapeKeys = ["rate", "rates", "ramp", "concurrency", "concurrency-steps", "steps", "connections"]
    /// The keys of `connections:`, each the flag of `bottleneck probe connections` it stands for.
    static let connectionsKeys = ["max", "ping-path", "answer-timeout", "time-limit"]

    public static func load(path: String) throws -> ProbeSpec {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw LoadError(.badInput, "probe spec \(path): cannot read the file; give the path of a probe spec such as probes/ramp.yaml")
        }
        var spec = try parse(text, source: path)
        spec.path = path
        return spec
    }

    public static func parse(_ text: String, source: String) throws -> ProbeSpec {
        func fail(_ mark: Mark?, _ message: String) -> LoadError {
            let position = mark.map { ":\($0.line):\($0.column)" } ?? ""
            return LoadError(.badInput, "probe \(source)\(position): \(message)")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw LoadError(.badInput, "probe \(source): not valid YAML (\(Self.describe(error)))")
        }
        guard let mapping = root?.mapping else {
            throw fail(root?.mark, "a probe spec is a mapping of keys such as name, ramp, duration")
        }
        var options = LoadOptions()
        var name: String?
        var description: String?
        var shapeKey: String?
        var connections: ConnectionsSettings?
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { throw fail(keyNode.mark, "keys must be plain words") }
            guard knownKeys.contains(key) else {
                let suggestion = knownKeys.min(by: { editDistance($0, key) < editDistance($1, key) }) ?? ""
                throw fail(keyNode.mark, "unknown key \"\(key)\"; did you mean \"\(suggestion)\"? (see probes/README.md)")
            }
            if shapeKeys.contains(key) {
                if let shapeKey { throw fail(keyNode.mark, "\(shapeKey) and \(key) conflict; a probe gives one of \(shapeKeys.joined(separator: ", "))") }
                shapeKey = key
            }
            /// The value of `key`, parsed; an error names the file, line and key.
            func parsed<T>(_ node: Node, _ key: String, _ parse: (String) throws -> T) throws -> T {
                let text = try scalar(node, key, fail)
                do { return try parse(text) } catch let error as any UserFacingError {
                    throw fail(node.mark, "\(key) \"\(text)\": \(error.message)")
                }
            }
            func parsed<T>(_ parse: (String) throws -> T) throws -> T { try parsed(value, key, parse) }
            switch key {
            case "name": name = try scalar(value, key, fail)
            case "description": description = try scalar(value, key, fail)
            case "target": options.target = try parsed(TargetURL.init(parsing:))
            case "rate": options.steps = .rate(try parsed(LoadValueParsing.rate))
            case "rates":
                let text = value.sequence != nil ? try list(value, key, fail).joined(separator: ",") : try scalar(value, key, fail)
                do { options.steps = .rates(try LoadValueParsing.rateList(text)) } catch {
                    throw fail(value.mark, "rates \"\(text)\": \(error.message)")
                }
            case "ramp": options.steps = .rates(try parsed(LoadValueParsing.ramp))
            case "concurrency": options.steps = .concurrency(try parsed(LoadValueParsing.concurrency))
            case "concurrency-steps":
                let text = value.sequence != nil ? try list(value, key, fail).joined(separator: ",") : try scalar(value, key, fail)
                do { options.steps = .concurrencySteps(try LoadValueParsing.concurrencyList(text)) } catch {
                    throw fail(value.mark, "concurrency-steps \"\(text)\": \(error.message)")
                }
            case "steps":
                guard let items = value.sequence else { throw fail(value.mark, "steps must be a list of {rate|concurrency, duration, name}") }
                var steps: [ProbeStep] = []
                for item in items {
                    guard let fields = item.mapping else { throw fail(item.mark, "each step is a mapping like {rate: 100, duration: 30s}") }
                    var stepName: String?
                    var load: ProbeStep.Load?
                    var duration: UInt64?
                    for (k, v) in fields {
                        switch k.string {
                        case "name": stepName = try scalar(v, "steps.name", fail)
                        case "rate" where load == nil: load = .rate(try parsed(v, "steps.rate", LoadValueParsing.rate))
                        case "concurrency" where load == nil: load = .concurrency(try parsed(v, "steps.concurrency", LoadValueParsing.concurrency))
                        case "rate", "concurrency": throw fail(item.mark, "each step needs exactly one of rate or concurrency")
                        case "duration": duration = try parsed(v, "steps.duration", LoadValueParsing.duration)
                        default: throw fail(k.mark, "unknown step key \"\(k.string ?? "?")\"; use name, rate, concurrency, duration")
                        }
                    }
                    guard let load else { throw fail(item.mark, "each step needs exactly one of rate or concurrency") }
                    steps.append(ProbeStep(name: stepName, load: load, duration: duration))
                }
                guard !steps.isEmpty else { throw fail(value.mark, "steps must not be empty") }
                options.steps = .steps(steps)
            case "arrivals":
                options.arrivals = try parsed { text throws(LoadError) in
                    guard let arrivals = ArrivalProcess(rawValue: text.lowercased()) else { throw LoadError(.badInput, "use uniform or poisson") }
                    return arrivals
                }
            case "duration": options.duration = try parsed(LoadValueParsing.duration)
            case "warmup": options.warmup = try parsed(LoadValueParsing.duration)
            case "timeout": options.timeout = try parsed(LoadValueParsing.duration)
            case "connect-timeout": options.connectTimeout = try parsed(LoadValueParsing.duration)
            case "max-connections": options.maxConnections = try parsed { try LoadValueParsing.count($0, in: 1...100_000, of: "connections") }
            case "method": options.method = try parsed(LoadValueParsing.method)
            case "header", "headers":
                options.headers = try list(value, key, fail).map { text in
                    do { return try RequestHeader(parsing: text) } catch let error as LoadError {
                        throw fail(value.mark, "\(key) \"\(text)\": \(error.message)")
                    }
                }
            case "keepalive":
                guard let flag = value.bool else { throw fail(value.mark, "keepalive must be true or false") }
                options.keepAlive = flag
            case "payload":
                options.payloads = try list(value, key, fail).map { text in
                    do { return try PayloadSpec.parse(text) } catch let error as any UserFacingError { throw fail(value.mark, error.message) }
                }
            case "connections":
                var settings = ConnectionsSettings()
                func maximum(_ node: Node) throws -> Int {
                    try parsed(node, "connections.max") { try LoadValueParsing.count($0, in: 1...1_000_000, of: "connections") }
                }
                if value.scalar != nil {
                    settings.maxConnections = try maximum(value)
                } else if let fields = value.mapping {
                    for (k, v) in fields {
                        switch k.string {
                        case "max": settings.maxConnections = try maximum(v)
                        case "ping-path": settings.pingPath = try scalar(v, "connections.ping-path", fail)
                        case "answer-timeout": settings.answerTimeout = try parsed(v, "connections.answer-timeout", LoadValueParsing.duration)
                        case "time-limit": settings.timeLimit = try parsed(v, "connections.time-limit", LoadValueParsing.duration)
                        default:
                            throw fail(k.mark, "unknown connections key \"\(k.string ?? "?")\"; use \(connectionsKeys.joined(separator: ", "))")
                        }
                    }
                } else {
                    throw fail(value.mark, "connections is a number (the most to hold) or a mapping of \(connectionsKeys.joined(separator: ", "))")
                }
                connections = settings
            case "body": options.body = try parsed(BodyWrapping.parse)
            case "seed": options.seed = try parsed(LoadValueParsing.seed)
            case "pool-size": options.poolSize = try parsed { try LoadValueParsing.count($0, in: 1...100_000, of: "payloads") }
            case "threads": options.threads = try parsed { try LoadValueParsing.count($0, in: 1...256, of: "event-loop threads") }
            default: break
            }
        }
        let fallbackName = source.split(separator: "/").last.map { String($0).replacingOccurrences(of: ".yaml", with: "") } ?? "probe"
        options.name = name ?? fallbackName
        return ProbeSpec(name: name ?? fallbackName, description: description, options: options, path: nil, connections: connections)
    }

    private static func scalar(_ node: Node, _ key: String, _ fail: (Mark?, String) -> LoadError) throws -> String {
        guard let value = node.scalar?.string else { throw fail(node.mark, "\(key) must be a single value") }
        return value
    }

    private static func list(_ node: Node, _ key: String, _ fail: (Mark?, String) -> LoadError) throws -> [String] {
        if let scalar = node.scalar { return [scalar.string] }
        guard let items = node.sequence else { throw fail(node.mark, "\(key) must be a value or a list of values") }
        return try items.map { try scalar($0, key, fail) }
    }

    private static func describe(_ error: YamlError) -> String {
        String(describing: error).split(separator: "\n").first.map(String.init) ?? "syntax error"
    }

    package static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
