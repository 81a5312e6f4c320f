import Foundation
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

/// End-to-end: real processes sampled by a real session, checked in `samples.jsonl` and
/// in the summary, as a user of `bottleneck load` would check them.
@Suite("Sampling real processes", .serialized)
struct SamplingSessionIntegrationTests {
    static let isRoot = getuid() == 0
    static let hasPython = FileManager.default.isExecutableFile(atPath: "/usr/bin/env")
        && (try? run("/usr/bin/env", ["python3", "-c", "pass"])) == 0

    /// A python "server": listens, never accepts, forks a child that burns CPU.
    static let serverScript = """
    import socket, os, sys, time
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
    child = os.fork()
    if child == 0:
        t = time.time()
        while time.time() - t < 20: pass
        os._exit(0)
    print(s.getsockname()[1], child, flush=True)
    time.sleep(20)
    """

    static func run(_ path: String, _ arguments: [String]) throws -> Int32 {
        try TestChildProcess.run(path, arguments).status
    }

    static func records(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    static func connect(port: UInt16) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return rc == 0 ? fd : -1
    }

    @Test(.enabled(if: hasPython || TestRequirements.enforced, "needs python3 to start a server that forks a CPU-burning child"))
    func serverCPUChildListenerAndAcceptQueueAppear() throws {
        let server = try TestChildProcess("/usr/bin/env", ["python3", "-c", Self.serverScript], captureOutput: true)
        let line = server.readLine() ?? ""
        let words = line.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let childPID = words.count == 2 ? Int32(words[1]) : nil
        defer {
            if let childPID { kill(childPID, SIGKILL) }
            server.stop()
        }
        let port = try #require(words.first.flatMap { UInt16($0) })
        let pending = 4
        let sockets = (0..<pending).map { _ in Self.connect(port: port) }
        defer { sockets.forEach { close($0) } }
        #expect(sockets.allSatisfy { $0 >= 0 })

        // --server-port finds the listener (the python parent; the forked child holds it too).
        let holders = try ServerDiscovery.listeningPIDs(port: port)
        #expect(holders.contains(server.pid))

        let output = NSTemporaryDirectory() + "samples-\(getpid())-\(port).jsonl"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let configuration = SamplerConfiguration(interval: .milliseconds(100), serverPorts: [port], targetPorts: [port])
        let session = try SamplingSession(configuration: configuration, outputPath: output, now: MonotonicClock.now)
        session.start()
        session.markStep(0, name: "burn")
        // 2.5 s: connections by state are read every second, and the step must hold such a tick
        // (the first is before it) even when other tests leave the sampler thread late.
        usleep(2_500_000)
        let summary = session.stop()

        let records = try Self.records(output)
        let processes = records.filter { $0["type"] as? String == "process" && $0["role"] as? String == "server" }
        let serverPID = Int(server.pid)
        #expect(processes.contains { $0["pid"] as? Int == serverPID })
        let childRecords = processes.filter { $0["ppid"] as? Int == serverPID }
        let childCores = childRecords.compactMap { $0["cores"] as? Double }
        #expect(!childCores.isEmpty)
        #expect((childCores.max() ?? 0) > 0.1)      // the burner spins; the bar is low because other tests share the 2 CPUs
        #expect(childRecords.allSatisfy { $0["root"] as? Int == serverPID })

        let serverNet = records.filter { $0["type"] as? String == "net" && $0["role"] as? String == "server" }
        // The accept queue on every tick; connections by state every second (the first tick included).
        #expect(serverNet.count >= 10)
        #expect(serverNet.allSatisfy { (($0["listen"] as? [[String: Any]]) ?? []).contains { $0["port"] as? Int == Int(port) && $0["accept_queue"] as? Int == pending } })
        #expect(serverNet.contains { $0["sockets"] != nil })
        let clientNet = records.filter { $0["type"] as? String == "net" && $0["role"] as? String == "client" }
        #expect(clientNet.contains { (($0["sockets"] as? [String: Any])?["ESTABLISHED"] as? Int) == pending })
        #expect(records.first?["type"] as? String == "header")
        #expect(records.contains { $0["type"] as? String == "host" && $0["busy_fraction"] != nil })
        #expect(records.contains { $0["type"] as? String == "process" && $0["role"] as? String == "client" && $0["pid"] as? Int == Int(getpid()) })

        let step = try #require(summary.steps.first { $0.index == 0 })
        // The child, not the parent (other tests may share the 2 CPUs, hence the low bar).
        #expect(step.server.busiestProcess?.cores ?? 0 > 0.05)
        #expect(step.server.busiestProcess?.pid == childPID)
        #expect(step.server.processes == 2)
        #expect(step.server.acceptQueueMax == pending)
        #expect(step.client.socketStatesMax["ESTABLISHED"] ?? 0 >= pending)
        #expect(step.client.coresAllowed ?? 0 >= 1)
        #expect(step.host.busyCoresMean > 0.3)
        #expect(step.server.rssPeakBytes > 0)
    }

