import Foundation
import Testing
@testable import BottleneckCore
@testable import BottleneckSampling

/// The agent against a hostile peer, over real sockets to an agent with a token on loopback:
/// what it answers, what it closes, and that a client with the token is still served.
@Suite("Agent under a hostile client", .serialized)
struct AgentHardeningTests {
    static let unauthorized = "unauthorized: send Authorization: Bearer <token from the agent's --token-file>\n"

    /// The status code on the first line of an HTTP response, or nil when there is none.
    static func status(_ response: String) -> Int? {
        let parts = response.prefix { $0 != "\r" }.split(separator: " ")
        return parts.count >= 2 && parts[0].hasPrefix("HTTP/1.") ? Int(parts[1]) : nil
    }

    static func request(_ target: String, method: String = "GET", token: String? = nil, extra: String = "") -> String {
        let authorization = token.map { "Authorization: Bearer \($0)\r\n" } ?? ""
        return "\(method) \(target) HTTP/1.1\r\nHost: agent\r\n\(authorization)\(extra)\r\n"
    }

    /// Polls `condition` for up to `seconds`.
    static func eventually(within seconds: Double, _ condition: () -> Bool) async throws -> Bool {
        let clock = ContinuousClock()
        let end = clock.now + .milliseconds(Int(seconds * 1000))
        while clock.now < end {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    @Test("a request line or header block over 16 KiB, or too many fields, gets 431 and is closed")
    func oversizedHeads() async throws {
        let agent = try await TestAgent.start(interval: .milliseconds(100))
        defer { Task { await agent.shutdown() } }
        let token = TestAgent.token.value
        let padding = String(repeating: "a", count: 17 * 1024)
        let oversized = [
            "request line": Self.request("/v1/status?x=\(padding)", token: token),
            "one header": Self.request("/v1/status", token: token, extra: "X-Pad: \(padding)\r\n"),
            "header block": Self.request("/v1/status", token: token, extra: (0..<40).map { "X-Pad-\($0): \(padding.prefix(500))\r\n" }.joined()),
            "field count": Self.request("/v1/status", token: token, extra: (0..<100).map { "X-\($0): y\r\n" }.joined()),
            "no token": Self.request("/v1/status", extra: "X-Pad: \(padding)\r\n"),
        ]
        for (name, text) in oversized {
            let connection = try RawConnection(port: agent.port)
            connection.send(text)
            let (response, closed) = connection.receive()
            #expect(Self.status(response) == 431, "\(name): \(response.prefix(200))")
            #expect(closed, "\(name): the connection was left open")
        }
        // A head that never ends: the agent stops reading at the limit, so the attacker's
        // bytes past it are refused rather than buffered.
        let endless = try RawConnection(port: agent.port)
        var sent = 0
        let chunk = Array("X-Endless: \(padding.prefix(1000))\r\n".utf8)
        endless.send(String(Self.request("/v1/status", token: token).dropLast()))   // "\r\n" is one Character
        while sent < 64 << 20, endless.send(chunk) { sent += chunk.count }
        #expect(sent < 16 << 20, "the agent took \(sent) bytes of one request head")
        let (answer, closed) = endless.receive()
        #expect(closed && (answer.isEmpty || Self.status(answer) == 431), "\(answer.prefix(200))")
        // A head just under the limit is served.
        let large = try RawConnection(port: agent.port)
        large.send(Self.request("/v1/status", token: token, extra: "X-Pad: \(padding.prefix(12 * 1024))\r\n"))
        #expect(Self.status(large.receive().text) == 200)
        #expect(try await Self.eventually(within: 2) { agent.server.openConnections == 0 })
    }

    @Test("a body over 64 KiB gets 413; a peer without the token gets 401 before sending its body")
    func bodies() async throws {
        let agent = try await TestAgent.start(interval: .milliseconds(100))
        defer { Task { await agent.shutdown() } }
        let chunked = try RawConnection(port: agent.port)
        chunked.send(Self.request("/v1/step", method: "POST", token: TestAgent.token.value, extra: "Transfer-Encoding: chunked\r\n"))
        let piece = String(repeating: "x", count: 8192)
        for _ in 0..<9 { guard chunked.send("2000\r\n\(piece)\r\n") else { break } }
        #expect(Self.status(chunked.receive().text) == 413)
        // The head says 60 KiB follow; none is sent, and the 401 comes at once.
        let early = try RawConnection(port: agent.port, receiveTimeout: 2)
        early.send(Self.request("/v1/session", method: "POST", token: "wrong-token-0123456789abcdef", extra: "Content-Length: 61440\r\n"))
        let (response, closed) = early.receive()
        #expect(Self.status(response) == 401)
        #expect(closed)
    }

    @Test("slowloris: a trickling or silent peer is closed at the request deadline; the cap holds; the token's client is served")
    func slowPeers() async throws {
        var limits = AgentServer.Limits()
        limits.requestTimeout = .seconds(1)
        limits.maxConnections = 8
        let agent = try await TestAgent.start(interval: .milliseconds(100), limits: limits)
        defer { Task { await agent.shutdown() } }
        let clock = ContinuousClock()

        // One header byte every 200 ms: still sending when the deadline closes it.
        let trickle = try RawConnection(port: agent.port)
        let start = clock.now
        var trickled = 0
        for byte in Self.request("/v1/status", token: TestAgent.token.value).utf8 {
            guard trickle.send([byte]) else { break }
            trickled += 1
            try await Task.sleep(for: .milliseconds(200))
        }
        let elapsed = clock.now - start
        #expect(trickle.receive().closed)
        #expect(elapsed > .milliseconds(800) && elapsed < .seconds(4), "closed after \(elapsed)")
        #expect(trickled < 30, "the agent took \(trickled) trickled bytes")

        // Three times the cap of connections that send nothing.
        var silent: [RawConnection] = []
        for _ in 0..<24 {
            silent.append(try RawConnection(port: agent.port, receiveTimeout: 3))
            #expect(agent.server.openConnections <= limits.maxConnections)
        }
        #expect(try await Self.eventually(within: 0.5) { agent.server.openConnections <= limits.maxConnections })
        // Meanwhile a client with the token is served, every time.
        for _ in 0..<5 {
            let response = try agent.client(token: TestAgent.token).get("/v1/status")
            #expect(response.status == 200)
            silent.append(try RawConnection(port: agent.port, receiveTimeout: 3))
        }
        #expect(agent.server.openConnections <= limits.maxConnections)
        // Every silent connection ends closed: evicted by a newcomer or at the deadline.
        for connection in silent {
            let (text, closed) = connection.receive()
            #expect(closed && text.isEmpty)
        }
        #expect(try await Self.eventually(within: 2) { agent.server.openConnections == 0 })
    }

    @Test func connectionTableEvictsTheOldestPeerStillSendingItsRequest() {
        var table = AgentConnectionTable<String>(capacity: 2)
        func admit(_ name: String) -> (id: UInt64?, evicted: String?) {
            if case .admitted(let id, let evicted) = table.admit(name) { return (id, evicted) }
            return (nil, nil)
        }
        let a = admit("a"), b = admit("b")
        #expect(a.evicted == nil && b.evicted == nil && table.count == 2)
        table.markRequestReceived(a.id!)
        let c = admit("c")
        #expect(c.evicted == "b")                  // a is being answered; b was only connected
        let d = admit("d")
        #expect(d.evicted == "c")
        table.markRequestReceived(d.id!)
        #expect(admit("e").id == nil)              // both slots are being answered: refused
        #expect(table.count == 2)
        table.remove(a.id!)
        #expect(admit("e").evicted == nil && table.count == 2)
    }

    @Test("500 bad-token requests, new connections and keep-alive: 401 with nothing more, and the token's client is served")
    func badTokensAtRate() async throws {
        let agent = try await TestAgent.start(interval: .milliseconds(50))
        defer { Task { await agent.shutdown() } }
        try await Task.sleep(for: .milliseconds(200))
        let port = agent.port
        let targets = ["/v1/samples?after=0", "/v1/status", "/metrics", "/v1/step", "/nope"]
        let legitimate = Task.detached {
            var statuses: [Int] = []
            for _ in 0..<20 {
                statuses.append((try? agent.client(token: TestAgent.token).get("/v1/samples?after=0").status) ?? -1)
            }
            return statuses
        }
        // 400 on a new connection each, four at a time.
        let answers = try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var answers: [String] = []
                    for i in 0..<100 {
                        let token = i % 2 == 0 ? "guess-\(worker)-\(i)-0123456789abcdef" : nil
                        let connection = try RawConnection(port: port)
                        connection.send(Self.request(targets[i % targets.count], token: token))
                        answers.append(connection.receive().text)
                    }
                    return answers
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(answers.count == 400)
        for answer in answers {
            #expect(Self.status(answer) == 401)
            let parts = answer.components(separatedBy: "\r\n\r\n")
            #expect(parts.count == 2 && parts[1] == Self.unauthorized, "\(answer)")
            #expect(!answer.lowercased().contains("x-bottleneck"), "\(answer)")
        }
        // 100 more, ten pipelined on each of ten keep-alive connections: one 401 each, then closed.
        for _ in 0..<10 {
            let connection = try RawConnection(port: port)
            let burst = (0..<10).map { Self.request("/v1/status", token: "guess-\($0)-0123456789abcdef", extra: "Connection: keep-alive\r\n") }
            connection.send(burst.joined())
            let (text, closed) = connection.receive()
            #expect(text.components(separatedBy: "HTTP/1.1 ").count - 1 == 1, "\(text)")
            #expect(Self.status(text) == 401 && closed)
        }
        #expect(await legitimate.value == Array(repeating: 200, count: 20))
        #expect(try await Self.eventually(within: 2) { agent.server.openConnections == 0 })
    }

    @Test("every route, by every method, answers 401 without the token; only GET /health is public, and says only ok")
    func everyRouteNeedsTheToken() async throws {
        let agent = try await TestAgent.start(interval: .milliseconds(100))
        defer { Task { await agent.shutdown() } }
        let routes = ["/v1/samples?after=0", "/v1/samples", "/v1/status", "/v1/session", "/v1/step", "/metrics",
                      "/health", "/health?verbose=1", "/HEALTH", "/health/", "/", "/v1", "/version", "/nope"]
        for method in ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"] {
            for route in routes {
                for token in [nil, "wrong-token-0123456789abcdef", TestAgent.token.value + "x"] {
                    let answer = try AgentServerTests.exchange(port: agent.port, Self.request(route, method: method, token: token, extra: "Content-Length: 0\r\n"))
                    let parts = answer.components(separatedBy: "\r\n\r\n")
                    if method == "GET" && (route == "/health" || route == "/health?verbose=1") {
                        #expect(Self.status(answer) == 200 && parts.last == "ok\n", "\(method) \(route): \(answer)")
                    } else {
                        #expect(Self.status(answer) == 401, "\(method) \(route) token \(token ?? "none"): \(answer)")
                        #expect(method == "HEAD" || parts.last == Self.unauthorized, "\(method) \(route): \(answer)")
                    }
                    #expect(!answer.lowercased().contains("x-bottleneck") && !answer.lowercased().contains("server:"), "\(answer)")
                }
                // With the token nothing is refused.
                let answer = try AgentServerTests.exchange(port: agent.port, Self.request(route, method: method, token: TestAgent.token.value, extra: "Content-Length: 0\r\n"))
                #expect(Self.status(answer) != 401 && Self.status(answer) != nil, "\(method) \(route) with the token: \(answer)")
            }
        }
    }
}
