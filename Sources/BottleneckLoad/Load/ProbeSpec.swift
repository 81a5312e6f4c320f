import Foundation
import BottleneckCore
import Yams

/// A probe spec (`probes/*.yaml`): a named, documented set of load options. Keys are the
/// long flag names of `bottleneck load` without the dashes' prefix (`rate`, `ramp`,
/// `concurrency-steps`, `duration`, `payload`, …) plus `name`, `description` and `steps`.
/// Unknown keys are errors with their line, so a typo never silently changes a run.
/// (The key tables are immutable key-path constants, hence `nonisolated(unsafe)`.)
public struct ProbeSpec: Sendable {
    public var name: String
    public var description: String?
    public var options: LoadOptions
    public var path: String?

    nonisolated(unsafe) static let scalarKeys: [String: WritableKeyPath<LoadOptions, String?>] = [
        "target": \.target, "rate": \.rate, "ramp": \.ramp, "concurrency": \.concurrency,
        "arrivals": \.arrivals, "duration": \.duration, "warmup": \.warmup, "max-connections": \.maxConnections,
        "method": \.method, "timeout": \.timeout, "connect-timeout": \.connectTimeout, "body": \.body,
        "seed": \.seed, "pool-size": \.poolSize, "threads": \.threads,
    ]
    nonisolated(unsafe) static let listKeys: [String: WritableKeyPath<LoadOptions, String?>] = [
        "rates": \.rates, "concurrency-steps": \.concurrencySteps,
    ]
    static let knownKeys = Set(scalarKeys.keys).union(listKeys.keys).union(["name", "description", "payload", "header", "headers", "keepalive", "steps"])

    public static func load(path: String) throws -> ProbeSpec {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw LoadError(.badInput, "--probe \(path): cannot read the file; give the path of a probe spec such as probes/ramp.yaml")
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
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { throw fail(keyNode.mark, "keys must be plain words") }
            guard knownKeys.contains(key) else {
                let suggestion = knownKeys.min(by: { editDistance($0, key) < editDistance($1, key) }) ?? ""
                throw fail(keyNode.mark, "unknown key \"\(key)\"; did you mean \"\(suggestion)\"? (see probes/README.md)")
            }
            switch key {
            case "name": name = try scalar(value, key, fail)
            case "description": description = try scalar(value, key, fail)
            case "payload": options.payloads = try list(value, key, fail)
            case "header", "headers": options.headers = try list(value, key, fail)
            case "keepalive":
                guard let flag = value.bool else { throw fail(value.mark, "keepalive must be true or false") }
                options.keepAlive = flag
            case "steps":
                guard let items = value.sequence else { throw fail(value.mark, "steps must be a list of {rate|concurrency, duration, name}") }
                var steps: [ProbeStep] = []
                for item in items {
                    guard let fields = item.mapping else { throw fail(item.mark, "each step is a mapping like {rate: 100, duration: 30s}") }
                    var step = ProbeStep()
                    for (k, v) in fields {
                        switch k.string {
                        case "name": step.name = try scalar(v, "steps.name", fail)
                        case "rate": step.rate = try scalar(v, "steps.rate", fail)
                        case "concurrency": step.concurrency = try scalar(v, "steps.concurrency", fail)
                        case "duration": step.duration = try scalar(v, "steps.duration", fail)
                        default: throw fail(k.mark, "unknown step key \"\(k.string ?? "?")\"; use name, rate, concurrency, duration")
                        }
                    }
                    guard (step.rate == nil) != (step.concurrency == nil) else {
                        throw fail(item.mark, "each step needs exactly one of rate or concurrency")
                    }
                    steps.append(step)
                }
                guard !steps.isEmpty else { throw fail(value.mark, "steps must not be empty") }
                options.steps = steps
            default:
                if let path = scalarKeys[key] {
                    options[keyPath: path] = try scalar(value, key, fail)
                } else if let path = listKeys[key] {
                    options[keyPath: path] = value.sequence != nil ? try list(value, key, fail).joined(separator: ",") : try scalar(value, key, fail)
                }
            }
        }
        let fallbackName = source.split(separator: "/").last.map { String($0).replacingOccurrences(of: ".yaml", with: "") } ?? "probe"
        options.name = name ?? fallbackName
        return ProbeSpec(name: name ?? fallbackName, description: description, options: options, path: nil)
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
