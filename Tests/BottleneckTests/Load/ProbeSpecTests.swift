import Foundation
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite("Probe specs")
struct ProbeSpecTests {
    static let probesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("probes")

    static let shipped = ["baseline", "ramp", "concurrency-sweep", "payload-sweep", "soak", "spike"]

    @Test(arguments: shipped)
    func shippedProbesParseAndBuild(name: String) throws {
        let spec = try ProbeSpec.load(path: Self.probesDirectory.appendingPathComponent("\(name).yaml").path)
        #expect(spec.name == name)
        #expect(spec.description != nil)
        var options = spec.options
        options.target = try TargetURL(parsing: "http://127.0.0.1:8080/predict")
        options.poolSize = 2  // keep image generation quick in the test
        let plan = try LoadPlanBuilder.build(options, runTag: "t").plan
        #expect(!plan.steps.isEmpty)
    }

    @Test func shapesAreWhatTheFilesSay() throws {
        func plan(_ name: String) throws -> LoadPlan {
            var options = try ProbeSpec.load(path: Self.probesDirectory.appendingPathComponent("\(name).yaml").path).options
            options.target = try TargetURL(parsing: "http://127.0.0.1:8080/")
            options.poolSize = 2
            return try LoadPlanBuilder.build(options, runTag: "t").plan
        }
        #expect(try plan("baseline").steps.map(\.shape) == [.closed(concurrency: 1)])
        #expect(try plan("ramp").steps.count == 8)
        #expect(try plan("ramp").steps.first?.shape == .open(rate: 10, arrivals: .poisson))
        #expect(try plan("concurrency-sweep").steps.map(\.shape) == [1, 2, 4, 8, 16, 32].map { .closed(concurrency: $0) })
        let spike = try plan("spike")
        #expect(spike.steps.map(\.name) == ["before", "spike", "after"])
        #expect(spike.steps.map(\.duration) == [20, 10, 30].map { UInt64($0) * 1_000_000_000 })
        #expect(try plan("payload-sweep").bodies.count == 2)
    }

    @Test func flagsOverrideTheSpec() throws {
        let spec = try ProbeSpec.parse("name: x\nramp: 10..50/5\nduration: 10s\nwarmup: 1s\n", source: "x.yaml")
        var flags = LoadOptions()
        flags.steps = .rate(77)
        flags.duration = 3_000_000_000
        #expect(spec.options.steps == .rates([10, 20, 30, 40, 50]))
        let merged = spec.options.overridden(by: flags)
        #expect(merged.steps == .rate(77))
        #expect(merged.duration == 3_000_000_000)
        #expect(merged.warmup == 1_000_000_000)
    }

    @Test(arguments: [
        ("name: x\nduraton: 10s\n", "x.yaml:2:1", "did you mean \"duration\""),
        ("name: x\nrate: [1, 2]\n", "x.yaml:2:7", "single value"),
        ("name: x\nsteps:\n  - {rate: 5, concurrency: 2}\n", "x.yaml:3:5", "exactly one of rate or concurrency"),
        ("name: x\nkeepalive: maybe\n", "x.yaml:2:12", "true or false"),
        ("name: x\nrate: fast\n", "x.yaml:2:7", "rate \"fast\": the rate must be a number"),
        ("name: x\nrate: 5\nramp: 1..5/2\n", "x.yaml:3:1", "rate and ramp conflict"),
        ("name: x\nsteps:\n  - {rate: 5, duration: soon}\n", "x.yaml:3:25", "steps.duration \"soon\": not a duration"),
        ("name: x\nmethod: BREW\n", "x.yaml:2:9", "method \"BREW\": use one of GET"),
        ("name: x\ntimeout: 1e30s\n", "x.yaml:2:10", "timeout \"1e30s\": the duration is longer than a year"),
        ("- a\n- b\n", "x.yaml", "mapping"),
        ("name: [unclosed\n", "x.yaml", "not valid YAML"),
    ])
    func errorsCarryTheirPosition(yaml: String, position: String, mentions: String) {
        do {
            _ = try ProbeSpec.parse(yaml, source: "x.yaml")
            Issue.record("should fail")
        } catch let error as LoadError {
            #expect(error.message.contains(position), "\(error.message)")
            #expect(error.message.contains(mentions), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

/// A probe spec's `connections:` key: the connections probe instead of a load.
struct ConnectionsProbeSpecTests {
    @Test func theBundledSpecParses() throws {
        let spec = try ProbeSpec.load(path: ProbeSpecTests.probesDirectory.appendingPathComponent("connections.yaml").path)
        #expect(spec.name == "connections")
        let settings = try #require(spec.connections)
        #expect(settings.maxConnections == 5000)
        #expect(settings.pingPath == "/health")
        var plan = ConnectionProbePlan(target: try TargetURL(parsing: "http://127.0.0.1:8000/predict"))
        settings.apply(to: &plan)
        #expect(plan.maxConnections == 5000)
        #expect(plan.answerTimeout == .seconds(3))
        #expect(plan.timeLimit == .seconds(60))
    }

    @Test(arguments: [
        ("connections: 0\n", "c.yaml:1:14: connections.max \"0\""),
        ("connections: {maxx: 3}\n", "c.yaml:1:15: unknown connections key \"maxx\"; use max, ping-path, answer-timeout, time-limit"),
        ("rate: 5\nconnections: 100\n", "c.yaml:2:1: rate and connections conflict"),
    ])
    func badConnectionsKeysSayWhere(yaml: String, expected: String) {
        do {
            _ = try ProbeSpec.parse(yaml, source: "c.yaml")
            Issue.record("parsed \(yaml)")
        } catch {
            #expect("\(error)".contains(expected) || ((error as? LoadError)?.message.contains(expected) ?? false), "\(error)")
        }
    }
}
