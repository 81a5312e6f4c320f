import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `bottleneck load --capture` end to end: a real run through an nginx reverse proxy, captured
/// live on loopback on both legs (client → proxy, proxy → backend), checked the way a user would
/// read the run directory. Parses the JSON Lines with Foundation only, so this target does not
/// depend on `BottleneckCapture`.
@Suite("bottleneck load --capture, run as a user would", .serialized)
struct CaptureIntegrationTests {
    static let isRoot = getuid() == 0
    static let canRun = isRoot && LocalNginx.available
    static let setpriv = "/usr/bin/setpriv"

    @Test(.enabled(if: canRun || TestRequirements.enforced, "needs root (live capture on lo) and nginx (make setup installs it)"))
    func proxyTimeOfEveryRequestIsPositiveAndInsideTheFrontLeg() throws {
        let proxy = try ProxyPair(front: 18_721, back: 18_722)
        defer { proxy.stop() }
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("run")
        let result = try CLI.run(["load", "--target", "http://127.0.0.1:\(proxy.front)/predict", "--rate", "100", "--duration", "2s",
                                  "--capture", "lo", "--capture-ports", "\(proxy.front),\(proxy.back)", "--out", out.path], in: directory)
        #expect(result.status == 0, "\(result.stderr)")

        // The raw capture may hold other people's traffic: only the owner may read it.
        for file in ["capture.pcap", "capture-exchanges.jsonl"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: out.appendingPathComponent(file).path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(file) mode \(String(describing: attributes[.posixPermissions]))")
        }
        // At 100 req/s nothing may be dropped, and both legs were seen.
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("capture-summary.json"))) as! [String: Any]
        let interfaces = summary["interfaces"] as! [[String: Any]]
        #expect(interfaces.count == 1 && interfaces[0]["interface"] as? String == "lo")
        #expect(interfaces[0]["drops"] as? Int == 0, "\(interfaces[0])")
        let legPorts = Set((interfaces[0]["legs"] as! [[String: Any]]).map { $0["port"] as! Int })
        #expect(legPorts == [proxy.front, proxy.back], "\(legPorts)")

        let requests = try generatorRequests(out.appendingPathComponent("requests.csv"))
        #expect(requests.count >= 190 && requests.count <= 210, "\(requests.count) requests recorded")
        let (front, back) = try exchangesByRequestID(out.appendingPathComponent("capture-exchanges.jsonl"), front: proxy.front, back: proxy.back)
        let proxyTimes = expectEveryRequestInsideTheFrontLeg(requests, front: front, back: back)
        #expect(proxyTimes.count == requests.count)
        expectLegJoin(in: summary, frontPort: proxy.front, backPort: proxy.back, agreesWith: proxyTimes)
    }

    /// Without root the device would be refused before its name is looked up, so this needs root.
    @Test(.enabled(if: canRun || TestRequirements.enforced, "needs root (to get past the privilege check to the device lookup) and nginx"))
    func unknownInterfaceIsOneLineAndExitCode2() throws {
        let nginx = try LocalNginx(port: 18_723)
        defer { nginx.stop() }
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("run")
        let result = try CLI.run(["load", "--target", "http://127.0.0.1:18723/small.txt", "--rate", "10", "--duration", "1s",
                                  "--capture", "nosuchdev0", "--out", out.path], in: directory)
        #expect(result.status == 2, "exit \(result.status): \(result.stderr)")
        let errors = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("note:") && !$0.isEmpty }
        #expect(errors.count == 1, "\(result.stderr)")
        #expect(errors.first?.contains("nosuchdev0") == true, "\(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"))
        // The interface is checked before any load is sent, so nothing was measured or left behind.
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("requests.csv").path))
    }

    /// Root without CAP_NET_RAW (dropped from the bounding set by setpriv) is refused capture like
    /// an ordinary user: the load still runs, the run directory is complete, and stderr says
    /// what is missing and how to grant the privilege.
    @Test(.enabled(if: TestRequirements.enforced || canRun && FileManager.default.isExecutableFile(atPath: setpriv),
                   "needs root, nginx and setpriv (util-linux) to drop CAP_NET_RAW"))
    func withoutCapturePrivilegeTheRunContinues() throws {
        let nginx = try LocalNginx(port: 18_724)
        defer { nginx.stop() }
        let directory = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("run")
        let result = try Subprocess.run(Self.setpriv, [
            "--bounding-set", "-net_raw,-net_admin", "--inh-caps", "-net_raw,-net_admin", "--",
            CLI.binary.path, "load", "--target", "http://127.0.0.1:18724/small.txt", "--rate", "20", "--duration", "1s",
            "--capture", "lo", "--out", out.path,
        ], in: directory)
        #expect(result.status == 0, "exit \(result.status): \(result.stderr)")
        #expect(result.stderr.contains("CAP_NET_RAW") && result.stderr.contains("setcap") && result.stderr.contains("continues without it"),
                "\(result.stderr)")
        let rows = try String(contentsOf: out.appendingPathComponent("requests.csv"), encoding: .utf8).split(separator: "\n")
        #expect(rows.count - 1 >= 19, "\(rows.count - 1) requests recorded")
        for file in ["capture.pcap", "capture-exchanges.jsonl", "capture-summary.json"] {
            #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file) written without a capture")
        }
    }

    /// `request_id` and `status` of every recorded request (docs/run-directory.md).
    func generatorRequests(_ url: URL) throws -> [(String, Int)] {
        let rows = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        let header = rows.first.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
        let id = try #require(header.firstIndex(of: "request_id"))
        let status = try #require(header.firstIndex(of: "status"))
        return rows.dropFirst().map { row in
            let fields = row.split(separator: ",", omittingEmptySubsequences: false)
            return (String(fields[id]), Int(fields[status]) ?? 0)
        }
    }

    /// The exchanges of a `capture-exchanges.jsonl` (or `capture analyze --json`) on the two legs,
    /// keyed by the X-Request-Id the proxy passed on. `back` nil keeps the front leg only.
    func exchangesByRequestID(_ url: URL, front frontPort: Int, back backPort: Int?) throws -> (front: [String: [String: Any]], back: [String: [String: Any]]) {
        var front: [String: [String: Any]] = [:]
        var back: [String: [String: Any]] = [:]
        for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n") {
            let exchange = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            guard let id = exchange["requestID"] as? String else { continue }
            switch exchange["serverPort"] as? Int {
            case frontPort: front[id] = exchange
            case backPort: back[id] = exchange
            default: Issue.record("exchange on an unexpected port: \(line)")
            }
        }
        return (front, back)
    }

    /// The issue's acceptance check, request by request: found on both legs, complete, the back
    /// leg inside the front leg's server time, and the proxy time (front server time − back
    /// server time) positive and smaller than the front server time. Returns the proxy times (ns).
    func expectEveryRequestInsideTheFrontLeg(_ requests: [(String, Int)], front: [String: [String: Any]],
                                             back: [String: [String: Any]]) -> [Int] {
        var proxyTimes: [Int] = []
        for (id, status) in requests {
            #expect(status == 200, "\(id) status \(status)")
            guard let f = front[id], let b = back[id] else {
                Issue.record("request \(id): front leg \(front[id] != nil), back leg \(back[id] != nil)")
                continue
            }
            guard f["complete"] as? Bool == true, b["complete"] as? Bool == true,
                  let ft2 = f["t2"] as? Int, let ft3 = f["t3"] as? Int, let bt2 = b["t2"] as? Int, let bt3 = b["t3"] as? Int else {
                Issue.record("request \(id) incomplete: front \(f), back \(b)")
                continue
            }
            #expect(f["status"] as? Int == 200 && b["status"] as? Int == 200)
            // The backend leg happens inside the front leg's server time, or the join is wrong.
            #expect(ft2 <= bt2 && bt3 <= ft3, "\(id): back leg [\(bt2), \(bt3)] outside front leg [\(ft2), \(ft3)]")
            let frontServer = ft3 - ft2
            let proxyTime = frontServer - (bt3 - bt2)
            #expect(proxyTime > 0 && proxyTime < frontServer, "\(id): proxy \(proxyTime) ns, front server time \(frontServer) ns")
            proxyTimes.append(proxyTime)
        }
        return proxyTimes
    }

    /// `legJoin` in capture-summary.json says what the per-request check found: every front
    /// exchange joined by id, none left out, and the same proxy time distribution (nearest rank).
    func expectLegJoin(in summary: [String: Any], frontPort: Int, backPort: Int, agreesWith proxyTimes: [Int]) {
        guard let join = summary["legJoin"] as? [String: Any], let proxy = join["proxyTime"] as? [String: Any] else {
            Issue.record("capture-summary.json has no legJoin.proxyTime: \(summary)")
            return
        }
        #expect(join["frontPort"] as? Int == frontPort && join["backPorts"] as? [Int] == [backPort], "\(join)")
        #expect(join["joined"] as? Int == join["frontExchanges"] as? Int && join["joinedByRequestID"] as? Int == join["joined"] as? Int, "\(join)")
        #expect(join["excluded"] as? Int == 0 && join["backLongerThanFront"] as? Int == 0, "\(join)")
        let sorted = proxyTimes.sorted()
        guard !sorted.isEmpty else { return }
        func nearestRank(_ q: Double) -> Int { sorted[max(0, min(sorted.count - 1, Int((q * Double(sorted.count)).rounded(.up)) - 1))] }
        #expect(proxy["count"] as? Int == sorted.count, "\(proxy)")
        #expect(proxy["p50"] as? Int == nearestRank(0.5) && proxy["p99"] as? Int == nearestRank(0.99), "\(proxy)")
        let mean = Double(sorted.reduce(0, +)) / Double(sorted.count)
        #expect(abs((proxy["mean"] as? Double ?? -1) - mean) < 1, "\(proxy) mean, expected \(mean)")
    }
}

