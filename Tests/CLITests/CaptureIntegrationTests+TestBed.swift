import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The same acceptance check through the project's own test bed: its nginx (the bed's config:
/// upstream keep-alive, request buffering, X-Request-Id passed on) in front of the Python
/// prediction service, answering a real `POST /predict`.
///
/// In the bed's default netns mode the back leg (proxy → service) runs between `bnk-u0` in the
/// proxy's namespace and `bnk-u1` in the service's: no interface of the root namespace carries
/// it, and a packet socket only sees the devices of its own namespace, so the generator's
/// `--capture` (root namespace) can record the front leg only. Hence two tests: loopback mode,
/// where both legs cross `lo` and one `bottleneck load --capture lo` sees them, and netns mode,
/// where the back leg is recorded by tcpdump inside the proxy's namespace and read back with
/// `bottleneck capture analyze` (both clocks are the kernel's one realtime clock).
extension CaptureIntegrationTests {
    static let canRunTestBed = TestBed.available
    static let tcpdump = "/usr/bin/tcpdump"

    @Test(.enabled(if: canRunTestBed || TestRequirements.enforced, "needs root and the test bed's virtualenv (testbed/setup.sh)"), .timeLimit(.minutes(4)))
    func testBedProxyTimeOfEveryRequestIsPositiveAndInsideTheFrontLeg() throws {
        guard let bed = try TestBed.up("healthy", loopback: true) else {
            try Test.cancel("another test bed stayed up for 2 minutes; the bed allows one at a time")
        }
        defer { bed.down() }
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("run")
        let result = try CLI.run(["load", "--target", bed.target, "--rate", "25", "--duration", "2s", "--payload", "text:tokens=16..64",
                                  "--capture", "lo", "--capture-ports", "\(bed.proxyPort),\(bed.servicePort)", "--out", out.path], in: directory)
        guard bed.isStillOurs else { try Test.cancel("someone else took the test bed down during the run; run the test again") }
        #expect(result.status == 0, "\(result.stderr)")

        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("capture-summary.json"))) as? [String: Any])
        let interfaces = try #require(summary["interfaces"] as? [[String: Any]])
        #expect(interfaces.first?["drops"] as? Int == 0, "\(interfaces)")
        let requests = try generatorRequests(out.appendingPathComponent("requests.csv"))
        #expect(requests.count >= 45 && requests.count <= 55, "\(requests.count) requests recorded")
        let (front, back) = try exchangesByRequestID(out.appendingPathComponent("capture-exchanges.jsonl"), front: bed.proxyPort, back: bed.servicePort)
        let proxyTimes = expectEveryRequestInsideTheFrontLeg(requests, front: front, back: back)
        #expect(proxyTimes.count == requests.count)
        expectLegJoin(in: summary, frontPort: bed.proxyPort, backPort: bed.servicePort, agreesWith: proxyTimes)
        // The user is told the figure at the end of the run.
        #expect(result.stderr.contains("capture: proxy time on :\(bed.proxyPort) → :\(bed.servicePort)"), "\(result.stderr)")
    }

    @Test(.enabled(if: TestRequirements.enforced || canRunTestBed && FileManager.default.isExecutableFile(atPath: tcpdump),
                   "needs root, the test bed's virtualenv (testbed/setup.sh) and tcpdump"), .timeLimit(.minutes(4)))
    func testBedInNamespacesBackLegIsOnlyVisibleInsideTheProxyNamespace() throws {
        guard let bed = try TestBed.up("healthy", loopback: false) else {
            try Test.cancel("another test bed stayed up for 2 minutes; the bed allows one at a time")
        }
        defer { bed.down() }
        let clientDevice = try #require(bed.clientDevice)
        let proxyNamespace = try #require(bed.proxyNamespace)
        let upstreamDevice = try #require(bed.upstreamDevice)
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("run")
        let backLeg = directory.appendingPathComponent("back-leg.pcap")

        // `-Z root`: tcpdump would drop to its own user before creating the file in root's directory.
        let recorder = try BackgroundProcess("/usr/bin/timeout", [
            "60", "/usr/sbin/ip", "netns", "exec", proxyNamespace, Self.tcpdump, "-Z", "root", "-i", upstreamDevice, "-s", "1024",
            "--time-stamp-precision=nano", "-U", "-w", backLeg.path, "tcp port \(bed.servicePort)",
        ])
        try #require(recorder.waitForStandardError(containing: "listening on", timeout: 10), "tcpdump: \(recorder.stderr)")
        let result = try CLI.run(["load", "--target", bed.target, "--rate", "25", "--duration", "2s", "--payload", "text:tokens=16..64",
                                  "--capture", clientDevice, "--capture-ports", "\(bed.proxyPort),\(bed.servicePort)", "--out", out.path],
                                 in: directory)
        Thread.sleep(forTimeInterval: 0.5)   // let tcpdump's last packets reach the file (-U flushes per packet)
        recorder.interrupt()
        guard bed.isStillOurs else { try Test.cancel("someone else took the test bed down during the run; run the test again") }
        #expect(result.status == 0, "\(result.stderr)")

        // From the root namespace only the front leg is there: no back-leg exchange, no join.
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("capture-summary.json"))) as? [String: Any])
        let interfaces = try #require(summary["interfaces"] as? [[String: Any]])
        let legPorts = interfaces.flatMap { ($0["legs"] as? [[String: Any]] ?? []).compactMap { $0["port"] as? Int } }
        #expect(legPorts == [bed.proxyPort], "legs seen from the root namespace: \(legPorts)")
        #expect(summary["legJoin"] == nil)
        #expect(interfaces.first?["drops"] as? Int == 0, "\(interfaces)")

        // The back leg recorded inside the proxy's namespace, analyzed offline, joins it request by request.
        let analyzed = try CLI.run(["capture", "analyze", backLeg.path, "--ports", "\(bed.servicePort)", "--json"])
        #expect(analyzed.status == 0, "\(analyzed.stderr)")
        let backLines = directory.appendingPathComponent("back-leg.jsonl")
        try analyzed.stdout.write(to: backLines, atomically: true, encoding: .utf8)
        let (front, _) = try exchangesByRequestID(out.appendingPathComponent("capture-exchanges.jsonl"), front: bed.proxyPort, back: nil)
        let (_, back) = try exchangesByRequestID(backLines, front: bed.proxyPort, back: bed.servicePort)
        let requests = try generatorRequests(out.appendingPathComponent("requests.csv"))
        #expect(requests.count >= 45 && requests.count <= 55, "\(requests.count) requests recorded")
        let proxyTimes = expectEveryRequestInsideTheFrontLeg(requests, front: front, back: back)
        #expect(proxyTimes.count == requests.count)
    }
}
