import Foundation
import Glibc
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad

/// The connections probe against real loopback servers whose limit is known.
@Suite(.serialized)
struct ConnectionProbeTests {
    private func plan(port: Int, max: Int) throws -> ConnectionProbePlan {
        var plan = ConnectionProbePlan(target: try TargetURL(parsing: "http://127.0.0.1:\(port)/"))
        plan.maxConnections = max
        plan.answerTimeout = .milliseconds(700)
        plan.connectTimeout = .milliseconds(700)
        plan.hold = .milliseconds(200)
        plan.timeLimit = .seconds(30)
        return plan
    }

    @Test func findsTheServersConnectionCapExactly() async throws {
        let server = try await TestHTTPServer(behaviour: .respond(body: "ok"), maxConnections: 37)
        let result = try await ConnectionProbe().run(try plan(port: server.port, max: 500)) { _, _ in }
        await server.stop()
        #expect(result.keepAlive)
        // The fresh request of each level takes a slot while it runs, and is closed after.
        #expect(result.limit == 37)
        #expect(result.maxHeld == 37)
        // Counted one at a time after the first failure: the 38th was turned away, not counted.
        #expect(result.levels.last?.oneAtATime == true && result.levels.last?.heldAtFirstFailure == 37, "\(String(describing: result.levels.last))")
        #expect(result.firstFailure == ConnectionFailureKind.closed.rawValue || result.firstFailure == ConnectionFailureKind.reset.rawValue)
        #expect(result.levels.first?.target == 0)
        #expect(result.levels.map(\.target).prefix(4) == [0, 8, 24, 56].prefix(result.levels.count >= 4 ? 4 : result.levels.count))
    }

    @Test func holdsEveryConnectionWhenTheServerHasRoom() async throws {
        let server = try await TestHTTPServer(behaviour: .respond(body: "ok"))
        let result = try await ConnectionProbe().run(try plan(port: server.port, max: 100)) { _, _ in }
        var open = server.seen.withLockedValue { $0.active }
        for _ in 0..<40 where open > 0 {   // the server sees the closes a moment later
            try await Task.sleep(for: .milliseconds(50))
            open = server.seen.withLockedValue { $0.active }
        }
        await server.stop()
        #expect(result.limit == nil)
        #expect(result.maxHeld == 100)
        #expect(result.stoppedBecause.contains("maximum"))
        #expect(open == 0, "the probe closes what it opened")
        #expect(result.freshWaitAtRestMs != nil)
    }

    @Test func countsTheAcceptQueueOfAListenerThatNeverAccepts() async throws {
        // A listener with backlog 4 that never calls accept(): Linux completes backlog + 1
        // handshakes into its accept queue and drops the SYNs after that.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0 && listen(fd, 4) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let result = try await ConnectionProbe().run(try plan(port: port, max: 200)) { _, _ in }
        #expect(result.maxHeld == 0)
        #expect(result.limit == 0)
        #expect(result.firstFailure == ConnectionFailureKind.noAnswer.rawValue || result.firstFailure == ConnectionFailureKind.connectTimeout.rawValue)
        #expect(result.queued == 5)
    }
}
