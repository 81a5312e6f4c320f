import Foundation
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite("Agent HTTP API")
struct AgentServerTests {
    @Test("constant-time compare answers like ==", arguments: [
        ("abcdef", "abcdef", true), ("abcdef", "abcdeg", false), ("abcdef", "bbcdef", false),
        ("abcdef", "abcde", false), ("abcde", "abcdef", false), ("", "", true), ("", "a", false),
        ("abc\u{0}", "abc", false),
    ])
    func constantTimeEqual(a: String, b: String, equal: Bool) {
        #expect(AgentToken.constantTimeEqual(Array(a.utf8), Array(b.utf8)) == equal)
    }

    @Test func tokenAcceptsOnlyTheBearerToken() throws {
        let token = try AgentToken(value: "  0123456789abcdefXYZ\n")
        #expect(token.value == "0123456789abcdefXYZ")
        #expect(token.accepts(authorization: "Bearer 0123456789abcdefXYZ"))
        #expect(token.accepts(authorization: "bearer 0123456789abcdefXYZ"))
        #expect(!token.accepts(authorization: nil))
        #expect(!token.accepts(authorization: "Bearer 0123456789abcdefXY"))
        #expect(!token.accepts(authorization: "Bearer 0123456789abcdefXYZZ"))
        #expect(!token.accepts(authorization: "Basic 0123456789abcdefXYZ"))
        #expect(!token.accepts(authorization: "0123456789abcdefXYZ"))
    }

    @Test func tokenFileChecks() throws {
        let directory = AgentTestFiles.temporaryDirectory("token")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func write(_ name: String, _ text: String, mode: Int) -> String {
            let path = directory + "/" + name
            _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
            return path
        }
        let good = write("good", "0123456789abcdef0123\n", mode: 0o600)
        #expect(try AgentToken.load(path: good).value == "0123456789abcdef0123")
        #expect(throws: AgentError.self) { try AgentToken.load(path: directory + "/missing") }
        #expect(throws: AgentError.self) { try AgentToken.load(path: write("empty", "\n", mode: 0o600)) }
        #expect(throws: AgentError.self) { try AgentToken.load(path: write("short", "abc", mode: 0o600)) }
        let wide = write("wide", "0123456789abcdef0123", mode: 0o644)
        do {
            _ = try AgentToken.load(path: wide)
            Issue.record("a world-readable token file was accepted")
        } catch {
            #expect(error.code == .badToken)
            #expect(error.message.contains("chmod 600"))
        }
    }

    @Test func listenAddress() throws {
        #expect(try AgentListenAddress.parse("127.0.0.1:9555") == .default)
        #expect(try AgentListenAddress.parse("[::1]:80") == AgentListenAddress(host: "::1", port: 80))
        #expect(try AgentListenAddress.parse("[::1]:80").isLoopback)
        #expect(try !AgentListenAddress.parse("0.0.0.0:9555").isLoopback)
        #expect(throws: AgentError.self) { try AgentListenAddress.parse("9555") }
        #expect(throws: AgentError.self) { try AgentListenAddress.parse("host:99999") }
    }

    @Test func refusesToListenBeyondLoopbackWithoutToken() async throws {
        let server = AgentServer(sampler: AgentSampler(), token: nil, logger: .init(label: "test"))
        await #expect(throws: AgentError.self) { try await server.start(address: AgentListenAddress(host: "0.0.0.0", port: 0)) }
    }

    @Test("missing or wrong token gets 401, the right one 200")
    func authentication() async throws {
        let agent = try await TestAgent.start(interval: .milliseconds(100))
        defer { Task { await agent.shutdown() } }
        let wrong = try AgentToken(value: "test-token-0123456789abcdeX")
        for path in ["/v1/status", "/v1/samples?after=0", "/metrics"] {
            #expect(try agent.client(token: nil).get(path).status == 401, "\(path) without a token")
            #expect(try agent.client(token: wrong).get(path).status == 401, "\(path) with a wrong token")
            #expect(try agent.client(token: TestAgent.token).get(path).status == 200, "\(path) with the token")
        }
        #expect(try agent.client(token: nil).post("/v1/step", json: ["index": 0, "name": "x"]).status == 401)
        #expect(try agent.client(token: nil).post("/v1/session", json: ["serverPorts": [1]]).status == 401)
        // Health is open, and says nothing but ok.
        let health = try agent.client(token: nil).get("/health")
        #expect(health.status == 200)
        #expect(String(decoding: health.body, as: UTF8.self) == "ok\n")
        #expect(try agent.client(token: TestAgent.token).get("/nope").status == 404)
        // A bad session leaves sampling running and says why.
        let before = agent.sampler.ring.latestSequence
        let bad = try agent.client(token: TestAgent.token).post("/v1/session", json: ["serverPIDs": [Int(Int32.max) - 1]])
        #expect(bad.status == 400)
        try await Task.sleep(for: .milliseconds(300))
        #expect(agent.sampler.ring.latestSequence > before)
    }

