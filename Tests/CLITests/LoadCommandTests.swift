import Foundation
import Testing

@Suite("bottleneck load, run as a user would", .serialized)
struct LoadCommandTests {
    @Test(arguments: [
        (["load", "--target", "not a url"], "--target"),
        (["load", "--target", "http://127.0.0.1:1/", "--payload", "hologram:x=1"], "unknown kind"),
        (["load", "--target", "http://127.0.0.1:1/", "--rate", "0"], "--rate"),
        (["load", "--target", "http://127.0.0.1:1/", "--ramp", "400..50/3"], "--ramp"),
        (["load", "--target", "http://127.0.0.1:1/", "--payload", "dir:/nonexistent-dataset"], "/nonexistent-dataset"),
        (["load", "--target", "http://127.0.0.1:1/", "--duration", "soon"], "--duration"),
        (["load", "--target", "http://127.0.0.1:1/", "--rate", "5", "--concurrency", "2"], "conflict"),
        (["load", "--target", "http://127.0.0.1:1/", "-H", "Broken"], "Name: value"),
        (["load", "--target", "http://127.0.0.1:1/", "--probe", "/nonexistent.yaml"], "probe spec /nonexistent.yaml: cannot read"),
        (["load", "--target", "http://127.0.0.1:1/", "-X", "BREW"], "-X \"BREW\": use one of GET"),
        (["diagnose", "--target", "http://127.0.0.1:1/", "--method", "TRACE"], "\"TRACE\": use one of GET"),
        (["load", "--target", "http://127.0.0.1:1/", "--rate", "fast"], "--rate \"fast\": the rate must be a number"),
        (["load", "--target", "http://127.0.0.1:1/", "--body", "gzip"], "--body \"gzip\": unknown wrapping"),
        (["load", "--target", "http://127.0.0.1:1/", "--threads", "0"], "--threads \"0\": give a whole number of event-loop threads"),
        (["load", "--no-such-flag"], "no-such-flag"),
        (["load"], "--target is required"),
    ] as [([String], String)])
    func badInputIsOneLineAndExitCode2(arguments: [String], mentions: String) throws {
        let directory = try CLI.temporaryDirectory()
        let result = try CLI.run(arguments, in: directory)
        #expect(result.status == 2, "exit \(result.status): \(result.stderr)")
        #expect(result.stderr.contains(mentions), "\(result.stderr)")
        #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Stack dump"))
        #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.hasPrefix("bottleneck: "), "\(result.stderr)")
        // Nothing was measured, so no run directory was left behind.
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("runs").path))
    }

    @Test func unreachableTargetSaysHowToFixIt() throws {
        let result = try CLI.run(["load", "--target", "http://127.0.0.1:9/predict", "--duration", "1s"], in: CLI.temporaryDirectory())
        #expect(result.status == 2)
        #expect(result.stderr.contains("cannot connect") && result.stderr.contains("connection refused"))
    }

    @Test func probeTypoPointsAtTheLine() throws {
        let directory = try CLI.temporaryDirectory()
        let probe = directory.appendingPathComponent("typo.yaml")
        try "name: typo\nrate: 10\ndurration: 2s\n".write(to: probe, atomically: true, encoding: .utf8)
        let result = try CLI.run(["load", "--target", "http://127.0.0.1:1/", "--probe", probe.path], in: directory)
        #expect(result.status == 2)
        #expect(result.stderr.contains("typo.yaml:3:1") && result.stderr.contains("duration"))
    }

    @Test(.enabled(if: LocalNginx.available || TestRequirements.enforced, "needs nginx (make setup installs it)"))
    func runAgainstNginxWritesACompleteRunDirectory() throws {
        let nginx = try LocalNginx(port: 18_611)
        defer { nginx.stop() }
        let directory = try CLI.temporaryDirectory()
        let out = directory.appendingPathComponent("run")
        let result = try CLI.run(["load", "--target", "http://127.0.0.1:18611/small.txt", "--rates", "100,200", "--duration", "1s",
                                  "--json", "--out", out.path], in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        #expect(summary["schema"] as? String == "bottleneck.summary/v1")
        #expect(summary["complete"] as? Bool == true)
        let steps = summary["steps"] as! [[String: Any]]
        #expect(steps.count == 2)
        let completed = steps.map { $0["completed"] as! Int }
        #expect(completed[0] >= 95 && completed[0] <= 105 && completed[1] >= 195 && completed[1] <= 205, "\(completed)")
        for file in ["run.json", "requests.csv", "latency.hlog", "summary.json"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file) missing")
        }
        // One CSV row per recorded request, with the documented header.
        let csv = try String(contentsOf: out.appendingPathComponent("requests.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.first?.hasPrefix("step,request_id,intended_ns") == true)
        #expect(csv.count - 1 == completed.reduce(0, +))
        #expect(csv.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 19 })
        // The interval log has a tagged series per step.
        let hlog = try String(contentsOf: out.appendingPathComponent("latency.hlog"), encoding: .utf8)
        #expect(hlog.contains("Tag=step-0,") && hlog.contains("Tag=step-1,"))
        let run = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("run.json"))) as! [String: Any]
        #expect(run["schema"] as? String == "bottleneck.run/v1")
        #expect((run["host"] as? [String: Any])?["allowedCores"] != nil)
    }

    @Test(.enabled(if: LocalNginx.available || TestRequirements.enforced, "needs nginx (make setup installs it)"))
    func ctrlCEndsTheStepAndLeavesACompleteDirectory() throws {
        let nginx = try LocalNginx(port: 18_612)
        defer { nginx.stop() }
        let directory = try CLI.temporaryDirectory()
        let out = directory.appendingPathComponent("run")
        let result = try CLI.run(["load", "--target", "http://127.0.0.1:18612/small.txt", "--rates", "100,100", "--duration", "30s",
                                  "--out", out.path], in: directory, interruptAfter: 2.5)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("interrupted"))
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as! [String: Any]
        #expect(summary["interrupted"] as? Bool == true)
        #expect(summary["complete"] as? Bool == false)
        let steps = summary["steps"] as! [[String: Any]]
        #expect(steps.count == 1)
        let recorded = summary["requestsRecorded"] as! Int
        let csvLines = try String(contentsOf: out.appendingPathComponent("requests.csv"), encoding: .utf8).split(separator: "\n").count
        #expect(csvLines - 1 == recorded && recorded > 100)
    }

    @Test(.enabled(if: LocalNginx.available || TestRequirements.enforced, "needs nginx (make setup installs it)"))
    func imagePayloadsArePostedWithTheirSizesRecorded() throws {
        let nginx = try LocalNginx(port: 18_613)
        defer { nginx.stop() }
        let directory = try CLI.temporaryDirectory()
        let out = directory.appendingPathComponent("run")
        let result = try CLI.run(["load", "--target", "http://127.0.0.1:18613/echo", "--rate", "50", "--duration", "1s",
                                  "--payload", "image:w=64..256,format=jpeg", "--payload", "text:tokens=16..64,weight=1",
                                  "--pool-size", "8", "--out", out.path], in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try String(contentsOf: out.appendingPathComponent("requests.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
        let fields = rows.map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(fields.allSatisfy { $0[9] == "200" })
        let classes = Set(fields.map { String($0[13]) })
        #expect(classes == ["image", "text"])
        #expect(fields.filter { $0[13] == "image" }.allSatisfy { Int($0[15])! >= 64 * 32 })
    }
}

@Suite("bottleneck load samples the generator and the server", .serialized)
struct LoadSamplingTests {
    @Test(.enabled(if: LocalNginx.available || TestRequirements.enforced, "needs nginx (make setup installs it)"))
    func serverFoundByPortIsSampledPerStep() throws {
        let nginx = try LocalNginx(port: 18_614)
        defer { nginx.stop() }
        let directory = try CLI.temporaryDirectory()
        let out = directory.appendingPathComponent("run")
        let result = try CLI.run(["load", "--target", "http://127.0.0.1:18614/small.txt", "--rates", "400,800", "--duration", "1500ms",
                                  "--server-port", "18614", "--out", out.path], in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as! [String: Any]
        let sampling = try #require(summary["sampling"] as? [String: Any])
        let steps = (sampling["steps"] as! [[String: Any]]).filter { ($0["index"] as! Int) >= 0 }
        #expect(steps.map { $0["name"] as! String } == ["rate-400", "rate-800"])
        for step in steps {
            let server = step["server"] as! [String: Any]
            #expect((server["busiestProcess"] as? [String: Any])?["comm"] as? String == "nginx")
            #expect(server["processes"] as! Int >= 2, "nginx master and worker")
            let client = step["client"] as! [String: Any]
            #expect((client["busiestProcess"] as? [String: Any])?["comm"] as? String == "bottleneck")
            #expect((client["cpuCoresMean"] as! Double) > 0)
        }
        let lines = try String(contentsOf: out.appendingPathComponent("samples.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count > 10)
        #expect(lines.contains { $0.contains("\"role\":\"server\"") })
    }

    /// An HTTP server that serves one connection at a time until it closes (so the others wait
    /// in its accept queue) and forks a child burning CPU: what `bottleneck load --server-port`
    /// must find in the kernel's accounting. (The generator's reachability check is the first
    /// connection it accepts, and closes at once.)
    static let busyServer = """
        import os, socket, sys, time
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0)); s.listen(64)
        child = os.fork()
        if child == 0:
            t = time.time()
            while time.time() - t < 15: pass
            os._exit(0)
        sys.stderr.write("ready %d %d\\n" % (s.getsockname()[1], child)); sys.stderr.flush()
        s.settimeout(15)
        deadline = time.time() + 15
        while time.time() < deadline:
            c, _ = s.accept(); c.settimeout(15)
            buf = b""
            while time.time() < deadline:
                data = c.recv(65536)
                if not data: break
                buf += data
                while b"\\r\\n\\r\\n" in buf:
                    _, buf = buf.split(b"\\r\\n\\r\\n", 1)
                    time.sleep(0.005)
                    c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")
            c.close()
        """

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") || TestRequirements.enforced, "needs /usr/bin/python3 for the test server"))
    func serverItsChildItsListenerAndAcceptQueueAppearInTheSamples() throws {
        let server = try BackgroundProcess("/usr/bin/python3", ["-c", Self.busyServer])
        #expect(server.waitForStandardError(containing: "ready", timeout: 10), "\(server.stderr)")
        let words = server.stderr.split(separator: "\n").first { $0.hasPrefix("ready") }?.split(separator: " ") ?? []
        let port = try #require(words.count == 3 ? Int(words[1]) : nil)
        let child = try #require(words.count == 3 ? Int(words[2]) : nil)
        defer {
            kill(pid_t(child), SIGKILL)
            server.interrupt()
        }
        let directory = try CLI.temporaryDirectory()
        let out = directory.appendingPathComponent("run")
        // Four connections: one is served, three wait in the accept queue for the whole step.
        let result = try CLI.run(["load", "--target", "http://127.0.0.1:\(port)/", "--concurrency", "4", "--duration", "2s", "--warmup", "0s",
                                  "--timeout", "3s", "--server-port", "\(port)", "--sample-interval", "100ms", "--out", out.path], in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        let records = try String(contentsOf: out.appendingPathComponent("samples.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let processes = records.filter { $0["type"] as? String == "process" && $0["role"] as? String == "server" }
        #expect(processes.contains { $0["pid"] as? Int == Int(server.pid) }, "the server itself")
        let children = processes.filter { $0["pid"] as? Int == child }
        #expect(children.contains { $0["ppid"] as? Int == Int(server.pid) && $0["root"] as? Int == Int(server.pid) }, "its child, in its tree")
        #expect((children.compactMap { $0["cores"] as? Double }.max() ?? 0) > 0.1, "the child burns CPU")
        let listens = records.filter { $0["type"] as? String == "net" && $0["role"] as? String == "server" }
            .flatMap { ($0["listen"] as? [[String: Any]]) ?? [] }.filter { $0["port"] as? Int == port }
        #expect(!listens.isEmpty, "the listening socket")
        #expect(listens.contains { $0["accept_queue"] as? Int == 3 }, "three connections waiting: \(listens.map { $0["accept_queue"] ?? "-" })")

        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as! [String: Any]
        let step = try #require(((summary["sampling"] as? [String: Any])?["steps"] as? [[String: Any]])?.first { $0["index"] as? Int == 0 })
        let serverStep = try #require(step["server"] as? [String: Any])
        #expect((serverStep["busiestProcess"] as? [String: Any])?["pid"] as? Int == child)
        #expect(serverStep["processes"] as? Int == 2)
        #expect(serverStep["acceptQueueMax"] as? Int == 3)
    }

    @Test func unknownServerPortIsBadInputAndLeavesNoDirectory() throws {
        let directory = try CLI.temporaryDirectory()
        let nginx = try LocalNginx(port: 18_615)
        defer { nginx.stop() }
        let result = try CLI.run(["load", "--target", "http://127.0.0.1:18615/small.txt", "--duration", "1s", "--server-port", "1"], in: directory)
        #expect(result.status == 2)
        #expect(result.stderr.contains("no process listens on port 1"))
        let runs = directory.appendingPathComponent("runs").path
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []
        #expect(leftovers.isEmpty, "left behind: \(leftovers)")
    }
}
