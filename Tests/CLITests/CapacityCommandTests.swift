import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("bottleneck capacity, run as a user would", .serialized)
struct CapacityCommandTests {
    /// A scratch copy of the recorded slow-model run per use: capacity keeps capacity.json in the run directory.
    static var fixture: String {
        let copy = (try? CLI.temporaryDirectory())?.appendingPathComponent("slow-model").path ?? NSTemporaryDirectory() + "slow-model-\(UUID())"
        try? FileManager.default.copyItem(atPath: CLI.packageRoot.appendingPathComponent("Tests/BottleneckTests/Fixtures/runs/slow-model").path, toPath: copy)
        return copy
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func fromRecordedRampSaysWhatItCannotKnow() throws {
        // The fixture: one closed-loop baseline (24.5 req/s), then 12 req/s open loop that completed only 90 % of its schedule.
        let result = try CLI.run(["capacity", "--from", Self.fixture, "--slo", "p99=300ms", "--peak-rps", "100", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try Self.json(result.stdout)
        #expect(report["schema"] as? String == "bottleneck.capacity/v1")
        #expect(report["outcome"] as? String == "noneMet")
        #expect(report["capacityRps"] == nil)
        #expect(report["lowestFailingRps"] as? Double == 12)
        #expect(report["usl"] == nil)
        // The server was sampled on a 2-core host.
        #expect(report["coresPerInstance"] as? Double == 2)
        #expect(report["coresSource"] as? String == "sampled server cores")
        let unknowns = try #require(report["unknowns"] as? [String])
        #expect(unknowns.contains { $0.contains("no open-loop rate met it") })

        let text = try CLI.run(["capacity", "--from", Self.fixture])
        #expect(text.status == 0)
        #expect(text.stdout.contains("capacity per instance: unknown — no open-loop rate met the objective (lowest tried 12 req/s)"))
        #expect(text.stdout.contains("no USL fit"))
        #expect(text.stdout.contains("assumptions:") && text.stdout.contains("cannot know:"))
    }

    @Test(arguments: [
        (["--headroom", "1"], "--headroom"),
        (["--core-hour-price=-0.5"], "--core-hour-price"),
        (["--slo", "p50=100ms"], "--slo"),
        (["--peak-rps", "0"], "--peak-rps"),
    ])
    func badInputIsOneLineAndExit2(_ extra: [String], _ field: String) throws {
        let result = try CLI.run(["capacity", "--from", Self.fixture] + extra)
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains(field), "\(result.stderr)")
    }
}

/// A one-thread Python HTTP server that sleeps 20 ms per request: about 50 req/s at most,
/// whatever the concurrency. A known capacity to measure against.
final class SleepyServer {
    static let script = """
        import http.server, sys, time
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                time.sleep(0.02)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(b"ok")
            def log_message(self, *args):
                pass
        class S(http.server.HTTPServer):
            request_queue_size = 256
        s = S(("127.0.0.1", 0), H)
        open(sys.argv[1] + ".tmp", "w").write(str(s.server_address[1]))
        import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
        s.serve_forever()
        """
    static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") }

    let pid: pid_t
    let port: Int

    init(directory: URL) throws {
        let scriptPath = directory.appendingPathComponent("sleepy.py").path
        let portPath = directory.appendingPathComponent("port").path
        try Self.script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let arguments: [String] = ["/usr/bin/python3", scriptPath, portPath]
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        try Subprocess.closeOtherDescriptors(&actions)
        var child: pid_t = 0
        guard posix_spawn(&child, "/usr/bin/python3", &actions, nil, argv, environ) == 0 else {
            throw NSError(domain: "SleepyServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "cannot start python3"])
        }
        pid = child
        var found: Int?
        for _ in 0..<100 {
            if let text = try? String(contentsOfFile: portPath, encoding: .utf8), let value = Int(text) { found = value; break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        guard let found else {
            kill(child, SIGKILL)
            throw NSError(domain: "SleepyServer", code: 2, userInfo: [NSLocalizedDescriptionKey: "python3 server did not start"])
        }
        port = found
    }

    func stop() {
        kill(pid, SIGKILL)  // posix_spawn passes on the test thread's blocked signals; SIGTERM may never arrive
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}

/// The capacity runs that put real load on a real server, one at a time: run beside each other
/// on two cores their generators starve each other, the runs are (rightly) declared invalid and
/// the servers' capacities shift.
@Suite("bottleneck capacity under real load", .serialized)
struct CapacityUnderRealLoadTests {}

extension CapacityUnderRealLoadTests {
@Suite("bottleneck capacity against a server of known capacity")
struct CapacityCommandLiveTests {
    @Test(.enabled(if: SleepyServer.available || TestRequirements.enforced, "needs /usr/bin/python3 for the one-thread test server"))
    func findsAbout50RequestsPerSecond() throws {
        let scratch = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let server = try SleepyServer(directory: scratch)
        defer { server.stop() }
        // Exit 3 is a run the generator could not keep up with (other tests share the two cores):
        // it says nothing of the server, so it is measured again, at most twice more.
        var result = CLI.Result(status: -1, stdout: "", stderr: "")
        for attempt in 1...3 {
            try? FileManager.default.removeItem(at: scratch.appendingPathComponent("run"))
            result = try CLI.run(["capacity", "--target", "http://127.0.0.1:\(server.port)/", "--slo", "p99=200ms", "--budget", "40s",
                                  "--peak-rps", "500", "--server-pid", String(server.pid), "--core-hour-price", "0.05",
                                  "--out", scratch.appendingPathComponent("run").path, "--json", "--report", "html", "--report", "markdown"])
            guard result.status == 3 else { break }
            print("capacity attempt \(attempt): the run was invalid (the generator could not keep up); measuring again")
        }
        #expect(result.status == 0, "\(result.stderr)")
        let report = try CapacityCommandTests.json(result.stdout)
        let capacity = try #require(report["capacityRps"] as? Double, "\(result.stdout)")
        // 50 req/s by construction; on a loaded 2-core machine the server gets less CPU, so the bar is lower.
        #expect(capacity >= 25 && capacity <= 55, "capacity \(capacity) req/s")
        // One thread: the sweep's throughput flattens near 50 req/s, so the fit finds heavy contention.
        let usl = try #require(report["usl"] as? [String: Any])
        let ceiling = try #require(usl["peakThroughput"] as? Double)
        #expect(ceiling >= 35 && ceiling <= 60, "USL ceiling \(ceiling)")
        let plan = try #require(report["plan"] as? [String: Any])
        #expect((plan["instances"] as? Int ?? 0) >= 13)  // 500 / (55 × 0.7)
        #expect(report["coresPerInstance"] as? Double != nil)
        // The plan reaches the reports: the figures, the USL curve over the measured sweep, the assumptions.
        let run = scratch.appendingPathComponent("run")
        #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent("capacity.json").path))
        let html = try String(contentsOf: run.appendingPathComponent("report.html"), encoding: .utf8)
        let section = try #require(html.range(of: "<section id=\"capacity\">"), "no capacity section in report.html")
        #expect(section.lowerBound > html.range(of: "id=\"verdicts\"")!.lowerBound && section.lowerBound < html.range(of: "id=\"charts\"")!.lowerBound)
        #expect(html.contains("capacity per instance") && html.contains("instances") && html.contains("/month"))
        #expect(html.contains("<figure id=\"chart-usl\">") && html.contains("data-series=\"measured\"") && html.contains("data-series=\"USL fit\""))
        #expect(html.contains("Capacity scales linearly with instances"))
        let markdown = try String(contentsOf: run.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(markdown.contains("## Capacity plan") && markdown.contains("| capacity per instance |"))
        // Replaying the run directory gives the same answer.
        let replay = try CLI.run(["capacity", "--from", scratch.appendingPathComponent("run").path, "--slo", "p99=200ms", "--json"])
        #expect(try CapacityCommandTests.json(replay.stdout)["capacityRps"] as? Double == capacity)
        print(result.stdout)
    }

    /// Issue 7: with an SLO this lax a step of a few seconds well above 50 req/s still meets it
    /// (at 75 req/s the queue grows by 25 requests a second: after 3 s the last request waits
    /// 1.5 s), so p99 alone reported 70 to 85 req/s. The backlog test fails those steps.
    @Test(.enabled(if: SleepyServer.available || TestRequirements.enforced, "needs /usr/bin/python3 for the one-thread test server"))
    func aLaxSLODoesNotLetShortOverloadStepsPass() throws {
        let scratch = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let server = try SleepyServer(directory: scratch)
        defer { server.stop() }
        let result = try CLI.run(["capacity", "--target", "http://127.0.0.1:\(server.port)/", "--slo", "p99=2s", "--budget", "30s",
                                  "--concurrency-steps", "1,2,4", "--out", scratch.appendingPathComponent("run").path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try CapacityCommandTests.json(result.stdout)
        let capacity = try #require(report["capacityRps"] as? Double, "\(result.stdout)")
        let steps = try #require(report["steps"] as? [[String: Any]])
        let grew = steps.filter { $0["queueGrowing"] as? Bool == true }.compactMap { $0["offeredRps"] as? Double }
        print("lax SLO: capacity \(capacity) req/s; steps whose queue grew: \(grew)")
        #expect(capacity >= 25 && capacity <= 55, "capacity \(capacity) req/s of 50 by construction")
        #expect(grew.allSatisfy { $0 > 45 }, "a queue grew at a rate the server sustains: \(grew)")
    }
}

/// `bottleneck capacity` against the test bed's single-worker-gil scenario, whose ground truth is
/// what wrk measures on it (as its check in testbed/checks does): one Python process that never
/// uses more than one core, so throughput has a hard ceiling. wrk runs first, at the check's 8
/// connections, then capacity, on the same bed with the same tensor body.
@Suite("bottleneck capacity against a test-bed scenario")
struct CapacityOnTheTestBedTests {
    @Test(.enabled(if: TestBed.available || TestRequirements.enforced, "needs root and the test bed's virtualenv (make setup)"))
    func theCeilingMatchesWhatWrkMeasuresAndTheCapacityStaysUnderIt() throws {
        guard let bed = try TestBed.up("single-worker-gil", loopback: false) else {
            Issue.record("another test bed stayed up for 120 s")
            return
        }
        defer { bed.down() }
        let scratch = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        // The same body both tools send: a JSON tensor of 192 numbers (the scenario's payload).
        let body = scratch.appendingPathComponent("tensor.json")
        let numbers = (0..<192).map { String(format: "%.4f", sin(Double($0))) }.joined(separator: ",")
        try "{\"tensor\": [\(numbers)]}".write(to: body, atomically: true, encoding: .utf8)
        let python = CLI.packageRoot.appendingPathComponent("testbed/.venv/bin/python").path
        let checks = CLI.packageRoot.appendingPathComponent("testbed/checks").path
        func wrkRequestsPerSecond() throws -> Double {
            let run = try Subprocess.run(python, ["-c", """
                import sys; sys.path.insert(0, '\(checks)')
                from lib import wrk
                print(wrk('\(bed.target)', ['\(body.path)'], 'application/json', connections=8, duration=6)['rps'])
                """])
            return try #require(Double(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(run.stderr)")
        }
        let wrkBefore = try wrkRequestsPerSecond()
        #expect(wrkBefore > 5, "wrk measured \(wrkBefore) req/s")

        let result = try CLI.run(["capacity", "--target", bed.target, "--payload", "tensor:shape=1x192,encoding=json",
                                  "--slo", "p99=2s", "--budget", "40s", "--concurrency-steps", "1,2,4,8",
                                  "--server-pid", String(bed.servicePID), "--out", scratch.appendingPathComponent("run").path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try CapacityCommandTests.json(result.stdout)
        let best = try #require(report["bestClosedLoopRps"] as? Double, "\(result.stdout)")
        let capacity = try #require(report["capacityRps"] as? Double, "\(result.stdout)")
        let wrkAfter = try wrkRequestsPerSecond()
        // wrk before and after bracket what the machine gave the service meanwhile (a shared 2-core
        // host: the CPU the one worker gets varies by tens of percent over a minute).
        let low = min(wrkBefore, wrkAfter), high = max(wrkBefore, wrkAfter)
        print("single-worker-gil: wrk \(wrkBefore) then \(wrkAfter) req/s; closed-loop best \(best) req/s; capacity at p99 ≤ 2 s \(capacity) req/s")
        // Closed loop at up to 8 connections reaches the ceiling wrk measures, and no open-loop
        // rate meets the SLO much above it.
        #expect(best >= 0.65 * low && best <= 1.35 * high, "closed-loop best \(best) req/s, wrk \(low)–\(high) req/s")
        #expect(capacity >= 0.4 * low, "capacity \(capacity) req/s, wrk \(low)–\(high) req/s")
        // A step only a few seconds long above the ceiling can still meet a lax SLO (its queue has
        // not grown past 2 s yet); the backlog test fails such steps, and what it cannot resolve in
        // a short step the sweep's throughput ceiling caps.
        #expect(capacity <= 1.2 * high && capacity <= 1.05 * best, "capacity \(capacity) req/s, wrk \(low)–\(high), closed-loop best \(best) req/s")
    }
}
}