    @Test("/metrics is OpenMetrics: every family typed, counters end in _total, # EOF last")
    func metrics() async throws {
        let agent = try await TestAgent.start(interval: .milliseconds(50))
        defer { Task { await agent.shutdown() } }
        try await Task.sleep(for: .milliseconds(1300))   // TCP counters are read every second
        let response = try agent.client(token: TestAgent.token).get("/metrics")
        #expect(response.status == 200)
        #expect(response.headers["content-type"]?.hasPrefix("application/openmetrics-text") == true)
        let text = String(decoding: response.body, as: UTF8.self)
        #expect(text.hasSuffix("# EOF\n"))
        var types: [String: String] = [:]
        var samples: Set<String> = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        for (i, line) in lines.enumerated() {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                #expect(parts.count == 4)
                #expect(types[String(parts[2])] == nil, "family \(parts[2]) declared twice")
                types[String(parts[2])] = String(parts[3])
            } else if line.hasPrefix("# HELP ") || line == "# EOF" {
                #expect(line != "# EOF" || i == lines.count - 1)
            } else {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                let family = types[name] != nil ? name : (name.hasSuffix("_total") ? String(name.dropLast(6)) : name)
                guard let type = types[family] else { Issue.record("sample \(name) has no # TYPE"); continue }
                if type == "counter" { #expect(name == family + "_total", "counter sample \(name)") }
                #expect(Double(line.split(separator: " ").last!) != nil, "value of \(line)")
                samples.insert(name)
            }
        }
        for expected in ["bottleneck_host_cpu_seconds_total", "bottleneck_process_cpu_seconds_total",
                         "bottleneck_tree_cpu_cores", "bottleneck_process_resident_memory_bytes",
                         "bottleneck_tcp_retransmitted_segments_total"] {
            #expect(samples.contains(expected), "\(expected) missing from /metrics")
        }
    }

    @Test func ringReportsEvictedRanges() {
        let ring = SampleRing(capacityBytes: 1 << 20, capacityLines: 3)
        for i in 1...5 { ring.append(line: Array("{\"type\":\"x\",\"t\":\(i)}".utf8)) }
        let batch = ring.lines(after: 0)
        #expect(batch.gap == 1...2)
        #expect(batch.firstSequence == 3)
        #expect(batch.lines.map { String(decoding: $0, as: UTF8.self) } ==
                ["{\"type\":\"x\",\"t\":3,\"seq\":3}", "{\"type\":\"x\",\"t\":4,\"seq\":4}", "{\"type\":\"x\",\"t\":5,\"seq\":5}"])
        #expect(ring.lines(after: 4).lines.count == 1)
        #expect(ring.lines(after: 4).gap == nil)
        #expect(ring.lines(after: 5).lines.isEmpty)
    }

    @Test("a malformed request gets 400, a body over 64 KiB 413, and the query is split")
    func httpLimits() async throws {
        let agent = try await TestAgent.start(interval: .milliseconds(100))
        defer { Task { await agent.shutdown() } }
        // NIOHTTP1 refuses bytes that are not HTTP with 400 before the agent sees them.
        let garbage = try Self.exchange(port: agent.port, "GARBAGE\r\n\r\n")
        #expect(garbage.hasPrefix("HTTP/1.1 400"), "\(garbage)")
        // An authorised peer still may not make the agent buffer more than 64 KiB.
        let big = try agent.client(token: TestAgent.token).post("/v1/step", json: ["index": 0, "name": String(repeating: "x", count: 70_000)])
        #expect(big.status == 413)
        let split = AgentHTTPRequest.split(target: "/v1/samples?after=12&limit=3&name=rate%3D200")
        #expect(split.path == "/v1/samples")
        #expect(split.query == ["after": "12", "limit": "3", "name": "rate=200"])
        // Found by the fuzzer (agent-http): a query pair "=" trapped the agent before it judged
        // the token. An empty key is a key; the unauthenticated peer gets its 401.
        #expect(AgentHTTPRequest.split(target: "/v1/samples?after=%ft&=&=x").query == ["after": "%ft", "": "x"])
        let emptyKey = try Self.exchange(port: agent.port, "GET /v0/s?after=%fter&=&er&= HTTP/1.1\r\nAuthorization: Bearer wrong\r\n\r\n")
        #expect(emptyKey.hasPrefix("HTTP/1.1 401"), "\(emptyKey)")
    }

    /// Sends raw bytes to the agent and returns all it answers before closing.
    static func exchange(port: Int, _ text: String) throws -> String {
        let connection = try RawConnection(port: port)
        connection.send(text)
        return connection.receive().text
    }
}
