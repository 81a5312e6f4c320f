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
    ]

    @Test(arguments: ["fd-limit", "sync-workers-backlog", "proxy-worker-connections"])
    func eachRuleFiresExactlyWhereItsLimitIs(scenario: String) throws {
        #expect(Set(try diagnose(scenario).verdicts.map(\.rule)) == Self.fires[scenario])
    }

    @Test func theProxysConnectionsAtItsLimitAreTheClientsPlusItsOtherSockets() throws {
        // nginx at worker_connections 128: 101 client connections established at the first close,
        // and 34 other sockets (listener, upstream pool) at the level before: about 135.
        let d = try diagnose("proxy-worker-connections")
        let record = try ConnectionProbeRun.load(directory: Self.directory("proxy-worker-connections"))
        let failing = try #require(record.probe.levels.first { $0.heldAtFirstFailure != nil })
        #expect(d.proxyConnections == 135, "\(String(describing: d.proxyConnections)), clients \(String(describing: failing.heldAtFirstFailure))")
        #expect(d.verdicts.first?.explain.contains("about 135 connections") == true)
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
