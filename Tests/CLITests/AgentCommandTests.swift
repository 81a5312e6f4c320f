import Foundation
import Testing

/// `bottleneck agent` beside a server and `bottleneck load --agent` against it, as a user on
/// two hosts would run them (here both on loopback).
@Suite("bottleneck load --agent, run as a user would", .serialized)
struct AgentCommandTests {
    static let hasPython = (try? Subprocess.run("/usr/bin/env", ["python3", "-c", "pass"]).status) == 0
    static let serverScript = CLI.packageRoot.appendingPathComponent("Tests/Support/cpu_per_request_server.py").path

    /// The first `127.0.0.1:PORT` in `text`.
    static func loopbackPort(in text: String) -> Int? {
        guard let range = text.range(of: #"127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else { return nil }
        return Int(text[range].split(separator: ":")[1])
    }

    static func json(_ url: URL) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    @Test(.enabled(if: hasPython, "needs python3 to run the server the agent samples"), .timeLimit(.minutes(2)))
    func loadWithAnAgentDiagnosesTheServerFromItsSamples() throws {
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try BackgroundProcess("/usr/bin/env", ["python3", Self.serverScript, "60"])
        defer { server.interrupt() }
        try #require(server.waitForStandardError(containing: "listening on", timeout: 10), "server: \(server.stderr)")
        let port = try #require(Int(server.stderr.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
        let agent = try BackgroundProcess(CLI.binary.path, ["agent", "--listen", "127.0.0.1:0", "--sample-interval", "100ms"])
        defer { agent.interrupt() }
        try #require(agent.waitForStandardError(containing: "bottleneck agent listening", timeout: 10), "agent: \(agent.stderr)")
        let agentPort = try #require(Self.loopbackPort(in: agent.stderr), "agent: \(agent.stderr)")

        let out = directory.appendingPathComponent("run")
        let load = try CLI.run(["load", "--target", "http://127.0.0.1:\(port)/predict", "--rates", "20,100", "--duration", "2s",
                                "--agent", "http://127.0.0.1:\(agentPort)", "--server-port", String(port),
                                "--sample-interval", "100ms", "--out", out.path], in: directory)
        #expect(load.status == 0, "\(load.stderr)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("samples-agent.jsonl").path))
        let summary = try Self.json(out.appendingPathComponent("summary.json"))
        let sampled = try #require(summary["agentSampling"] as? [String: Any], "summary.json has no agentSampling")
        #expect(sampled["source"] as? String == "agent")
        let steps = (sampled["steps"] as? [[String: Any]] ?? []).filter { ($0["index"] as? Int ?? -1) >= 0 }
        #expect(steps.count == 2)
        for step in steps {
            let busiest = (step["server"] as? [String: Any])?["busiestProcess"] as? [String: Any]
            #expect(busiest?["pid"] as? Int == Int(server.pid), "step \(step["index"] ?? "?"): \(String(describing: busiest))")
        }

        // The evidence the rules read, recomputed from the run directory alone.
        let diagnose = try CLI.run(["diagnose", "--from", out.path, "--json"], in: directory)
        #expect(diagnose.status == 0, "\(diagnose.stderr)")
        let evidence = try Self.json(out.appendingPathComponent("evidence.json"))
        let metrics = try #require(evidence["steps"] as? [[String: Any]])
        try #require(metrics.count == 2)
        func value(_ step: Int, _ name: String) -> Double? { (metrics[step][name] as? NSNumber)?.doubleValue }
        #expect(value(1, "server.sampled") == 1)
        #expect(value(1, "server.cpu_cores") ?? 0 > 0.15, "\(metrics[1])")
        #expect(value(1, "server.cpu_cores") ?? 0 > 2 * (value(0, "server.cpu_cores") ?? 0), "\(metrics)")
        #expect(value(1, "host.other_cores") == nil)
    }
}
