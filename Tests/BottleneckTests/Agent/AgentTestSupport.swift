import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
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

    static func start(interval: Duration, ring: SampleRing = SampleRing(), token: AgentToken? = TestAgent.token,
                      limits: AgentServer.Limits = AgentServer.Limits()) async throws -> TestAgent {
        let sampler = AgentSampler(ring: ring)
        var configuration = SamplerConfiguration(interval: interval)
        configuration.serverPIDs = [getpid()]
        configuration.sampleThreads = false
        try sampler.configure(configuration)
        let server = AgentServer(sampler: sampler, token: token, logger: Logger(label: "test.agent"), limits: limits)
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

/// A plain TCP connection to the agent, for bytes no well-behaved client would send.
final class RawConnection {
    private let fd: Int32

    /// Connects to 127.0.0.1:`port`; `receiveTimeout` bounds each `receive`.
    init(port: Int, receiveTimeout seconds: Int = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected != 0 { close(fd) }
        try #require(connected == 0, "connect: \(String(cString: strerror(errno)))")
    }

    deinit { close(fd) }

    /// Sends all of `bytes`; false once the agent has closed (no SIGPIPE).
    @discardableResult
    func send(_ bytes: some Collection<UInt8>) -> Bool {
        let bytes = Array(bytes)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Everything received until the agent closes (`closed`), or until the receive timeout.
    func receive() -> (text: String, closed: Bool) {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { received += chunk[0..<n]; continue }
            if n < 0 && errno == EINTR { continue }
            // 0: the agent's FIN; ECONNRESET: it closed with bytes of ours unread. EAGAIN: the timeout.
            let closed = n == 0 || errno == ECONNRESET
            return (String(decoding: received, as: UTF8.self), closed)
        }
    }
}