/// Two nginx server blocks in one throwaway nginx: a backend that answers at once with a
/// `Server-Timing` header, and a reverse proxy in front of it that passes `X-Request-Id` on
/// over keep-alive upstream connections — the shape of a real proxied service, two legs to capture.
final class ProxyPair {
    let directory: URL
    let front: Int
    let back: Int

    init(front: Int, back: Int) throws {
        self.front = front
        self.back = back
        directory = try CLI.temporaryDirectory()
        // nginx workers run as an unprivileged user and must read the directory.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        let dir = directory.path
        let config = """
            worker_processes 1;
            daemon on;
            error_log \(dir)/error.log warn;
            pid \(dir)/nginx.pid;
            events { worker_connections 1024; }
            http {
              access_log off;
              client_body_temp_path \(dir)/tmp;
              proxy_temp_path \(dir)/tmp;
              upstream backend { server 127.0.0.1:\(back); keepalive 16; }
              server {
                listen 127.0.0.1:\(back);
                location / { add_header Server-Timing "app;dur=0.05"; return 200 "backend ok\\n"; }
              }
              server {
                listen 127.0.0.1:\(front);
                location / {
                  proxy_pass http://backend;
                  proxy_http_version 1.1;
                  proxy_set_header Connection "";
                  proxy_set_header X-Request-Id $http_x_request_id;
                }
              }
            }

            """
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("tmp"), withIntermediateDirectories: true)
        try config.write(to: directory.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
        let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "nginx"
        let started = try Subprocess.run(nginx, ["-c", directory.appendingPathComponent("nginx.conf").path])
        guard started.status == 0 else {
            throw NSError(domain: "ProxyPair", code: Int(started.status),
                          userInfo: [NSLocalizedDescriptionKey: "nginx did not start: \(started.stderr)"])
        }
        for _ in 0..<50 {
            if try Subprocess.run("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(front)/ready"]).status == 0 { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        stop()
        throw NSError(domain: "ProxyPair", code: 1, userInfo: [NSLocalizedDescriptionKey: "proxy on \(front) did not answer; see \(dir)/error.log"])
    }

    func stop() {
        if let pid = try? String(contentsOf: directory.appendingPathComponent("nginx.pid"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines), let value = Int32(pid) {
            kill(value, SIGTERM)
        }
    }
}
