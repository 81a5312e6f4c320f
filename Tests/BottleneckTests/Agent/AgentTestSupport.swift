import Foundation
import Logging
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

/// An in-process agent on an ephemeral loopback port, sampling this test process.
struct TestAgent {
    static let token = try! AgentToken(value: "test-token-0123456789abcdef")
    let server: AgentServer
    let sampler: AgentSampler
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }

    static func start(interval: Duration, ring: SampleRing = SampleRing(), token: AgentToken? = TestAgent.token) async throws -> TestAgent {
        let sampler = AgentSampler(ring: ring)
        var configuration = SamplerConfiguration(interval: interval)
        configuration.serverPIDs = [getpid()]
        configuration.sampleThreads = false
        try sampler.configure(configuration)
        let server = AgentServer(sampler: sampler, token: token, logger: Logger(label: "test.agent"))
        let port = try await server.start(address: AgentListenAddress(host: "127.0.0.1", port: 0))
        return TestAgent(server: server, sampler: sampler, port: port)
    }

    func shutdown() async {
        await server.stop()
        sampler.stop()
    }

    func client(token: AgentToken?) throws -> AgentHTTPClient {
        try AgentHTTPClient(url: url, token: token)
    }
}

enum AgentTestFiles {
    static func temporaryDirectory(_ name: String) -> String {
        let path = NSTemporaryDirectory() + "bottleneck-agent-\(name)-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func records(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }
}
