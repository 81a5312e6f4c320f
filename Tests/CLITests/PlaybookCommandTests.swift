import Foundation
import Testing

/// `bottleneck playbook` and `--report`, run as a user would.
@Suite("bottleneck playbook, run as a user would", .serialized)
struct PlaybookCommandTests {
    @Test func listAndShowPrintTheEmbeddedPlaybooks() throws {
        let list = try CLI.run(["playbook", "list"])
        #expect(list.status == 0, "\(list.stderr)")
        for name in ["slow-endpoint", "load-generator-check", "capacity-plan", "proxy-overhead", "input-size-and-memory",
                     "python-workers-and-gil", "network-check"] {
            #expect(list.stdout.contains(name + " "), "\(name) missing from\n\(list.stdout)")
        }
        let show = try CLI.run(["playbook", "show", "python-workers-and-gil"])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("closed loop at 2, 4, 8 connections"))
        #expect(show.stdout.contains("--- playbooks/python-workers-and-gil.md ---"))
        let missing = try CLI.run(["playbook", "show", "slow-endpont"])
        #expect(missing.status == 2 && missing.stderr.contains("no playbook named \"slow-endpont\""))
    }

    static func writePlaybook(_ text: String, in directory: URL) throws {
        try text.write(to: directory.appendingPathComponent("gentle.yaml"), atomically: true, encoding: .utf8)
        try "# By hand\n".write(to: directory.appendingPathComponent("gentle.md"), atomically: true, encoding: .utf8)
    }

    static let gentle = """
        name: gentle
        title: A gentle check
        summary: One connection, then 40 req/s.
        guide: gentle.md
        steps:
          - {id: baseline, kind: baseline, duration: 1s}
          - {id: steady, kind: open, rates: [40], arrivals: uniform, duration: 2s}
        rules: [proxy-connection-churn]
        outcomes:
          proxy-connection-churn: "churn"
          pass: "all good here"
        """

    @Test(.enabled(if: LocalNginx.available || TestRequirements.enforced, "needs nginx (make setup installs it)"))
    func runExecutesTheStepsKeepsTheDiagnosisAndWritesTheReport() throws {
        let nginx = try LocalNginx(port: 18_631)
        defer { nginx.stop() }
        let folder = try CLI.temporaryDirectory()
        try Self.writePlaybook(Self.gentle, in: folder)
        let out = try CLI.temporaryDirectory().appendingPathComponent("run")
        let result = try CLI.run(["playbook", "run", "gentle", "--playbooks", folder.path, "--target", "http://127.0.0.1:\(nginx.port)/echo",
                                  "--out", out.path, "--report", "html", "--json"])
        let outcome = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
        #expect(outcome["schema"] as? String == "bottleneck.playbook-run/v1")
        let lines = try #require(outcome["outcomes"] as? [[String: Any]])
        let first = try #require(lines.first)
        if result.status == 3 {
            // A busy host can make the generator late even at 40 req/s: then the run is invalid and says why.
            #expect((first["rule"] as? String)?.hasPrefix("loadgen-") == true, "\(lines)")
        } else {
            #expect(result.status == 0, "\(result.stderr)")
            #expect(first["rule"] as? String == "pass" && first["text"] as? String == "all good here", "\(lines)")
        }
        let diagnosis = try #require(outcome["diagnosis"] as? [String: Any])
        #expect((diagnosis["warnings"] as? [String]) == [], "GET /echo answers 200")
        // The steps ran as written, and the conclusion, its evidence and the report are kept.
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as? [String: Any])
        let steps = try #require(summary["steps"] as? [[String: Any]])
        #expect(steps.map { $0["name"] as? String } == ["baseline", "steady"])
        #expect(steps.last?["targetRate"] as? Double == 40)
        for file in ["diagnosis.json", "evidence.json", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file) missing")
        }
        // The playbook wanted no server, so nothing is reported as unmet; stderr says where the report went.
        #expect((outcome["unmetNeeds"] as? [String]) == [])
        #expect(result.stderr.contains("report.html"))
    }

    @Test func aBrokenPlaybookIsOneLineWithItsPositionAndExit2() throws {
        let folder = try CLI.temporaryDirectory()
        try Self.writePlaybook(Self.gentle.replacingOccurrences(of: "kind: open", with: "kind: opn"), in: folder)
        let result = try CLI.run(["playbook", "run", "gentle", "--playbooks", folder.path, "--target", "http://127.0.0.1:9/"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("gentle.yaml:7:24: step steady: kind must be one of"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test(.enabled(if: LocalNginx.available || TestRequirements.enforced, "needs nginx (make setup installs it)"))
    func loadWritesTheReportsAskedFor() throws {
        let nginx = try LocalNginx(port: 18_632)
        defer { nginx.stop() }
        let out = try CLI.temporaryDirectory().appendingPathComponent("run")
        let result = try CLI.run(["load", "--target", "http://127.0.0.1:\(nginx.port)/", "--rate", "50", "--duration", "1s",
                                  "--out", out.path, "--report", "html", "--report", "markdown"])
        #expect(result.status == 0, "\(result.stderr)")
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.hasPrefix("<!doctype html>") && html.contains("<svg"))
        let markdown = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(markdown.hasPrefix("# bottleneck report"))
        let bad = try CLI.run(["load", "--target", "http://127.0.0.1:\(nginx.port)/", "--rate", "50", "--duration", "1s", "--report", "pdf"])
        #expect(bad.status == 2 && bad.stderr.contains("use one of text, markdown, json, html"), "\(bad.stderr)")
    }

    @Test(.enabled(if: LocalNginx.available || TestRequirements.enforced, "needs nginx (make setup installs it)"))
    func aTargetThatRejectsTheRequestIsCalledOut() throws {
        let nginx = try LocalNginx(port: 18_633)
        defer { nginx.stop() }
        // nginx's test root has no index: GET / is 403 or 404 — the load exercised an error path, not the service.
        let result = try CLI.run(["diagnose", "--target", "http://127.0.0.1:\(nginx.port)/", "--rate", "20", "--duration", "1s",
                                  "--out", try CLI.temporaryDirectory().appendingPathComponent("run").path])
        let warning = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("WARNING: step 2 (rate-20): ") }, "\(result.stdout)")
        // Every response was 4xx (18..20 of them: the last ones of the second may still be in flight when it ends).
        let counts = warning.split(separator: " ").compactMap { Int($0) }
        #expect(counts.count == 3 && counts[1] == counts[2] && counts[1] >= 18, "\(warning)")
        #expect(warning.contains("responses were 4xx"))
    }
}
