import Foundation
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

/// Attribution arithmetic on a recorded run with both of the proxy's legs captured: the test
/// bed's healthy scenario on loopback (`bed up healthy --no-netns`), `bottleneck load --rates
/// 10,30 --duration 3s --payload image:… --capture lo --capture-ports PROXY,SERVICE`.
@Suite("Attribution with the wire's segments")
struct WireAttributionTests {
    static var directory: String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("runs/wire-legs").path
    }

    @Test func everyRequestIsSplitIntoGeneratorNetworkProxyAndService() throws {
        let summary = try RunJSON.decode(RunSummary.self, from: try #require(FileManager.default.contents(atPath: Self.directory + "/summary.json")))
        let port = try #require(TargetURLPort.parse(summary.target))
        let wire = try #require(WireAttribution.load(record: try RunRecord(directory: Self.directory), frontPort: port))
        let requests = try RequestAggregates.read(record: try RunRecord(directory: Self.directory), segments: .defaults)
        for step in summary.steps {
            let split = try #require(wire.steps[step.index])
            let aggregate = try #require(requests.steps[step.index])
            // Every successful request was captured on both legs and joined by its X-Request-Id.
            #expect(split.requests == aggregate.ok && split.withBackLeg == aggregate.ok)
            // The proxy adds time, the loopback network almost none, and the parts add up to the
            // service time the generator measured (an identity per request, so exact in the mean).
            #expect(split.proxyMs > 0.1 && split.networkMs >= 0 && split.networkMs < 1)
            #expect(split.serviceMs > split.proxyMs)
            let total = split.generatorOverheadMs + split.networkMs + split.proxyMs + split.serviceMs
            #expect(abs(total - aggregate.serviceSumMs / Double(aggregate.ok)) < 1e-6)
        }
    }

    @Test func theReportsBreakdownUsesTheWireAndStillAddsUpToTheLatency() throws {
        let data = try RunReport.load(directory: Self.directory)
        for (breakdown, step) in zip(data.breakdown, data.summary.steps) {
            #expect(breakdown.proxy > 0.1, "\(breakdown)")
            #expect(breakdown.unknown == 0 && breakdown.requestsWithServerTiming == breakdown.requests)
            // generator (lag + wait + overhead) + network + proxy + phases + outside = the mean latency.
            #expect(abs(breakdown.total - step.latency.mean) < 0.05, "\(breakdown.total) vs \(step.latency.mean)")
            #expect(breakdown.outsideService >= 0)
        }
        // The evidence's run-level proxy time (from the capture's leg join) agrees with the per-step split.
        let evidence = try RunEvidence.load(directory: Self.directory)
        let proxy = try #require(evidence.value("wire.proxy_ms", step: .run))
        #expect(proxy > 0.1 && proxy < 5)
        #expect(evidence.value("wire.server_ms", step: .run)! > proxy)
    }

    /// The capture lost every X-Request-Id on the front leg (a snap length that cut the headers,
    /// a proxy that strips them) and holds a warm-up exchange on every connection: requests join
    /// their exchanges by local port and send time instead, passing the warm-up over.
    @Test func withoutRequestIdsTheFrontLegJoinsByLocalPortAndOrder() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("wire-legs-no-ids-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.copyItem(atPath: Self.directory, toPath: copy.path)
        defer { try? FileManager.default.removeItem(at: copy) }
        let summary = try RunJSON.decode(RunSummary.self, from: try #require(FileManager.default.contents(atPath: Self.directory + "/summary.json")))
        let port = try #require(TargetURLPort.parse(summary.target))
        let exchanges = try String(contentsOfFile: Self.directory + "/capture-exchanges.jsonl", encoding: .utf8)
        var stripped = 0
        var warmUp: [String] = []
        var seenPorts: Set<Substring> = []
        let lines = exchanges.split(separator: "\n").map { line -> String in
            guard line.contains("\"serverPort\":\(port),"), let range = line.range(of: #","requestID":"[^"]*""#, options: .regularExpression) else {
                return String(line)
            }
            stripped += 1
            let withoutID = line.replacingCharacters(in: range, with: "")
            // A warm-up exchange on the same connection 0.5 s before its first recorded request
            // (requests.csv keeps no warm-up rows): the join must pass it over, not shift by one.
            if let client = withoutID.firstMatch(of: #/"clientPort":(\d+)/#)?.1, seenPorts.insert(client).inserted {
                var early = withoutID
                for key in ["t1", "t2", "t3", "t4"] {
                    if let m = early.firstMatch(of: try! Regex("\"\(key)\":(\\d+)")), let value = UInt64(String(early[m.range].split(separator: ":")[1])) {
                        early.replaceSubrange(m.range, with: "\"\(key)\":\(value - 500_000_000)")
                    }
                }
                warmUp.append(early)
            }
            return withoutID
        }
        #expect(stripped > 100 && !warmUp.isEmpty)
        try ((warmUp + lines).joined(separator: "\n") + "\n").write(toFile: copy.path + "/capture-exchanges.jsonl", atomically: true, encoding: .utf8)

        let byID = try #require(WireAttribution.load(record: try RunRecord(directory: Self.directory), frontPort: port))
        let byOrder = try #require(WireAttribution.load(record: try RunRecord(directory: copy.path), frontPort: port))
        // The same exchanges, found by order: the same split, step by step (the back leg still joins by id).
        for step in summary.steps {
            let a = try #require(byID.steps[step.index]), b = try #require(byOrder.steps[step.index])
            #expect(a.requests == b.requests && a.withBackLeg == b.withBackLeg)
            #expect(abs(a.networkMs - b.networkMs) < 1e-9 && abs(a.proxyMs - b.proxyMs) < 1e-9 && abs(a.generatorOverheadMs - b.generatorOverheadMs) < 1e-9)
        }
    }
}
