import Foundation
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

/// A run pulling from an agent, as `bottleneck load --agent` does, checked in
/// `samples-agent.jsonl` the way a user would: every line the agent produced is there
/// once, in order, or an explicit gap says which are missing.
@Suite("Agent streaming")
struct AgentStreamingTests {
    /// Sequence numbers of sample lines, and gap ranges, in file order.
    struct Stream {
        var sequences: [UInt64] = []
        var gaps: [(from: UInt64, to: UInt64?)] = []
        var lines: [UInt64: String] = [:]
        var records: [[String: Any]] = []

        init(path: String) throws {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            for line in text.split(separator: "\n") {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                records.append(object)
                switch object["type"] as? String {
                case "gap": gaps.append(((object["from_seq"] as! NSNumber).uint64Value, (object["to_seq"] as? NSNumber)?.uint64Value))
                case "clock": break
                default:
                    let seq = (object["seq"] as! NSNumber).uint64Value
                    sequences.append(seq)
                    lines[seq] = String(line)
                }
            }
        }
    }

    /// Every line received is byte-for-byte the agent's line of that number.
    func expectNothingInvented(_ stream: Stream, agent: TestAgent) {
        guard let first = stream.sequences.first else { return }
        let batch = agent.sampler.ring.lines(after: first - 1, limit: 1_000_000)
        for (i, line) in batch.lines.enumerated() {
            let seq = batch.firstSequence + UInt64(i)
            if let received = stream.lines[seq] { #expect(received == String(decoding: line, as: UTF8.self), "line \(seq) differs") }
        }
    }

    @Test("the samples of a 10 s run arrive complete, in order, with the run's steps")
    func tenSecondRun() async throws {
        let agent = try await TestAgent.start(interval: .milliseconds(100))
        defer { Task { await agent.shutdown() } }
        let path = AgentTestFiles.temporaryDirectory("run")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = try RunDirectory(name: "agent", explicitPath: path)
        let attachment = try AgentAttachment(url: agent.url, token: TestAgent.token, serverPIDs: [getpid()],
                                             interval: .milliseconds(100), pollInterval: .milliseconds(250))
        let before = agent.sampler.ring.latestSequence
        #expect(try attachment.start(directory: directory).isEmpty)
        for step in 0..<2 {
            attachment.stepStarted(index: step, name: "step \(step)", at: MonotonicClock.now())
            try await Task.sleep(for: .seconds(5))
        }
        #expect(attachment.stop(directory: directory).isEmpty)

        let stream = try Stream(path: directory.file(AgentAttachment.fileName))
        let statistics = attachment.statistics
        #expect(stream.gaps.isEmpty)
        #expect(statistics.disconnects == 0)
        // Contiguous from the new session's header (after the old session's drained lines) to the last line, each once.
        #expect((stream.sequences.first ?? 0) > before)
        #expect(stream.records.first { $0["type"] as? String != "clock" }?["type"] as? String == "header")
        let first = try #require(stream.sequences.first), last = try #require(stream.sequences.last)
        #expect(stream.sequences == Array(first...last))
        #expect(statistics.lines == stream.sequences.count)
        #expect(statistics.lastSequence == last)
        // Everything the agent had produced when the run stopped was fetched.
        #expect(last <= agent.sampler.ring.latestSequence)
        expectNothingInvented(stream, agent: agent)
        // About 100 ticks of host samples, all from the agent, both step marks.
        let hosts = stream.records.filter { $0["type"] as? String == "host" }
        #expect(hosts.count >= 90, "\(hosts.count) host samples in 10 s at 100 ms")
        let times = hosts.compactMap { ($0["t"] as? NSNumber)?.uint64Value }
        #expect((times.last ?? 0) - (times.first ?? 0) >= 9_500_000_000)
        #expect(stream.records.filter { $0["type"] as? String == "process" }.allSatisfy { $0["source"] as? String == "agent" })
        #expect(stream.records.filter { $0["type"] as? String == "step" }.compactMap { $0["name"] as? String } == ["step 0", "step 1"])
        #expect(stream.records.contains { $0["type"] as? String == "clock" && $0["agent_t"] != nil })
    }

    @Test("a dropped agent connection resumes from the buffer with nothing lost")
    func reconnectsFromBuffer() async throws {
        let agent = try await TestAgent.start(interval: .milliseconds(20))
        defer { Task { await agent.shutdown() } }
        let path = AgentTestFiles.temporaryDirectory("drop")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = try RunDirectory(name: "agent", explicitPath: path)
        let attachment = try AgentAttachment(url: agent.url, token: TestAgent.token, pollInterval: .milliseconds(100))
        _ = try attachment.start(directory: directory)
        try await Task.sleep(for: .milliseconds(700))
        let outage = try await AgentOutage.begin(agent)
        let producedWhileDown = agent.sampler.ring.latestSequence
        try await Task.sleep(for: .milliseconds(1200))
        #expect(agent.sampler.ring.latestSequence > producedWhileDown)
        try await outage.end()
        try await Task.sleep(for: .milliseconds(700))
        _ = attachment.stop(directory: directory)

        let stream = try Stream(path: directory.file(AgentAttachment.fileName))
        #expect(attachment.statistics.disconnects >= 1)
        #expect(stream.gaps.isEmpty)
        let first = try #require(stream.sequences.first), last = try #require(stream.sequences.last)
        #expect(stream.sequences == Array(first...last))
        #expect(last > producedWhileDown)
        expectNothingInvented(stream, agent: agent)
    }

    @Test("lines evicted while disconnected become a gap record, never made-up samples")
    func evictionBecomesGap() async throws {
        let agent = try await TestAgent.start(interval: .milliseconds(20), ring: SampleRing(capacityLines: 40))
        defer { Task { await agent.shutdown() } }
        let path = AgentTestFiles.temporaryDirectory("gap")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = try RunDirectory(name: "agent", explicitPath: path)
        let attachment = try AgentAttachment(url: agent.url, token: TestAgent.token, pollInterval: .milliseconds(50))
        _ = try attachment.start(directory: directory)
        try await Task.sleep(for: .milliseconds(500))
        let outage = try await AgentOutage.begin(agent)
        try await Task.sleep(for: .milliseconds(1200))
        try await outage.end()
        try await Task.sleep(for: .milliseconds(500))
        let notes = attachment.stop(directory: directory)

        let stream = try Stream(path: directory.file(AgentAttachment.fileName))
        #expect(!stream.gaps.isEmpty)
        #expect(notes.contains { $0.contains("gap") })
        // Lines and gaps together cover the range exactly once.
        var covered: [UInt64] = stream.sequences
        for gap in stream.gaps { covered += Array(gap.from...(try #require(gap.to))) }
        covered.sort()
        let first = try #require(covered.first), last = try #require(covered.last)
        #expect(covered == Array(first...last))
        #expect(attachment.statistics.linesLost == UInt64(stream.gaps.reduce(0) { $0 + Int($1.to! - $1.from + 1) }))
        expectNothingInvented(stream, agent: agent)
    }
}

/// An agent outage as a run sees it: connections to the agent's port are refused, then the
/// agent listens on the same port again.
///
/// While the listener is down the port stays bound by a socket that does not listen (so
/// connecting is refused, as for a stopped agent), and no other test's `bind(port 0)` can
/// be given the port meanwhile.
struct AgentOutage {
    let agent: TestAgent
    private let hold: Int32

    static func begin(_ agent: TestAgent) async throws -> AgentOutage {
        await agent.server.stop()
        return AgentOutage(agent: agent, hold: try bindWithoutListening(port: agent.port))
    }

    private init(agent: TestAgent, hold: Int32) {
        self.agent = agent
        self.hold = hold
    }

    /// Listens on the old port again (SO_REUSEADDR on both sockets lets it share the port
    /// with the holding socket), then lets the port go.
    func end() async throws {
        defer { close(hold) }
        _ = try await agent.server.start(address: AgentListenAddress(host: "127.0.0.1", port: agent.port))
    }

    private static func bindWithoutListening(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw AgentError(.bindFailed, "holding port \(port) during the outage: \(message)")
        }
        return fd
    }
}
