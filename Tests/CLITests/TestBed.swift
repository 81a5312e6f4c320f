import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The project's own test bed (`testbed/bed`): the Python prediction service behind the bed's
/// nginx, up for one test and torn down after it. The bed allows one instance per machine (its
/// state file is the lock), so `up` waits a bounded time for someone else's bed to go down.
final class TestBed {
    static let script = CLI.packageRoot.appendingPathComponent("testbed/bed").path
    static let stateFile = "/run/bottleneck-testbed/state.json"

    /// Root, and `testbed/setup.sh` has built the bed's virtualenv.
    static var available: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: CLI.packageRoot.appendingPathComponent("testbed/.venv/bin/python").path)
    }

    /// The proxy's URL plus `/predict`, as `bed up` printed it.
    let target: String
    let proxyPort: Int
    let servicePort: Int
    /// The root-namespace end of the client veth (netns mode), where the front leg can be captured.
    let clientDevice: String?
    /// The proxy's namespace and its end of the upstream veth (netns mode): the back leg.
    let proxyNamespace: String?
    let upstreamDevice: String?
    let servicePID: Int32
    private var isUp = true

    /// Brings `scenario` up (`--no-netns` when `loopback`). Returns nil when another bed stayed
    /// up for all of `waitForBusyBed` seconds; throws when `bed up` fails for another reason.
    static func up(_ scenario: String, loopback: Bool, waitForBusyBed: TimeInterval = 120) throws -> TestBed? {
        let deadline = Date().addingTimeInterval(waitForBusyBed)
        while true {
            while FileManager.default.fileExists(atPath: stateFile) {
                guard Date() < deadline else { return nil }
                Thread.sleep(forTimeInterval: 0.5)
            }
            // `timeout` bounds a hung start-up; bed tears down what it made on SIGTERM.
            let result = try Subprocess.run("/usr/bin/timeout", ["120", script, "up", scenario, "--compact"] + (loopback ? ["--no-netns"] : []))
            if result.status == 0 { return try TestBed(json: result.stdout) }
            // Someone else's bed went up between the look and the start: wait again.
            if result.stderr.contains("already up"), Date() < deadline { continue }
            throw NSError(domain: "TestBed", code: Int(result.status),
                          userInfo: [NSLocalizedDescriptionKey: "bed up \(scenario) exited \(result.status): \(result.stderr)"])
        }
    }

    private init(json: String) throws {
        guard let bed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let target = bed["target"] as? String,
              let proxy = bed["proxy"] as? [String: Any], let proxyPort = proxy["port"] as? Int,
              let service = bed["service"] as? [String: Any], let servicePort = service["port"] as? Int,
              let servicePID = service["pid"] as? Int
        else {
            throw NSError(domain: "TestBed", code: 1, userInfo: [NSLocalizedDescriptionKey: "bed up printed unexpected JSON: \(json)"])
        }
        self.target = target
        self.proxyPort = proxyPort
        self.servicePort = servicePort
        self.servicePID = Int32(servicePID)
        let links = (bed["network"] as? [String: Any])?["links"] as? [String: Any]
        let client = links?["client"] as? [String: Any]
        let upstream = links?["upstream"] as? [String: Any]
        clientDevice = (client?["left"] as? [String: Any])?["dev"] as? String
        proxyNamespace = proxy["netns"] as? String
        upstreamDevice = (upstream?["left"] as? [String: Any])?["dev"] as? String
    }

    deinit { down() }

    /// Whether the bed this test brought up is still the one up: the lock does not stop another
    /// user's `bed down` (scripts/demo.sh and scripts/diagnose-testbed.py start with one), and
    /// a run against a bed torn down under it proves nothing about the capture.
    var isStillOurs: Bool { stateIsOurs && kill(servicePID, 0) == 0 }

    /// The bed's state file still describes the bed this test brought up (same service PID).
    private var stateIsOurs: Bool {
        guard let data = FileManager.default.contents(atPath: Self.stateFile),
              let state = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let up = state["up"] as? [String: Any], let service = up["service"] as? [String: Any] else { return false }
        return service["pid"] as? Int == Int(servicePID)
    }

    /// Tears the bed down (idempotent); never someone else's bed that replaced ours.
    func down() {
        guard isUp else { return }
        isUp = false
        guard stateIsOurs else { return }
        _ = try? Subprocess.run("/usr/bin/timeout", ["60", Self.script, "down"])
    }
}
