@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Foundation
import Testing

/// Finding the process that serves a URL with no flags: the pure parsers on real `/proc` text,
/// then a real listening socket of this test process found through `/proc`.
@Suite("Finding the service behind a URL")
struct ServiceLocatorTests {
    // Rows captured from /proc/net/tcp and tcp6 on the test host (a listener on 10.213.1.2:8000,
    // one on every IPv4 address :80, one established connection, and [::]:8080).
    static let tcp = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 0201D50A:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 81234 1 0000000000000000 100 0 0 10 0
           1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 81299 1 0000000000000000 100 0 0 10 0
           2: 0201D50A:1F40 0101D50A:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 81555 1 0000000000000000 20 4 30 10 -1
        """
    static let tcp6 = """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 90001 1 0000000000000000 100 0 0 10 0
        """

    @Test func listenersAreReadWithTheirAddresses() throws {
        let v4 = ServiceLocator.parseListeners(Self.tcp)
        #expect(v4.map(\.port) == [8000, 80])   // the established row is not a listener
        #expect(v4[0].address == IPAddress(literal: "10.213.1.2") && v4[0].inode == 81234)
        #expect(v4[1].address.isUnspecified)
        let v6 = ServiceLocator.parseListeners(Self.tcp6)
        #expect(v6.count == 1 && v6[0].port == 8080 && v6[0].address.isUnspecified && v6[0].address.bytes.count == 16)
    }

    @Test func aNamespaceOwnsTheAddressesOfItsLocalRoutes() {
        // From /proc/PID/net/fib_trie inside the test bed's service namespace.
        let fib = """
            Main:
              +-- 0.0.0.0/0 3 0 5
                 |-- 10.213.1.0
                    /30 link UNICAST
                 |-- 10.213.1.2
                    /32 host LOCAL
              +-- 127.0.0.0/8 2 0 2
                 |-- 127.0.0.1
                    /32 host LOCAL
            """
        #expect(ServiceLocator.ownsAddress(IPAddress(literal: "10.213.1.2")!, fibTrie: fib))
        #expect(!ServiceLocator.ownsAddress(IPAddress(literal: "10.213.1.0")!, fibTrie: fib))
        #expect(!ServiceLocator.ownsAddress(IPAddress(literal: "10.213.3.2")!, fibTrie: fib))
        #expect(!ServiceLocator.ownsAddress(IPAddress(literal: "10.213.1.2")!, fibTrie: nil))
    }

    @Test func addressesAreComparedAsBytes() {
        #expect(IPAddress(literal: "127.0.0.1")?.isLoopback == true)
        #expect(IPAddress(literal: "::1")?.isLoopback == true)
        #expect(IPAddress(literal: "[::1]")?.isLoopback == true)
        #expect(IPAddress(literal: "10.0.0.1")?.isLoopback == false)
        #expect(IPAddress(literal: "not-an-address") == nil)
        #expect(IPAddress(resolving: "localhost") == IPAddress(literal: "127.0.0.1"))
        let mapped = IPAddress(literal: "::ffff:10.1.2.3")!
        #expect(mapped.isMappedEqual(IPAddress(literal: "10.1.2.3")!))
    }

    @Test func aListeningSocketOfThisProcessIsFound() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        try #require(bound == 0 && listen(fd, 8) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = UInt16(bigEndian: address.sin_port)

        let found = try #require(ServiceLocator.locate(host: "127.0.0.1", port: port))
        #expect(found.pids == [getpid()])
        #expect(!found.isProxy)
        // The same port on another address is not this listener.
        #expect(ServiceLocator.locate(host: "127.0.0.2", port: port) == nil)

        let plan = ServiceLocator.plan(target: try TargetURL(parsing: "http://127.0.0.1:\(port)/predict"), backend: nil,
                                       findServer: true, findProxy: true)
        #expect(plan.serverPIDs == [getpid()] && plan.proxyPIDs.isEmpty)
        #expect(plan.topology.targetServedBy == "service")
        #expect(plan.notes.first?.hasPrefix("sampling the service: ") == true)
    }

    @Test func nothingListeningSaysWhatWouldGiveTheEvidence() throws {
        let plan = ServiceLocator.plan(target: try TargetURL(parsing: "http://127.0.0.1:1/predict"), backend: nil,
                                       findServer: true, findProxy: true)
        #expect(plan.serverPIDs.isEmpty && plan.topology.targetServedBy == nil)
        #expect(plan.notes == ["no process on this host listens on 127.0.0.1:1: server metrics need `bottleneck agent` on its host (--agent URL)"])
    }
}