    @Test func unknownPortAndPIDAreUserErrors() throws {
        #expect(throws: SamplerError.self) { try ServerDiscovery.listeningPIDs(port: 1) }
        let output = NSTemporaryDirectory() + "samples-none-\(getpid()).jsonl"
        defer { try? FileManager.default.removeItem(atPath: output) }
        do {
            _ = try SamplingSession(configuration: SamplerConfiguration(serverPorts: [1]), outputPath: output, now: MonotonicClock.now)
            Issue.record("no error for a port nobody listens on")
        } catch let error as SamplerError {
            #expect(error.message == "no process listens on port 1; start the server, or name its process by PID")
            #expect(error.exitCode == 2)
        }
        #expect(throws: SamplerError.self) {
            try SamplingSession(configuration: SamplerConfiguration(serverPIDs: [Int32.max - 1]), outputPath: output, now: MonotonicClock.now)
        }
    }

    /// A worker forked after its parent sat idle is still followed: a process is only
    /// re-read for new children once it has run (`Sampler.Activity`), and forking is running.
    @Test func childForkedByAnIdleParentIsFollowed() throws {
        let parent = try TestChildProcess("/bin/sh", ["-c", "sleep 1; sleep 30 & wait"])
        defer { parent.stop() }
        let output = NSTemporaryDirectory() + "samples-fork-\(getpid()).jsonl"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let session = try SamplingSession(configuration: SamplerConfiguration(interval: .milliseconds(100), serverPIDs: [parent.pid]),
                                          outputPath: output, now: MonotonicClock.now)
        session.start()
        usleep(2_000_000)
        _ = session.stop()
        let records = try Self.records(output)
        let children = Set(records.filter { $0["type"] as? String == "process" && $0["ppid"] as? Int == Int(parent.pid) }
            .compactMap { $0["pid"] as? Int })
        defer { children.forEach { kill(Int32($0), SIGKILL) } }
        // `sleep 1` from the start, then `sleep 30`, forked a second later.
        #expect(children.count == 2)
    }

    @Test func exitedProcessIsReportedAndDropped() throws {
        let sleeper = try TestChildProcess("/bin/sleep", ["1.5"])  // long enough to be sampled alive even on a loaded machine
        let output = NSTemporaryDirectory() + "samples-exit-\(getpid()).jsonl"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let session = try SamplingSession(configuration: SamplerConfiguration(interval: .milliseconds(50), serverPIDs: [sleeper.pid]),
                                          outputPath: output, now: MonotonicClock.now)
        session.start()
        sleeper.waitForExit()
        usleep(300_000)
        _ = session.stop()
        let records = try Self.records(output)
        #expect(records.contains { $0["type"] as? String == "exit" && $0["pid"] as? Int == Int(sleeper.pid) })
        // Sampled while alive, then one exit record, then no more samples of it.
        let exitIndex = try #require(records.firstIndex { $0["type"] as? String == "exit" })
        let lastIndex = try #require(records.lastIndex { $0["type"] as? String == "process" && $0["pid"] as? Int == Int(sleeper.pid) })
        #expect(lastIndex < exitIndex)
    }
}
