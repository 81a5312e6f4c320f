import Foundation
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite("sock_diag requests and answers")
struct InetDiagTests {
    static func capturedDump() throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: SamplingFixtures.root + "/sock_diag/linux-6.18/ports-18080-18081.bin")))
    }

    static func parse(_ bytes: ArraySlice<UInt8>, sequence: UInt32 = 7) throws(SamplerError) -> (sockets: [TCPSocket], done: Bool) {
        var sockets: [TCPSocket] = []
        let done = try bytes.withUnsafeBytes { raw in
            Result { () throws(SamplerError) -> Bool in try InetDiag.parseDump(raw, sequence: sequence, into: &sockets) }
        }.get()
        return (sockets, done)
    }

    @Test func capturedAnswerGivesTheSocketsSsShowed() throws {
        let (sockets, done) = try Self.parse(Self.capturedDump()[...])
        #expect(done)
        #expect(sockets.count == 14)
        let listeners = sockets.filter { $0.state == .listen }
        // IPv4 and IPv6 in one dump: both 18080 listeners, with their accept queues.
        #expect(listeners.filter { $0.localPort == 18080 }.map(\.rxQueue).sorted() == [2, 3])
        #expect(listeners.contains { $0.localPort == 18081 && $0.rxQueue == 0 })
        #expect(listeners.allSatisfy { $0.txQueue == 0 && $0.inode != 0 })
        #expect(sockets.filter { $0.state == .established && $0.remotePort == 18080 }.count == 5)
        #expect(sockets.filter { $0.state == .established && $0.localPort == 18080 }.count == 5)
        let timeWait = try #require(sockets.first { $0.state == .timeWait })
        #expect(timeWait.remotePort == 18081 && timeWait.localPort == 55654 && timeWait.inode == 0)
    }

    @Test func batchesAreParsedOneByOne() throws {
        let bytes = try Self.capturedDump()
        let first = try Self.parse(bytes[..<1716])
        #expect(!first.done)
        #expect(first.sockets.count == 14)
        let last = try Self.parse(bytes[1716...])
        #expect(last.done)
        #expect(last.sockets.isEmpty)
    }

    @Test func messagesOfAnotherDumpAreSkipped() throws {
        let (sockets, done) = try Self.parse(Self.capturedDump()[...], sequence: 8)
        #expect(sockets.isEmpty)
        #expect(!done)
    }

    @Test func truncatedAnswersThrowAndNeverInventSockets() throws {
        let bytes = try Self.capturedDump()
        let all = try Self.parse(bytes[...]).sockets
        var parsedCuts = 0
        for cut in 1..<bytes.count {
            guard let partial = try? Self.parse(bytes[..<cut]) else { continue }
            parsedCuts += 1
            #expect(!partial.done)
            #expect(partial.sockets == Array(all.prefix(partial.sockets.count)))
        }
        // Only a cut between two messages parses (14 socket messages, then NLMSG_DONE).
        #expect(parsedCuts == 14)
    }

    @Test func kernelErrorsAreReported() throws {
        // NLMSG_ERROR carrying -EINVAL, as the kernel answers a filter it rejects.
        var error: [UInt8] = []
        func append<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v) { error.append(contentsOf: $0) } }
        append(UInt32(36)); append(UInt16(2)); append(UInt16(0)); append(UInt32(7)); append(UInt32(0))
        append(Int32(-EINVAL))
        error.append(contentsOf: repeatElement(0, count: 16))
        #expect(throws: SamplerError.self) { try Self.parse(error[...]) }
        do {
            _ = try Self.parse(error[...])
        } catch {
            #expect(error.errno == EINVAL)
        }
    }

    @Test func portFilterIsLaidOutAsTheKernelVerifierWants() {
        #expect(InetDiag.portFilter([]).isEmpty)
        // One port: local == 80 (yes: fall through to a jump to the end; no: next test),
        // then remote == 80 (yes: the end; no: past the end).
        let bytes = InetDiag.portFilter([80])
        #expect(bytes == [11, 8, 12, 0, 0, 0, 80, 0,
                          1, 4, 12, 0,
                          12, 8, 12, 0, 0, 0, 80, 0])
        #expect(InetDiag.portFilter([80, 443]).count == 4 * 12 - 4)
    }

    #if os(Linux)
    /// The dump and `/proc/net/tcp{,6}` describe the same sockets: a listener with
    /// connections it has not accepted, and their client ends.
    @Test func dumpAgreesWithTheProcTables() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                try #require(bind(listener, raw, length) == 0)
                try #require(listen(listener, 16) == 0)
                try #require(getsockname(listener, raw, &length) == 0)
            }
        }
        let port = UInt16(bigEndian: address.sin_port)
        let clients = (0..<3).map { _ in SamplingSessionIntegrationTests.connect(port: port) }
        defer { clients.forEach { close($0) } }
        #expect(clients.allSatisfy { $0 >= 0 })

        let dumped = try InetDiagSocket().tcpSockets(ports: [port])
        let listening = try #require(dumped.first { $0.state == .listen })
        #expect(listening.localPort == port && listening.rxQueue == 3)
        #expect(dumped.filter { $0.state == .established && $0.remotePort == port }.count == 3)
        let fromProc = try ProcReader().readTCPSockets(getpid(), ports: [port])
        func key(_ s: TCPSocket) -> String { "\(s.state.name) \(s.localPort) \(s.remotePort) \(s.rxQueue) \(s.inode)" }
        #expect(dumped.map(key).sorted() == fromProc.map(key).sorted())
        // The listeners alone: the cheap dump the sampler makes on every tick.
        let listeners = try InetDiagSocket().tcpSockets(ports: [port], states: InetDiag.listenState)
        #expect(listeners.map(key) == [key(listening)])
    }
    #endif
}
