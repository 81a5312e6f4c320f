import Foundation
import Logging
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

/// A run whose server is sampled by an agent (`bottleneck load --agent URL --server-port P`)
/// diagnoses the server from the agent's samples, as a run that samples it locally does.
@Suite("Agent evidence", .serialized)
struct AgentEvidenceTests {
    /// `Tests/Support/cpu_per_request_server.py`: about 5 ms of CPU per request.
    static let serverScript = SupportScripts.path("cpu_per_request_server.py")

    @Test("a run with --agent gets the server's per-step aggregates and server.* evidence from the agent",
          .enabled(if: SamplingSessionIntegrationTests.hasPython, "needs python3 to run the server the agent samples"),
          .timeLimit(.minutes(2)))
    func serverEvidenceComesFromTheAgent() async throws {
        let server = try TestChildProcess("/usr/bin/env", ["python3", Self.serverScript, "60"], captureOutput: true)
        defer { server.stop() }
        let port = try #require(server.readLine().flatMap { UInt16($0.trimmingCharacters(in: .whitespaces)) })
        let agent = try await TestAgent.start(interval: .milliseconds(100))
        defer { Task { await agent.shutdown() } }

        var options = LoadOptions()
        options.target = try TargetURL(parsing: "http://127.0.0.1:\(port)/predict")
        options.steps = .rates([20, 100])
        options.duration = 2_000_000_000
        let built = try LoadPlanBuilder.build(options, runTag: LoadPlanBuilder.makeRunTag())
        let scratch = AgentTestFiles.temporaryDirectory("evidence")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var request = LoadRun.Request(plan: built.plan, name: built.name, outputDirectory: scratch + "/run", command: ["test"],
                                      probe: nil, payloadSpecs: built.payloadSpecs, body: built.body,
                                      payloadDescriptors: built.payloadDescriptors)
        // As `load --agent` wires it: the generator sampled here, the server by the agent.
        request.observers.samplers = [SamplingAttachment(configuration: SamplerConfiguration(interval: .milliseconds(100), targetPorts: [port]))]
        request.observers.agent = try AgentAttachment(url: agent.url, token: TestAgent.token, serverPorts: [port], interval: .milliseconds(100))
        let (summary, directory) = try await LoadRun().execute(request, display: nil, logger: Logger(label: "test"))

        #expect(summary.steps.map(\.completed).allSatisfy { $0 > 0 })
        let local = try #require(summary.sampling)
        #expect(local.steps.allSatisfy { $0.server.processes == 0 }, "the server was sampled here too")
        let sampled = try #require(summary.agentSampling)
        #expect(sampled.source == "agent")
        let steps = sampled.steps.filter { $0.index >= 0 }
        try #require(steps.map(\.index) == [0, 1])
        for step in steps {
            #expect(step.server.processes == 1, "step \(step.index)")
            #expect(step.server.busiestProcess?.pid == server.pid, "step \(step.index)")
            #expect(step.intervals >= 15, "step \(step.index): \(step.intervals) intervals of 100 ms in 2 s")
            // On the run's clock: the agent's step begins at its first sample interval in the step,
            // so after the local one by the gap between two agent samples — 100 ms apart when the
            // agent's thread gets a core, but 192 and 700 ms were seen while the other suites' tests
            // filled both cores. A wrong clock would be off by seconds or by the machine's uptime,
            // so half the 2 s step is the bound.
            let here = try #require(local.steps.first { $0.index == step.index })
            #expect(step.startNanoseconds.distance(to: here.startNanoseconds).magnitude < 1_000_000_000,
                    "step \(step.index) starts at \(step.startNanoseconds) by the agent, \(here.startNanoseconds) here")
        }
        // Five times the requests, five times the CPU (5 ms each): the steps are told apart.
        #expect(steps[1].server.cpuCoresMean > 0.15)
        #expect(steps[1].server.cpuCoresMean > 2 * steps[0].server.cpuCoresMean,
                "\(steps[0].server.cpuCoresMean) then \(steps[1].server.cpuCoresMean) cores")

        let written = try RunJSON.decode(RunSummary.self, from: Data(contentsOf: URL(fileURLWithPath: directory.file("summary.json"))))
        #expect(written.agentSampling == sampled)
        let evidence = try RunEvidence.load(directory: directory.path)
        #expect(evidence.value("server.sampled", step: .step(1)) == 1)
        #expect(evidence.value("server.processes", step: .step(1)) == 1)
        #expect(evidence.value("server.cpu_cores", step: .step(1)) ?? 0 > 0.15)
        #expect(evidence.value("server.busiest_process_cores", step: .step(1)) ?? 0 > 0.15)
        #expect(evidence.value("server.allowed_cores", step: .step(1)) ?? 0 >= 1)
        #expect(evidence.value("server.accept_queue_max", step: .step(1)) != nil)
        #expect(evidence.value("server.listen_overflows", step: .step(1)) != nil)
        // The generator's host is not the server's: nothing is subtracted across hosts.
        #expect(evidence.value("host.busy_cores", step: .step(1)) != nil)
        #expect(evidence.value("host.other_cores", step: .step(1)) == nil)
    }
}
