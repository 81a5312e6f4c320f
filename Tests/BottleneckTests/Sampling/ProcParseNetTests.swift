import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite("Network parsers on files captured from this machine")
struct ProcParseNetTests {
    @Test func tcpCounters() throws {
        let counters = try ProcParse.parseTCPCounters(snmp: SamplingFixtures.text("proc/linux-6.18-hybrid/8322/net/snmp"),
                                                      netstat: SamplingFixtures.text("proc/linux-6.18-hybrid/8322/net/netstat"))
        #expect(counters.outSegments > 0)
        #expect(counters.activeOpens > 0)
        #expect(counters.retransmittedSegments <= counters.outSegments)
        let tcp = try ProcParse.parseProtocolSection(SamplingFixtures.text("proc/linux-6.18-hybrid/8322/net/snmp"), section: "Tcp", what: "snmp")
        #expect(tcp["MaxConn"] == -1)   // printed signed
    }

    @Test func listeningSocketAndAcceptQueue() throws {
        let v4 = try ProcParse.parseTCPTable(SamplingFixtures.text("proc/linux-6.18-hybrid/8322/net/tcp"))
        let listen = try #require(v4.first { $0.localPort == 18080 && $0.state == .listen })
        #expect(listen.rxQueue == 3)          // three connections not yet accepted
        #expect(listen.inode == 24763)
        #expect(v4.filter { $0.remotePort == 18080 && $0.state == .established }.count == 3)
        let v6 = try ProcParse.parseTCPTable(SamplingFixtures.text("proc/linux-6.18-hybrid/8322/net/tcp6"))
        #expect(v6.first { $0.localPort == 18080 && $0.state == .listen }?.rxQueue == 2)
    }

    @Test func portFilterKeepsOnlyRowsOfThosePorts() throws {
        let text = try SamplingFixtures.text("proc/linux-6.18-hybrid/8322/net/tcp")
        let all = try ProcParse.parseTCPTable(text)
        let filtered = try ProcParse.parseTCPTable(text, ports: [18080])
        #expect(filtered == all.filter { $0.localPort == 18080 || $0.remotePort == 18080 })
        #expect(filtered.count == 7)   // listener, 3 client ends, 3 accepted ends
        #expect(try ProcParse.parseTCPTable(text, ports: [1]).isEmpty)
        let v6 = try SamplingFixtures.text("proc/linux-6.18-hybrid/8322/net/tcp6")
        #expect(try ProcParse.parseTCPTable(v6, ports: [18080]).count == 5)
    }

    @Test func portRange() throws {
        #expect(try ProcParse.parsePortRange(SamplingFixtures.text("proc/linux-6.18-hybrid/sys/net/ipv4/ip_local_port_range")) == 32768...60999)
    }

    @Test func brokenNetworkFilesThrow() throws {
        let snmp = try SamplingFixtures.text("proc/malformed/snmp-truncated")
        let netstat = try SamplingFixtures.text("proc/linux-6.18-hybrid/8322/net/netstat")
        #expect(throws: SamplerError.self) { try ProcParse.parseTCPCounters(snmp: snmp, netstat: netstat) }
        #expect(throws: SamplerError.self) { try ProcParse.parseTCPTable(SamplingFixtures.text("proc/malformed/tcp-truncated")) }
        #expect(throws: SamplerError.self) { try ProcParse.parseTCPTable("") }
        #expect(throws: SamplerError.self) { try ProcParse.parsePortRange(SamplingFixtures.text("proc/malformed/port-range-short")) }
        #expect(throws: SamplerError.self) { try ProcParse.parseProtocolSection("Tcp: A B\nTcp: 1\n", section: "Tcp", what: "snmp") }
        #expect(throws: SamplerError.self) { try ProcParse.parseProtocolSection("Tcp: A B\nUdp: 1 2\n", section: "Tcp", what: "snmp") }
    }

    @Test func everyPrefixOfNetworkFilesParsesOrThrows() throws {
        let tcp = try SamplingFixtures.text("proc/linux-6.18-hybrid/8322/net/tcp6")
        for cut in 0..<tcp.utf8.count { _ = try? ProcParse.parseTCPTable(Substring(tcp.utf8.prefix(cut))) }
        let snmp = try SamplingFixtures.text("proc/linux-6.18-hybrid/8322/net/snmp")
        for cut in stride(from: 0, to: snmp.utf8.count, by: 5) {
            _ = try? ProcParse.parseProtocolSection(Substring(snmp.utf8.prefix(cut)), section: "Tcp", what: "snmp")
        }
    }

    /// Discovery over the fixture tree cannot follow fd links (not capturable), so it finds no holder.
    @Test func discoveryReportsNoListener() {
        #expect(throws: SamplerError.self) { try ServerDiscovery.listeningPIDs(port: 18080, procRoot: SamplingFixtures.hybridProc) }
    }
}

@Suite struct CounterDeltaTests {
    @Test(arguments: [(UInt64(10), UInt64(15), UInt64(5)),
                      (UInt64(UInt32.max) - 1, UInt64(3), UInt64(5)),      // 32-bit wrap
                      (UInt64(1) << 40, UInt64(7), UInt64(7))])            // reset: count from zero
    func increase(_ previous: UInt64, _ current: UInt64, _ expected: UInt64) {
        #expect(CounterDelta.increase(from: previous, to: current) == expected)
    }

    @Test func rate() {
        #expect(CounterDelta.rate(from: 0, to: 100, nanoseconds: 500_000_000) == 200)
        #expect(CounterDelta.rate(from: 0, to: 100, nanoseconds: 0) == 0)
    }
}
