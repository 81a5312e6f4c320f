import Foundation
import Testing
@testable import BottleneckDiagnosis
@testable import BottleneckRun

/// The connections rules on probes recorded against the test bed (`bottleneck probe connections`
/// on fd-limit, sync-workers-backlog and proxy-worker-connections).
struct ConnectionsDiagnosisTests {
    private static func directory(_ scenario: String) -> String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("connections/\(scenario)").path
    }

    private func diagnose(_ scenario: String) throws -> ConnectionsDiagnosis {
        let rules = try DefaultRules.load(catalog: EvidenceCatalog.catalog)
        return try ConnectionsProbeRunner.rediagnose(directory: Self.directory(scenario), rules: rules).0
    }

    /// Scenario → the connections rules that must fire there (and no other).
    static let fires: [String: Set<String>] = [
        "fd-limit": ["connection-limit-by-fd-limit", "connection-limit-by-backlog"],
        "sync-workers-backlog": ["connections-held-by-sync-workers", "connection-limit-by-backlog"],
        "proxy-worker-connections": ["proxy-connection-limit"],
        // CI's run of 2026-12-07 (ab22daf): nginx shed idle clients at its cap, and no sample caught
        // a connection in its accept queue; the closed clients are the sign.
        "proxy-worker-connections-queue-unseen": ["proxy-connection-limit"],
    ]

    @Test(arguments: ["fd-limit", "sync-workers-backlog", "proxy-worker-connections", "proxy-worker-connections-queue-unseen"])
    func eachRuleFiresExactlyWhereItsLimitIs(scenario: String) throws {
        #expect(Set(try diagnose(scenario).verdicts.map(\.rule)) == Self.fires[scenario])
    }

    @Test func theProxysCapIsItsConnectionsInUseAtTheFirstFailureScaledForNginxsReserve() throws {
        // nginx at worker_connections 128: the probe added clients one at a time from 94; the first
        // close came with the 113th, when nginx's worker had 120 sockets (clients, upstream,
        // listeners) plus that one in use: 121, past 15/16 of 128. (121 - 1) x 16/15 = 128.
        let d = try diagnose("proxy-worker-connections")
        let record = try ConnectionProbeRun.load(directory: Self.directory("proxy-worker-connections"))
        let refined = try #require(record.probe.levels.last)
        #expect(refined.oneAtATime == true && refined.heldAtFirstFailure == 113 && record.probe.limit == 113)
        #expect(d.proxyConnections == 128, "\(String(describing: d.proxyConnections))")
        #expect(d.verdicts.first?.explain.contains("121 connections in use") == true, "\(d.verdicts.first?.explain ?? "")")
        #expect(d.verdicts.first?.explain.contains("cap at about 128") == true)
        // Not nginx: no reserve is assumed, the count in use is the cap.
        var other = record
        for i in other.proxySampling!.steps.indices where other.proxySampling!.steps[i].server.busiestProcess != nil {
            other.proxySampling!.steps[i].server.busiestProcess!.comm = "envoy"
        }
        #expect(ConnectionsEvidence(other).values[Metric.connectionsProxyConnectionsAtLimit] == 121)
        // Without the one-at-a-time level, the first pass's blurred count: its clients established
        // at the first close (queued ones included) plus the other sockets a level earlier.
        var coarse = record
        coarse.probe.levels.removeLast()
        #expect(ConnectionsEvidence(coarse).values[Metric.connectionsProxyConnectionsInUse] == Double(112 + (90 - 56)))
    }

    @Test func aLimitNothingExplainsIsStillNamed() throws {
        // The fd-limit probe with the server's fds far from its limit: no known cause is left.
        var record = try ConnectionProbeRun.load(directory: Self.directory("fd-limit"))
        for i in record.sampling!.steps.indices {
            record.sampling!.steps[i].server.fdUsageMax = 0.1
            record.sampling!.steps[i].server.listenOverflows = 0
        }
        let d = ConnectionsDiagnosis.evaluate(record, directory: "-", rules: try DefaultRules.load(catalog: EvidenceCatalog.catalog))
        #expect(d.verdicts.map(\.rule) == ["connection-limit"])
    }

    @Test func anFDLimitIsNamedWithTheFilesAtTheLimit() throws {
        let d = try diagnose("fd-limit")
        #expect(d.verdicts.first?.rule == "connection-limit-by-fd-limit")
        #expect(d.verdicts.first?.culprit == .server)
        #expect(d.limit.map { abs($0 - 256) <= 13 } == true, "within 5% of ulimit -n 256")
        #expect(d.verdicts.first?.explain.contains("limit of 256") == true)
    }

    @Test func syncWorkersArePinnedByIdleConnectionsAndTheBacklogFills() throws {
        let d = try diagnose("sync-workers-backlog")
        #expect(!d.keepAlive)
        #expect(d.verdicts.map(\.rule) == ["connections-held-by-sync-workers", "connection-limit-by-backlog"])
        #expect(d.limit == 2)
        #expect(d.queued.map { abs($0 - 32) <= 2 } == true, "the backlog of 32, plus one")
    }

    @Test func aProxyThatStopsAcceptingIsTheProxysLimit() throws {
        let d = try diagnose("proxy-worker-connections")
        #expect(d.verdicts.first?.rule == "proxy-connection-limit")
        #expect(d.verdicts.first?.culprit == .proxy)
        #expect(!d.verdicts.contains { $0.rule == "connection-limit-by-fd-limit" })
    }

    @Test func aLoadRunsDiagnosisLeavesTheConnectionsRulesOut() throws {
        let rules = try DefaultRules.load(catalog: EvidenceCatalog.catalog)
        #expect(rules.contains { $0.readsConnectionsProbe })
        let result = try DiagnosisResult.evaluate(directory: recordedRun("oom-large-input"), sloP99Milliseconds: 300, rules: rules)
        #expect(!result.missingEvidence.contains { $0.hasPrefix("connections.") })
    }
}
